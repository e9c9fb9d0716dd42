"""Type stub for fasterapi._native, the C++ core's nanobind extension.

The HTTP server, JSON and futures parts; the PostgreSQL part is the submodule `pg`
(fasterapi/pg/_native_pg.py wraps it with types)."""

from collections.abc import Callable, Generator, Iterable, Sequence
from typing import Any

# -- HTTP server ------------------------------------------------------------------------

class Request:
    """The request as the engine built it; Python objects are created on first access."""

    @property
    def method(self) -> str: ...
    @property
    def path(self) -> str:
        """Percent-decoded path."""
    @property
    def raw_path(self) -> bytes: ...
    @property
    def query_string(self) -> bytes: ...
    @property
    def path_params(self) -> dict[str, str]:
        """Route parameters, percent-decoded."""
    @property
    def header_list(self) -> list[tuple[str, str]]:
        """(lower-cased name, value) in arrival order, duplicates kept."""
    @property
    def asgi_headers(self) -> list[tuple[bytes, bytes]]:
        """ASGI scope headers: (lower-cased name, value) byte pairs in arrival order."""
    @property
    def body(self) -> bytes: ...
    @property
    def client(self) -> tuple[str, int]: ...
    @property
    def http_version(self) -> str: ...
    @property
    def scheme(self) -> str: ...
    @property
    def tls_extension(self) -> dict[str, Any] | None:
        """The ASGI TLS extension's dict (server_cert, client_cert_chain, client_cert_name,
        client_cert_error, tls_version, cipher_suite); None over plain TCP."""
    @property
    def keep_alive(self) -> bool: ...
    @property
    def allowed_methods(self) -> str:
        """For a request no route answers with its method: the path's methods; else ''."""
    @property
    def response_open(self) -> bool:
        """True until the response is finished."""
    @property
    def client_gone(self) -> bool:
        """True once the client closed its side of the connection (or it closed)."""
    def add_done_callback(self, fn: Callable[[], Any], /) -> None:
        """Call fn() once the response has been queued for the socket (or the peer left)."""
    def add_hangup_callback(self, fn: Callable[[], Any], /) -> bool:
        """Call fn() once when the client closes its side while the response is pending.
        False when that cannot be told (HTTP/2) or the response is over: poll client_gone."""
    def header(self, name: str, /) -> str | None:
        """The first value of field `name` (case-insensitive), OWS trimmed, or None."""
    def query_value(self, name: str, /) -> Any:
        """The last value of query parameter `name` ('+' and %XX decoded), None when absent,
        NotImplemented when the query or the name is not ASCII (read query_params then)."""
    def query_values(self, name: str, /) -> Any:
        """Every value of query parameter `name`, in order (list[str]); NotImplemented when the
        query or the name is not ASCII (read query_params then)."""
    def send_early_hints(self, *links: str) -> bool:
        """103 Early Hints (RFC 8297), one Link field per value, before the response. False
        when none can go (the response started, an HTTP/1.0 client)."""
    def push_promise(self, path: str, /) -> bool:
        """HTTP/2 server push of GET `path` (RFC 9113 §8.4). False, nothing sent, on HTTP/1.1,
        when the client disabled push, or once the response was sent."""

