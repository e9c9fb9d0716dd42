"""Getters for Form()/File() parameters, following FastAPI's rules: a value that is absent, ""
or an empty file input (filename "" and no bytes: a file field left blank in a browser) is
missing; `bytes` parameters receive a file's content; a pydantic model reads its fields from
the form (unknown keys included, so `extra="forbid"` can refuse them). Errors are located at
("body", key)."""

from __future__ import annotations

import types
import typing
from collections.abc import Callable
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from fasterapi._forms import DEFAULT_LIMITS, parse_form
from fasterapi.uploads import FormData, UploadFile

if typing.TYPE_CHECKING:
    from fasterapi.dependencies import Field, SolveState

_SEQUENCES = (list, set, tuple, frozenset, typing.Sequence, typing.List)  # noqa: UP006


def form_of(req: Any) -> FormData:
    """The request's parsed form, parsed on first use and kept on the request."""
    d = req.__dict__
    form = d.get("_fa_form")
    if form is None:
        limits = getattr(getattr(req, "app", None), "form_limits", None) or DEFAULT_LIMITS
        form = d["_fa_form"] = parse_form(req, limits)
    return form  # type: ignore[no-any-return]


def strip_optional(tp: Any) -> Any:
    if get_origin(tp) in (Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return tp


def _is_sequence(tp: Any) -> bool:
    tp = strip_optional(tp)
    return tp in _SEQUENCES or get_origin(tp) in _SEQUENCES


def _item_type(tp: Any) -> Any:
    args = get_args(strip_optional(tp))
    return args[0] if args else Any


def is_upload_annotation(tp: Any) -> bool:
    """UploadFile, UploadFile | None, list[UploadFile]: a file parameter even without File()."""
    tp = strip_optional(tp)
    if _is_sequence(tp):
        tp = strip_optional(_item_type(tp))
    return isinstance(tp, type) and issubclass(tp, UploadFile)


def _is_empty_file(v: Any) -> bool:
    return isinstance(v, UploadFile) and v.filename == "" and v.size == 0


def _read(v: Any) -> Any:
    """A file's bytes, leaving its position where it was (another parameter may read it)."""
    if not isinstance(v, UploadFile):
        return v
    pos = v.file.tell()
    try:
        return v.file.read()
    finally:
        v.file.seek(pos)


def _raw(form: FormData, key: str, seq: bool, missing: Any) -> Any:
    if seq:
        values = [v for v in form.getlist(key) if not _is_empty_file(v)]
        return values or missing
    v = form.get(key)
    if v is None or v == "" or _is_empty_file(v):
        return missing
    return v


def form_getter(f: Field, missing: Any, validate: Callable[..., Any]) -> Callable[..., Any]:
    """The per-request getter of form field `f`; `validate(f, raw, loc, st)` is the shared
    validator (it turns `missing` into the default or a 'missing' error)."""
    key = f.key
    loc = ("body", key)
    tp = f.annotation
    base = strip_optional(tp)
    if isinstance(base, type) and issubclass(base, BaseModel):
        return _model_getter(f, base, tp is not base)
    seq = _is_sequence(tp)
    want_bytes = (strip_optional(_item_type(tp)) if seq else base) is bytes

    takes_files = is_upload_annotation(tp)

    def get(st: SolveState) -> Any:
        raw = _raw(form_of(st.req), key, seq, missing)
        if raw is missing:
            return validate(f, raw, loc, st)
        if want_bytes:
            raw = [_read(v) for v in raw] if seq else _read(raw)
        elif not takes_files and f.adapter is None and isinstance(raw, UploadFile):
            # A file where a str is expected (the str path skips pydantic): FastAPI's 422.
            st.errors.append(
                {
                    "type": "string_type",
                    "loc": list(loc),
                    "msg": "Input should be a valid string",
                    "input": _describe(raw),
                }
            )
            return None
        n = len(st.errors)
        value = validate(f, raw, loc, st)
        for err in st.errors[n:]:  # an UploadFile input is reported by what it is, not repr
            if isinstance(err.get("input"), UploadFile):
                err["input"] = _describe(err["input"])
        return value

    return get


def _describe(u: UploadFile) -> dict[str, Any]:
    return {"filename": u.filename, "size": u.size, "headers": dict(u.headers.items())}


def _model_getter(f: Field, model: type[BaseModel], optional: bool) -> Callable[..., Any]:
    fields = [
        (info.alias or name, _is_sequence(info.annotation))
        for name, info in model.model_fields.items()
    ]
    own = {k for k, _ in fields}
    allows_extra = model.model_config.get("extra") in ("allow", "forbid")
    adapter = f.adapter

    def get(st: SolveState) -> Any:
        form = form_of(st.req)
        if optional and not (own.intersection(form) or (allows_extra and len(form))):
            return f.default
        values: dict[str, Any] = {}
        for key, seq in fields:
            raw = _raw(form, key, seq, None)
            if raw is not None:
                values[key] = raw
        for key, v in form.multi_items():
            if key not in own:
                values[key] = v
        try:
            return adapter.validate_python(values) if adapter is not None else values
        except ValidationError as e:
            from fasterapi.dependencies import _sanitize

            st.errors.extend(_sanitize(err, ("body",)) for err in e.errors(include_url=False))
            return None

    return get
