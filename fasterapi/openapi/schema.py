"""Build the OpenAPI 3.1 document from the compiled routes (done once, on first request)."""

from __future__ import annotations

import dataclasses
import enum
import inspect
import re
import typing
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import GenerateJsonSchema

from fasterapi._param_models import model_fields, param_model
from fasterapi.dependencies import Field
from fasterapi.openapi.forms import form_request_body
from fasterapi.openapi.security import security_requirements

if TYPE_CHECKING:
    from fasterapi.app import App
    from fasterapi.routing import Route

_REF = "#/components/schemas/{model}"
_VALIDATION_ERROR = {
    "title": "ValidationError",
    "type": "object",
    "required": ["loc", "msg", "type"],
    "properties": {
        "loc": {
            "title": "Location",
            "type": "array",
            "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
        },
        "msg": {"title": "Message", "type": "string"},
        "type": {"title": "Error Type", "type": "string"},
        "input": {"title": "Input"},
        "ctx": {"title": "Context", "type": "object"},
    },
}
_HTTP_VALIDATION_ERROR = {
    "title": "HTTPValidationError",
    "type": "object",
    "properties": {
        "detail": {
            "title": "Detail",
            "type": "array",
            "items": {"$ref": "#/components/schemas/ValidationError"},
        },
    },
}


class _JsonSchema(GenerateJsonSchema):
    """pydantic's JSON Schema as FastAPI writes it: `bytes` is a string of media type
    application/octet-stream (JSON Schema 2020-12 §8.3-8.4), base64-encoded when the model's
    config says its JSON bytes are (val_json_bytes / ser_json_bytes, by mode)."""

    def bytes_schema(self, schema: Any) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "string", "contentMediaType": "application/octet-stream"}
        config = self._config
        encoding = config.ser_json_bytes if self.mode == "serialization" else config.val_json_bytes
        if encoding == "base64":
            out["contentEncoding"] = "base64"
        self.update_with_validations(out, schema, self.ValidationsMapping.bytes)
        return out


class Schemas:
    """Collects component schemas; models are referenced by name, as FastAPI does."""

    def __init__(self, separate_input_output: bool = True) -> None:
        self.components: dict[str, Any] = {}
        self.security_schemes: dict[str, Any] = {}  # components.securitySchemes
        self.separate_input_output = separate_input_output

    def _schema(self, tp: Any, mode: str) -> dict[str, Any]:
        try:
            schema = TypeAdapter(tp).json_schema(
                ref_template=_REF, mode=mode, schema_generator=_JsonSchema  # type: ignore[arg-type]
            )
        except Exception:
            return {}
        self.components.update(_without_none_defaults(schema.pop("$defs", {})))
        if isinstance(tp, type) and (
            issubclass(tp, BaseModel | enum.Enum) or dataclasses.is_dataclass(tp)
        ):
            _without_none_defaults(schema)
            self.components[tp.__name__] = schema
            return {"$ref": _REF.format(model=tp.__name__)}
        return schema

    def of(self, tp: Any) -> dict[str, Any]:
        return self._schema(tp, "serialization" if self.separate_input_output else "validation")

    def of_input(self, tp: Any) -> dict[str, Any]:
        return self._schema(tp, "validation")


_LOCATIONS = ("path", "query", "header", "cookie")


def _openapi_path(path: str) -> str:
    return re.sub(r"\{([A-Za-z_][A-Za-z0-9_]*):[a-z]+\}", r"{\1}", path)


def _field_schema(f: Field, schemas: Schemas) -> dict[str, Any]:
    """A parameter's or body field's schema: its type with the marker's constraints
    (`Query(max_length=50)` → maxLength), title, examples and default, as pydantic writes
    them for FastAPI."""
    from pydantic import Field as PField

    marker = f.marker
    tp: Any = f.annotation
    extra: dict[str, Any] = {}
    if marker is not None:
        extra = {
            k: v for k, v in marker.constraints.items()
            if v is not None and k not in _NOT_CONSTRAINTS
        }
        if marker.title:
            extra["title"] = marker.title
        if marker.description:  # FastAPI repeats it in the schema
            extra["description"] = marker.description
        if getattr(marker, "examples", None):
            extra["examples"] = marker.examples
    if tp is Any:
        schema: dict[str, Any] = {}
    else:
        try:
            schema = schemas.of_input(typing.Annotated[tp, PField(**extra)] if extra else tp)
        except Exception:
            schema = schemas.of_input(tp)
    if "$ref" not in schema:
        schema.setdefault("title", f.key.replace("_", " ").title())  # pydantic's field title
        if marker is not None and getattr(marker, "deprecated", None):
            schema["deprecated"] = True  # pydantic >= 2.10 writes the field's deprecation too
    if not f.required and f.default is not None and f.source != "path":
        schema.setdefault("default", _default(f.default))
    return _without_none_defaults(schema)


