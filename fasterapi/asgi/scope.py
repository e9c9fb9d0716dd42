"""The ASGI HTTP connection scope (ASGI spec 3.0, HTTP & WebSocket spec 2.4, "HTTP"
section) built from one engine request."""

from __future__ import annotations

from typing import Any

# 2.4: `send` raises OSError once the client is gone, so Starlette's StreamingResponse needs
# no second task listening for http.disconnect.
ASGI_VERSION = {"version": "3.0", "spec_version": "2.4"}


def http_scope(req: Any, root_path: str, state: dict[str, Any] | None) -> dict[str, Any]:
    """The scope for `req`. `path` stays the full path and `root_path` names the part a
    mount consumed (the spec's rule since 2.3, which Starlette's routing relies on);
    headers are byte pairs with lowercased names (spec: "header names should be
    lowercased"), built by the engine. `state` is a shallow copy of the lifespan state (spec:
    "Lifespan State")."""
    version = req.http_version
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": ASGI_VERSION,
        "http_version": version,
        "method": req.method,
        "scheme": req.scheme,
        "path": req.path,
        "raw_path": req.raw_path,
        "root_path": root_path,
        "query_string": req.query_string,
        "headers": req.asgi_headers,  # built in C++ (bindings/py_request.cpp)
        "client": req.client,  # a new (host, port) tuple per access
        "server": None,
    }
    tls = req.tls_extension  # the ASGI TLS extension, over TLS only
    if tls is not None or version == "2":
        extensions: dict[str, Any] = {}
        if tls is not None:
            extensions["tls"] = tls
        if version == "2":
            # ASGI "HTTP/2 Server Push" extension: Starlette's send_push_promise looks for it.
            extensions["http.response.push"] = {}
        scope["extensions"] = extensions
    if state is not None:
        scope["state"] = state.copy()
    return scope
