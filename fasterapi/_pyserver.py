"""A pure-Python HTTP/1.1 engine with the same interface as fasterapi._native.Server.

It exists so the Python layer runs (slowly) where the C++ extension is not built, and so the
engine contract (Server/Request/Responder) is written down in executable form. Readiness comes
from one selector whose fd the asyncio loop watches, exactly like the native engine.
"""

from __future__ import annotations

import re
import selectors
import socket
from collections.abc import Callable
from email.utils import formatdate
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote

_HIGH_WATER = 256 * 1024  # bytes buffered for a client before write() says "wait for drain"
_MAX_HEAD = 64 * 1024  # bytes; 431 past this
_MAX_LINE = 8 * 1024  # bytes of request target; 414 past this
_NOT_FOUND = b'{"detail":"Not Found"}'
_NOT_ALLOWED = b'{"detail":"Method Not Allowed"}'


class Request:
    """What the engine fills per request (the native class has the same attributes)."""

    method: str
    path: str
    raw_path: bytes
    query_string: bytes
    path_params: dict[str, str]
    header_list: list[tuple[str, str]]
    body: bytes
    client: tuple[str, int]
    http_version: str
    scheme: str
    keep_alive: bool
    _done: list[Callable[[], Any]] | None

    def add_done_callback(self, fn: Callable[[], Any]) -> None:
        """Call fn() once the response is on the socket (or the connection dropped)."""
        if self._done is None:
            self._done = []
        self._done.append(fn)


def _compile(path: str) -> tuple[re.Pattern[str], list[str]]:
    out, names, pos = [], [], 0
    for m in re.finditer(r"\{([A-Za-z_][A-Za-z0-9_]*)(?::(int|path|str))?\}", path):
        out.append(re.escape(path[pos : m.start()]))
        name, kind = m.group(1), m.group(2) or "str"
        if name in names:
            raise ValueError(f"duplicate parameter {name!r} in route {path!r}")
        names.append(name)
        out.append({"int": r"(-?[0-9]+)", "path": r"(.*)", "str": r"([^/]+)"}[kind])
        pos = m.end()
    rest = path[pos:]
    if "{" in rest or "}" in rest or not path.startswith("/"):
        raise ValueError(
            f"bad route pattern {path!r}: use /a/{{name}}, {{name:int}}, {{name:path}}"
        )
    out.append(re.escape(rest))
    return re.compile("".join(out) + r"\Z"), names


class Responder:
    """Sends one response on a connection; see fasterapi/_native.pyi for the contract."""

    def __init__(self, conn: _Conn, head_only: bool, keep_alive: bool) -> None:
        self._conn, self._head_only, self._keep_alive = conn, head_only, keep_alive
        self._state = 0  # 0 nothing sent, 1 streaming (chunked), 2 streaming (sized), 3 done

    @property
    def closed(self) -> bool:
        return self._conn.closed

    def _head(self, status: int, headers: list[tuple[Any, Any]], length: int | None) -> bytearray:
        if self._state:
            raise RuntimeError("response already started")
        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = ""
        out = bytearray(f"HTTP/1.1 {status} {reason}\r\n".encode())
        out += b"date: " + formatdate(usegmt=True).encode() + b"\r\n"
        has_len = False
        for k, v in headers:
            k = k.encode("latin-1") if isinstance(k, str) else k
            v = v.encode("latin-1") if isinstance(v, str) else v
            if k.lower() == b"content-length":
                has_len = True
            out += k + b": " + v + b"\r\n"
        if length is not None and not has_len:
            out += b"content-length: %d\r\n" % length
        elif length is None and not has_len:
            out += b"transfer-encoding: chunked\r\n"
        if not self._keep_alive:
            out += b"connection: close\r\n"
        self._state = 2 if has_len or length is not None else 1
        return out + b"\r\n"

    def send(self, status: int, headers: list[tuple[Any, Any]], body: bytes | str | None) -> None:
        data = body.encode() if isinstance(body, str) else (body or b"")
        out = self._head(status, headers, len(data))
        if not self._head_only:
            out += data
        self._state = 3
        self._conn.write(bytes(out))
        self._conn.finish(self._keep_alive)

    def start(self, status: int, headers: list[tuple[Any, Any]]) -> None:
        self._conn.write(bytes(self._head(status, headers, None)))

    def write(self, data: bytes) -> bool:
        if self._state not in (1, 2):
            raise RuntimeError("write() before start() or after end()")
        if data and not self._head_only:
            self._conn.write(b"%x\r\n%s\r\n" % (len(data), data) if self._state == 1 else data)
        return len(self._conn.out) < _HIGH_WATER

    def on_drain(self, fn: Callable[[], Any]) -> None:
        self._conn.drain_callbacks.append(fn)
        if len(self._conn.out) < _HIGH_WATER or self._conn.closed:
            self._conn.run_drain()

    def end(self) -> None:
        if self._state == 1 and not self._head_only:
            self._conn.write(b"0\r\n\r\n")
        self._state = 3
        self._conn.finish(self._keep_alive)

    def abort(self) -> None:
        self._state = 3
        self._conn.close()


