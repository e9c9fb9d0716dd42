"""/openapi.json and the documentation pages: Swagger UI at /docs and ReDoc at /redoc, as
FastAPI serves them (the pages load Swagger UI and ReDoc from the jsDelivr CDN), and
`App(docs_assets="local")` for machines without the CDN: Swagger UI's files are then served
from the `swagger-ui-bundle-v2` package under `{docs_url}/assets/`.

`get_swagger_ui_html`, `get_redoc_html` and `get_swagger_ui_oauth2_redirect_html` build the
pages for apps that serve docs themselves (FastAPI's `fastapi.openapi.docs` names)."""

from __future__ import annotations

import html
import json
from typing import TYPE_CHECKING, Any

from fasterapi._jsonio import json_dumps
from fasterapi.requests import Request
from fasterapi.responses import HTMLResponse, Response
from fasterapi.routing import Route

if TYPE_CHECKING:
    from fasterapi.app import App

SWAGGER_JS_URL = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js"
SWAGGER_CSS_URL = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css"
REDOC_JS_URL = "https://cdn.jsdelivr.net/npm/redoc@2/bundles/redoc.standalone.js"
FAVICON_URL = "https://fastapi.tiangolo.com/img/favicon.png"

# Swagger UI options FastAPI sets unless the app overrides them (swagger_ui_parameters).
SWAGGER_UI_DEFAULTS: dict[str, Any] = {
    "dom_id": "#swagger-ui",
    "layout": "BaseLayout",
    "deepLinking": True,
    "showExtensions": True,
    "showCommonExtensions": True,
}


def _js(value: Any) -> str:
    """`value` as a JavaScript literal safe inside <script> (no "</" can close it)."""
    return json.dumps(value).replace("</", "<\\/")


def get_swagger_ui_html(
    *,
    openapi_url: str,
    title: str,
    swagger_js_url: str = SWAGGER_JS_URL,
    swagger_css_url: str = SWAGGER_CSS_URL,
    swagger_favicon_url: str = FAVICON_URL,
    oauth2_redirect_url: str | None = None,
    init_oauth: dict[str, Any] | None = None,
    swagger_ui_parameters: dict[str, Any] | None = None,
) -> HTMLResponse:
    """The Swagger UI page for the document at `openapi_url`."""
    options = {**SWAGGER_UI_DEFAULTS, **(swagger_ui_parameters or {}), "url": openapi_url}
    if oauth2_redirect_url:
        options["oauth2RedirectUrl"] = oauth2_redirect_url
    config = ", ".join(f"{_js(k)}: {_js(v)}" for k, v in options.items())
    oauth = f"ui.initOAuth({_js(init_oauth)});" if init_oauth else ""
    page = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{html.escape(title)}</title>
<link rel="stylesheet" href="{html.escape(swagger_css_url)}">
<link rel="shortcut icon" href="{html.escape(swagger_favicon_url)}">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{html.escape(swagger_js_url)}"></script>
<script>
const ui = SwaggerUIBundle({{
  {config},
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
}});
{oauth}
</script>
</body>
</html>
"""
    return HTMLResponse(page)


def get_redoc_html(
    *,
    openapi_url: str,
    title: str,
    redoc_js_url: str = REDOC_JS_URL,
    redoc_favicon_url: str = FAVICON_URL,
    with_google_fonts: bool = True,
) -> HTMLResponse:
    """The ReDoc page for the document at `openapi_url`."""
    fonts = (
        '<link href="https://fonts.googleapis.com/css?family=Montserrat:300,400,700|'
        'Roboto:300,400,700" rel="stylesheet">\n'
        if with_google_fonts
        else ""
    )
    page = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
{fonts}<link rel="shortcut icon" href="{html.escape(redoc_favicon_url)}">
<style>body {{ margin: 0; padding: 0; }}</style>
</head>
<body>
<redoc spec-url="{html.escape(openapi_url)}"></redoc>
<script src="{html.escape(redoc_js_url)}"></script>
</body>
</html>
"""
    return HTMLResponse(page)