_NOT_CONSTRAINTS = ("openapi_examples", "media_type")  # marker keywords pydantic has no use for


def _default(value: Any) -> Any:
    from fasterapi.encoders import jsonable_encoder

    try:
        return jsonable_encoder(value)
    except Exception:
        return None


def _without_none_defaults(schema: Any) -> Any:
    """FastAPI leaves `"default": null` out of its schemas (an optional field's None)."""
    if isinstance(schema, dict):
        if "default" in schema and schema["default"] is None:
            del schema["default"]
        for value in schema.values():
            _without_none_defaults(value)
    elif isinstance(schema, list):
        for value in schema:
            _without_none_defaults(value)
    return schema


def _parameter(f: Field, schemas: Schemas) -> dict[str, Any]:
    p: dict[str, Any] = {
        "name": f.key,
        "in": f.source,
        "required": f.required or f.source == "path",
        "schema": _field_schema(f, schemas),
    }
    if f.marker is not None:
        if f.marker.description:
            p["description"] = f.marker.description
        if f.marker.deprecated:
            p["deprecated"] = True
    return p


def _model_parameters(f: Field, model: type[BaseModel]) -> list[dict[str, Any]]:
    """A query/header/cookie parameter model documented as one parameter per field."""
    schema = model.model_json_schema(ref_template=_REF)
    properties = schema.get("properties", {})
    required = set(schema.get("required", []))
    out = []
    for name, key, _ in model_fields(f, model):
        info = model.model_fields[name]
        prop = properties.get(info.alias or name, {})
        p: dict[str, Any] = {"name": key, "in": f.source, "required": name in required,
                             "schema": _without_none_defaults(prop)}
        if info.description:
            p["description"] = info.description
        out.append(p)
    return out


def _operation(route: Route, method: str, schemas: Schemas) -> dict[str, Any]:

    doc = inspect.cleandoc(route.endpoint.__doc__ or "").split("\f")[0].rstrip()  # \f ends it
    op: dict[str, Any] = {
        "summary": route.summary or route.name.replace("_", " ").title(),
        "operationId": route.operation_id or _unique_id(route, method),
    }
    if route.tags:
        op["tags"] = route.tags
    if route.description or doc:
        op["description"] = route.description or doc
    if route.deprecated:
        op["deprecated"] = True
    fields = route.dependant.all_fields()
    params = []
    for f in fields:
        if f.source not in ("path", "query", "header", "cookie") or (
            f.marker is not None and not f.marker.include_in_schema
        ):
            continue
        model = param_model(f)
        if model is None:
            params.append(_parameter(f, schemas))
        else:
            params.extend(_model_parameters(f, model))
    if params:
        # grouped by location, in declaration order within each, as FastAPI lists them
        op["parameters"] = sorted(params, key=lambda p: _LOCATIONS.index(p["in"]))
    bodies = [f for f in fields if f.source == "body"]
    if bodies:
        if len(bodies) == 1 and not route.dependant.embed_body:
            body_schema = _field_schema(bodies[0], schemas)
        else:  # several bodies or Body(embed=True): a Body_<operationId> component
            name = f"Body_{op['operationId']}"
            component: dict[str, Any] = {
                "properties": {f.key: _field_schema(f, schemas) for f in bodies},
                "type": "object",
                "title": name,
            }
            if required := [f.key for f in bodies if f.required]:
                component["required"] = required
            schemas.components[name] = component
            body_schema = {"$ref": _REF.format(model=name)}
        op["requestBody"] = {"content": {"application/json": {"schema": body_schema}}}
        if any(f.required for f in bodies):
            op["requestBody"]["required"] = True
        marker = bodies[0].marker
        examples = marker.constraints.get("openapi_examples") if marker is not None else None
        if len(bodies) == 1 and examples:  # Body(openapi_examples={...}): named examples
            op["requestBody"]["content"]["application/json"]["examples"] = examples
    forms = [
        f
        for f in fields
        if f.source == "form" and (f.marker is None or f.marker.include_in_schema)
    ]
    if forms and not bodies:
        op["requestBody"] = form_request_body(forms, op["operationId"], schemas)
    op["responses"] = {_success_status(route): _success_response(route, op, schemas)}
    if any(f.source in _LOCATIONS or f.source in ("body", "form") for f in fields):
        schemas.components["ValidationError"] = _VALIDATION_ERROR
        schemas.components["HTTPValidationError"] = _HTTP_VALIDATION_ERROR
        op["responses"]["422"] = {
            "description": "Validation Error",
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/HTTPValidationError"}}
            },
        }
    for code, extra in route.responses.items():
        _add_response(op["responses"], str(code), extra, schemas)
    if route.callbacks:
        op["callbacks"] = {
            getattr(cb, "name", "callback"): path_items(getattr(cb, "routes", [cb]), schemas)
            for cb in route.callbacks
        }
    security = security_requirements(route.dependant, schemas.security_schemes)
    if security:
        op["security"] = security
    if route.openapi_extra:
        _deep_update(op, route.openapi_extra)
    return op


