"""`MCPClient`: the client half of MCP, over stdio (a spawned server process) or Streamable HTTP.

    async with MCPClient.stdio(["python", "server.py"]) as c:
        tools = await c.list_tools()
        result = await c.call_tool("add", {"a": 1, "b": 2})

Results are the JSON-RPC `result` objects as plain dicts; a JSON-RPC error answer raises
`MCPError(code, message, data)`. See docs/mcp/client.md.

Where the work happens today: the pipe and socket I/O, JSON-RPC framing and id correlation and
timeouts are Python asyncio (this file); HTTP/1.1 response parsing (Content-Length, chunked,
close) and SSE parsing are C++ (src/mcp/client/http_response.h, as _native.McpHttpResponseParser
and _native.McpSseParser). src/mcp/client/correlator.h is not wired in yet.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import inspect
import itertools
import json
import os
import sys
import urllib.parse
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import IO, Any

from fasterapi import _native
from fasterapi.mcp.errors import McpError

LATEST_PROTOCOL_VERSION = "2025-11-25"
MODERN_PROTOCOL_VERSION = "2026-07-28"
SUPPORTED_PROTOCOL_VERSIONS = ("2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05")

# Error codes the client raises itself (the official SDK's values).
CONNECTION_CLOSED = -32000
REQUEST_TIMEOUT = -32001
METHOD_NOT_FOUND = -32601
UNSUPPORTED_PROTOCOL_VERSION = -32022

_META_VERSION = "io.modelcontextprotocol/protocolVersion"
_META_CLIENT_INFO = "io.modelcontextprotocol/clientInfo"
_META_CLIENT_CAPS = "io.modelcontextprotocol/clientCapabilities"
_META_SERVER_INFO = "io.modelcontextprotocol/serverInfo"

Callback = Callable[..., Any]


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


async def _call(cb: Callback, *args: Any) -> Any:
    r = cb(*args)
    if inspect.isawaitable(r):
        r = await r
    return r


# ---- transports ------------------------------------------------------------------------------


class _Transport:
    """Moves whole JSON-RPC messages. `deliver(msg)` receives each incoming message, `closed(err)`
    is called once when the peer is gone."""

    deliver: Callable[[dict[str, Any]], None]
    closed: Callable[[str], None]

    async def start(self) -> None:
        raise NotImplementedError

    async def send(self, message: dict[str, Any], *, request_id: Any = None) -> None:
        raise NotImplementedError

    def abandon(self, request_id: Any) -> None:
        """The request's caller gave up (timeout, cancellation): drop what waits on its answer."""

    async def close(self) -> None:
        raise NotImplementedError


class _StdioTransport(_Transport):
    """Spawns the server; newline-delimited JSON-RPC on its stdin/stdout (basic/transports.mdx)."""

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
        self.proc: asyncio.subprocess.Process | None = None
        self._reader_task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        env = None
        if self.env is not None:
            env = {**os.environ, **self.env}
        self.proc = await asyncio.create_subprocess_exec(
            *self.command,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=self.stderr,
            env=env,
            cwd=self.cwd,
            limit=64 * 1024 * 1024,
        )
        self._reader_task = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        reason = "the server closed its stdout"
        try:
            while True:
                line = await self.proc.stdout.readline()
                if not line:
                    break
                line = line.strip()
                if not line:
                    continue
                try:
                    msg = json.loads(line)
                except ValueError:
                    continue  # not JSON-RPC (a stray print): skip it
                for m in msg if isinstance(msg, list) else [msg]:
                    if isinstance(m, dict):
                        self.deliver(m)
        except (ValueError, asyncio.LimitOverrunError):
            reason = "a message from the server exceeded 64 MiB"
        except Exception as e:  # pragma: no cover - defensive
            reason = f"reading from the server failed: {e!r}"
        code = None
        with contextlib.suppress(asyncio.TimeoutError):
            code = await asyncio.wait_for(self.proc.wait(), 0.5)
        if code is not None:
            reason = f"{reason} (the process exited with code {code})"
        self.closed(reason)

    async def send(self, message: dict[str, Any], *, request_id: Any = None) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        data = json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"
        try:
            self.proc.stdin.write(data)
            await self.proc.stdin.drain()
        except (BrokenPipeError, ConnectionResetError) as e:
            raise MCPError(CONNECTION_CLOSED, f"Connection closed: {e}") from None

    async def close(self) -> None:
        """Close stdin, wait `grace` seconds, then SIGTERM, then SIGKILL; always reaps."""
        proc = self.proc
        if proc is None:
            return
        if proc.stdin is not None and not proc.stdin.is_closing():
            with contextlib.suppress(Exception):
                proc.stdin.close()
        if proc.returncode is None:
            try:
                await asyncio.wait_for(proc.wait(), self.grace)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    proc.terminate()
                try:
                    await asyncio.wait_for(proc.wait(), self.grace)
                except TimeoutError:
                    with contextlib.suppress(ProcessLookupError):
                        proc.kill()
                    await proc.wait()
        if self._reader_task is not None:
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(self._reader_task, 2)


