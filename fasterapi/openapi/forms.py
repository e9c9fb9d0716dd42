"""The requestBody of an operation whose parameters come from a form, as FastAPI writes it:
a `Body_<operationId>` component (or the form model's own schema) under
application/x-www-form-urlencoded, or multipart/form-data when a file is among them."""

from __future__ import annotations

import types
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, create_model
from pydantic import Field as PField

from fasterapi._form_params import is_upload_annotation, strip_optional
from fasterapi.dependencies import Field
from fasterapi.params import File, Form
from fasterapi.uploads import UploadFile


def _as_upload(tp: Any) -> Any:
    """`bytes` -> UploadFile inside the annotation, so a bytes File() is documented as a file."""
    if tp is bytes:
        return UploadFile
    args = get_args(tp)
    origin = get_origin(tp)
    if not args or origin is None:
        return tp
    new = tuple(_as_upload(a) for a in args)
    if origin in (Union, types.UnionType):
        return Union[new]  # noqa: UP007 (a runtime-built union)
    try:
        return origin[new if len(new) > 1 else new[0]]
    except TypeError:
        return tp


def _is_file(f: Field) -> bool:
    return isinstance(f.marker, File) or is_upload_annotation(f.annotation)


def _model_type(f: Field) -> type[BaseModel] | None:
    tp = strip_optional(f.annotation)
    return tp if isinstance(tp, type) and issubclass(tp, BaseModel) else None


def form_request_body(forms: list[Field], operation_id: str, schemas: Any) -> dict[str, Any]:
    """The requestBody object; `schemas` is the document's fasterapi.openapi.schema collector."""
    media = "multipart/form-data" if any(_is_file(f) for f in forms) else None
    if media is None:
        markers = [f.marker for f in forms if isinstance(f.marker, Form)]
        media = markers[0].media_type if markers else "application/x-www-form-urlencoded"
    model = _model_type(forms[0]) if len(forms) == 1 else None
    if model is not None:
        schema = schemas.of_input(model)
        required = forms[0].required
    else:
        name = f"Body_{operation_id}"
        definitions: dict[str, Any] = {}
        for f in forms:
            tp = _as_upload(f.annotation) if _is_file(f) else f.annotation
            info: dict[str, Any] = {}
            m = f.marker
            if m is not None:
                info.update(
                    {
                        k: getattr(m, k)
                        for k in ("title", "description", "examples")
                        if getattr(m, k, None) is not None
                    }
                )
                if m.deprecated:
                    info["deprecated"] = True
                info.update(m.constraints)
            if f.key != f.name:
                info["alias"] = f.key
            default = ... if f.required else f.default
            definitions[f.name] = (Annotated[tp, PField(default, **info)], default)
        body_model = create_model(name, **definitions)  # type: ignore[call-overload]
        schemas.of_input(body_model)
        for prop in schemas.components[name].get("properties", {}).values():
            if "default" in prop and prop["default"] is None:
                del prop["default"]  # FastAPI 0.165 leaves `"default": null` out
        schema = {"$ref": f"#/components/schemas/{name}"}
        required = any(f.required for f in forms)
    body: dict[str, Any] = {"content": {media: {"schema": schema}}}
    if required:
        body["required"] = True
    return body