def _add_response(
    responses: dict[str, Any], code: str, extra: dict[str, Any], schemas: Schemas
) -> None:
    """`responses={404: {"model": Message, "description": ...}}` merged as FastAPI merges
    it: `model` becomes the JSON schema, the status phrase the default description, and
    what the route documents for a status it also answers is merged into that entry."""
    extra = dict(extra)
    model = extra.pop("model", None)
    entry = responses.setdefault(code, {})
    if model is not None:
        content = entry.setdefault("content", {}).setdefault("application/json", {})
        content["schema"] = schemas.of(model)
    _deep_update(entry, extra)
    if "description" not in entry:
        try:
            entry["description"] = HTTPStatus(int(code)).phrase
        except ValueError:
            entry["description"] = "Additional Response"


def _success_status(route: Route) -> str:
    if route.status_code is not None:
        return str(route.status_code)
    default = getattr(route.response_class, "__init__", None)
    status = inspect.signature(default).parameters.get("status_code") if default else None
    if status is not None and isinstance(status.default, int):  # RedirectResponse: 307
        return str(status.default)
    return "200"


def _success_response(route: Route, op: dict[str, Any], schemas: Schemas) -> dict[str, Any]:
    """The documented success response: the response model's schema under the response
    class's media type (JSON unless told otherwise), titled as FastAPI titles it."""
    from fasterapi._endpoint import response_adapter

    out: dict[str, Any] = {"description": route.response_description}
    cls = route.response_class
    media = getattr(cls, "media_type", None) if cls is not None else "application/json"
    if media is None:
        return out
    if media == "text/event-stream" and route.dependant.kind in ("gen", "agen"):
        out["content"] = {media: {"itemSchema": _sse_item_schema(route, schemas)}}
        return out
    if not media.endswith("json") or (cls is not None and not _is_json_class(cls)):
        # FastAPI documents a model only for JSONResponse and its subclasses
        out["content"] = {media: {"schema": {"type": "string"}}}
        return out
    if route.dependant.kind in ("gen", "agen") and cls is None:  # JSON Lines (_endpoint.py)
        item = _stream_item_type(route)
        out["content"] = {"application/jsonl": {
            "itemSchema": schemas.of(item) if item is not None else {}}}
        return out
    adapter = response_adapter(route)
    schema: dict[str, Any] = {}
    if adapter is not None:
        schema = schemas.of(route.response_model or adapter._type)  # type: ignore[attr-defined]
        if "$ref" not in schema:
            schema.setdefault("title", f"Response_{op['operationId']}".title().replace("_", " "))
        _without_none_defaults(schema)
    out["content"] = {media: {"schema": schema}}
    return out


