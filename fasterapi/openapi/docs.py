"""/openapi.json and /docs. Swagger UI needs a CDN, which offline machines can't reach, so
/docs is a small self-contained page that fetches the spec and lists every operation."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from fasterapi._jsonio import json_dumps
from fasterapi.requests import Request
from fasterapi.responses import HTMLResponse, Response
from fasterapi.routing import Route

if TYPE_CHECKING:
    from fasterapi.app import App

_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>{title} - docs</title>
<style>
body{{font-family:system-ui,sans-serif;margin:2rem auto;max-width:60rem;color:#222}}
.op{{border:1px solid #ddd;border-radius:6px;margin:.6rem 0;padding:.5rem .8rem}}
.m{{display:inline-block;min-width:4.5rem;font-weight:700;text-transform:uppercase}}
.get{{color:#0a7}}.post{{color:#26c}}.put{{color:#c80}}.delete{{color:#c33}}.patch{{color:#8a2}}
pre{{background:#f6f6f6;padding:.5rem;overflow:auto;font-size:.8rem}}
</style></head>
<body><h1>{title}</h1><p>OpenAPI document: <a href="{url}">{url}</a></p><div id="ops"></div>
<script>
fetch({url_js}).then(r => r.json()).then(spec => {{
  const root = document.getElementById("ops");
  for (const [path, item] of Object.entries(spec.paths)) {{
    for (const [method, op] of Object.entries(item)) {{
      const d = document.createElement("details"); d.className = "op";
      const s = document.createElement("summary");
      s.innerHTML = `<span class="m ${{method}}">${{method}}</span> <code></code> `;
      s.querySelector("code").textContent = path;
      s.append(op.summary || "");
      const pre = document.createElement("pre");
      pre.textContent = JSON.stringify(op, null, 2);
      d.append(s, pre); root.append(d);
    }}
  }}
}});
</script></body></html>
"""


def openapi_routes(app: App) -> list[Route]:
    """Routes for the spec and the docs page (both left out of the spec itself)."""
    routes: list[Route] = []
    url = app.openapi_url
    if url:

        def openapi_json(req: Request, res: Response) -> Response:
            return Response(json_dumps(app.openapi()), media_type="application/json")

        routes.append(Route(url, openapi_json, include_in_schema=False))
    if url and app.docs_url:
        page = _PAGE.format(
            title=html.escape(app.title), url=html.escape(url), url_js=json_dumps(url).decode()
        )

        def docs(req: Request, res: Response) -> HTMLResponse:
            return HTMLResponse(page)

        routes.append(Route(app.docs_url, docs, include_in_schema=False))
    return routes