class Responder:
    """Sends one request's response; sending twice raises RuntimeError."""

    def send(
        self,
        status: int,
        headers: list[tuple[bytes | str, bytes | str]],
        body: bytes | str | None,
    ) -> None:
        """Whole response; content-length is added."""
    def send_result(self, result: Any, res: Any) -> bool:
        """A handler's plain return value answered as the engine answers one returned at once;
        False: not such a value, render() takes it (raises what encoding raised)."""
    def start(self, status: int, headers: list[tuple[bytes | str, bytes | str]]) -> None:
        """Head only; the body follows with write() (chunked unless content-length given)."""
    def write(self, data: bytes) -> bool:
        """Queue body bytes; False means over the high-water mark: wait for on_drain."""
    def on_drain(self, fn: Callable[[], Any]) -> None:
        """fn() once, when output drains or the connection closes."""
    def end(self) -> None:
        """Finish a streamed response."""
    def send_file(
        self,
        status: int,
        headers: list[tuple[bytes | str, bytes | str]],
        fd: int,
        parts: list[bytes | tuple[int, int]],
        head_only: bool = False,
    ) -> bool:
        """Whole response whose body is `parts`: bytes, or (offset, length) spans of file `fd`
        (duplicated; sent with sendfile(2) on HTTP/1.1). content-length is added."""
    def abort(self) -> None:
        """Close the connection now."""
    @property
    def closed(self) -> bool:
        """True once the client has gone."""
    @property
    def open(self) -> bool:
        """True until the response is finished."""

class Loop:
    """An EventLoop embedded in asyncio (its fd registered with add_reader), shared by the Server
    and the PostgreSQL connections of one asyncio loop (fasterapi/_loops.py)."""

    def __init__(self, backend: str = "") -> None: ...
    def fileno(self) -> int: ...
    def poll(self) -> None: ...
    def next_timer_ms(self) -> int: ...
    @property
    def requested(self) -> str:
        """The backend asked for, resolved: 'epoll', 'uring' or 'auto'."""
    @property
    def backend(self) -> str:
        """The backend in use: 'epoll' or 'uring'."""

def loop_backend_name(name: str) -> str:
    """The backend `name` asks for ('' -> FASTERAPI_LOOP, else 'epoll'); ValueError if unknown."""

# -- eager start of async handlers on Python 3.11 (fasterapi/_eager311.py) -----------------

class EagerResume:
    """The coroutine an asyncio Task drives for a handler that suspended in its eager step."""

    task: Any
    def send(self, value: Any, /) -> Any: ...
    def throw(self, *exc: Any) -> Any: ...
    def close(self) -> None: ...
    def __await__(self) -> EagerResume: ...
    def __iter__(self) -> EagerResume: ...
    def __next__(self) -> Any: ...

class EagerSpawner:
    """spawn(coro, req, res, responder) for async handlers (fasterapi/_eager311.py)."""

    def __init__(
        self,
        loop: Any,
        live: set[Any],
        finish: Callable[[Any, BaseException | None, Any, Any, Any], None],
        pending: Any,
        stand_in_type: type,
        task_name: str,
    ) -> None: ...
    def __call__(self, coro: Any, req: Any, res: Any, responder: Any, /) -> Any: ...

def eager_setup(
    current_tasks: dict[Any, Any], cancelled_error: type, task_type: type, get_running_loop: Any, /
) -> None: ...