def _is_json_class(cls: Any) -> bool:
    from fasterapi.responses import JSONResponse

    if isinstance(cls, type) and issubclass(cls, JSONResponse):
        return True
    # A FastAPI/Starlette JSONResponse (or subclass) given as response_class works as well
    return any(c.__name__ == "JSONResponse" for c in getattr(cls, "__mro__", ()))


def _sse_item_schema(route: Route, schemas: Schemas) -> dict[str, Any]:
    """One event of a generator endpoint with response_class=EventSourceResponse (WHATWG
    HTML §9.2 fields), `data` carrying the JSON of the `AsyncIterable[Item]` item type, as
    FastAPI documents it (no item type, or ServerSentEvent itself: data is any string)."""
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {
            "data": {"type": "string"},
            "event": {"type": "string"},
            "id": {"type": "string"},
            "retry": {"type": "integer", "minimum": 0},
        },
    }
    item = _stream_item_type(route)
    if item is not None and getattr(item, "__name__", "") != "ServerSentEvent":
        schema["required"] = ["data"]
        schema["properties"]["data"] = {
            "type": "string",
            "contentMediaType": "application/json",
            "contentSchema": schemas.of(item),
        }
    return schema


def _stream_item_type(route: Route) -> Any:
    """`Item` of a generator endpoint annotated `-> AsyncIterable[Item]` (or Iterable...)."""
    try:
        annotation = typing.get_type_hints(route.endpoint).get("return")
    except Exception:
        return None
    args = typing.get_args(annotation)
    return args[0] if args else None


def _unique_id(route: Route, method: str) -> str:
    from fasterapi.openapi.utils import generate_unique_id

    make = route.generate_unique_id_function
    if make is None:
        return generate_unique_id(route)
    return make(route) if len(route.methods) == 1 else f"{make(route)}_{method.lower()}"


def _deep_update(target: dict[str, Any], extra: dict[str, Any]) -> None:
    """openapi_extra merged into the generated operation (nested dicts merged key by key)."""
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _deep_update(target[key], value)
        else:
            target[key] = value


def path_items(routes: Any, schemas: Schemas) -> dict[str, dict[str, Any]]:
    """The `paths` (or `webhooks`) object for the routes included in the schema."""
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        if not getattr(route, "include_in_schema", False) or not hasattr(route, "dependant"):
            continue
        item = paths.setdefault(_openapi_path(route.path), {})
        for method in route.methods:
            item[method.lower()] = _operation(route, method, schemas)
    return paths


def build_openapi(app: App) -> dict[str, Any]:
    """The OpenAPI 3.1 document for `app`'s routes that are included in the schema."""
    from fasterapi.openapi.utils import get_openapi

    servers = list(app.servers)
    if app.root_path and app.root_path_in_servers and not any(
        s.get("url") == app.root_path for s in servers
    ):
        servers.insert(0, {"url": app.root_path})
    return get_openapi(
        title=app.title,
        version=app.version,
        summary=app.summary,
        description=app.description,
        routes=app.routes,
        webhooks=app.webhooks.routes,
        tags=app.openapi_tags,
        servers=servers,
        terms_of_service=app.terms_of_service,
        contact=app.contact,
        license_info=app.license_info,
        separate_input_output_schemas=app.separate_input_output_schemas,
        external_docs=app.openapi_external_docs,
    )


# JSON Schema keywords FastAPI's OpenAPI model types as float: a component schema's
# `"minimum": 1` is written `1.0` there (parameter schemas keep what pydantic wrote).
_FLOAT_KEYWORDS = frozenset(
    {"multipleOf", "maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum"}
)
_VALUES = frozenset({"default", "example", "examples", "const", "enum"})  # data, not schemas


def component_schema(schema: Any) -> Any:
    """A copy of a component schema written as FastAPI writes it (see _FLOAT_KEYWORDS)."""
    if isinstance(schema, dict):
        return {
            k: (
                float(v)
                if k in _FLOAT_KEYWORDS and type(v) is int
                else v
                if k in _VALUES
                else component_schema(v)
            )
            for k, v in schema.items()
        }
    if isinstance(schema, list):
        return [component_schema(v) for v in schema]
    return schema
