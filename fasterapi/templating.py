"""Jinja2 templates rendered into HTML responses: `templates = Jinja2Templates("templates")`,
then `return templates.TemplateResponse(request=request, name="item.html", context={...})`.
Templates can call `url_for("route_name", **path_params)` (a mount's name with `path=`)."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from fasterapi.background import BackgroundTask
from fasterapi.responses import HTMLResponse

_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?::[a-z]+)?\}")


def url_for(request: Any, name: str, /, **path_params: Any) -> str:
    """The absolute URL of the route called `name` with `path_params` filled in; raises
    LookupError naming the route when none matches."""
    app = getattr(request, "app", None)
    for route in getattr(app, "routes", ()):
        if route.name != name:
            continue
        wanted = set(_PARAM.findall(route.path))
        if wanted != set(path_params):
            continue
        path = _PARAM.sub(lambda m: str(path_params[m.group(1)]).lstrip("/")
                          if m.group(0).endswith(":path}") else str(path_params[m.group(1)]),
                          route.path)
        url = request.url
        return f"{url.scheme}://{url.netloc}{path}"
    raise LookupError(f"url_for: no route named {name!r} with parameters {sorted(path_params)}")


class Jinja2Templates:
    """A Jinja2 environment loading from `directory` (or an `env` you built), whose templates
    see `request` and `url_for`."""

    def __init__(
        self,
        directory: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None = None,
        *,
        context_processors: list[Callable[[Any], dict[str, Any]]] | None = None,
        env: Any = None,
        **env_options: Any,
    ) -> None:
        import jinja2  # optional dependency: only apps with templates need it

        if env is None:
            if directory is None:
                raise TypeError("Jinja2Templates needs directory= or env=")
            env_options.setdefault("autoescape", True)
            env = jinja2.Environment(loader=jinja2.FileSystemLoader(directory), **env_options)
        self.env = env
        self.context_processors = list(context_processors or [])

        @jinja2.pass_context
        def _url_for(context: Any, name: str, /, **path_params: Any) -> str:
            return url_for(context["request"], name, **path_params)

        env.globals.setdefault("url_for", _url_for)

    def get_template(self, name: str) -> Any:
        return self.env.get_template(name)

    def TemplateResponse(  # FastAPI's name
        self,
        request: Any = None,
        name: str | None = None,
        context: Mapping[str, Any] | None = None,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
    ) -> HTMLResponse:
        """The template `name` rendered with `context` (plus `request`) as an HTMLResponse."""
        if isinstance(request, str):  # the older TemplateResponse(name, {"request": r, ...})
            request, name, context = (context or {}).get("request"), request, context
        if name is None:
            raise TypeError("TemplateResponse needs the template name")
        values = dict(context or {})
        values.setdefault("request", request)
        for processor in self.context_processors:
            values.update(processor(request))
        body = self.get_template(name).render(values)
        return HTMLResponse(body, status_code, headers, media_type, background)