class Server:
    """The HTTP/1.1 engine: listener, connections, routes, on a Loop (its own, or event_loop)."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        reuse_port: bool = False,
        backlog: int = 1024,
        max_body_bytes: int = 16 * 1024 * 1024,
        keep_alive_timeout: float = 5.0,
        header_timeout: float = 10.0,
        body_timeout: float = 30.0,
        send_timeout: float = 30.0,
        loop: str = "",
        event_loop: Loop | None = None,
    ) -> None: ...
    @property
    def loop(self) -> str:
        """The event loop's backend in use: 'epoll' or 'uring'."""
    @property
    def event_loop(self) -> Loop:
        """The Loop it runs on."""
    def set_hooks(
        self,
        request_class: type[Request],
        response_class: type,
        render: Callable[[Any, Any, Any, Responder], None],
        spawn: Callable[[Any, Any, Any, Responder], Any],
        handle_error: Callable[[BaseException, Any, Any, Responder], None],
        pending: object,
    ) -> None:
        """Python callbacks the engine uses; once, before listen()."""
    def add_route(
        self, method: str, path: str, endpoint: Callable[[Any, Any], Any], is_async: bool
    ) -> None:
        """endpoint(req, res) for method ("*" = any) and path; ValueError on a bad pattern."""
    def add_websocket(
        self,
        path: str,
        start: Callable[[WebSocketConnection], None],
        max_message_bytes: int = 16 * 1024 * 1024,
        ping_interval: float = 20.0,
        pong_timeout: float = 20.0,
        permessage_deflate: bool = True,
        deflate_level: int = 6,
    ) -> None:
        """start(conn) per WebSocket upgrade on path; ValueError on a bad pattern."""
    def add_route_and_websocket(
        self,
        path: str,
        endpoint: Callable[[Any, Any], Any],
        is_async: bool,
        start: Callable[[WebSocketConnection], None],
        max_message_bytes: int = 16 * 1024 * 1024,
        ping_interval: float = 20.0,
        pong_timeout: float = 20.0,
        permessage_deflate: bool = True,
        deflate_level: int = 6,
    ) -> None:
        """GET path for both: WebSocket upgrade requests to start(conn), others to
        endpoint(req, res). ValueError on a bad pattern or a conflict."""
    def set_fallback(self, endpoint: Callable[[Any, Any], Any], is_async: bool) -> None:
        """endpoint(req, res) for requests no route matches (404; 405 when
        req.allowed_methods is set) instead of the engine's own answers."""
    def set_compression(
        self,
        codings: list[str],
        *,
        min_size: int = 500,
        gzip_level: int = 6,
        brotli_quality: int = 4,
        zstd_level: int = 3,
    ) -> None:
        """Compress responses by Accept-Encoding with `codings` ('zstd', 'br', 'gzip'; [] =
        off); ValueError for an unknown coding or a level out of range."""
    def set_error_log(self, fn: Callable[[str, int, int, str, bytes], Any]) -> None:
        """fn(host, port, status, reason, request_line) for each error the engine answers by
        itself (400, 408, 413, 414, 431, 501, 505) before closing the connection."""
    def set_tls(
        self,
        certfile: str,
        *,
        keyfile: str = "",
        password: str = "",
        ca_certs: str = "",
        cert_reqs: int = 0,
        handshake_timeout: float = 10.0,
        sni: list[list[str]] = ...,
    ) -> None:
        """Serve TLS (before listen()): PEM chain and key, key password, CA bundle and
        ssl.CERT_* for client certificates; sni: [server name, certfile, keyfile, password]
        entries chosen by the client's SNI."""
    def reload_tls(self) -> None:
        """Re-read the certificates (SIGHUP); RuntimeError when bad (the old ones stay)."""
    @property
    def tls(self) -> bool: ...
    def listen(self) -> int:
        """Bind and listen; returns the bound port (port 0 picks one)."""
    def fileno(self) -> int:
        """Readable when poll() has work (asyncio: loop.add_reader(fd, server.poll))."""
    def poll(self) -> None:
        """Run ready I/O and due timers without blocking."""
    def next_timer_ms(self) -> int:
        """Milliseconds until the next timer, -1 when none."""
    def shutdown(self, grace: float = 3600.0) -> None:
        """Stop accepting, close idle connections; in-flight ones get `grace` seconds."""
    def close(self) -> None:
        """Close the listener and every connection now."""
    @property
    def connections(self) -> int: ...
    @property
    def writing(self) -> int: ...
    @property
    def in_flight(self) -> int: ...

# -- WebSocket (bindings/ws) ----------------------------------------------------------------

class EncodedFrame:
    """A WebSocket message encoded once, to send to many sockets."""

def websocket_encode_frame(message: str | bytes | bytearray | memoryview) -> EncodedFrame: ...