class _Conn:
    def __init__(self, server: Server, sock: socket.socket, addr: Any) -> None:
        self.server, self.sock = server, sock
        self.client = (str(addr[0]), int(addr[1])) if isinstance(addr, tuple) else ("", 0)
        self.buf = bytearray()
        self.out = bytearray()
        self.busy: Request | None = None
        self.closed = False
        self.close_after = False
        self.drain_callbacks: list[Callable[[], Any]] = []

    def write(self, data: bytes) -> None:
        if self.closed:
            return
        self.out += data
        self.flush()

    def flush(self) -> None:
        try:
            while self.out:
                n = self.sock.send(self.out)
                del self.out[:n]
        except BlockingIOError:
            self.server.watch(self, writing=True)
            return
        except OSError:
            self.close()
            return
        self.server.watch(self, writing=False)
        self.run_drain()
        if self.close_after and not self.busy:
            self.close()

    def run_drain(self) -> None:
        cbs, self.drain_callbacks = self.drain_callbacks, []
        for fn in cbs:
            fn()

    def finish(self, keep_alive: bool) -> None:
        req, self.busy = self.busy, None
        self.server.in_flight -= 1
        if not keep_alive or self.server.stopping:
            self.close_after = True
            if not self.out:
                self.close()
        if req is not None and req._done:
            for fn in req._done:
                fn()
        if not self.closed and not self.close_after:
            self.server.parse(self)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.server.forget(self)
        self.sock.close()
        self.run_drain()
        if self.busy is not None:
            self.server.in_flight -= 1
            req, self.busy = self.busy, None
            for fn in req._done or ():
                fn()