class _HttpResponse:
    def __init__(self, parser: Any) -> None:
        status, reason, raw = parser.head
        self.status: int = status
        self.reason: str = reason
        self.headers: dict[str, str] = {}  # lower-cased names; repeated ones joined with ", "
        for key, value in raw:
            self.headers[key] = f"{self.headers[key]}, {value}" if key in self.headers else value
        self.parser = parser  # _native.McpHttpResponseParser, mid-body


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.rest = b""  # bytes read past the last response (none without pipelining)

    async def read(self) -> bytes:
        if self.rest:
            data, self.rest = self.rest, b""
            return data
        return await self.reader.read(1 << 16)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.writer.close()


class _HttpTransport(_Transport):
    """Streamable HTTP (basic/transports.mdx): one POST per message; the answer is one JSON body
    or an SSE stream; Mcp-Session-Id and MCP-Protocol-Version carried; DELETE on close.
    Connections are HTTP/1.1 keep-alive, pooled."""

    def __init__(self, url: str, headers: Mapping[str, str] | None, max_idle: int = 4) -> None:
        u = urllib.parse.urlsplit(url)
        if u.scheme not in ("http", "https"):
            raise ValueError(f"not an http(s) URL: {url!r}")
        self.url = url
        self.ssl = u.scheme == "https"
        self.host = u.hostname or "127.0.0.1"
        self.port = u.port or (443 if self.ssl else 80)
        self.target = (u.path or "/") + (f"?{u.query}" if u.query else "")
        self.host_header = u.netloc.rpartition("@")[2]
        self.headers = dict(headers or {})
        self.session_id: str | None = None
        self.protocol_version: str | None = None
        self._idle: list[_Connection] = []
        self._max_idle = max_idle
        self._tasks: dict[Any, asyncio.Task[None]] = {}
        self._other: set[asyncio.Task[None]] = set()
        self._closed = False

    async def start(self) -> None:
        pass

    # -- HTTP/1.1 -----------------------------------------------------------------------------

    async def _connect(self) -> _Connection:
        while self._idle:
            conn = self._idle.pop()
            if not conn.reader.at_eof() and not conn.writer.is_closing():
                return conn
            conn.close()
        reader, writer = await asyncio.open_connection(
            self.host, self.port, ssl=True if self.ssl else None, limit=64 * 1024 * 1024
        )
        return _Connection(reader, writer)

    def _release(self, conn: _Connection, reusable: bool) -> None:
        if reusable and not self._closed and len(self._idle) < self._max_idle:
            self._idle.append(conn)
        else:
            conn.close()

    async def _request(
        self, method: str, body: bytes | None, extra: Mapping[str, str]
    ) -> tuple[_Connection, _HttpResponse]:
        lines = [f"{method} {self.target} HTTP/1.1", f"Host: {self.host_header}"]
        hdrs: dict[str, str] = {}
        hdrs.update(self.headers)
        if self.session_id is not None:
            hdrs["Mcp-Session-Id"] = self.session_id
        if self.protocol_version is not None:
            hdrs["MCP-Protocol-Version"] = self.protocol_version
        hdrs.update(extra)
        for k, v in hdrs.items():
            if any(c in f"{k}{v}" for c in "\r\n\0"):
                raise ValueError(f"header {k!r}: CR, LF and NUL are not allowed")
            lines.append(f"{k}: {v}")
        if body is not None:
            lines.append(f"Content-Length: {len(body)}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        for _ in range(2):
            fresh = not self._idle  # else a pooled connection, which the server may have closed
            conn = await self._connect()
            try:
                conn.writer.write(head + (body or b""))
                await conn.writer.drain()
                resp = await self._read_head(conn)
                return conn, resp
            except (ConnectionError, asyncio.IncompleteReadError, EOFError):
                conn.close()
                if fresh:
                    raise
                # a pooled connection the server had closed: once more on a fresh one (only
                # then: a request on a fresh connection may have been processed)
                for idle in self._idle:
                    idle.close()
                self._idle.clear()
        raise AssertionError("unreachable")

    async def _read_head(self, conn: _Connection) -> _HttpResponse:
        """Reads until the response head is parsed (C++: src/mcp/client/http_response.h)."""
        parser = _native.McpHttpResponseParser()
        while parser.head is None:
            data = await conn.read()
            if not data:
                parser.finish()
                raise ConnectionError(parser.error or "connection closed before a response")
            used = parser.feed(data)
            if parser.failed:
                raise ConnectionError(f"malformed HTTP response: {parser.error}")
            conn.rest = data[used:]
        return _HttpResponse(parser)

    async def _body(self, conn: _Connection, resp: _HttpResponse) -> AsyncIterator[bytes]:
        """The body's bytes as they arrive, de-chunked by the C++ parser."""
        parser = resp.parser
        if first := parser.take_body():
            yield first
        while not parser.done:
            data = await conn.read()
            if not data:
                ended = parser.finish()
                if rest := parser.take_body():
                    yield rest
                if ended:
                    return
                raise ConnectionError(parser.error)
            used = parser.feed(data)
            if parser.failed:
                raise ConnectionError(f"malformed HTTP response: {parser.error}")
            conn.rest = data[used:]
            if body := parser.take_body():
                yield body

    def _reusable(self, resp: _HttpResponse) -> bool:
        return bool(resp.parser.done and resp.parser.keep_alive)

    # -- MCP over it --------------------------------------------------------------------------

    async def send(self, message: dict[str, Any], *, request_id: Any = None) -> None:
        body = json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode()
        extra = {
            "Content-Type": "application/json",
            "Accept": "application/json, text/event-stream",
        }
        if self.protocol_version == MODERN_PROTOCOL_VERSION and "method" in message:
            # 2026-07-28 streamable-http.mdx "Standard Request Headers"
            extra["Mcp-Method"] = _header_value(message["method"])
            params = message.get("params") or {}
            if message["method"] in ("tools/call", "prompts/get", "resources/read"):
                name = params.get("uri" if message["method"] == "resources/read" else "name")
                if isinstance(name, str):
                    extra["Mcp-Name"] = _header_value(name)
        if request_id is None:
            # a notification or a response: 202 Accepted expected, nothing to wait for
            conn, resp = await self._request("POST", body, extra)
            data = b"".join([c async for c in self._body(conn, resp)])
            self._release(conn, self._reusable(resp))
            if resp.status >= 400 and resp.status != 405:
                raise MCPError(CONNECTION_CLOSED, f"HTTP {resp.status} {resp.reason}", _text(data))
            return
        task = asyncio.get_running_loop().create_task(self._answer(body, extra, request_id))
        self._tasks[request_id] = task
        task.add_done_callback(lambda _t: self._tasks.pop(request_id, None))

    async def _answer(self, body: bytes, extra: dict[str, str], request_id: Any) -> None:
        """POSTs one request, reads its answer and delivers what it carries."""
        try:
            conn, resp = await self._request("POST", body, extra)
        except asyncio.CancelledError:
            raise
        except Exception as e:
            self.deliver(_error(request_id, CONNECTION_CLOSED, f"Connection failed: {e!r}"))
            return
        reusable = False
        try:
            sid = resp.headers.get("mcp-session-id")
            if sid and self.session_id is None:
                self.session_id = sid
            ctype = resp.headers.get("content-type", "").split(";")[0].strip().lower()
            if ctype == "text/event-stream" and resp.status == 200:
                await self._read_sse(conn, resp, request_id)
                return
            data = b"".join([c async for c in self._body(conn, resp)])
            reusable = self._reusable(resp)
            msg = None
            if ctype == "application/json" or data[:1] in (b"{", b"["):
                with contextlib.suppress(ValueError):
                    msg = json.loads(data)
            delivered = False
            for m in msg if isinstance(msg, list) else [msg]:
                if isinstance(m, dict):
                    self.deliver(m)
                    delivered = delivered or ("id" in m and m.get("id") == request_id)
            if not delivered:
                if resp.status == 404 and self.session_id is not None:
                    text = "the server no longer knows this session (HTTP 404)"
                else:
                    text = f"HTTP {resp.status} {resp.reason} without a JSON-RPC answer"
                self.deliver(_error(request_id, CONNECTION_CLOSED, text, _text(data)))
        except asyncio.CancelledError:
            raise
        except Exception as e:
            self.deliver(_error(request_id, CONNECTION_CLOSED, f"Connection closed: {e!r}"))
        finally:
            self._release(conn, reusable)

    async def _read_sse(self, conn: _Connection, resp: _HttpResponse, request_id: Any) -> None:
        parser = _native.McpSseParser()
        got = False
        attempts = 0
        while True:
            try:
                async for chunk in self._body(conn, resp):
                    for _event, data, _id in parser.feed(chunk):
                        if not data.strip():
                            continue
                        try:
                            msg = json.loads(data)
                        except ValueError:
                            continue
                        for m in msg if isinstance(msg, list) else [msg]:
                            if isinstance(m, dict):
                                self.deliver(m)
                                if "id" in m and "method" not in m and m.get("id") == request_id:
                                    got = True
                    if got:
                        break
            except (ConnectionError, asyncio.IncompleteReadError, ValueError):
                pass
            conn.close()
            if got:
                return
            # The stream ended before the answer: resume it with GET + Last-Event-ID.
            if parser.last_event_id is None or attempts >= 3 or self._closed:
                self.deliver(
                    _error(request_id, CONNECTION_CLOSED, "Connection closed: the SSE stream ended")
                )
                return
            attempts += 1
            await asyncio.sleep((parser.retry_ms or 0) / 1000)
            conn, resp = await self._request(
                "GET", None, {"Accept": "text/event-stream", "Last-Event-ID": parser.last_event_id}
            )
            if resp.status != 200:
                conn.close()
                self.deliver(
                    _error(
                        request_id, CONNECTION_CLOSED, f"resuming the stream: HTTP {resp.status}"
                    )
                )
                return

    def listen(self) -> None:
        """Opens the standalone GET stream for messages the server sends outside any request's
        answer (basic/transports.mdx "Listening for Messages from the Server")."""
        task = asyncio.get_running_loop().create_task(self._listen())
        self._other.add(task)
        task.add_done_callback(self._other.discard)

    async def _listen(self) -> None:
        parser = _native.McpSseParser()
        failures = 0
        while not self._closed and failures < 3:
            extra = {"Accept": "text/event-stream"}
            if parser.last_event_id is not None:
                extra["Last-Event-ID"] = parser.last_event_id
            conn: _Connection | None = None
            try:
                conn, resp = await self._request("GET", None, extra)
                ctype = resp.headers.get("content-type", "").split(";")[0].strip().lower()
                if resp.status != 200 or ctype != "text/event-stream":
                    return  # 405: the server offers no such stream
                async for chunk in self._body(conn, resp):
                    for _event, data, _id in parser.feed(chunk):
                        failures = 0
                        with contextlib.suppress(ValueError):
                            msg = json.loads(data) if data.strip() else None
                            for m in msg if isinstance(msg, list) else [msg]:
                                if isinstance(m, dict):
                                    self.deliver(m)
            except (ConnectionError, OSError, asyncio.IncompleteReadError, ValueError):
                pass
            finally:
                if conn is not None:
                    conn.close()
            failures += 1
            await asyncio.sleep((parser.retry_ms if parser.retry_ms is not None else 1000) / 1000)

    def abandon(self, request_id: Any) -> None:
        task = self._tasks.pop(request_id, None)
        if task is not None:
            task.cancel()

    async def close(self) -> None:
        if self._closed:
            return
        for task in [*self._tasks.values(), *self._other]:
            task.cancel()
        if self.session_id is not None:
            with contextlib.suppress(Exception):
                conn, resp = await asyncio.wait_for(self._request("DELETE", None, {}), 5)
                async for _ in self._body(conn, resp):
                    pass
                conn.close()
        self._closed = True
        for conn in self._idle:
            conn.close()
        self._idle.clear()


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


def _header_value(value: str) -> str:
    """As is when it is visible ASCII without edge spaces, else the `=?base64?...?=` sentinel
    (2026-07-28 streamable-http.mdx "Value Encoding")."""
    if value and value == value.strip() and all(0x20 <= ord(c) <= 0x7E for c in value):
        return value
    return "=?base64?" + base64.b64encode(value.encode()).decode() + "?="


def _text(data: bytes) -> str | None:
    return data.decode("utf-8", "replace")[:2000] if data else None


def _error(request_id: Any, code: int, message: str, data: Any = None) -> dict[str, Any]:
    err: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        err["data"] = data
    return {"jsonrpc": "2.0", "id": request_id, "error": err}


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
    ) -> None:
        if protocol not in ("legacy", "auto", "modern"):
            raise ValueError("protocol must be 'legacy', 'auto' or 'modern'")
        self._t = transport
        self._t.deliver = self._on_message
        self._t.closed = self._on_closed
        self.client_info = dict(client_info or {"name": "fasterapi-mcp-client", "version": "0.1"})
        self.protocol = protocol
        self.read_timeout = read_timeout
        self.logging_callback = logging_callback
        self.message_handler = message_handler
        self.list_changed_callback = list_changed_callback
        self.sampling_callback = sampling_callback
        self.elicitation_callback = elicitation_callback
        self.roots = list(roots) if roots is not None else None
        self._ids = itertools.count(1)
        self._pending: dict[Any, asyncio.Future[Any]] = {}
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
        cls, url: str, *, headers: Mapping[str, str] | None = None, **kwargs: Any
    ) -> MCPClient:
        """A client for the Streamable HTTP endpoint at `url` (e.g. http://127.0.0.1:8000/mcp);
        `headers` are sent on every request (e.g. Authorization)."""
        return cls(_HttpTransport(url, headers), **kwargs)

    @property
    def process(self) -> asyncio.subprocess.Process | None:
        """The spawned server (stdio clients), else None."""
        return getattr(self._t, "proc", None)

    @property
    def session_id(self) -> str | None:
        """The Mcp-Session-Id the HTTP server assigned, else None."""
        return getattr(self._t, "session_id", None)

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
        await self._t.start()
        try:
            await self.initialize()
        except BaseException:
            await self.close()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self._t.close()
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
        if self.protocol in ("auto", "modern"):
            try:
                return await self.discover()
            except MCPError as e:
                if self.protocol == "modern" or (
                    e.code == CONNECTION_CLOSED and self._closed_reason
                ):
                    raise
        result = await self.request(
            "initialize",
            {
                "protocolVersion": LATEST_PROTOCOL_VERSION,
                "capabilities": self._capabilities(),
                "clientInfo": self.client_info,
            },
        )
        version = result.get("protocolVersion")
        if version not in SUPPORTED_PROTOCOL_VERSIONS:
            raise MCPError(-32602, f"the server chose an unsupported protocol version {version!r}")
        self.initialize_result = result
        self.protocol_version = version
        if isinstance(self._t, _HttpTransport):
            self._t.protocol_version = version
        await self.notify("notifications/initialized")
        if isinstance(self._t, _HttpTransport) and self._t.session_id is not None:
            self._t.listen()
        return result

    async def discover(self) -> dict[str, Any]:
        """`server/discover` at 2026-07-28 (server/discover.mdx); on success every later request
        carries the version, client info and capabilities in `_meta`."""
        stamp = {
            _META_VERSION: MODERN_PROTOCOL_VERSION,
            _META_CLIENT_INFO: self.client_info,
            _META_CLIENT_CAPS: self._capabilities(),
        }
        if isinstance(self._t, _HttpTransport):
            self._t.protocol_version = MODERN_PROTOCOL_VERSION
        try:
            try:
                result = await self.request("server/discover", {"_meta": stamp}, timeout=10)
            except MCPError as e:
                # -32022 names the versions the server speaks; retry once if ours is among them
                # (a first refusal can come from a proxy or a server that wanted the header).
                supported = (e.data or {}).get("supported") if isinstance(e.data, dict) else None
                if e.code != UNSUPPORTED_PROTOCOL_VERSION or MODERN_PROTOCOL_VERSION not in (
                    supported or []
                ):
                    raise
                result = await self.request("server/discover", {"_meta": stamp}, timeout=10)
        except MCPError:
            if isinstance(self._t, _HttpTransport):
                self._t.protocol_version = None
            raise
        if MODERN_PROTOCOL_VERSION not in (result.get("supportedVersions") or []):
            if isinstance(self._t, _HttpTransport):
                self._t.protocol_version = None
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
        or cancellation the server is told with `notifications/cancelled`."""
        if self._closed_reason is not None:
            raise MCPError(CONNECTION_CLOSED, f"Connection closed: {self._closed_reason}")
        rid = next(self._ids)
        p: dict[str, Any] = dict(params or {})
        if self._stamp is not None or progress_callback is not None:
            meta = dict(p.get("_meta") or {})
            if self._stamp is not None:
                for k, v in self._stamp.items():
                    meta.setdefault(k, v)
            if progress_callback is not None:
                meta["progressToken"] = rid
                self._progress[rid] = progress_callback
            p["_meta"] = meta
        msg: dict[str, Any] = {"jsonrpc": "2.0", "id": rid, "method": method}
        if p or params is not None:
            msg["params"] = p
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[rid] = fut
        if timeout is None:
            timeout = self.read_timeout
        try:
            await self._t.send(msg, request_id=rid)
            return await asyncio.wait_for(asyncio.shield(fut), timeout)
        except TimeoutError:
            await self._cancel(rid, f"timed out after {timeout} s")
            raise MCPError(
                REQUEST_TIMEOUT, f"Timed out waiting for {method} after {timeout} s"
            ) from None
        except asyncio.CancelledError:
            task = asyncio.get_running_loop().create_task(self._cancel(rid, "cancelled"))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            raise
        finally:
            self._pending.pop(rid, None)
            self._progress.pop(rid, None)
            self._t.abandon(rid)  # the answer may have come on another stream
            if not fut.done():
                fut.cancel()

    async def _cancel(self, rid: Any, reason: str) -> None:
        self._t.abandon(rid)
        if self._closed_reason is None:
            with contextlib.suppress(Exception):
                await self.notify("notifications/cancelled", {"requestId": rid, "reason": reason})

    async def notify(self, method: str, params: Mapping[str, Any] | None = None) -> None:
        msg: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            msg["params"] = dict(params)
        await self._t.send(msg)

    def _on_closed(self, reason: str) -> None:
        if self._closed_reason is None:
            self._closed_reason = reason
        for fut in self._pending.values():
            if not fut.done():
                fut.set_exception(MCPError(CONNECTION_CLOSED, f"Connection closed: {reason}"))

    def _on_message(self, m: dict[str, Any]) -> None:
        if "method" in m:
            task = asyncio.get_running_loop().create_task(self._incoming(m))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            return
        fut = self._pending.get(m.get("id"))
        if fut is None or fut.done():
            return  # an answer nobody waits for any more (timed out, cancelled)
        if "error" in m and isinstance(m["error"], dict):
            e = m["error"]
            fut.set_exception(
                MCPError(int(e.get("code", 0)), str(e.get("message", "")), e.get("data"))
            )
        elif "result" in m:
            fut.set_result(m["result"])
        else:
            fut.set_exception(MCPError(-32603, "malformed response from the server", m))

    async def _incoming(self, m: dict[str, Any]) -> None:
        method = m["method"]
        params = m.get("params") or {}
        try:
            if self.message_handler is not None:
                await _call(self.message_handler, m)
            if "id" not in m:
                await self._notification(method, params)
                return
            await self._server_request(m["id"], method, params)
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

    async def _server_request(self, rid: Any, method: str, params: dict[str, Any]) -> None:
        answer: dict[str, Any] = {"jsonrpc": "2.0", "id": rid}
        try:
            if method == "ping":
                answer["result"] = {}
            elif method == "roots/list" and self.roots is not None:
                answer["result"] = {"roots": self.roots}
            elif method == "sampling/createMessage" and self.sampling_callback is not None:
                answer["result"] = await _call(self.sampling_callback, params)
            elif method == "elicitation/create" and self.elicitation_callback is not None:
                answer["result"] = _with_defaults(
                    await _call(self.elicitation_callback, params), params
                )
            else:
                answer["error"] = {"code": METHOD_NOT_FOUND, "message": "Method not found"}
        except MCPError as e:
            answer["error"] = {"code": e.code, "message": e.message}
        except Exception as e:
            answer["error"] = {"code": -32603, "message": str(e)}
        await self._t.send(answer)

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
        `cursor` when given (then `nextCursor` is kept)."""
        return await self._list("tools/list", "tools", cursor)

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
        `progress_callback(progress, total, message)` receives progress notifications."""
        params = {"name": name, "arguments": dict(arguments or {})}
        result: dict[str, Any] = await self.request(
            "tools/call", params, timeout=timeout, progress_callback=progress_callback
        )
        return result

    async def list_resources(self, cursor: str | None = None) -> dict[str, Any]:
        return await self._list("resources/list", "resources", cursor)

    async def list_resource_templates(self, cursor: str | None = None) -> dict[str, Any]:
        return await self._list("resources/templates/list", "resourceTemplates", cursor)

    async def read_resource(self, uri: str, *, timeout: float | None = None) -> dict[str, Any]:
        result: dict[str, Any] = await self.request(
            "resources/read", {"uri": str(uri)}, timeout=timeout
        )
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
        params: dict[str, Any] = {"name": name}
        if arguments is not None:
            params["arguments"] = dict(arguments)
        result: dict[str, Any] = await self.request("prompts/get", params, timeout=timeout)
        return result

    async def complete(self, ref: Mapping[str, Any], argument: Mapping[str, str]) -> dict[str, Any]:
        result: dict[str, Any] = await self.request(
            "completion/complete", {"ref": dict(ref), "argument": dict(argument)}
        )
        return result

    async def set_logging_level(self, level: str) -> dict[str, Any]:
        result: dict[str, Any] = await self.request("logging/setLevel", {"level": level})
        return result