class WebSocketConnection:
    """One WebSocket upgrade: the pending handshake, then the open socket."""

    def accept(
        self,
        subprotocol: str | None,
        headers: list[tuple[str | bytes, str | bytes]] | None,
        on_message: Callable[[str | bytes], None],
        on_close: Callable[[int, str], None],
        on_drain: Callable[[], None],
    ) -> bool:
        """Write the 101; False if the client is gone. RuntimeError if already answered."""
    def reject(self, status: int, body: bytes | str | None = None) -> None: ...
    def send_text(self, data: str | bytes) -> bool:
        """False when closed or over the high-water mark (wait for on_drain)."""
    def send_bytes(self, data: bytes | bytearray | memoryview) -> bool: ...
    def send_frame(self, frame: EncodedFrame) -> bool: ...
    def close(self, code: int = 1000, reason: str | None = None) -> None: ...
    def pause_reading(self) -> None:
        """Stop delivering messages and reading the socket (TCP flow control slows the peer)."""
    def resume_reading(self) -> None:
        """Read again; held messages are delivered from the loop, not inside the call."""
    def ping(self, payload: bytes = b"") -> bool: ...
    @property
    def open(self) -> bool: ...
    @property
    def pending(self) -> bool: ...
    @property
    def buffered(self) -> int: ...
    @property
    def accepted_subprotocol(self) -> str | None: ...
    @property
    def extensions(self) -> str: ...
    @property
    def path(self) -> str: ...
    @property
    def raw_path(self) -> bytes: ...
    @property
    def query_string(self) -> bytes: ...
    @property
    def header_list(self) -> list[tuple[str, str]]: ...
    @property
    def path_params(self) -> dict[str, Any]: ...
    @property
    def subprotocols(self) -> list[str]: ...
    @property
    def client(self) -> tuple[str, int]: ...
    @property
    def secure(self) -> bool: ...

# -- Server-Sent Events and content codings (bindings/sse) ---------------------------------

class EventStream:
    def send(
        self,
        data: Any = None,
        *,
        event: str | bytes | None = None,
        id: str | bytes | None = None,
        retry: int | None = None,
        comment: str | bytes | None = None,
        json: bool = False,
    ) -> bool:
        """Frame and send one event; False when the client is gone or over high water."""
    def close(self) -> None: ...
    def on_drain(self, fn: Callable[[], Any]) -> None: ...
    @property
    def alive(self) -> bool: ...
    @property
    def pings(self) -> int: ...

def start_event_stream(
    responder: Responder, status: int, headers: Any, ping: float
) -> EventStream | None: ...
def negotiate_encoding(accept_encoding: str, offered: list[str]) -> str: ...

# -- JSON (json component) ------------------------------------------------------------------

def json_dumps(obj: Any, /) -> bytes: ...
def json_dumps_plan(obj: Any, plan: Any, /) -> bytes | None: ...
def json_loads(data: bytes | str, /) -> Any: ...
def html_render_rows(template: str, rows: Iterable[Sequence[Any]], /) -> bytes: ...

pg: Any  # the PostgreSQL protocol core (bindings/pg_*.cpp)

# -- futures (futures component) -----------------------------------------------------------

class Future:
    """A C++ fa::future holding a Python object; awaitable on any asyncio loop."""

    def done(self) -> bool: ...
    def __await__(self) -> Generator[Any, None, Any]: ...
    def then(self, fn: Callable[[Any], Any]) -> Future: ...

class Promise:
    def __init__(self) -> None: ...
    def future(self) -> Future: ...
    def set_result(self, value: Any) -> None: ...
    def set_exception(self, exc: BaseException) -> None: ...

def ready_future(value: Any) -> Future: ...

# -- MCP authorization (mcp/auth component) --------------------------------------------------

class TokenError(ValueError):
    """A refused bearer token."""

    kind: str  # "missing_token", "invalid_request", "malformed", "unsupported_algorithm",
    # "unknown_key", "bad_signature", "expired", "not_yet_valid", "missing_claim",
    # "wrong_issuer", "wrong_audience" or "insufficient_scope"
    description: str
    status: int  # 400, 401 or 403
    error: str  # RFC 6750 error code; "" for missing_token

