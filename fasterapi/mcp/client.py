"""`MCPClient`: the client half of MCP, over stdio (a spawned server process) or Streamable HTTP.

    async with MCPClient.stdio(["python", "server.py"]) as c:
        tools = await c.list_tools()
        result = await c.call_tool("add", {"a": 1, "b": 2})

Results are the JSON-RPC `result` objects as plain dicts; a JSON-RPC error answer raises
`MCPError(code, message, data)`. See docs/mcp/client.md.

Where the work happens: the connection is C++ (`_native.McpClient`, bindings/mcp/client_module.cpp,
on the upstreams of src/mcp/client/ that MCPProxy uses too) on its own EventLoop, which asyncio
drives (its epoll fd is an asyncio reader): spawning and reaping the server, pipes and sockets,
HTTP/1.1 keep-alive, SSE, the GET stream, resumption, JSON-RPC framing, id correlation, timeouts
and notifications/cancelled. A completion resolves the awaiting asyncio future straight from
the C++ continuation. Python keeps the session logic: the handshake, the 2026-07-28 `_meta`
stamp, and the callbacks for what the server sends on its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import itertools
import json
import logging
import os
import re
import sys
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from typing import IO, Any

from fasterapi import _native
from fasterapi.mcp import client_headers
from fasterapi.mcp.errors import McpError

log = logging.getLogger("fasterapi.mcp.client")

LATEST_PROTOCOL_VERSION = "2025-11-25"
MODERN_PROTOCOL_VERSION = "2026-07-28"
SUPPORTED_PROTOCOL_VERSIONS = ("2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05")

# Error codes the client raises itself (the official SDK's values).
CONNECTION_CLOSED = -32000
REQUEST_TIMEOUT = -32001
METHOD_NOT_FOUND = -32601
HEADER_MISMATCH = -32020
UNSUPPORTED_PROTOCOL_VERSION = -32022
# InputRequiredResult rounds one call may take (the official SDKs' default).
DEFAULT_MAX_INPUT_ROUNDS = 10

_META_VERSION = "io.modelcontextprotocol/protocolVersion"
_META_CLIENT_INFO = "io.modelcontextprotocol/clientInfo"
_META_CLIENT_CAPS = "io.modelcontextprotocol/clientCapabilities"
_META_SERVER_INFO = "io.modelcontextprotocol/serverInfo"
# Requests whose name or URI goes in the Mcp-Name header (2026-07-28 streamable-http.mdx).
_NAMED = ("tools/call", "prompts/get", "resources/read")

Callback = Callable[..., Any]


# A 401/403 the C++ upstream reports with the server's challenge (src/mcp/client/http_upstream.cpp).
_CHALLENGE = re.compile(
    r"^HTTP (401|403) without a JSON-RPC response; WWW-Authenticate: (.*)$", re.S
)


class MCPError(McpError):
    """A JSON-RPC error from the server (or raised by the client: connection closed -32000,
    timeout -32001). `code`, `message` and `data` are the error object's fields."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message, code, data)
        self.code = code
        self.message = message
        self.data = data

    def __str__(self) -> str:
        return f"MCP error {self.code}: {self.message}"

    def __repr__(self) -> str:
        return f"MCPError({self.code!r}, {self.message!r}, {self.data!r})"


class InputRequiredRoundsExceededError(RuntimeError):
    """The server kept answering InputRequiredResult past `max_input_rounds` (the official
    SDK's name for it)."""

    def __init__(self, method: str, max_rounds: int) -> None:
        super().__init__(
            f"{method}: the server asked for input more than {max_rounds} times "
            "(MCPClient(max_input_rounds=...))"
        )
        self.max_rounds = max_rounds


async def _call(cb: Callback, *args: Any) -> Any:
    r = cb(*args)
    if inspect.isawaitable(r):
        r = await r
    return r


# ---- transports ------------------------------------------------------------------------------


class _Transport:
    """What to connect to; `open()` configures the native connection (_native.McpClient)."""

    def open(self, native: Any, capabilities: str) -> None:
        raise NotImplementedError

    def release(self) -> None:
        """Frees what open() held for the connection (a /dev/null descriptor)."""


