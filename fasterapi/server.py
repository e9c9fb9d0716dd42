"""Serve an App in this process: one asyncio loop shared with the engine, lifespan, signals,
graceful drain. `run()` is what `App.run()` and each worker process call."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import signal
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from fasterapi import _engine
from fasterapi._loops import native_loop

if TYPE_CHECKING:
    from fasterapi.app import App

log = logging.getLogger("fasterapi.error")


@dataclasses.dataclass
class Config:
    """Server settings; names follow uvicorn's flags."""

    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    reuse_port: bool = False
    backlog: int = 1024
    max_body_bytes: int = 16 * 1024 * 1024  # 413 past this
    timeout_keep_alive: float = 5.0  # seconds an idle keep-alive connection stays open
    # seconds queued output may wait without the client reading any of it; then it is closed
    timeout_send: float = 30.0
    timeout_graceful_shutdown: float = 30.0  # seconds in-flight requests get after SIGTERM
    access_log: bool = False
    log_level: str | None = None
    # The event loop's backend: "epoll", "uring" (io_uring; epoll with a logged line when the
    # kernel refuses it) or "auto"; None: FASTERAPI_LOOP, else epoll (docs/http-server.md).
    loop: str | None = None
    # TLS (served by the engine with OpenSSL) when ssl_certfile is set; uvicorn's names.
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None  # None: the key is in ssl_certfile
    ssl_keyfile_password: str | None = None
    ssl_ca_certs: str | None = None  # CA bundle for client certificates
    ssl_cert_reqs: int = 0  # ssl.CERT_NONE / CERT_OPTIONAL / CERT_REQUIRED
    # More certificates chosen by the client's SNI (RFC 6066 §3): server name -> certfile, or
    # (certfile, keyfile[, password]); ssl_certfile stays the default for other names.
    ssl_sni_certs: Mapping[str, str | Sequence[str]] | None = None
    timeout_ssl_handshake: float = 10.0  # seconds from accept to a finished handshake
    # WebSocket limits, uvicorn's names (--ws-max-size ...): message bytes (close 1009 past
    # it), seconds between server pings and to wait for the pong (0 = off), permessage-deflate
    # and its zlib level (0-9; ours: uvicorn has none).
    ws_max_size: int = 16 * 1024 * 1024
    ws_ping_interval: float = 20.0
    ws_ping_timeout: float = 20.0
    ws_per_message_deflate: bool = True
    ws_deflate_level: int = 6


def sni_entries(certs: Mapping[str, str | Sequence[str]] | None) -> list[list[str]]:
    """Server.set_tls's [name, certfile, keyfile, password] entries from ssl_sni_certs;
    ValueError for a value that is neither a path nor 1-3 strings."""
    entries: list[list[str]] = []
    for name, value in (certs or {}).items():
        parts = [value] if isinstance(value, str) else list(value)
        if not 1 <= len(parts) <= 3 or not all(isinstance(p, str) for p in parts):
            raise ValueError(
                f"ssl_sni_certs[{name!r}]: a certfile, or (certfile, keyfile[, password])"
            )
        entries.append([name, *parts, *[""] * (3 - len(parts))])
    return entries


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop's loop when installed (faster), else asyncio's."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()  # type: ignore[no-any-return]


def run(app: App, config: Config) -> None:
    """Serve until SIGTERM/SIGINT, then drain and return."""
    loop = new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        loop.run_until_complete(serve(app, config))
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
        asyncio.set_event_loop(None)