class JwtVerifier:
    """Checks bearer JWTs as an MCP resource server (src/mcp/auth)."""

    def __init__(
        self,
        *,
        issuer: str,
        audience: list[str],
        algorithms: list[str],
        secret: str | bytes | None = None,
        public_key_pem: str | None = None,
        jwks: str | bytes | None = None,
        required_scopes: list[str] = ...,
        leeway: float = 30.0,
        require_exp: bool = True,
        refresh_interval: float = 300.0,
        min_refresh_interval: float = 30.0,
        verified_cache_ttl: float = 60.0,
    ) -> None: ...
    def verify(self, token: str, now: float | None = None) -> dict[str, Any]: ...
    def verify_authorization(
        self, header: str | None, now: float | None = None
    ) -> dict[str, Any]: ...
    def set_jwks(self, document: str | bytes, now: float | None = None) -> int: ...
    def refresh_due(self, now: float | None = None) -> bool: ...
    def key_ids(self) -> list[str]: ...

def auth_www_authenticate(
    kind: str | None, description: str = "", resource_metadata: str = "", scope: str = ""
) -> str: ...
def auth_resource_metadata(
    resource: str,
    authorization_servers: list[str],
    scopes_supported: list[str] = ...,
    bearer_methods_supported: list[str] = ...,
    resource_name: str = "",
    resource_documentation: str = "",
) -> str: ...
def auth_resource_metadata_url(resource: str) -> str: ...
def auth_resource_metadata_path(resource: str) -> str: ...
def auth_error_status(kind: str) -> int: ...

# -- MCP server (bindings/mcp/mcp_server_module.cpp) -----------------------------------------

class McpReply:
    """Answers one MCP request; every method returns False once it was answered or cancelled
    or its client is gone."""

    @property
    def active(self) -> bool: ...
    @property
    def call_id(self) -> int: ...
    @property
    def request_id(self) -> str: ...
    def result(self, result: Any) -> bool: ...
    def error(self, code: int, message: str, data: Any = None) -> bool: ...
    def progress(
        self, progress: float, total: float | None = None, message: str | None = None
    ) -> bool: ...
    def log(self, level: str, data: Any, logger: str | None = None) -> bool: ...
    def request(self, method: str, params: Any = None) -> int: ...
    def close_stream(self) -> None: ...
    @property
    def client_capabilities(self) -> str: ...
    @property
    def params(self) -> str: ...
    @property
    def modern(self) -> bool: ...
    @property
    def auth_claims(self) -> str: ...
    @property
    def tasks_allowed(self) -> bool: ...
    def create_task(self, ttl_ms: int, poll_interval_ms: int) -> str: ...
    @property
    def in_task(self) -> bool: ...
    @property
    def task_id(self) -> str: ...
    def task_status(self, message: str) -> bool: ...

