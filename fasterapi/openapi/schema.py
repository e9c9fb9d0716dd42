"""Build the OpenAPI 3.1 document from the compiled routes (done once, on first request)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, TypeAdapter

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


class _Schemas:
    """Collects component schemas; models are referenced by name, as FastAPI does."""

    def __init__(self) -> None:
        self.components: dict[str, Any] = {}
        self.security_schemes: dict[str, Any] = {}  # components.securitySchemes

    def _schema(self, tp: Any, mode: str) -> dict[str, Any]:
        try:
            schema = TypeAdapter(tp).json_schema(ref_template=_REF, mode=mode)  # type: ignore[arg-type]
        except Exception:
            return {}
        self.components.update(schema.pop("$defs", {}))
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            self.components[tp.__name__] = schema
            return {"$ref": _REF.format(model=tp.__name__)}
        return schema

    def of(self, tp: Any) -> dict[str, Any]:
        return self._schema(tp, "serialization")

    def of_input(self, tp: Any) -> dict[str, Any]:
        return self._schema(tp, "validation")


def _openapi_path(path: str) -> str:
    return re.sub(r"\{([A-Za-z_][A-Za-z0-9_]*):[a-z]+\}", r"{\1}", path)


def _parameter(f: Field, schemas: _Schemas) -> dict[str, Any]:
    schema = schemas.of_input(f.annotation) if f.annotation is not Any else {}
    if f.marker is not None and f.marker.constraints:
        schema.update(
            {k: v for k, v in f.marker.constraints.items() if isinstance(v, int | float | str)}
        )
    p: dict[str, Any] = {
        "name": f.key,
        "in": f.source,
        "required": f.required or f.source == "path",
        "schema": schema,
    }
    if f.marker is not None:
        if f.marker.description:
            p["description"] = f.marker.description
        if f.marker.deprecated:
            p["deprecated"] = True
    if not f.required and f.default is not None:
        schema.setdefault("default", f.default)
    return p


def _operation(route: Route, method: str, schemas: _Schemas) -> dict[str, Any]:
    from fasterapi._endpoint import response_adapter

    doc = (route.endpoint.__doc__ or "").strip()
    op: dict[str, Any] = {
        "summary": route.summary or route.name.replace("_", " ").title(),
        "operationId": route.operation_id or f"{route.name}_{method.lower()}",
    }
    if route.tags:
        op["tags"] = route.tags
    if route.description or doc:
        op["description"] = route.description or doc
    if route.deprecated:
        op["deprecated"] = True
    fields = route.dependant.all_fields()
    params = [
        _parameter(f, schemas)
        for f in fields
        if f.source in ("path", "query", "header", "cookie")
        and (f.marker is None or f.marker.include_in_schema)
    ]
    if params:
        op["parameters"] = params
    bodies = [f for f in fields if f.source == "body"]
    if bodies:
        if len(bodies) == 1 and not route.dependant.embed_body:
            body_schema = schemas.of_input(bodies[0].annotation)
        else:
            body_schema = {
                "type": "object",
                "properties": {f.key: schemas.of_input(f.annotation) for f in bodies},
                "required": [f.key for f in bodies if f.required],
            }
        op["requestBody"] = {
            "content": {"application/json": {"schema": body_schema}},
            "required": any(f.required for f in bodies),
        }
    forms = [
        f
        for f in fields
        if f.source == "form" and (f.marker is None or f.marker.include_in_schema)
    ]
    if forms and not bodies:
        op["requestBody"] = form_request_body(forms, op["operationId"], schemas)
    status = str(route.status_code or 200)
    adapter = response_adapter(route)
    content_schema = schemas.of(route.response_model or adapter._type) if adapter else {}  # type: ignore[attr-defined]
    op["responses"] = {
        status: {
            "description": "Successful Response",
            "content": {"application/json": {"schema": content_schema}},
        },
    }
    if params or bodies or forms:
        schemas.components["ValidationError"] = _VALIDATION_ERROR
        schemas.components["HTTPValidationError"] = _HTTP_VALIDATION_ERROR
        op["responses"]["422"] = {
            "description": "Validation Error",
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/HTTPValidationError"}}
            },
        }
    for code, extra in route.responses.items():
        op["responses"].setdefault(str(code), {"description": ""}).update(extra)
    security = security_requirements(route.dependant, schemas.security_schemes)
    if security:
        op["security"] = security
    return op


def build_openapi(app: App) -> dict[str, Any]:
    """The OpenAPI 3.1 document for `app`'s routes that are included in the schema."""
    schemas = _Schemas()
    paths: dict[str, dict[str, Any]] = {}
    for route in app.routes:
        if not route.include_in_schema:
            continue
        item = paths.setdefault(_openapi_path(route.path), {})
        for method in route.methods:
            item[method.lower()] = _operation(route, method, schemas)
    info: dict[str, Any] = {"title": app.title, "version": app.version}
    if app.description:
        info["description"] = app.description
    doc: dict[str, Any] = {"openapi": "3.1.0", "info": info, "paths": paths}
    if schemas.components:
        doc["components"] = {"schemas": dict(sorted(schemas.components.items()))}
    if schemas.security_schemes:  # fasterapi/openapi/security.py
        doc.setdefault("components", {})["securitySchemes"] = schemas.security_schemes
    return doc
