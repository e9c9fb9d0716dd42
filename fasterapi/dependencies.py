"""Compile a handler's signature once into a plan (`Dependant`), then solve it per request:
request/response objects, typed path/query/header/cookie values, JSON bodies and `Depends`."""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import logging
import types
import typing
from collections.abc import Callable
from typing import Annotated, Any, Union, cast, get_args, get_origin

from pydantic import BaseModel, TypeAdapter, ValidationError

from fasterapi._form_params import form_getter, is_upload_annotation
from fasterapi._jsonio import json_loads
from fasterapi._param_models import param_model, param_model_getter
from fasterapi.background import BackgroundTasks
from fasterapi.exceptions import DependencyScopeError
from fasterapi.params import Body, Depends, Param, Security
from fasterapi.requests import Request, raw_body
from fasterapi.responses import Response
from fasterapi.security.scopes import SecurityScopes

_log = logging.getLogger("fasterapi.error")
_EMPTY = inspect.Parameter.empty
_REQ_NAMES = ("req", "request")
_RES_NAMES = ("res", "response")
_SEQUENCES = (list, set, tuple, frozenset, typing.Sequence, typing.List)  # noqa: UP006


@dataclasses.dataclass(eq=False)
class Field:
    """One parameter: where it comes from and how to validate it."""

    name: str
    source: str  # request response background path query header cookie body depends websocket
    key: str = ""
    annotation: Any = Any
    default: Any = None
    required: bool = False
    adapter: TypeAdapter[Any] | None = None
    is_list: bool = False
    marker: Param | None = None
    dependant: Dependant | None = None
    fast_int: bool = False  # plain `int`: ASCII digits convert without pydantic
    fast_bool: bool = False  # plain `bool`: pydantic's lower-case words convert by lookup
    get: Callable[[SolveState], Any] = lambda st: None  # set by compile_dependant


@dataclasses.dataclass(eq=False)
class Dependant:
    """A callable's compiled parameter plan, with its sub-dependencies."""

    call: Callable[..., Any]
    fields: list[Field]
    kind: str  # "func" | "coro" | "gen" | "agen"
    use_cache: bool = True
    needs_async: bool = False  # this or a sub-dependency must be awaited
    embed_body: bool = False
    scopes: list[str] = dataclasses.field(default_factory=list)  # Security() scopes, outer first
    cache_key: Any = None  # call, or (call, scopes) when scopes were required (FastAPI's key)
    scope: str | None = None  # Depends(scope=...): "function" exits before the response
    function_scoped: bool = False  # this or a sub-dependency is a "function"-scoped generator
    # (name, getter) of each parameter when none is a sub-dependency: the solvers' short loop
    leaves: tuple[tuple[str, Callable[[SolveState], Any]], ...] | None = None

    def all_fields(self) -> list[Field]:
        """Every leaf field of this plan and its sub-dependencies (for OpenAPI), in FastAPI's
        order: this plan's own fields first, then each sub-dependency's, depth first."""
        out = [f for f in self.fields if f.dependant is None]
        for f in self.fields:
            if f.dependant is not None:
                out.extend(f.dependant.all_fields())
        return out


def _kind(call: Callable[..., Any]) -> str:
    """How to call it: plain function, coroutine, generator or async generator."""
    targets = [call] if isinstance(call, type) else [call, type(call).__call__]
    for target in targets:
        if inspect.isasyncgenfunction(target):
            return "agen"
        if inspect.isgeneratorfunction(target):
            return "gen"
        if inspect.iscoroutinefunction(target):
            return "coro"
    return "func"