class McpServer:
    """The MCP server core (revisions 2025-11-25 and 2026-07-28) and its stdio / Streamable
    HTTP transports."""

    def __init__(
        self, name: str, version: str, title: str = "", instructions: str = ""
    ) -> None: ...
    def add_tool(
        self, name: str, descriptor: dict[str, Any], runner: Callable[..., Any], wants_reply: bool
    ) -> int: ...
    def add_resource(
        self, uri: str, descriptor: dict[str, Any], runner: Callable[..., Any], wants_reply: bool
    ) -> int: ...
    def add_resource_template(self, descriptor: dict[str, Any]) -> None: ...
    def add_prompt(
        self, name: str, descriptor: dict[str, Any], runner: Callable[..., Any], wants_reply: bool
    ) -> int: ...
    def set_resource_fallback(self, runner: Callable[[str, McpReply], Any]) -> None: ...
    def set_completion(self, runner: Callable[[dict[str, Any], McpReply], Any]) -> None: ...
    def set_hooks(self, pending: Any, on_cancel: Callable[[int], None]) -> None: ...
    def set_page_size(self, n: int) -> None: ...
    def set_tasks(self, enabled: bool) -> None: ...
    def set_response_hook(self, fn: Callable[[int, bool, Any], None]) -> None: ...
    def set_auth(
        self, verifier: Any, metadata_json: str, metadata_url: str, metadata_path: str, scope: str
    ) -> None: ...
    def remove_tool(self, name: str) -> bool: ...
    def remove_prompt(self, name: str) -> bool: ...
    def remove_resource(self, uri: str) -> bool: ...
    def notify_list_changed(self, what: str) -> int: ...
    def notify_resource_updated(self, uri: str) -> int: ...
    def set_tool_headers(self, name: str, pairs: list[tuple[str, str]]) -> None: ...
    def start_stdio(self, in_fd: int, out_fd: int, on_closed: Callable[[], None]) -> None: ...
    def start_http(
        self,
        host: str,
        port: int,
        path: str = "/mcp",
        allowed_origins: list[str] = ...,
        allowed_hosts: list[str] = ...,
        session_idle_timeout: float = 1800.0,
        max_sessions: int = 10000,
    ) -> int: ...
    def mount(
        self,
        host: str,
        path: str,
        allowed_origins: list[str] = ...,
        allowed_hosts: list[str] = ...,
        session_idle_timeout: float = 1800.0,
        max_sessions: int = 10000,
    ) -> None: ...
    def sessions(self) -> int: ...
    def exchange(
        self, method: str, headers: list[tuple[str, str]], body: bytes, sink: Any
    ) -> None: ...
    def fileno(self) -> int: ...
    def poll(self) -> None: ...
    def next_timer_ms(self) -> int: ...
    def close(self) -> None: ...

# ---- MCP client (bindings/mcp/client_module.cpp; src/mcp/client, sans I/O) ----

class McpHttpResponseParser:
    """Incremental HTTP/1.1 response parser: status line, headers, body framed by
    Content-Length, chunked or the connection's close; interim 1xx skipped."""

    def __init__(self, head_request: bool = False) -> None: ...
    def feed(self, data: bytes) -> int: ...
    def finish(self) -> bool: ...
    def reset(self, head_request: bool = False) -> None: ...
    def take_body(self) -> bytes: ...
    @property
    def head(self) -> tuple[int, str, list[tuple[str, str]]] | None: ...
    @property
    def done(self) -> bool: ...
    @property
    def failed(self) -> bool: ...
    @property
    def error(self) -> str: ...
    @property
    def keep_alive(self) -> bool: ...

class McpSseParser:
    """text/event-stream parser; feed() returns the completed events as (type, data, id)."""

    def __init__(self) -> None: ...
    def feed(self, data: bytes) -> list[tuple[str, str, str]]: ...
    @property
    def last_event_id(self) -> str | None: ...
    @property
    def retry_ms(self) -> int | None: ...