async def serve(
    app: App,
    config: Config,
    *,
    ready: Callable[[int], None] | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Listen, run lifespan startup, serve until `stop` is set (or a signal), drain, shut down.
    `ready(port)` is called once requests are being accepted."""
    loop = asyncio.get_running_loop()
    stop = stop or asyncio.Event()
    # The engine runs on this asyncio loop's native Loop, already registered with it as a reader
    # (fasterapi/_loops.py): PostgreSQL connections opened here (the lifespan's pool) share it.
    backend = config.loop or app.loop or ""  # "": FASTERAPI_LOOP, else epoll
    server = _engine.Server(
        config.host,
        config.port,
        reuse_port=config.reuse_port,
        backlog=config.backlog,
        max_body_bytes=config.max_body_bytes,
        keep_alive_timeout=config.timeout_keep_alive,
        send_timeout=config.timeout_send,
        event_loop=native_loop(loop, backend),
    )
    handlers = app.install(server, access_log=config.access_log, config=config)
    if config.ssl_certfile:
        server.set_tls(
            config.ssl_certfile,
            keyfile=config.ssl_keyfile or "",
            password=config.ssl_keyfile_password or "",
            ca_certs=config.ssl_ca_certs or "",
            cert_reqs=int(config.ssl_cert_reqs),
            handshake_timeout=config.timeout_ssl_handshake,
            sni=sni_entries(config.ssl_sni_certs),
        )
    signals: list[signal.Signals] = []
    async with app.lifespan_context():
        # Listening after startup (as uvicorn): the loop is polled during startup (for its
        # PostgreSQL connections) and must not accept requests before the app is ready.
        port = server.listen()
        timer = _Ticker(loop, server)
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, stop.set)
                signals.append(sig)
            if config.ssl_certfile:  # SIGHUP: re-read certificates; open connections keep theirs
                loop.add_signal_handler(signal.SIGHUP, _reload_tls, server)
                signals.append(signal.SIGHUP)
        logging.getLogger("fasterapi").info(
            "FasterAPI running on %s://%s:%d (%s engine, pid %d)",
            "https" if config.ssl_certfile else "http",
            config.host,
            port,
            _engine.NAME,
            os.getpid(),
        )
        if ready is not None:
            ready(port)
        try:
            await stop.wait()
        finally:
            for sig in signals:
                loop.remove_signal_handler(sig)
            await _drain(server, handlers, config.timeout_graceful_shutdown)
            timer.cancel()
            server.close()  # the Loop stays registered: the lifespan's connections still use it


def _reload_tls(server: Any) -> None:
    try:
        server.reload_tls()
    except RuntimeError as e:
        log.error("TLS reload failed, keeping the old certificates: %s", e)
    else:
        logging.getLogger("fasterapi").info("TLS certificates reloaded")


async def _drain(server: Any, handlers: set[asyncio.Task[Any]], deadline_s: float) -> None:
    """Stop accepting; let in-flight requests finish and their queued output be written (a
    finished response may still be queued for a slow reader) until `deadline_s` has passed."""
    server.shutdown(deadline_s)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + deadline_s
    # `writing`: connections whose queued output is not all written yet (a slow reader of a
    # large response): close() would cut it. Ones that wrote everything are not waited for.
    while (server.in_flight or handlers or server.writing) and loop.time() < deadline:
        await asyncio.sleep(0.05)  # 50 ms: drain check interval, not a busy loop
    if server.in_flight:
        log.warning(
            "graceful shutdown deadline passed with %d request(s) in flight", server.in_flight
        )
    leftover = [t for t in handlers if not t.done()]
    for task in leftover:  # handlers still suspended past the deadline
        task.cancel()
    if leftover:
        await asyncio.wait(leftover, timeout=1.0)  # let them run their finally blocks


class _Ticker:
    """Runs the engine's timers (keep-alive, header/body timeouts) at least once a second."""

    def __init__(self, loop: asyncio.AbstractEventLoop, server: Any) -> None:
        self.loop, self.server = loop, server
        self.handle: asyncio.TimerHandle | None = None
        self.tick()

    def tick(self) -> None:
        self.server.poll()
        ms = self.server.next_timer_ms()
        delay = 1.0 if ms < 0 else min(max(ms, 1) / 1000.0, 1.0)
        self.handle = self.loop.call_later(delay, self.tick)

    def cancel(self) -> None:
        if self.handle is not None:
            self.handle.cancel()
