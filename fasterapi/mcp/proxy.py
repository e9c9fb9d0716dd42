"""MCPProxy: many upstream MCP servers (stdio or Streamable HTTP, either protocol era) behind one
MCP endpoint. The proxy runs in C++ on the engine's loop (src/mcp/proxy): a forwarded call goes
from the client's transport to the upstream and back without entering Python. See
docs/mcp/proxy.md.

    proxy = MCPProxy(upstreams={"math": "http://127.0.0.1:9001/mcp",
                                "fs": ["python", "fs_server.py"]})
    proxy.run(transport="http", port=8000)

Tool and prompt names become `<upstream>__<name>`, resource URIs `<upstream>+<uri>`."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from fasterapi import _native
from fasterapi.mcp._serve import (
    DEFAULT_MAX_SESSIONS,
    DEFAULT_SESSION_IDLE_TIMEOUT,
    _Driver,
    session_limits,
)
from fasterapi.mcp.client import tls_verify_args

_NAME = re.compile(r"^[a-z][a-z0-9-]{0,63}$")
_HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")


@dataclass(frozen=True)
class Upstream:
    """One upstream server: `url` (http(s)://host:port/path) or `command` (argv of a stdio
    server). `verify` (https): True checks the certificate against the system trust store, a
    path against that PEM CA file, False not at all.
    `headers` are sent to an HTTP upstream on every request (its own credentials; the client's
    Authorization header is never forwarded). `timeout` bounds each request (seconds); `era`
    "auto" probes server/discover (2026-07-28) and falls back to initialize, "2025-11-25" goes
    straight to initialize."""

    url: str | None = None
    command: Sequence[str] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    timeout: float = 30.0
    era: Literal["auto", "2025-11-25"] = "auto"
    max_connections: int = 8
    verify: bool | str = True


@dataclass(frozen=True)
class Breaker:
    """Circuit breaker per upstream: `failure_threshold` consecutive transport failures
    (timeouts, connection lost) open it; while open, calls get a JSON-RPC error at once; after
    `cooldown` seconds `half_open_probes` calls go through, and one success closes it."""

    failure_threshold: int = 5
    cooldown: float = 30.0
    half_open_probes: int = 1


@dataclass(frozen=True)
class RateLimit:
    """Token bucket per client (Mcp-Session-Id, else the peer address; one bucket on stdio):
    `rate` requests per second, bursts of `burst` (default: max(1, rate)). Over the limit:
    HTTP 429 with Retry-After, on stdio the JSON-RPC error -32029."""

    rate: float
    burst: float = 0.0


UpstreamSpec = str | Sequence[str] | Upstream


def _upstream(name: str, spec: UpstreamSpec) -> Upstream:
    if isinstance(spec, Upstream):
        up = spec
    elif isinstance(spec, str):
        up = Upstream(url=spec)
    elif isinstance(spec, Sequence) and spec and all(isinstance(a, str) for a in spec):
        up = Upstream(command=list(spec))
    else:
        raise TypeError(f"upstream {name!r}: a URL, an argv list or Upstream(...), not {spec!r}")
    if (up.url is None) == (up.command is None):
        raise ValueError(f"upstream {name!r}: give exactly one of url or command")
    return up


def _header_lines(name: str, headers: Mapping[str, str]) -> str:
    lines = []
    for key, value in headers.items():
        if not _HEADER_NAME.match(key) or "\r" in value or "\n" in value:
            raise ValueError(f"upstream {name!r}: invalid header {key!r}")
        lines.append(f"{key}: {value}\r\n")
    return "".join(lines)


class MCPProxy:
    def __init__(
        self,
        upstreams: Mapping[str, UpstreamSpec],
        *,
        name: str = "fasterapi-mcp-proxy",
        version: str = "1.0",
        rate_limit: RateLimit | float | None = None,
        breaker: Breaker | None = None,
    ) -> None:
        if not upstreams:
            raise ValueError("MCPProxy needs at least one upstream")
        limit = RateLimit(rate_limit) if isinstance(rate_limit, (int, float)) else rate_limit
        brk = breaker or Breaker()
        self.name = name
        self._native = _native.McpProxy(
            name,
            version,
            brk.failure_threshold,
            brk.cooldown,
            brk.half_open_probes,
            limit.rate if limit else 0.0,
            limit.burst if limit else 0.0,
        )
        for key, spec in upstreams.items():
            if not _NAME.match(key) or "--" in key:
                raise ValueError(
                    f"upstream name {key!r}: lower-case letters, digits and '-', "
                    "starting with a letter"
                )
            up = _upstream(key, spec)
            probe = up.era == "auto"
            if up.url is not None:
                verify, cafile = tls_verify_args(up.verify)
                self._native.add_http(
                    key,
                    up.url,
                    _header_lines(key, up.headers),
                    up.timeout,
                    up.max_connections,
                    probe,
                    verify,
                    cafile,
                )
            else:
                self._native.add_stdio(key, list(up.command or ()), up.timeout, probe)
        self._driver: _Driver | None = None
        self._started: asyncio.Future[None] | None = None

    # -- state ----------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        """Each upstream's breaker state ("closed", "open", "half-open"), consecutive
        failures, whether it is connected, and its protocol era."""
        result: dict[str, Any] = json.loads(self._native.status())
        return result

    @property
    def session_count(self) -> int:
        """Live Streamable HTTP client sessions (2025-11-25 era, Mcp-Session-Id)."""
        return int(self._native.sessions())

    async def _start(self) -> None:
        """Drives the native loop from asyncio and starts every upstream (once)."""
        if self._started is None:
            loop = asyncio.get_running_loop()
            self._driver = _Driver(self._native)
            self._started = loop.create_future()
            started = self._started

            def ready() -> None:
                if not started.done():
                    started.set_result(None)

            self._native.start(ready)
        await self._started

    def _stop(self) -> None:
        if self._driver is not None:
            self._driver.close()  # closes the native side too: upstreams closed, children reaped
            self._driver = None
        else:
            self._native.close()

    # -- serving ----------------------------------------------------------------------------
    def run(self, transport: str = "stdio", **options: Any) -> None:
        """Serves until the client goes away (stdio: EOF) or the process is interrupted.
        transport="http" takes host="127.0.0.1", port=8000, path="/mcp", allowed_origins=[...],
        allowed_hosts=[...], session_idle_timeout=1800.0 (seconds; None: sessions live until
        DELETE) and max_sessions=10000 (None: no limit), as MCPServer.run() does. The proxy's
        C++ loop runs on this thread (no asyncio: nothing else shares the process); use
        `run_async`/`serve_http` to serve from an asyncio program."""
        if transport not in ("stdio", "http", "streamable-http"):
            raise ValueError(f"unknown transport {transport!r}: use 'stdio' or 'http'")
        if transport == "stdio" and options:
            raise TypeError(f"run(transport='stdio') takes no options, got {sorted(options)}")
        limits = session_limits(
            options.pop("session_idle_timeout", DEFAULT_SESSION_IDLE_TIMEOUT),
            options.pop("max_sessions", DEFAULT_MAX_SESSIONS),
        )
        native = self._native
        native.start(lambda: None)  # upstreams start now; a call waits for its upstream
        proto_out = -1
        try:
            if transport == "stdio":
                sys.stdout.flush()
                proto_out = os.dup(1)
                os.dup2(2, 1)  # fd 1 carries protocol messages only
                native.start_stdio(0, proto_out, native.stop)
            else:
                host = options.pop("host", "127.0.0.1")
                path = "/" + str(options.pop("path", "/mcp")).strip("/")
                bound = native.start_http(
                    host,
                    int(options.pop("port", 8000)),
                    path,
                    list(options.pop("allowed_origins", None) or ()),
                    list(options.pop("allowed_hosts", None) or ()),
                    *limits,
                )
                if options:
                    raise TypeError(f"run(transport='http') got unknown options {sorted(options)}")
                print(
                    f"fasterapi MCP proxy on http://{host}:{bound}{path}",
                    file=sys.stderr,
                    flush=True,
                )
            native.run()
        except KeyboardInterrupt:
            pass
        finally:
            native.close()
            if proto_out >= 0:
                os.close(proto_out)

    async def run_async(self, transport: str = "stdio", **options: Any) -> None:
        if transport == "stdio":
            if options:
                raise TypeError(f"run(transport='stdio') takes no options, got {sorted(options)}")
            await self._serve_stdio()
        elif transport in ("http", "streamable-http"):
            await self.serve_http(**options)
        else:
            raise ValueError(f"unknown transport {transport!r}: use 'stdio' or 'http'")

    async def _serve_stdio(self) -> None:
        sys.stdout.flush()
        proto_out = os.dup(1)
        os.dup2(2, 1)  # fd 1 carries protocol messages only
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def closed() -> None:
            if not done.done():
                done.set_result(None)

        try:
            await self._start()
            self._native.start_stdio(0, proto_out, closed)
            await done
        finally:
            self._stop()
            os.close(proto_out)

    async def serve_http(
        self,
        host: str = "127.0.0.1",
        port: int = 8000,
        path: str = "/mcp",
        allowed_origins: list[str] | None = None,
        allowed_hosts: list[str] | None = None,
        ready: Callable[[int], None] | None = None,
        session_idle_timeout: float | None = DEFAULT_SESSION_IDLE_TIMEOUT,
        max_sessions: int | None = DEFAULT_MAX_SESSIONS,
    ) -> None:
        """Serves Streamable HTTP until cancelled; ready(port) is called once listening.
        A client session with no request and no open stream for session_idle_timeout seconds
        is ended as DELETE ends it (its upstream subscriptions are withdrawn, its id then gets
        404); at max_sessions live sessions, initialize gets 503. None disables either."""
        limits = session_limits(session_idle_timeout, max_sessions)
        try:
            await self._start()
            path = "/" + path.strip("/")
            bound = self._native.start_http(
                host, port, path, list(allowed_origins or ()), list(allowed_hosts or ()), *limits
            )
            url = f"http://{host}:{bound}{path}"
            print(f"fasterapi MCP proxy on {url}", file=sys.stderr, flush=True)
            if ready is not None:
                ready(bound)
            await asyncio.Event().wait()
        finally:
            self._stop()

    def mount_into(
        self,
        app: Any,
        path: str = "/mcp",
        *,
        host: str = "127.0.0.1",
        allowed_origins: list[str] | None = None,
        allowed_hosts: list[str] | None = None,
        session_idle_timeout: float | None = DEFAULT_SESSION_IDLE_TIMEOUT,
        max_sessions: int | None = DEFAULT_MAX_SESSIONS,
    ) -> None:
        """Serves the proxy's Streamable HTTP endpoint on `app` at `path` (what
        `app.mount(path, proxy)` calls). Upstreams start with the first request.
        session_idle_timeout and max_sessions as for serve_http()."""
        from fasterapi.mcp._mount import _Sink

        path = "/" + path.strip("/")
        idle, limit = session_limits(session_idle_timeout, max_sessions)
        self._native.mount(
            host, path, list(allowed_origins or ()), list(allowed_hosts or ()), idle, limit
        )
        native = self._native

        async def mcp_proxy_endpoint(req: Any, res: Any) -> Any:
            await self._start()
            sink = _Sink(req)
            native.exchange(req.method, req.header_list, req.body, sink, req.client.host)
            return await sink.answer()

        app.add_route(
            path, mcp_proxy_endpoint, methods=["POST", "GET", "DELETE"], include_in_schema=False
        )
