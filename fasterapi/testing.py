"""TestClient: serve an App on an ephemeral port in a background thread and talk to it
with httpx over a real socket. `with TestClient(app) as client:` also runs the lifespan."""

from __future__ import annotations

import asyncio
import atexit
import ssl
import threading
import weakref
from typing import TYPE_CHECKING, Any, ClassVar

import httpx

from fasterapi.server import Config, new_event_loop, serve

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from fasterapi._ws_testclient import WebSocketTestSession
    from fasterapi.app import App

_START_TIMEOUT = 30.0  # seconds to wait for the server thread to start listening
_running: weakref.WeakSet[TestClient] = weakref.WeakSet()


@atexit.register
def _stop_all() -> None:
    """Clients used without `with` or close(): stop their servers before the interpreter
    finalizes, so no server thread is left inside the engine."""
    for client in list(_running):
        client.stop()


class TestClient(httpx.Client):
    """An httpx.Client bound to `app` served on 127.0.0.1:<ephemeral port>."""

    __test__ = False  # not a pytest test class
    # TLS for every TestClient whose app has none (app.run()'s ssl_* settings, plus "verify"
    # for httpx: a CA path or an SSLContext). The suite's TLS run sets it
    # (FASTERAPI_TEST_TRANSPORT=tls in tests/python/conftest.py).
    suite_tls: ClassVar[dict[str, Any] | None] = None
    # HTTP/2 for every TestClient (h2c by prior knowledge, or h2 by ALPN over TLS): the suite's
    # HTTP/2 run sets it (FASTERAPI_TEST_TRANSPORT=h2c in tests/python/conftest.py).
    suite_http2: ClassVar[bool] = False

    def __init__(self, app: App, *, host: str = "127.0.0.1", **httpx_options: Any) -> None:
        self.app = app
        self._host = host
        # Served over TLS when the app has a certificate (verify with httpx's `verify=`).
        app_tls = getattr(app, "ssl", {})
        tls = dict(app_tls if app_tls.get("ssl_certfile") else TestClient.suite_tls or {})
        if "verify" in tls:
            httpx_options.setdefault("verify", tls.pop("verify"))
        self._tls = tls
        self._verify = httpx_options.get("verify", True)
        self._scheme = "https" if tls.get("ssl_certfile") else "http"
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self.port = 0
        if TestClient.suite_http2:
            httpx_options.setdefault("http1", False)
            httpx_options.setdefault("http2", True)
        httpx_options.setdefault("timeout", 30.0)
        httpx_options.setdefault("follow_redirects", True)  # as starlette's TestClient
        super().__init__(base_url=f"{self._scheme}://{host}", **httpx_options)

    def start(self) -> None:
        """Start serving (idempotent); raises whatever made startup fail."""
        if self._thread is not None:
            return
        started = threading.Event()

        def ready(port: int) -> None:
            self.port = port
            started.set()

        def main() -> None:
            loop = self._loop = new_event_loop()
            asyncio.set_event_loop(loop)
            self._stop = asyncio.Event()
            try:
                loop.run_until_complete(
                    serve(
                        self.app,
                        Config(
                            host=self._host,
                            port=0,
                            timeout_graceful_shutdown=5.0,
                            # the app's own limits and timeouts, as app.run() would use
                            max_body_bytes=self.app.max_body_bytes,
                            timeout_keep_alive=self.app.timeout_keep_alive,
                            timeout_send=self.app.timeout_send,
                            **self._tls,
                        ),
                        ready=ready,
                        stop=self._stop,
                    )
                )
            except BaseException as e:
                self._error = e
            finally:
                started.set()
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.close()

        self._thread = threading.Thread(target=main, name="fasterapi-testclient", daemon=True)
        self._thread.start()
        _running.add(self)
        if not started.wait(_START_TIMEOUT) or self._error is not None:
            raise RuntimeError(
                f"TestClient: the app failed to start: {self._error!r}"
            ) from self._error
        self.base_url = httpx.URL(f"{self._scheme}://{self._host}:{self.port}")

    def stop(self) -> None:
        """Drain, run lifespan shutdown and join the server thread."""
        if self._thread is None:
            return
        if self._loop is not None and self._stop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(_START_TIMEOUT)
        self._thread = None
        _running.discard(self)

    def request(self, method: str, url: httpx.URL | str, **kwargs: Any) -> httpx.Response:  # type: ignore[override]
        self.start()
        return super().request(method, url, **kwargs)

    def stream(self, method: str, url: httpx.URL | str, **kwargs: Any) -> Any:  # type: ignore[override]
        self.start()
        return super().stream(method, url, **kwargs)

    def websocket_connect(
        self,
        url: str,
        subprotocols: Sequence[str] | None = None,
        headers: Mapping[str, str] | None = None,
        **options: Any,
    ) -> WebSocketTestSession:
        """`with client.websocket_connect("/ws") as ws: ws.send_text("hi")`, as in FastAPI's
        TestClient, over a real WebSocket to the served app (needs the `websockets` package)."""
        from fasterapi._ws_testclient import WebSocketTestSession

        self.start()
        target = url if url.startswith("/") else "/" + url
        if self._scheme == "https":
            options.setdefault("ssl", self._ssl_context())
            return WebSocketTestSession(
                f"wss://{self._host}:{self.port}{target}", subprotocols, headers, **options
            )
        return WebSocketTestSession(
            f"ws://{self._host}:{self.port}{target}", subprotocols, headers, **options
        )

    def _ssl_context(self) -> ssl.SSLContext:
        if isinstance(self._verify, ssl.SSLContext):
            return self._verify
        if isinstance(self._verify, str):
            return ssl.create_default_context(cafile=self._verify)
        ctx = ssl.create_default_context()
        if self._verify is False:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        return ctx

    def __enter__(self) -> TestClient:
        self.start()
        super().__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        super().__exit__(*exc)
        self.stop()

    def close(self) -> None:
        super().close()
        self.stop()