class McpClient:
    """One MCP upstream connection (stdio child or Streamable HTTP) on its own C++ EventLoop:
    fasterapi.mcp.MCPClient's transport (bindings/mcp/client_module.cpp)."""

    def __init__(self) -> None: ...
    def open_stdio(
        self,
        argv: list[str],
        env: list[str] | None,
        cwd: str,
        stderr_fd: int,
        grace: float,
        capabilities: str,
    ) -> None: ...
    def open_http(
        self,
        url: str,
        headers: str,
        max_connections: int,
        capabilities: str,
        verify: bool = True,
        cafile: str = "",
    ) -> None: ...
    def set_handlers(
        self,
        on_message: Callable[[bool, str | None, str, Any], None] | None,
        on_closed: Callable[[str], None] | None,
    ) -> None: ...
    def start(self, future: Any) -> None: ...
    def request(
        self,
        method: str,
        params: str,
        name: str,
        timeout: float,
        future: Any,
        param_headers: list[tuple[str, str]] = ...,
    ) -> int: ...
    def cancel(self, id: int, reason: str) -> None: ...
    def notify(self, method: str, params: str) -> None: ...
    def respond(self, id: str, result: str) -> None: ...
    def respond_error(self, id: str, code: int, message: str) -> None: ...
    def set_era(self, modern: bool, version: str) -> None: ...
    def set_headers(self, headers: str) -> None: ...
    def set_dpop(self, key: McpDpopKey | None, access_token: str) -> None: ...
    @property
    def dpop_nonce(self) -> str: ...
    def listen(self) -> None: ...
    def shutdown(self, future: Any) -> None: ...
    def close(self) -> None: ...
    def fileno(self) -> int: ...
    def poll(self) -> None: ...
    def next_timer_ms(self) -> int: ...
    @property
    def session_id(self) -> str | None: ...
    @property
    def pid(self) -> int | None: ...
    @property
    def returncode(self) -> int | None: ...
    @property
    def connects(self) -> int: ...
    @property
    def listening(self) -> bool: ...
    @property
    def alive(self) -> bool: ...

class McpDpopKey:
    """A DPoP key pair (ES256, P-256) and its proofs (src/mcp/auth/dpop.h)."""

    def __init__(self) -> None: ...
    @property
    def jwk(self) -> str: ...
    @property
    def thumbprint(self) -> str: ...
    def proof(
        self, htm: str, htu: str, access_token: str = "", nonce: str = "", now: int = -1
    ) -> str: ...

# bindings/multipart/multipart_module.cpp
def parse_multipart(
    body: bytes,
    boundary: str,
    max_fields: int,
    max_files: int,
    max_field_size: int,
    max_file_size: int,
    max_header_size: int,
) -> tuple[
    # (name, filename | None, content_type, headers, value): value is a field's str, or a
    # file's (start, end) offsets into `body` (bytes if not one slice); None on error
    list[tuple[str, str | None, str, list[tuple[str, str]], Any]] | None,
    int,
    str,
]: ...
def multipart_boundary(content_type: str) -> str | None: ...

class McpProxy:
    """The MCP proxy core (src/mcp/proxy): upstreams, breakers, rate limit, transports."""

    def __init__(
        self,
        name: str,
        version: str,
        failure_threshold: int,
        cooldown: float,
        half_open_probes: int,
        rate: float,
        burst: float,
    ) -> None: ...
    def add_http(
        self,
        name: str,
        url: str,
        headers: str,
        timeout: float,
        max_connections: int,
        probe_modern: bool,
        verify: bool = True,
        cafile: str = "",
    ) -> None: ...
    def add_stdio(self, name: str, argv: list[str], timeout: float, probe_modern: bool) -> None: ...
    def start(self, on_ready: Callable[[], None]) -> None: ...
    def start_stdio(self, in_fd: int, out_fd: int, on_closed: Callable[[], None]) -> None: ...
    def start_http(
        self,
        host: str,
        port: int,
        path: str = "/mcp",
        allowed_origins: list[str] = ...,
        allowed_hosts: list[str] = ...,
        session_idle_timeout: float = 1800.0,
        max_sessions: int = 10000,
    ) -> int: ...
    def mount(
        self,
        host: str,
        path: str,
        allowed_origins: list[str] = ...,
        allowed_hosts: list[str] = ...,
        session_idle_timeout: float = 1800.0,
        max_sessions: int = 10000,
    ) -> None: ...
    def sessions(self) -> int: ...
    def exchange(
        self, method: str, headers: list[tuple[str, str]], body: bytes, sink: Any, peer: str
    ) -> None: ...
    def run(self) -> None: ...
    def stop(self) -> None: ...
    def status(self) -> str: ...
    def in_flight(self) -> int: ...
    def fileno(self) -> int: ...
    def poll(self) -> None: ...
    def next_timer_ms(self) -> int: ...
    def close(self) -> None: ...