def _strip_optional(tp: Any) -> Any:
    if get_origin(tp) in (Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return tp


def _is_body_type(tp: Any) -> bool:
    tp = _strip_optional(tp)
    if isinstance(tp, type) and (issubclass(tp, BaseModel) or dataclasses.is_dataclass(tp)):
        return True
    if tp is dict or get_origin(tp) is dict:
        return True
    origin = get_origin(tp)
    if origin in _SEQUENCES:
        return any(_is_body_type(a) for a in get_args(tp))
    return False


def _is_sequence(tp: Any) -> bool:
    tp = _strip_optional(tp)
    return tp in _SEQUENCES or get_origin(tp) in _SEQUENCES


def _adapter(tp: Any, marker: Param | None) -> TypeAdapter[Any] | None:
    """None when the raw str is already the value (str, str | None, Any, unannotated)."""
    if tp is Any or tp is _EMPTY or _strip_optional(tp) is str:
        if not (marker and marker.constraints):
            return None
        tp = str
    if marker is not None and marker.constraints:
        from pydantic import Field as PField

        tp = Annotated[tp, PField(**marker.constraints)]
    return TypeAdapter(tp)


_DOC_ONLY = ("openapi_examples", "media_type")  # Body()/Form() keywords that only document


def _body_constraints(marker: Param) -> dict[str, Any]:
    return {k: v for k, v in marker.constraints.items() if k not in _DOC_ONLY}


def _with_validators(tp: Any, marker: Param | None, validators: list[Any]) -> TypeAdapter[Any]:
    """The adapter of `Annotated[tp, AfterValidator(...), ...]`: the parameter's own pydantic
    metadata runs as it does in FastAPI (with the marker's constraints, if any)."""
    from pydantic import Field as PField

    meta = [PField(**marker.constraints)] if marker is not None and marker.constraints else []
    return TypeAdapter(Annotated[(tp, *meta, *validators)])  # type: ignore[valid-type]


def _type_hints(fn: Any) -> dict[str, Any]:
    """Resolved annotations; a name that can't be resolved fails here, at registration."""
    try:
        return typing.get_type_hints(fn, include_extras=True)
    except Exception:
        pass
    fn = getattr(fn, "__call__", fn) if not inspect.isfunction(fn) else fn  # noqa: B004
    out: dict[str, Any] = {}
    for name, ann in getattr(fn, "__annotations__", {}).items():
        if isinstance(ann, str):
            try:
                ann = eval(ann, getattr(fn, "__globals__", {}))
            except Exception as e:
                raise TypeError(
                    f"{getattr(fn, '__qualname__', fn)}: cannot resolve annotation {ann!r} of "
                    f"{name!r} ({e}); define the type at module level"
                ) from e
        out[name] = ann
    return out


def compile_dependant(
    call: Callable[..., Any],
    path_params: set[str],
    *,
    use_cache: bool = True,
    extra: list[Depends] | None = None,
    scopes: list[str] | None = None,
) -> Dependant:
    """Inspect `call`'s signature once. Raises TypeError naming the parameter it can't place."""
    target = call.__init__ if isinstance(call, type) else call  # type: ignore[misc]
    hints = _type_hints(target if isinstance(call, type) else call)
    sig = inspect.signature(call if not isinstance(call, type) else target)
    fields: list[Field] = []
    scopes = scopes or []
    for marker in extra or []:
        fields.append(_depends_field("", marker, path_params, scopes=scopes))
    for p in sig.parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or (
            isinstance(call, type) and p.name == "self"
        ):
            continue
        fields.append(_field(call, p, hints.get(p.name, p.annotation), path_params, scopes))
    dep = Dependant(call, fields, _kind(call), use_cache, scopes=scopes)
    dep.cache_key = (call, tuple(sorted(set(scopes)))) if scopes else call
    dep.needs_async = dep.kind in ("coro", "agen") or any(
        f.dependant is not None and f.dependant.needs_async for f in fields
    )
    dep.function_scoped = any(
        f.dependant is not None and f.dependant.function_scoped for f in fields
    )
    bodies = [f for f in fields if f.source == "body"]
    dep.embed_body = len(bodies) > 1 or any(
        isinstance(f.marker, Body) and f.marker.embed for f in bodies
    )
    for f in fields:
        if f.source == "security_scopes":
            f.get = _scopes_getter(scopes)
        elif f.dependant is None:
            f.get = _getter(f, dep.embed_body)
    if all(f.dependant is None for f in fields):
        dep.leaves = tuple((f.name, f.get) for f in fields)
    return dep


def _scopes_getter(scopes: list[str]) -> Callable[[SolveState], SecurityScopes]:
    """A SecurityScopes parameter: the scopes of the Security() chain above it."""
    fixed = tuple(scopes)
    return lambda st: SecurityScopes(list(fixed))


def _depends_field(
    name: str,
    marker: Depends,
    path_params: set[str],
    annotation: Any = None,
    scopes: list[str] | None = None,
) -> Field:
    call = marker.dependency or annotation
    if call is None or not callable(call):
        raise TypeError(f"Depends() for parameter {name!r} needs a callable: Depends(get_thing)")
    scopes = [*(scopes or []), *(marker.scopes if isinstance(marker, Security) else [])]
    sub = compile_dependant(call, path_params, use_cache=marker.use_cache, scopes=scopes)
    sub.scope = marker.scope
    if marker.scope == "function":
        sub.cache_key = (sub.cache_key, "function")  # FastAPI keys its cache by scope too
        if sub.kind in ("gen", "agen"):
            sub.function_scoped = True
    if sub.kind in ("gen", "agen") and marker.scope != "function":
        for f in sub.fields:  # FastAPI's rule: an exit may not outlive what it uses
            if f.dependant is not None and f.dependant.scope == "function":
                raise DependencyScopeError(
                    f'The dependency "{_name(call)}" has a scope of "request", it cannot '
                    'depend on dependencies with scope "function".'
                )
    return Field(name, "depends", dependant=sub)


def _field(
    call: Any, p: inspect.Parameter, ann: Any, path_params: set[str], scopes: list[str]
) -> Field:
    marker: Any = p.default if isinstance(p.default, Param | Depends) else None
    from_annotated = False
    validators: list[Any] = []  # Annotated metadata for pydantic (AfterValidator, Field, ...)
    if get_origin(ann) is Annotated:
        base, *meta = get_args(ann)
        ann = base
        for m in meta:
            if isinstance(m, Param | Depends):
                marker, from_annotated = m, True
            else:
                validators.append(m)
    if isinstance(marker, Depends):
        annotation = ann if ann is not _EMPTY else None
        return _depends_field(p.name, marker, path_params, annotation, scopes)
    if isinstance(ann, type):
        if issubclass(ann, SecurityScopes):
            return Field(p.name, "security_scopes")
        if issubclass(ann, _websocket_class()):
            return Field(p.name, "websocket")
        if issubclass(ann, Request):
            return Field(p.name, "request")
        if issubclass(ann, Response):
            return Field(p.name, "response")
        if issubclass(ann, BackgroundTasks):
            return Field(p.name, "background")
    # The seed's (req, res) positional pair, unannotated or annotated loosely (`req: Any`).
    if (ann is _EMPTY or ann is Any) and marker is None and p.default is _EMPTY:
        if p.name in _REQ_NAMES:
            return Field(p.name, "request")
        if p.name in _RES_NAMES:
            return Field(p.name, "response")
    if marker is not None:
        default = p.default if from_annotated and p.default is not _EMPTY else marker.default
        source = marker.source
    else:
        default = p.default if p.default is not _EMPTY else ...
        if p.name in path_params:
            source = "path"
        elif is_upload_annotation(ann):
            source = "form"  # `file: UploadFile` is a File() parameter (FastAPI)
        elif _is_body_type(ann):
            source = "body"
        else:
            source = "query"
    if p.name in path_params and source == "query" and marker is None:
        source = "path"
    if source == "path" and p.name not in path_params and not (marker and marker.alias):
        raise TypeError(
            f"{getattr(call, '__name__', call)}: path parameter {p.name!r} is not in the route "
            f"path; add {{{p.name}}} to the path or make it a query parameter"
        )
    key = (marker.alias if marker is not None else None) or p.name
    if source == "header" and marker is not None and getattr(marker, "convert_underscores", True):
        key = key.replace("_", "-")
    if source == "header":
        key = key.lower()
    required = default is ...
    ann_t = ann if ann is not _EMPTY else Any
    if source == "body":
        adapter: TypeAdapter[Any] | None = TypeAdapter(ann_t) if ann_t is not Any else None
        if marker is not None and (limits := _body_constraints(marker)):  # Body(gt=0)
            from pydantic import Field as PField

            # cast: pydantic >= 2.14 types TypeAdapter's argument as a TypeForm
            adapter = TypeAdapter(cast(Any, Annotated[ann_t, PField(**limits)]))
    else:
        adapter = _adapter(ann_t, marker)
    if validators and source not in ("form", "security_scopes"):
        adapter = _with_validators(ann_t, marker if source != "body" else None, validators)
    plain = not (marker is not None and marker.constraints) and not validators
    fast_int = plain and _strip_optional(ann_t) is int
    fast_bool = plain and _strip_optional(ann_t) is bool
    return Field(
        p.name,
        source,
        key,
        ann_t,
        None if required else default,
        required,
        adapter,
        _is_sequence(ann_t) and source in ("query", "header", "form"),
        marker,
        fast_int=fast_int,
        fast_bool=fast_bool,
    )


class SolveState:
    """Per-request scratch: dependency cache, collected errors and cleanups."""

    __slots__ = (
        "background", "body", "cache", "cleanups", "errors", "function_cleanups", "req", "res"
    )  # fmt: skip

    def __init__(self, req: Any, res: Any) -> None:
        self.req, self.res = req, res
        self.cache: dict[Any, Any] = {}
        self.errors: list[dict[str, Any]] = []
        self.cleanups: list[Any] | None = None
        # "function"-scoped generators, when the endpoint closes them itself (else they are
        # closed with the others, after the response)
        self.function_cleanups: list[Any] | None = None
        self.background: BackgroundTasks | None = None
        self.body: Any = _NO_BODY


_NO_BODY = object()


def _ctx_value(v: Any) -> Any:
    if isinstance(v, int | float | str | bool):
        return v
    # An exception (a validator's ValueError) is encoded as {}, as FastAPI's encoder does.
    return {} if isinstance(v, Exception) else str(v)


def _sanitize(err: Any, loc: tuple[Any, ...]) -> dict[str, Any]:
    out = {
        "type": err["type"],
        "loc": (*loc, *err["loc"]),  # a tuple, as in FastAPI's exc.errors()
        "msg": err["msg"],
        "input": err.get("input"),
    }
    if "ctx" in err:
        out["ctx"] = {k: _ctx_value(v) for k, v in err["ctx"].items()}
    if isinstance(out["input"], bytes):
        out["input"] = out["input"].decode("utf-8", "replace")
    return out


def _validate(f: Field, raw: Any, loc: tuple[Any, ...], st: SolveState) -> Any:
    if raw is _MISSING_V:
        if f.required:
            st.errors.append(
                {"type": "missing", "loc": tuple(loc), "msg": "Field required", "input": None}
            )
        return f.default
    if f.adapter is None:
        return raw
    if f.fast_int and type(raw) is str and raw.isascii() and raw.isdigit():
        return int(raw)
    if f.fast_bool and type(raw) is str and (word := _BOOL_WORDS.get(raw)) is not None:
        return word
    try:
        # What TypeAdapter.validate_python(raw) runs, without its Python frame and keywords.
        return f.adapter.validator.validate_python(raw)
    except ValidationError as e:
        st.errors.extend(_sanitize(err, loc) for err in e.errors(include_url=False))
        return None


_MISSING_V = object()
# The strings pydantic's lax bool accepts, as written in lower case (pydantic docs, "Standard
# Library Types", bool); any other spelling ("True", " yes") goes through pydantic itself.
_BOOL_WORDS = {
    "1": True, "on": True, "t": True, "true": True, "y": True, "yes": True,
    "0": False, "off": False, "f": False, "false": False, "n": False, "no": False,
}  # fmt: skip


def _body(st: SolveState) -> Any:
    if st.body is _NO_BODY:
        raw = raw_body(st.req)  # the engine's bytes (req.body would build a Body)
        if custom_bodies_in_use:  # a custom Request class's body() (fasterapi/_endpoint.py)
            raw = st.req.__dict__.get(CUSTOM_BODY, raw)
        if not raw:
            st.body = _MISSING_V
        elif (ctype := st.req.header("content-type")) != "application/json" and not (
            _json_content(ctype, st.req)
        ):
            st.body = raw  # validated as it is: a model refuses bytes (model_attributes_type)
        else:
            try:
                st.body = json_loads(raw)
            except ValueError as e:
                st.errors.append(
                    {
                        "type": "json_invalid",
                        "loc": ("body", getattr(e, "pos", 0)),  # where parsing failed
                        "msg": "JSON decode error",
                        "input": {},
                        "ctx": {"error": _json_error(e)},
                    }
                )
                st.body = _INVALID
    return st.body


_INVALID = object()
# A route handler given a Request subclass that overrides body() (FastAPI's custom request
# classes, e.g. one that un-gzips) stores what it returned under this key; the flag keeps the
# lookup off the path of apps that never do.
CUSTOM_BODY = "_fa_custom_body"
custom_bodies_in_use = False


def _json_content(value: str | None, req: Any) -> bool:
    """Whether the body is to be parsed as JSON, as FastAPI decides from the request's
    Content-Type `value` (req.header(), a scan of the stored head: no header list built):
    application/json or application/*+json (RFC 6839 §3.1); no Content-Type at all only when
    the app was made with strict_content_type=False."""
    if value is None:
        return not getattr(req.app, "strict_content_type", True)
    mime = value.partition(";")[0].strip().lower()
    major, _, sub = mime.partition("/")
    return major == "application" and (sub == "json" or sub.endswith("+json"))


def request_body(st: SolveState) -> Any:
    """The parsed JSON body, for RequestValidationError.body (None when there was none or
    it did not parse)."""
    body = st.body
    return None if body is _NO_BODY or body is _MISSING_V or body is _INVALID else body


def _json_error(e: ValueError) -> str:
    """json.JSONDecodeError's message without the byte offset our parser adds (it is the
    error's loc already), as FastAPI reports it."""
    msg = str(getattr(e, "msg", e))
    cut = msg.rfind(" (byte ")
    return msg[:cut] if cut > 0 and msg.endswith(")") else msg


def param_value(f: Field, st: SolveState, embed: bool) -> Any:
    """The value of a non-dependency field for this request (errors go to st.errors)."""
    src = f.source
    req = st.req
    if src == "request":
        return req
    if src == "response":
        return st.res
    if src == "background":
        if st.background is None:
            # render() runs res.background after the response (the engine's fast path
            # hands any response with a background to render()).
            st.background = st.res.background = BackgroundTasks()
        return st.background
    if src == "path":
        raw = req.path_params.get(f.key, _MISSING_V)
    elif src == "query":
        qp = req.query_params
        raw = (qp.getlist(f.key) or _MISSING_V) if f.is_list else qp.get(f.key, _MISSING_V)
    elif src == "header":
        raw = (
            (req.headers.getlist(f.key) or _MISSING_V)
            if f.is_list
            else req.headers.get(f.key, _MISSING_V)
        )
    elif src == "cookie":
        raw = req.cookies.get(f.key, _MISSING_V)
    else:  # body
        data = _body(st)
        if data is _INVALID:
            return None
        if embed:
            raw = data.get(f.key, _MISSING_V) if isinstance(data, dict) else _MISSING_V
            return _validate(f, raw, ("body", f.key), st)
        if type(data) is bytes and f.adapter is not None:  # not JSON: see _json_content
            try:  # FastAPI validates with from_attributes: a model says model_attributes_type
                return f.adapter.validate_python(data, from_attributes=True)
            except ValidationError as e:
                st.errors.extend(_sanitize(err, ("body",)) for err in e.errors(include_url=False))
                return None
        return _validate(f, data, ("body",), st)
    return _validate(f, raw, (src, f.key), st)


def _websocket_class() -> type:
    from fasterapi.websockets import WebSocket  # imported late: it loads the extension

    return WebSocket


def _getter(f: Field, embed: bool) -> Callable[[SolveState], Any]:
    """A per-field function computing its value, specialised for the common sources so the
    per-request loop does no dispatching."""
    src, key = f.source, f.key
    if src == "request" or src == "websocket":  # a WebSocket endpoint's st.req is its socket
        return _get_request
    if src == "response":
        return _get_response
    if src == "form":  # urlencoded or multipart (fasterapi/_form_params.py)
        return form_getter(f, _MISSING_V, _validate)
    if (model := param_model(f)) is not None:  # Annotated[Filters, Query()] and friends
        return param_model_getter(f, model, _sanitize)
    loc = (src, key)
    if src == "path":

        def get_path(st: SolveState) -> Any:
            return _validate(f, st.req.path_params.get(key, _MISSING_V), loc, st)

        return get_path
    if src == "query" and not f.is_list:
        # The engine's request finds the one name in the raw query string (the last value,
        # decoded as QueryParams does) without building the mapping of every pair.
        def get_query(st: SolveState) -> Any:
            req = st.req
            try:
                raw = req.query_value(key)
            except AttributeError:  # a WebSocket's parameters: no engine request
                raw = NotImplemented
            if raw is None:
                raw = _MISSING_V
            elif raw is NotImplemented:  # a query or a name that is not ASCII
                raw = req.query_params.get(key, _MISSING_V)
            return _validate(f, raw, loc, st)

        return get_query
    if src == "query":

        def get_query_list(st: SolveState) -> Any:
            req = st.req
            try:
                raw = req.query_values(key)
            except AttributeError:
                raw = NotImplemented
            if raw is NotImplemented:
                raw = req.query_params.getlist(key)
            return _validate(f, raw or _MISSING_V, loc, st)

        return get_query_list
    if src == "body" and not embed:
        body_loc = ("body",)

        def get_body(st: SolveState) -> Any:
            data = _body(st)
            if type(data) is dict and f.adapter is not None:  # a JSON object: validate it
                try:
                    return f.adapter.validator.validate_python(data)  # as _validate
                except ValidationError as e:
                    st.errors.extend(
                        _sanitize(err, body_loc) for err in e.errors(include_url=False)
                    )
                    return None
            if data is _INVALID or type(data) is bytes:
                return param_value(f, st, embed)  # see there
            return _validate(f, data, body_loc, st)

        return get_body
    return lambda st: param_value(f, st, embed)


def _get_request(st: SolveState) -> Any:
    return st.req


def _get_response(st: SolveState) -> Any:
    return st.res


def _add_cleanup(st: SolveState, gen: Any) -> None:
    if st.cleanups is None:
        cleanups: list[Any] = []
        st.cleanups = cleanups
        st.req.add_done_callback(lambda: run_cleanups(cleanups))
    st.cleanups.append(gen)


def _enter_gen(st: SolveState, sub: Dependant, gen: Any) -> Any:
    """The value a generator dependency yields; registered for cleanup once it has yielded."""
    try:
        value = next(gen)
    except StopIteration:
        raise RuntimeError(f"dependency {_name(sub.call)} did not yield") from None
    _add_cleanup(st, gen) if sub.scope != "function" else _add_function_cleanup(st, gen)
    return value


def _add_function_cleanup(st: SolveState, gen: Any) -> None:
    if st.function_cleanups is not None:
        st.function_cleanups.append(gen)
    else:  # a caller that does not close them early (a WebSocket endpoint): at the end
        _add_cleanup(st, gen)


def finish_function_scope(st: SolveState) -> None:
    """The endpoint returned: run the exit of its "function"-scoped generator dependencies,
    last opened first (FastAPI's inner exit stack), before the response is sent; an
    exception they raise propagates. Sync generators only (sync endpoints)."""
    gens = st.function_cleanups
    while gens:
        gen = gens.pop()
        try:
            next(gen)
        except StopIteration:
            continue
        gen.close()
        raise RuntimeError(f"dependency {gen!r} yielded more than once")


async def finish_function_scope_async(st: SolveState) -> None:
    """finish_function_scope() for endpoints that may have async generator dependencies."""
    gens = st.function_cleanups
    while gens:
        gen = gens.pop()
        if inspect.isasyncgen(gen):
            try:
                await gen.__anext__()
            except StopAsyncIteration:
                continue
            await gen.aclose()
        else:
            try:
                next(gen)
            except StopIteration:
                continue
            gen.close()
        raise RuntimeError(f"dependency {gen!r} yielded more than once")


async def _enter_agen(st: SolveState, sub: Dependant, gen: Any) -> Any:
    try:
        value = await gen.__anext__()
    except StopAsyncIteration:
        raise RuntimeError(f"dependency {_name(sub.call)} did not yield") from None
    _add_cleanup(st, gen) if sub.scope != "function" else _add_function_cleanup(st, gen)
    return value


def _name(call: Any) -> str:
    return getattr(call, "__qualname__", None) or repr(call)


def run_cleanups(gens: list[Any]) -> None:
    """After a successful response: finish generator dependencies, last opened first (the
    code after `yield` runs now). Errors they raise are logged on "fasterapi.error"."""
    if not gens:
        return
    if any(inspect.isasyncgen(g) for g in gens):
        # One task closes them all in order, so an outer sync generator never closes
        # before an inner async one.
        t = asyncio.get_running_loop().create_task(_finish_all(gens))
        _pending.add(t)
        t.add_done_callback(_pending.discard)
        return
    while gens:
        _finish_gen(gens.pop())


def _finish_gen(gen: Any) -> None:
    try:
        next(gen)
    except StopIteration:
        return
    except Exception:
        _log.exception("dependency cleanup failed")
        return
    _log.error("dependency %r yielded more than once", gen)
    gen.close()


_pending: set[asyncio.Task[None]] = set()


async def _finish_all(gens: list[Any]) -> None:
    while gens:
        gen = gens.pop()
        if not inspect.isasyncgen(gen):
            _finish_gen(gen)
            continue
        try:
            await gen.__anext__()
        except StopAsyncIteration:
            continue
        except Exception:
            _log.exception("dependency cleanup failed")
            continue
        _log.error("dependency %r yielded more than once", gen)
        await gen.aclose()


def unwind(st: SolveState, exc: BaseException) -> BaseException:
    """The handler (or a dependency) raised `exc`: throw it into the open generator
    dependencies, last opened first, as FastAPI (an ExitStack) does, so `except: rollback;
    raise` rolls back. Returns the exception to answer with: `exc`, or the one a generator
    raised instead (e.g. an HTTPException). A generator that swallows `exc` leaves it as the
    answer (there is no result to send). Only sync generators (sync endpoints).
    "function"-scoped generators are the inner ones: they see it first."""
    for gens in (st.function_cleanups, st.cleanups):
        while gens:
            exc = _throw(gens.pop(), exc)
    return exc


async def unwind_async(st: SolveState, exc: BaseException) -> BaseException:
    """unwind() for endpoints that may have async generator dependencies."""
    if st.function_cleanups:  # the inner ones: they see it first (popped first)
        if st.cleanups is None:
            st.cleanups = []  # unwound here: no after-response callback needed
        st.cleanups.extend(st.function_cleanups)
        st.function_cleanups.clear()
    gens = st.cleanups
    while gens:
        gen = gens.pop()
        if not inspect.isasyncgen(gen):
            exc = _throw(gen, exc)
            continue
        try:
            await gen.athrow(exc)
        except StopAsyncIteration:
            continue
        except BaseException as e:
            exc = e
            continue
        _log.error("dependency %r yielded again after an exception", gen)
        await gen.aclose()
    return exc


def _throw(gen: Any, exc: BaseException) -> BaseException:
    try:
        gen.throw(exc)
    except StopIteration:
        return exc
    except BaseException as e:
        return e
    _log.error("dependency %r yielded again after an exception", gen)
    gen.close()
    return exc


def solve_sync(dep: Dependant, st: SolveState) -> dict[str, Any]:
    """Keyword arguments for dep.call (no awaiting: only sync dependencies)."""
    kwargs: dict[str, Any] = {}
    if dep.leaves is not None:  # no sub-dependencies: one getter per parameter
        for name, get in dep.leaves:
            kwargs[name] = get(st)
        return kwargs
    for f in dep.fields:
        sub = f.dependant
        if sub is None:
            kwargs[f.name] = f.get(st)
            continue
        if overrides_in_use:
            sub = overridden(sub, st, sync=True)
        if sub.use_cache and sub.cache_key in st.cache:
            value = st.cache[sub.cache_key]
        else:
            n_err = len(st.errors)
            sub_kwargs = solve_sync(sub, st)
            if len(st.errors) != n_err:
                continue
            value = sub.call(**sub_kwargs)
            if sub.kind == "gen":
                value = _enter_gen(st, sub, value)
            if sub.use_cache:
                st.cache[sub.cache_key] = value
        if f.name:
            kwargs[f.name] = value
    return kwargs


async def solve_async(dep: Dependant, st: SolveState) -> dict[str, Any]:
    """Keyword arguments for dep.call, awaiting async dependencies."""
    kwargs: dict[str, Any] = {}
    if dep.leaves is not None:  # nothing to await: see solve_sync
        for name, get in dep.leaves:
            kwargs[name] = get(st)
        return kwargs
    for f in dep.fields:
        sub = f.dependant
        if sub is None:
            kwargs[f.name] = f.get(st)
            continue
        if overrides_in_use:
            sub = overridden(sub, st, sync=False)
        if sub.use_cache and sub.cache_key in st.cache:
            value = st.cache[sub.cache_key]
        else:
            n_err = len(st.errors)
            sub_kwargs = await solve_async(sub, st) if sub.needs_async else solve_sync(sub, st)
            if len(st.errors) != n_err:
                continue
            value = sub.call(**sub_kwargs)
            kind = sub.kind
            if kind == "coro":
                value = await value
            elif kind == "gen":
                value = _enter_gen(st, sub, value)
            elif kind == "agen":
                value = await _enter_agen(st, sub, value)
            if sub.use_cache:
                st.cache[sub.cache_key] = value
        if f.name:
            kwargs[f.name] = value
    return kwargs


# app.dependency_overrides (FastAPI's testing hook): False until some app sets overrides, so
# requests of processes that never use them pay one global read per dependency.
overrides_in_use = False
_override_plans: dict[tuple[Any, Any], Dependant] = {}


def overridden(sub: Dependant, st: SolveState, *, sync: bool) -> Dependant:
    """`sub`, or the compiled plan of the override the request's app has for `sub.call`.
    Raises TypeError when a route solved without awaiting would need to await it."""
    overrides = getattr(getattr(st.req, "app", None), "dependency_overrides", None)
    if not overrides:
        return sub
    replacement = overrides.get(sub.call)
    if replacement is None:
        return sub
    key = (sub.call, replacement)
    plan = _override_plans.get(key)
    if plan is None:
        plan = _override_plans[key] = compile_dependant(replacement, set(), scopes=sub.scopes)
    if sync and plan.needs_async:
        raise TypeError(
            f"dependency_overrides: {sub.call!r} is sync but its override {replacement!r} must "
            "be awaited; override it with a sync function"
        )
    return plan