class _StdioTransport(_Transport):
    """Spawns the server; newline-delimited JSON-RPC on its stdin/stdout (basic/transports.mdx),
    in C++ (src/mcp/client/stdio_upstream.h)."""

    def __init__(
        self,
        command: Sequence[str],
        env: Mapping[str, str] | None,
        cwd: str | os.PathLike[str] | None,
        stderr: int | IO[Any] | None,
        grace: float,
    ) -> None:
        self.command = list(command)
        self.env = dict(env) if env is not None else None
        self.cwd = cwd
        self.stderr = stderr
        self.grace = grace
        self._devnull: int | None = None

    def open(self, native: Any, capabilities: str) -> None:
        env = None
        if self.env is not None:
            env = [f"{k}={v}" for k, v in {**os.environ, **self.env}.items()]
        fd = -1
        if self.stderr in (-1, -2):  # subprocess.PIPE, subprocess.STDOUT
            raise ValueError(
                "stderr: a file, a descriptor, subprocess.DEVNULL or None; PIPE and STDOUT are "
                "not supported (stdout carries the protocol)"
            )
        if self.stderr == -3:  # subprocess.DEVNULL
            self._devnull = fd = os.open(os.devnull, os.O_WRONLY | os.O_CLOEXEC)
        elif isinstance(self.stderr, int) and self.stderr >= 0:
            fd = self.stderr
        elif self.stderr is not None and not isinstance(self.stderr, int):
            fd = self.stderr.fileno()
        native.open_stdio(
            self.command, env, os.fspath(self.cwd or ""), fd, self.grace, capabilities
        )

    def release(self) -> None:
        if self._devnull is not None:
            os.close(self._devnull)
            self._devnull = None


def tls_verify_args(verify: bool | str | os.PathLike[str]) -> tuple[bool, str]:
    """httpx-style `verify` as (verify, cafile): True checks the server's certificate against
    the system trust store, a path against that PEM CA file, False not at all."""
    if isinstance(verify, bool):
        return verify, ""
    if isinstance(verify, (str, os.PathLike)):
        path = os.fspath(verify)
        if not os.path.isfile(path):
            raise ValueError(f"verify={path!r}: no such CA file")
        return True, path
    raise TypeError(f"verify: True, False or a CA file path, not {verify!r}")


class _HttpTransport(_Transport):
    """Streamable HTTP (basic/transports.mdx), in C++ (src/mcp/client/http_upstream.h): one POST
    per message on pooled keep-alive connections, JSON or SSE answers, Mcp-Session-Id, the GET
    stream, resumption with Last-Event-ID, DELETE on close. https:// over the engine's TLS client
    (src/tls/tls_client.h), the certificate checked as `verify` says."""

    def __init__(
        self,
        url: str,
        headers: Mapping[str, str] | None,
        max_connections: int = 8,
        verify: bool | str | os.PathLike[str] = True,
        auth: Any = None,
    ):
        u = urllib.parse.urlsplit(url)
        self.auth = auth  # fasterapi.mcp.client_auth.OAuthClientProvider, or None
        if u.scheme not in ("http", "https"):
            raise ValueError(f"not an http:// or https:// URL: {url!r}")
        self.url = url
        self.verify, self.cafile = tls_verify_args(verify)
        lines = []
        for k, v in (headers or {}).items():
            if any(c in f"{k}{v}" for c in "\r\n\0") or ":" in k:
                raise ValueError(f"header {k!r}: CR, LF and NUL are not allowed")
            lines.append(f"{k}: {v}\r\n")
        self.headers = self.base_headers = "".join(lines)
        self.max_connections = max_connections

    def open(self, native: Any, capabilities: str) -> None:
        native.open_http(
            self.url, self.headers, self.max_connections, capabilities, self.verify, self.cafile
        )
        self.bind_dpop(native)

    def bind_dpop(self, native: Any) -> None:
        """A DPoP-bound token (client_auth): the C++ upstream proves possession of its key on
        every request (RFC 9449 §7)."""
        bound = getattr(self.auth, "bound", None)
        native.set_dpop(*(bound if bound is not None else (None, "")))


class _Driver:
    """Drives the connection's C++ EventLoop from asyncio: its epoll fd is an asyncio reader,
    and its next timer is an asyncio timer, re-armed after every poll and every call that may
    add one (an SSE `retry` delay, a request's timeout), so C++ timers fire on time."""

    def __init__(self, native: Any) -> None:
        self.native = native
        self.loop = asyncio.get_running_loop()
        self.fd = native.fileno()
        self.handle: asyncio.TimerHandle | None = None
        self.due = 0.0
        self.loop.add_reader(self.fd, self.poll)
        self.poll()

    def poll(self) -> None:
        self.native.poll()
        self.arm()

    def _tick(self) -> None:
        self.handle = None
        self.poll()

    def arm(self) -> None:
        ms = self.native.next_timer_ms()
        due = self.loop.time() + (1.0 if ms < 0 else min(ms, 1000) / 1000.0)
        if self.handle is not None:
            if self.due <= due:
                return  # the armed tick comes first
            self.handle.cancel()
        self.due = due
        self.handle = self.loop.call_at(due, self._tick)

    def close(self) -> None:
        if self.handle is not None:
            self.handle.cancel()
            self.handle = None
        self.loop.remove_reader(self.fd)
        self.native.close()


