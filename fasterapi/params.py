"""Parameter markers for handler signatures: `q: str = Query(None)`, `Annotated[int, Path()]`,
`pg=Depends(get_pg)`. They only describe; fasterapi.dependencies compiles them once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

_MISSING: Any = ...


class Param:
    """Where a value comes from (`source`) plus its default, alias and documentation."""

    source = "query"

    def __init__(
        self,
        default: Any = _MISSING,
        *,
        alias: str | None = None,
        title: str | None = None,
        description: str | None = None,
        examples: list[Any] | None = None,
        deprecated: bool | None = None,
        include_in_schema: bool = True,
        **constraints: Any,
    ) -> None:
        self.default = default
        self.alias = alias
        self.title = title
        self.description = description
        self.examples = examples
        self.deprecated = deprecated
        self.include_in_schema = include_in_schema
        self.constraints = constraints  # gt, ge, lt, le, min_length, max_length, pattern

    @property
    def required(self) -> bool:
        return self.default is _MISSING

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.default!r})"


class Query(Param):
    source = "query"


class Path(Param):
    source = "path"


class Header(Param):
    source = "header"

    def __init__(
        self, default: Any = _MISSING, *, convert_underscores: bool = True, **kwargs: Any
    ) -> None:
        super().__init__(default, **kwargs)
        self.convert_underscores = convert_underscores


class Cookie(Param):
    source = "cookie"


class Body(Param):
    source = "body"

    def __init__(self, default: Any = _MISSING, *, embed: bool = False, **kwargs: Any) -> None:
        super().__init__(default, **kwargs)
        self.embed = embed


class Form(Body):
    """A field of a form body (urlencoded or multipart); a pydantic model annotation reads
    each of its fields from the form."""

    source = "form"

    def __init__(
        self,
        default: Any = _MISSING,
        *,
        media_type: str = "application/x-www-form-urlencoded",
        **kwargs: Any,
    ) -> None:
        super().__init__(default, **kwargs)
        self.media_type = media_type


class File(Form):
    """A file of a multipart/form-data body: annotate `bytes` (the content) or `UploadFile`."""

    def __init__(
        self, default: Any = _MISSING, *, media_type: str = "multipart/form-data", **kwargs: Any
    ) -> None:
        super().__init__(default, media_type=media_type, **kwargs)


class Depends:
    """Use `dependency`'s return value as this parameter; called once per request however
    many times it is used (unless `use_cache=False`). Generators: code after `yield` runs
    after the response has been sent."""

    def __init__(
        self,
        dependency: Callable[..., Any] | None = None,
        *,
        use_cache: bool = True,
        scope: Literal["function", "request"] | None = None,
    ) -> None:
        if scope not in (None, "function", "request"):
            raise ValueError(f"Depends(scope=...) is 'function' or 'request', not {scope!r}")
        self.dependency = dependency
        self.use_cache = use_cache
        # A generator dependency's exit runs after the response is sent ("request", the
        # default) or as soon as the endpoint has returned, before it is sent ("function").
        self.scope = scope

    def __repr__(self) -> str:
        name = getattr(self.dependency, "__name__", type(self.dependency).__name__)
        return f"Depends({name})"


class Security(Depends):
    """Depends with OAuth scopes (scopes are recorded for OpenAPI only)."""

    def __init__(
        self,
        dependency: Callable[..., Any] | None = None,
        *,
        scopes: list[str] | None = None,
        use_cache: bool = True,
    ) -> None:
        super().__init__(dependency, use_cache=use_cache)
        self.scopes = scopes or []