def get_swagger_ui_oauth2_redirect_html() -> HTMLResponse:
    """The page an OAuth2 authorization server redirects back to from Swagger UI's
    "Authorize": it hands the code or token in the URL to the opener window's Swagger UI
    (window.opener.swaggerUIRedirectOauth2, which Swagger UI sets before opening it)."""
    page = """<!doctype html>
<html lang="en">
<head><title>Swagger UI: OAuth2 Redirect</title></head>
<body>
<script>
(function () {
  var oauth2 = window.opener && window.opener.swaggerUIRedirectOauth2;
  if (!oauth2) { document.body.textContent = "No Swagger UI window to return to."; return; }
  var raw = /code|token|error/.test(window.location.hash)
    ? window.location.hash.substring(1) : window.location.search.substring(1);
  var params = {};
  new URLSearchParams(raw).forEach(function (v, k) { params[k] = v; });
  var isValid = params.state === oauth2.state;
  var flow = oauth2.auth.schema.get("flow");
  if ((flow === "accessCode" || flow === "authorizationCode" || flow === "authorization_code")
      && !oauth2.auth.code) {
    if (!isValid) {
      oauth2.errCb({authId: oauth2.auth.name, source: "auth", level: "warning",
                    message: "Authorization may be unsafe, passed state was changed"});
    }
    if (params.code) {
      delete oauth2.state;
      oauth2.auth.code = params.code;
      oauth2.callback({auth: oauth2.auth, redirectUrl: oauth2.redirectUrl});
    } else {
      oauth2.errCb({authId: oauth2.auth.name, source: "auth", level: "error",
                    message: params.error ? params.error + ": " + (params.error_description || "")
                                          : "[Authorization failed]: no code received"});
    }
  } else {
    oauth2.callback({auth: oauth2.auth, token: params, isValid: isValid,
                     redirectUrl: oauth2.redirectUrl});
  }
  window.close();
})();
</script>
</body>
</html>
"""
    return HTMLResponse(page)


def local_assets_dir() -> str:
    """The directory of Swagger UI's files from the swagger-ui-bundle-v2 package; raises
    RuntimeError saying what to install when it is missing."""
    try:
        from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-not-found]
    except ImportError as e:
        raise RuntimeError(
            "App(docs_assets='local') serves Swagger UI from the swagger-ui-bundle-v2 package: "
            "pip install swagger-ui-bundle-v2"
        ) from e
    return str(swagger_ui_path)


def openapi_routes(app: App) -> list[Route]:
    """Routes for the spec and the docs pages (all left out of the spec itself)."""
    routes: list[Route] = []
    url = app.openapi_url
    if not url:
        return routes
    root = app.root_path
    spec_url = root + url

    def openapi_json(req: Request, res: Response) -> Response:
        return Response(json_dumps(app.openapi()), media_type="application/json")

    routes.append(Route(url, openapi_json, include_in_schema=False))
    if app.docs_url:
        swagger = {"swagger_js_url": SWAGGER_JS_URL, "swagger_css_url": SWAGGER_CSS_URL}
        if app.docs_assets == "local":
            from fasterapi.staticfiles import StaticFiles

            assets = app.docs_url.rstrip("/") + "/assets"
            serve_assets = StaticFiles(directory=local_assets_dir())
            routes.append(Route(assets + "/{path:path}", serve_assets, include_in_schema=False))
            swagger = {
                "swagger_js_url": root + assets + "/swagger-ui-bundle.js",
                "swagger_css_url": root + assets + "/swagger-ui.css",
                "swagger_favicon_url": root + assets + "/favicon-32x32.png",
            }
        redirect = app.swagger_ui_oauth2_redirect_url
        page = get_swagger_ui_html(
            openapi_url=spec_url,
            title=f"{app.title} - Swagger UI",
            oauth2_redirect_url=root + redirect if redirect else None,
            init_oauth=app.swagger_ui_init_oauth,
            swagger_ui_parameters=app.swagger_ui_parameters,
            **swagger,
        ).body

        # a new response per request: middleware may add headers to the one it gets
        def docs(req: Request, res: Response) -> HTMLResponse:
            return HTMLResponse(page)

        routes.append(Route(app.docs_url, docs, include_in_schema=False))
        if redirect:
            redirect_page = get_swagger_ui_oauth2_redirect_html().body

            def oauth2_redirect(req: Request, res: Response) -> HTMLResponse:
                return HTMLResponse(redirect_page)

            routes.append(Route(redirect, oauth2_redirect, include_in_schema=False))
    if app.redoc_url:
        redoc_page = get_redoc_html(openapi_url=spec_url, title=f"{app.title} - ReDoc").body

        def redoc(req: Request, res: Response) -> HTMLResponse:
            return HTMLResponse(redoc_page)

        routes.append(Route(app.redoc_url, redoc, include_in_schema=False))
    return routes