class _Process:
    """The spawned server as `MCPClient.process`: its `pid`, and `returncode` once reaped (the
    exit code, or minus the signal that ended it, as subprocess.Popen reports it)."""

    def __init__(self, native: Any) -> None:
        self._native = native

    @property
    def pid(self) -> int:
        pid: int = self._native.pid
        return pid

    @property
    def returncode(self) -> int | None:
        code: int | None = self._native.returncode
        return code

    def __repr__(self) -> str:
        return f"<MCP server process pid={self.pid} returncode={self.returncode}>"


def _with_defaults(result: Any, params: dict[str, Any]) -> Any:
    """SEP-1034: an accepted form elicitation gets the schema's defaults for fields the user (the
    callback) left out."""
    if not isinstance(result, dict) or result.get("action") != "accept":
        return result
    props = (params.get("requestedSchema") or {}).get("properties") or {}
    content = dict(result.get("content") or {})
    for name, schema in props.items():
        if name not in content and isinstance(schema, dict) and "default" in schema:
            content[name] = schema["default"]
    return {**result, "content": content}


# ---- the client ------------------------------------------------------------------------------


class MCPClient:
    """An MCP client session. Build one with `MCPClient.stdio(...)` or `MCPClient.http(...)` and
    use it as an async context manager: entering connects and runs the handshake, leaving closes
    the session (HTTP: DELETE) or reaps the server process (stdio)."""

    def __init__(
        self,
        transport: _Transport,
        *,
        client_info: Mapping[str, Any] | None = None,
        protocol: str = "legacy",
        read_timeout: float | None = None,
        logging_callback: Callback | None = None,
        message_handler: Callback | None = None,
        list_changed_callback: Callback | None = None,
        sampling_callback: Callback | None = None,
        elicitation_callback: Callback | None = None,
        roots: Sequence[Mapping[str, Any]] | None = None,
        max_input_rounds: int = DEFAULT_MAX_INPUT_ROUNDS,
    ) -> None:
        if protocol not in ("legacy", "auto", "modern"):
            raise ValueError("protocol must be 'legacy', 'auto' or 'modern'")
        if max_input_rounds < 0:
            raise ValueError("max_input_rounds must be 0 or more")
        self._t = transport
        self._native: Any = None  # _native.McpClient while connected
        self._driver: _Driver | None = None
        self.client_info = dict(client_info or {"name": "fasterapi-mcp-client", "version": "0.1"})
        self.protocol = protocol
        self.read_timeout = read_timeout
        self.logging_callback = logging_callback
        self.message_handler = message_handler
        self.list_changed_callback = list_changed_callback
        self.sampling_callback = sampling_callback
        self.elicitation_callback = elicitation_callback
        self.roots = list(roots) if roots is not None else None
        self.max_input_rounds = max_input_rounds
        # 2026-07-28 tools (SEP-2243): each listed tool's x-mcp-header annotations, and the
        # tools left out of tools/list for invalid ones (name -> why).
        self._header_maps: dict[str, list[tuple[tuple[str, ...], str]]] = {}
        self.rejected_tools: dict[str, str] = {}
        self._tokens = itertools.count(1)  # progress tokens
        self._progress: dict[Any, Callback] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closed_reason: str | None = None
        self._stamp: dict[str, Any] | None = None  # 2026-07-28 per-request _meta
        self.protocol_version: str | None = None
        self.initialize_result: dict[str, Any] | None = None
        self.discover_result: dict[str, Any] | None = None

    # -- construction --------------------------------------------------------------------------

    @classmethod
    def stdio(
        cls,
        command: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        stderr: int | IO[Any] | None = None,
        grace: float = 2.0,
        **kwargs: Any,
    ) -> MCPClient:
        """A client for the server `command` spawns. `env` is added to this process's
        environment; `stderr` is where the server's stderr goes (default: ours). On close, stdin
        is closed, then SIGTERM after `grace` seconds, then SIGKILL after `grace` more."""
        if isinstance(command, str):
            raise TypeError("command is a list of arguments, e.g. ['python', 'server.py']")
        return cls(_StdioTransport(command, env, cwd, stderr, grace), **kwargs)

    @classmethod
    def http(
        cls,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        verify: bool | str | os.PathLike[str] = True,
        auth: Any = None,
        **kwargs: Any,
    ) -> MCPClient:
        """A client for the Streamable HTTP endpoint at `url` (e.g. http://127.0.0.1:8000/mcp or
        https://mcp.example.com/mcp); `headers` are sent on every request (e.g. Authorization).
        `verify` (as in httpx), for https: True checks the server's certificate and host name
        against the system trust store, a path against that PEM CA file, False skips the checks
        (only for servers you reach over a trusted network). `auth`: an
        `OAuthClientProvider` (fasterapi.mcp.client_auth) that authorizes before connecting
        when the server answers 401 (basic/authorization.mdx)."""
        return cls(_HttpTransport(url, headers, verify=verify, auth=auth), **kwargs)

    @property
    def process(self) -> _Process | None:
        """The spawned server (stdio clients: `pid`, and `returncode` once reaped), else None."""
        if not isinstance(self._t, _StdioTransport) or self._native is None:
            return None
        return _Process(self._native)

    @property
    def session_id(self) -> str | None:
        """The Mcp-Session-Id the HTTP server assigned, else None."""
        return None if self._native is None else self._native.session_id

    @property
    def server_info(self) -> dict[str, Any] | None:
        if self.initialize_result is not None:
            info: dict[str, Any] | None = self.initialize_result.get("serverInfo")
            return info
        if self.discover_result is not None:
            return (self.discover_result.get("_meta") or {}).get(_META_SERVER_INFO)
        return None

    @property
    def server_capabilities(self) -> dict[str, Any] | None:
        r = self.initialize_result or self.discover_result
        return None if r is None else r.get("capabilities")

    @property
    def instructions(self) -> str | None:
        r = self.initialize_result or self.discover_result
        return None if r is None else r.get("instructions")

    async def __aenter__(self) -> MCPClient:
        await self._connect()
        try:
            await self.initialize()
        except BaseException:
            await self.close()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _connect(self) -> None:
        if self._native is not None:
            raise RuntimeError("MCPClient: already connected")
        if isinstance(self._t, _HttpTransport) and self._t.auth is not None:
            await self._authorize(self._t)
        native = _native.McpClient()
        self._t.open(native, json.dumps(self._capabilities(), separators=(",", ":")))
        native.set_handlers(self._on_native_message, self._on_native_closed)
        self._native = native
        self._driver = _Driver(native)
        started: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        native.start(started)
        try:
            await started
        except ConnectionError as e:
            self._closed_reason = f"cannot connect: {e}"
            raise MCPError(CONNECTION_CLOSED, f"Connection failed: {e}") from None
        finally:
            self._t.release()  # the child has its own copy of what open() held

    async def _authorize(self, t: _HttpTransport) -> None:
        # The OAuth flow's HTTP calls are one-time control-plane requests (httpx); the session
        # then carries the token on every request from the C++ upstream.
        from fasterapi.mcp.client_auth import OAuthError

        try:
            value = await t.auth.preflight()
        except (OAuthError, OSError) as e:
            raise MCPError(CONNECTION_CLOSED, f"Authorization failed: {e}") from e
        t.headers = t.base_headers + (f"Authorization: {value}\r\n" if value else "")

    async def close(self) -> None:
        """Ends the session: HTTP sends DELETE; stdio closes the server's stdin, then SIGTERM
        after `grace` seconds, then SIGKILL after `grace` more, and reaps it."""
        native, driver = self._native, self._driver
        if native is not None and driver is not None:
            done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            native.shutdown(done)
            driver.arm()  # the reaper's and DELETE's timers
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(asyncio.shield(done), 30)
            self._driver = None
            driver.close()  # native.close(): anything left fails, the loop stops being polled
            native.set_handlers(None, None)  # the handlers hold this client: no cycle is left
        self._t.release()
        self._on_closed("the client was closed")
        for task in list(self._tasks):
            task.cancel()

    # -- handshake -----------------------------------------------------------------------------

    def _capabilities(self) -> dict[str, Any]:
        caps: dict[str, Any] = {}
        if self.roots is not None:
            caps["roots"] = {"listChanged": False}
        if self.sampling_callback is not None:
            caps["sampling"] = {}
        if self.elicitation_callback is not None:
            caps["elicitation"] = {"form": {}}
        return caps

    async def initialize(self) -> dict[str, Any]:
        """The handshake. `protocol='legacy'` (default): `initialize` at 2025-11-25, then
        `notifications/initialized`. `'auto'`: probe `server/discover` at 2026-07-28 first and
        fall back to `initialize` when the server does not answer it. `'modern'`: discover
        only. Returns the InitializeResult (or DiscoverResult)."""
        probe: MCPError | None = None
        if self.protocol in ("auto", "modern"):
            try:
                return await self.discover()
            except MCPError as e:
                if self.protocol == "modern" or (
                    e.code == CONNECTION_CLOSED and self._closed_reason
                ):
                    raise
                probe = e
        try:
            result = await self.request(
                "initialize",
                {
                    "protocolVersion": LATEST_PROTOCOL_VERSION,
                    "capabilities": self._capabilities(),
                    "clientInfo": self.client_info,
                },
            )
        except MCPError as e:
            raise e from probe  # why server/discover did not do either
        version = result.get("protocolVersion")
        if version not in SUPPORTED_PROTOCOL_VERSIONS:
            raise MCPError(
                -32602, f"the server chose an unsupported protocol version {version!r}"
            ) from probe
        self.initialize_result = result
        self.protocol_version = version
        self._native.set_era(False, version)
        await self.notify("notifications/initialized")
        self._native.listen()  # HTTP with a session: the GET stream; nothing on stdio
        return result

    async def discover(self) -> dict[str, Any]:
        """`server/discover` at 2026-07-28 (server/discover.mdx); on success every later request
        carries the version, client info and capabilities in `_meta`."""
        stamp = {
            _META_VERSION: MODERN_PROTOCOL_VERSION,
            _META_CLIENT_INFO: self.client_info,
            _META_CLIENT_CAPS: self._capabilities(),
        }
        self._native.set_era(True, MODERN_PROTOCOL_VERSION)  # headers of the probe
        # A server of either era answers at once (a result, -32601 or -32022); the wait only
        # bounds one that says nothing: 10 s, or read_timeout when that is longer.
        wait = max(10.0, self.read_timeout or 0.0)
        try:
            try:
                result = await self.request("server/discover", {"_meta": stamp}, timeout=wait)
            except MCPError as e:
                # -32022 names the versions the server speaks; retry once if ours is among them
                # (a first refusal can come from a proxy or a server that wanted the header).
                supported = (e.data or {}).get("supported") if isinstance(e.data, dict) else None
                if e.code != UNSUPPORTED_PROTOCOL_VERSION or MODERN_PROTOCOL_VERSION not in (
                    supported or []
                ):
                    raise
                result = await self.request("server/discover", {"_meta": stamp}, timeout=wait)
        except MCPError:
            self._native.set_era(False, "")
            raise
        if MODERN_PROTOCOL_VERSION not in (result.get("supportedVersions") or []):
            self._native.set_era(False, "")
            raise MCPError(
                UNSUPPORTED_PROTOCOL_VERSION,
                "the server does not support 2026-07-28",
                result.get("supportedVersions"),
            )
        self.discover_result = result
        self.protocol_version = MODERN_PROTOCOL_VERSION
        self._stamp = stamp
        return result

    # -- JSON-RPC ------------------------------------------------------------------------------

    async def request(
        self,
        method: str,
        params: Mapping[str, Any] | None = None,
        *,
        timeout: float | None = None,
        progress_callback: Callback | None = None,
    ) -> Any:
        """Sends a request, returns its `result`; raises MCPError for an error answer. On timeout
        or cancellation the server is told with `notifications/cancelled`. With `auth=`, a 401
        or 403 insufficient_scope re-authorizes and retries, at most `auth.max_step_up` times
        (basic/authorization.mdx "Scope Challenge Handling")."""
        return await self._send(method, params, timeout, progress_callback, ())

    async def _send(
        self,
        method: str,
        params: Mapping[str, Any] | None,
        timeout: float | None,
        progress_callback: Callback | None,
        headers: Sequence[tuple[str, str]],
    ) -> Any:
        """request(), with the Mcp-Param-* headers of a tools/call (`headers`)."""
        auth = self._t.auth if isinstance(self._t, _HttpTransport) else None
        tries = 0
        while True:
            try:
                return await self._request_once(method, params, timeout, progress_callback, headers)
            except MCPError as e:
                m = _CHALLENGE.match(e.message) if auth is not None else None
                if m is None or auth is None or tries >= auth.max_step_up:
                    raise
                tries += 1
                await self._reauthorize(int(m.group(1)), m.group(2))

    async def _reauthorize(self, status: int, challenge: str) -> None:
        from fasterapi.mcp.client_auth import OAuthError

        t = self._t
        assert isinstance(t, _HttpTransport)
        try:
            await t.auth.handle_challenge(status, challenge)
            value = await t.auth.authorization_header()
        except (OAuthError, OSError) as e:
            raise MCPError(CONNECTION_CLOSED, f"Authorization failed: {e}") from e
        t.headers = t.base_headers + (f"Authorization: {value}\r\n" if value else "")
        if self._native is not None:
            self._native.set_headers(t.headers)
            t.bind_dpop(self._native)

    async def _request_once(
        self,
        method: str,
        params: Mapping[str, Any] | None,
        timeout: float | None,
        progress_callback: Callback | None,
        headers: Sequence[tuple[str, str]] = (),
    ) -> Any:
        if self._closed_reason is not None or self._native is None:
            reason = self._closed_reason or "not connected"
            raise MCPError(CONNECTION_CLOSED, f"Connection closed: {reason}")
        p: dict[str, Any] = dict(params or {})
        token = None
        if self._stamp is not None or progress_callback is not None:
            meta = dict(p.get("_meta") or {})
            if self._stamp is not None:
                for k, v in self._stamp.items():
                    meta.setdefault(k, v)
            if progress_callback is not None:
                token = next(self._tokens)
                meta["progressToken"] = token
                self._progress[token] = progress_callback
            p["_meta"] = meta
        body = json.dumps(p, separators=(",", ":"), ensure_ascii=False) if p else "{}"
        name = p.get("uri" if method == "resources/read" else "name")
        if not isinstance(name, str) or method not in _NAMED:
            name = ""
        if timeout is None:
            timeout = self.read_timeout
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        wait = -1.0 if timeout is None else timeout
        if headers:
            rid = self._native.request(method, body, name, wait, fut, list(headers))
        else:
            rid = self._native.request(method, body, name, wait, fut)
        if self._driver is not None:
            self._driver.arm()  # the request's timeout timer
        try:
            ok, value = await fut
        except asyncio.CancelledError:
            # The caller gave up: the C++ side stops waiting and sends notifications/cancelled.
            if self._native is not None and self._closed_reason is None:
                self._native.cancel(rid, "cancelled")
            raise
        finally:
            if token is not None:
                self._progress.pop(token, None)
        if ok:
            return value
        code, message, data, local = value
        if local and code == REQUEST_TIMEOUT:
            raise MCPError(REQUEST_TIMEOUT, f"Timed out waiting for {method} after {timeout} s")
        raise MCPError(code, message, data)

    async def notify(self, method: str, params: Mapping[str, Any] | None = None) -> None:
        if self._native is None or self._closed_reason is not None:
            reason = self._closed_reason or "not connected"
            raise MCPError(CONNECTION_CLOSED, f"Connection closed: {reason}")
        body = "" if params is None else json.dumps(dict(params), separators=(",", ":"))
        self._native.notify(method, body)

    def _on_closed(self, reason: str) -> None:
        if self._closed_reason is None:
            self._closed_reason = reason

    def _on_native_closed(self, reason: str) -> None:
        self._on_closed(reason.removeprefix("Connection closed: "))

    def _on_native_message(
        self, is_request: bool, rid: str | None, method: str, params: Any
    ) -> None:
        """A notification or server request, from the C++ connection (rid: the raw JSON id)."""
        m: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            m["params"] = params
        if is_request and rid is not None:
            m["id"] = json.loads(rid)
        task = asyncio.get_running_loop().create_task(self._incoming(m, rid))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _incoming(self, m: dict[str, Any], rid: str | None) -> None:
        method = m["method"]
        params = m.get("params") or {}
        try:
            if self.message_handler is not None:
                await _call(self.message_handler, m)
            if rid is None:
                await self._notification(method, params)
                return
            await self._server_request(rid, method, params)
        except Exception as e:  # a failing user callback must not kill the session
            print(f"fasterapi.mcp client: handling {method} raised {e!r}", file=sys.stderr)

    async def _notification(self, method: str, params: dict[str, Any]) -> None:
        if method == "notifications/message" and self.logging_callback is not None:
            await _call(self.logging_callback, params)
        elif method == "notifications/progress":
            cb = self._progress.get(params.get("progressToken"))
            if cb is not None:
                await _call(cb, params.get("progress"), params.get("total"), params.get("message"))
        elif method.endswith("/list_changed") and self.list_changed_callback is not None:
            await _call(self.list_changed_callback, method)

    def _handler(self, method: str) -> Callable[[dict[str, Any]], Any] | None:
        """What answers a server request `method` (2025-11-25: sent on its own; 2026-07-28: an
        InputRequiredResult's inputRequests), or None when this client does not offer it."""

        async def roots(params: dict[str, Any]) -> Any:
            return {"roots": self.roots}

        async def sampling(params: dict[str, Any]) -> Any:
            return await _call(self.sampling_callback, params)  # type: ignore[arg-type]

        async def elicitation(params: dict[str, Any]) -> Any:
            cb = self.elicitation_callback
            return _with_defaults(await _call(cb, params), params)  # type: ignore[arg-type]

        if method == "roots/list" and self.roots is not None:
            return roots
        if method == "sampling/createMessage" and self.sampling_callback is not None:
            return sampling
        if method == "elicitation/create" and self.elicitation_callback is not None:
            return elicitation
        return None

    async def _server_request(self, rid: str, method: str, params: dict[str, Any]) -> None:
        try:
            handler = self._handler(method)
            if method == "ping":
                result: Any = {}
            elif handler is not None:
                result = await handler(params)
            else:
                return self._respond_error(rid, METHOD_NOT_FOUND, "Method not found")
        except MCPError as e:
            return self._respond_error(rid, e.code, e.message)
        except Exception as e:
            return self._respond_error(rid, -32603, str(e))
        if self._native is not None and self._closed_reason is None:
            self._native.respond(rid, json.dumps(result, separators=(",", ":")))

    def _respond_error(self, rid: str, code: int, message: str) -> None:
        if self._native is not None and self._closed_reason is None:
            self._native.respond_error(rid, code, message)

    # -- 2026-07-28 multi round-trip requests (basic/patterns/mrtr.mdx, SEP-2322) ---------------

    async def _with_input(
        self, method: str, params: dict[str, Any], send: Callable[[dict[str, Any]], Any]
    ) -> Any:
        """Sends `params` with `send` (tools/call, prompts/get, resources/read) and answers the
        server's InputRequiredResult rounds: every inputRequest through this client's callbacks
        (elicitation_callback, sampling_callback, roots), concurrently, then the request again,
        under a new id, with `inputResponses` and the `requestState` echoed byte for byte (none
        when the server sent none), at most `max_input_rounds` times. A round with only a
        requestState is retried after a short back-off (50 ms doubling to 250 ms), as the
        official SDKs do. Only this request's retry carries its answers and state."""
        result = await send(params)
        rounds = 0
        delay = 0.05
        while (
            self.max_input_rounds > 0
            and isinstance(result, dict)
            and result.get("resultType") == "input_required"
        ):
            if rounds >= self.max_input_rounds:
                raise InputRequiredRoundsExceededError(method, self.max_input_rounds)
            rounds += 1
            retry = dict(params)
            asks = result.get("inputRequests")
            if isinstance(asks, dict) and asks:
                retry["inputResponses"] = await self._fulfil(asks)
                delay = 0.05
            else:
                await asyncio.sleep(delay)
                delay = min(delay * 2, 0.25)
            state = result.get("requestState")
            if isinstance(state, str):
                retry["requestState"] = state
            result = await send(retry)
        return result

    async def _fulfil(self, asks: dict[str, Any]) -> dict[str, Any]:
        """inputResponses for an InputRequiredResult's inputRequests (key -> the callback's
        result). A request this client has no callback for fails the call with MCPError
        -32601; a callback that raises fails it with its exception (the others are
        cancelled)."""

        async def one(key: str, ask: Any) -> tuple[str, Any]:
            method = ask.get("method") if isinstance(ask, dict) else None
            handler = self._handler(method) if isinstance(method, str) else None
            if handler is None:
                raise MCPError(
                    METHOD_NOT_FOUND,
                    f"the server asked for input {key!r} with {method!r}, which this client "
                    "does not offer (no callback for it)",
                )
            params = ask.get("params")
            return key, await handler(params if isinstance(params, dict) else {})

        tasks = [asyncio.ensure_future(one(k, a)) for k, a in asks.items()]
        try:
            return dict(await asyncio.gather(*tasks))
        except BaseException:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise

    # -- 2026-07-28 x-mcp-header (SEP-2243) -----------------------------------------------------

    def _absorb_tools(self, result: dict[str, Any], *, complete: bool) -> dict[str, Any]:
        """A 2026-07-28 tools/list page or listing: tools whose x-mcp-header annotations are
        invalid are left out (logged, and named in `rejected_tools`); the others' annotations
        are kept for mirroring their arguments on tools/call. A complete listing forgets the
        tools it no longer has. The 2025-11-25 era passes the listing through."""
        if self._stamp is None:
            return result
        kept: list[Any] = []
        names: set[str] = set()
        for tool in result.get("tools") or []:
            name = tool.get("name") if isinstance(tool, dict) else None
            if not isinstance(name, str):
                kept.append(tool)
                continue
            names.add(name)
            reason = client_headers.invalid_reason(tool.get("inputSchema"))
            if reason is not None:
                log.warning(
                    "tools/list: leaving out tool %r: invalid x-mcp-header (%s)", name, reason
                )
                self.rejected_tools[name] = reason
                self._header_maps.pop(name, None)
                continue
            self.rejected_tools.pop(name, None)
            self._header_maps[name] = client_headers.header_map(tool.get("inputSchema"))
            kept.append(tool)
        if complete:
            self._header_maps = {k: v for k, v in self._header_maps.items() if k in names}
            self.rejected_tools = {k: v for k, v in self.rejected_tools.items() if k in names}
        return {**result, "tools": kept}

    def _param_headers(self, name: str, arguments: Mapping[str, Any]) -> list[tuple[str, str]]:
        """The Mcp-Param-* headers of a 2026-07-28 tools/call (none for a tool not listed yet:
        a server that wanted some answers HeaderMismatch, and call_tool re-lists)."""
        if self._stamp is None:
            return []
        if name in self.rejected_tools:
            raise MCPError(
                -32602,
                f"tool {name!r} was left out of tools/list: {self.rejected_tools[name]}",
            )
        hmap = self._header_maps.get(name)
        return client_headers.param_headers(hmap, arguments) if hmap else []

    # -- MCP methods ---------------------------------------------------------------------------

    async def ping(self) -> dict[str, Any]:
        result: dict[str, Any] = await self.request("ping")
        return result

    async def _list(self, method: str, key: str, cursor: str | None) -> dict[str, Any]:
        if cursor is not None:
            page: dict[str, Any] = await self.request(method, {"cursor": cursor})
            return page
        items: list[Any] = []
        result: dict[str, Any] = {}
        params: dict[str, Any] = {}
        for _ in range(10_000):
            result = await self.request(method, params)
            items.extend(result.get(key) or [])
            nxt = result.get("nextCursor")
            if not nxt:
                break
            params = {"cursor": nxt}
        result = {k: v for k, v in result.items() if k != "nextCursor"}
        result[key] = items
        return result

    async def list_tools(self, cursor: str | None = None) -> dict[str, Any]:
        """`{"tools": [...]}` -- every page (following `nextCursor`), or just the page at
        `cursor` when given (then `nextCursor` is kept). 2026-07-28: a tool whose inputSchema
        has an invalid `x-mcp-header` annotation is left out (SEP-2243; see `rejected_tools`)."""
        result = await self._list("tools/list", "tools", cursor)
        return self._absorb_tools(result, complete=cursor is None)

    async def call_tool(
        self,
        name: str,
        arguments: Mapping[str, Any] | None = None,
        *,
        timeout: float | None = None,
        progress_callback: Callback | None = None,
    ) -> dict[str, Any]:
        """The CallToolResult (`content`, `structuredContent`, `isError`). A failing tool is
        `isError: true`, not an exception; protocol errors raise MCPError.
        `progress_callback(progress, total, message)` receives progress notifications.

        2026-07-28: an InputRequiredResult is answered through the callbacks and the call
        retried (see `max_input_rounds`); over HTTP the arguments the tool's inputSchema marks
        with `x-mcp-header` go in `Mcp-Param-*` headers too, and a HeaderMismatch answer (the
        tool was not listed yet, or changed) re-lists the tools and sends once more."""
        args = dict(arguments or {})
        headers = self._param_headers(name, args)

        async def send(params: dict[str, Any]) -> Any:
            nonlocal headers
            try:
                return await self._send("tools/call", params, timeout, progress_callback, headers)
            except MCPError as e:
                if e.code != HEADER_MISMATCH or self._stamp is None:
                    raise
                try:
                    await self.list_tools()
                except MCPError:
                    raise e from None
                headers = self._param_headers(name, args)
                return await self._send("tools/call", params, timeout, progress_callback, headers)

        result: dict[str, Any] = await self._with_input(
            "tools/call", {"name": name, "arguments": args}, send
        )
        return result

    async def list_resources(self, cursor: str | None = None) -> dict[str, Any]:
        return await self._list("resources/list", "resources", cursor)

    async def list_resource_templates(self, cursor: str | None = None) -> dict[str, Any]:
        return await self._list("resources/templates/list", "resourceTemplates", cursor)

    async def read_resource(self, uri: str, *, timeout: float | None = None) -> dict[str, Any]:
        """The ReadResourceResult; 2026-07-28 InputRequiredResult rounds are answered as in
        call_tool."""

        async def send(params: dict[str, Any]) -> Any:
            return await self._send("resources/read", params, timeout, None, ())

        result: dict[str, Any] = await self._with_input("resources/read", {"uri": str(uri)}, send)
        return result

    async def subscribe_resource(self, uri: str) -> dict[str, Any]:
        result: dict[str, Any] = await self.request("resources/subscribe", {"uri": str(uri)})
        return result

    async def unsubscribe_resource(self, uri: str) -> dict[str, Any]:
        result: dict[str, Any] = await self.request("resources/unsubscribe", {"uri": str(uri)})
        return result

    async def list_prompts(self, cursor: str | None = None) -> dict[str, Any]:
        return await self._list("prompts/list", "prompts", cursor)

    async def get_prompt(
        self, name: str, arguments: Mapping[str, str] | None = None, *, timeout: float | None = None
    ) -> dict[str, Any]:
        """The GetPromptResult; 2026-07-28 InputRequiredResult rounds are answered as in
        call_tool."""
        params: dict[str, Any] = {"name": name}
        if arguments is not None:
            params["arguments"] = dict(arguments)

        async def send(p: dict[str, Any]) -> Any:
            return await self._send("prompts/get", p, timeout, None, ())

        result: dict[str, Any] = await self._with_input("prompts/get", params, send)
        return result

    async def complete(self, ref: Mapping[str, Any], argument: Mapping[str, str]) -> dict[str, Any]:
        result: dict[str, Any] = await self.request(
            "completion/complete", {"ref": dict(ref), "argument": dict(argument)}
        )
        return result

    async def set_logging_level(self, level: str) -> dict[str, Any]:
        result: dict[str, Any] = await self.request("logging/setLevel", {"level": level})
        return result