class Server:
    """Same constructor and methods as fasterapi._native.Server."""

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
    ) -> None:
        self.host, self.port, self.reuse_port, self.backlog = host, port, reuse_port, backlog
        self.max_body_bytes = max_body_bytes
        self.routes: list[tuple[str, re.Pattern[str], list[str], Callable[..., Any], bool]] = []
        self.sel = selectors.DefaultSelector()
        self.conns: set[_Conn] = set()
        self.in_flight = 0
        self.stopping = False
        self.listener: socket.socket | None = None

    @property
    def connections(self) -> int:
        return len(self.conns)

    def set_hooks(
        self,
        request_class: type,
        response_class: type,
        render: Any,
        spawn: Any,
        handle_error: Any,
        pending: object,
    ) -> None:
        self.request_class: Any = request_class
        self.response_class: Any = response_class
        self.render, self.spawn, self.handle_error, self.pending = (
            render,
            spawn,
            handle_error,
            pending,
        )

    def add_route(
        self, method: str, path: str, endpoint: Callable[..., Any], is_async: bool
    ) -> None:
        pattern, names = _compile(path)
        for m, _p, _n, _e, _a in self.routes:
            if m == method and _p.pattern == pattern.pattern:
                raise ValueError(f"route conflict: {method} {path} is already registered")
        self.routes.append((method, pattern, names, endpoint, is_async))

    def listen(self) -> int:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if self.reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((self.host, self.port))
        sock.listen(self.backlog)
        sock.setblocking(False)
        self.listener = sock
        self.sel.register(sock, selectors.EVENT_READ, None)
        return int(sock.getsockname()[1])

    def fileno(self) -> int:
        return self.sel.fileno()

    def next_timer_ms(self) -> int:
        return -1

    def poll(self) -> None:
        for key, events in self.sel.select(0):
            conn = key.data
            if conn is None:
                self._accept()
                continue
            if events & selectors.EVENT_WRITE:
                conn.flush()
            if events & selectors.EVENT_READ and not conn.closed:
                self._read(conn)

    def watch(self, conn: _Conn, writing: bool) -> None:
        if not conn.closed:
            ev = selectors.EVENT_READ | (selectors.EVENT_WRITE if writing else 0)
            self.sel.modify(conn.sock, ev, conn)

    def forget(self, conn: _Conn) -> None:
        self.conns.discard(conn)
        try:
            self.sel.unregister(conn.sock)
        except (KeyError, ValueError):
            pass

    def _accept(self) -> None:
        assert self.listener is not None
        while True:
            try:
                sock, addr = self.listener.accept()
            except (BlockingIOError, OSError):
                return
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn = _Conn(self, sock, addr)
            self.conns.add(conn)
            self.sel.register(sock, selectors.EVENT_READ, conn)

    def _read(self, conn: _Conn) -> None:
        try:
            data = conn.sock.recv(256 * 1024)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            conn.close()
            return
        conn.buf += data
        if conn.busy is None:
            self.parse(conn)

    def parse(self, conn: _Conn) -> None:
        """Dispatch as many complete requests as the buffer holds, one at a time."""
        while conn.busy is None and not conn.closed and not conn.close_after:
            end = conn.buf.find(b"\r\n\r\n")
            if end < 0:
                if len(conn.buf) > _MAX_HEAD:
                    self._fail(conn, 431)
                return
            head = bytes(conn.buf[:end]).decode("latin-1").split("\r\n")
            try:
                method, target, version = head[0].split(" ")
                headers = []
                for line in head[1:]:
                    name, sep, value = line.partition(":")
                    if not sep or not name or name != name.strip():
                        raise ValueError(line)
                    headers.append((name.lower(), value.strip()))
            except ValueError:
                self._fail(conn, 400)
                return
            if len(target) > _MAX_LINE:
                self._fail(conn, 414)
                return
            hmap = dict(headers)
            start = end + 4
            if "chunked" in hmap.get("transfer-encoding", ""):
                body = self._dechunk(conn, start)
                if body is None:
                    return
            else:
                length = int(hmap.get("content-length", "0") or 0)
                if length > self.max_body_bytes:
                    self._fail(conn, 413)
                    return
                if len(conn.buf) < start + length:
                    return
                body = bytes(conn.buf[start : start + length])
                del conn.buf[: start + length]
            conn_hdr = hmap.get("connection", "").lower()
            keep = conn_hdr != "close" if version == "HTTP/1.1" else conn_hdr == "keep-alive"
            self._dispatch(conn, method, target, version, headers, body, keep)

    def _dechunk(self, conn: _Conn, pos: int) -> bytes | None:
        body = bytearray()
        buf = conn.buf
        while True:
            eol = buf.find(b"\r\n", pos)
            if eol < 0:
                return None
            size = int(bytes(buf[pos:eol]).split(b";")[0], 16)
            if size == 0:
                trailer_end = buf.find(b"\r\n", eol + 2)
                if trailer_end < 0:
                    return None
                del buf[: trailer_end + 2]
                return bytes(body)
            if len(buf) < eol + 2 + size + 2:
                return None
            body += buf[eol + 2 : eol + 2 + size]
            if len(body) > self.max_body_bytes:
                self._fail(conn, 413)
                return None
            pos = eol + 2 + size + 2

    def _fail(self, conn: _Conn, status: int) -> None:
        conn.busy = Request()
        self.in_flight += 1
        body = f'{{"detail":"{HTTPStatus(status).phrase}"}}'.encode()
        r = Responder(conn, False, False)
        r.send(status, [(b"content-type", b"application/json")], body)

    def _dispatch(
        self,
        conn: _Conn,
        method: str,
        target: str,
        version: str,
        headers: list[tuple[str, str]],
        body: bytes,
        keep: bool,
    ) -> None:
        raw_path, _, query = target.partition("?")
        path = unquote(raw_path)
        lookup = "GET" if method == "HEAD" else method
        found, allowed = None, []
        for m, pattern, names, endpoint, is_async in self.routes:
            match = pattern.match(path)
            if match is None:
                continue
            if m in (method, lookup, "*"):
                found = (names, match, endpoint, is_async)
                break
            allowed.append(m)
        req = self.request_class.__new__(self.request_class)
        req._done = None
        conn.busy = req
        self.in_flight += 1
        responder = Responder(conn, method == "HEAD", keep and not self.stopping)
        json_ct = [(b"content-type", b"application/json")]
        if found is None:
            if allowed:
                allow = ", ".join(dict.fromkeys(allowed))
                responder.send(405, [*json_ct, (b"allow", allow.encode())], _NOT_ALLOWED)
            else:
                responder.send(404, json_ct, _NOT_FOUND)
            return
        names, match, endpoint, is_async = found
        req.method, req.path, req.raw_path = method, path, raw_path.encode("latin-1")
        req.query_string = query.encode("latin-1")
        req.path_params = dict(zip(names, match.groups(), strict=True))
        req.header_list, req.body, req.client = headers, body, conn.client
        req.http_version, req.scheme, req.keep_alive = version[5:], "http", keep
        res = self.response_class()
        try:
            result = endpoint(req, res)
            if is_async:
                result = self.spawn(result, req, res, responder)
                if result is self.pending:
                    return
            if res.media_type is None and (result is None or type(result) in _FAST):
                status, extra = res.status_code, res.raw_headers or []
                if result is None:
                    responder.send(status, extra, b"")
                elif type(result) is str:
                    responder.send(status, [_TEXT, *extra], result.encode())
                elif type(result) is bytes:
                    responder.send(status, [_OCTET, *extra], result)
                else:
                    from fasterapi._jsonio import json_dumps

                    responder.send(status, [_JSON, *extra], json_dumps(result))
            else:
                self.render(result, req, res, responder)
        except Exception as exc:
            if responder._state == 0:
                self.handle_error(exc, req, res, responder)
            else:
                responder.abort()

    def shutdown(self, grace: float = 3600.0) -> None:
        self.stopping = True
        if self.listener is not None:
            self.sel.unregister(self.listener)
            self.listener.close()
            self.listener = None
        for conn in list(self.conns):
            if conn.busy is None and not conn.out:
                conn.close()

    def close(self) -> None:
        self.shutdown()
        for conn in list(self.conns):
            conn.close()
        self.sel.close()


_FAST = (dict, list, str, bytes)
_TEXT = (b"content-type", b"text/plain; charset=utf-8")
_OCTET = (b"content-type", b"application/octet-stream")
_JSON = (b"content-type", b"application/json")
