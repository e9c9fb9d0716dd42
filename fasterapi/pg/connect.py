"""Opening connections: TCP or Unix socket, SSLRequest negotiation per sslmode, startup, auth."""

from __future__ import annotations

import asyncio
import socket
import ssl
from typing import Any

from fasterapi.pg._native_pg import Core, native
from fasterapi.pg.dsn import ConnectParams
from fasterapi.pg.errors_base import PgConnectionError


def make_core(p: ConnectParams) -> Any:
    """A native core for these parameters with its StartupMessage queued."""
    core = Core(p.user, p.password, p.database, list(p.options))
    core.start()
    return core


def ssl_context(p: ConnectParams) -> ssl.SSLContext:
    """verify-full checks the certificate and host name; require/prefer encrypt without checking."""
    if p.sslmode in ("verify-full", "verify-ca"):
        ctx = ssl.create_default_context(cafile=p.sslrootcert)
        ctx.check_hostname = p.sslmode == "verify-full"
        return ctx
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def _raw_socket(p: ConnectParams) -> socket.socket:
    if p.is_unix:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(p.connect_timeout)
        s.connect(f"{p.host}/.s.PGSQL.{p.port}")
        return s
    s = socket.create_connection((p.host, p.port), timeout=p.connect_timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def _negotiate_ssl_blocking(s: socket.socket, p: ConnectParams) -> socket.socket:
    if p.sslmode in ("disable", "allow") or p.is_unix:
        return s
    s.sendall(native.ssl_request())
    answer = s.recv(1)
    if answer == b"S":
        return ssl_context(p).wrap_socket(s, server_hostname=p.host)
    if p.sslmode in ("require", "verify-ca", "verify-full"):
        s.close()
        raise PgConnectionError(f"server at {p.host}:{p.port} refused TLS but sslmode={p.sslmode}")
    return s


def connect_blocking(p: ConnectParams) -> socket.socket:
    """A connected (TLS-negotiated) blocking socket; raises PgConnectionError."""
    try:
        s = _raw_socket(p)
        return _negotiate_ssl_blocking(s, p)
    except OSError as e:
        raise PgConnectionError(f"cannot connect to {p.host}:{p.port}: {e}") from e


async def open_transport(
    p: ConnectParams, factory: Any, loop: asyncio.AbstractEventLoop
) -> tuple[asyncio.Transport, Any]:
    """Connect on the loop (TLS per sslmode) and return (transport, protocol)."""
    try:
        if p.is_unix:
            return await asyncio.wait_for(
                loop.create_unix_connection(factory, f"{p.host}/.s.PGSQL.{p.port}"),
                p.connect_timeout,
            )
        if p.sslmode in ("disable", "allow"):
            return await asyncio.wait_for(
                loop.create_connection(factory, p.host, p.port), p.connect_timeout
            )
        sock = await asyncio.wait_for(loop.run_in_executor(None, _raw_socket, p), p.connect_timeout)
        sock.setblocking(False)
        await loop.sock_sendall(sock, native.ssl_request())
        answer = await asyncio.wait_for(loop.sock_recv(sock, 1), p.connect_timeout)
        if answer == b"S":
            return await loop.create_connection(
                factory, sock=sock, ssl=ssl_context(p), server_hostname=p.host
            )
        if p.sslmode in ("require", "verify-ca", "verify-full"):
            sock.close()
            raise PgConnectionError(
                f"server at {p.host}:{p.port} refused TLS but sslmode={p.sslmode}"
            )
        return await loop.create_connection(factory, sock=sock)
    except (TimeoutError, OSError) as e:
        raise PgConnectionError(f"cannot connect to {p.host}:{p.port}: {e!r}") from e


async def send_cancel(p: ConnectParams, pid: int, key: int) -> None:
    """Send a CancelRequest on a new connection (the server closes it without answering)."""
    try:
        if p.is_unix:
            _, w = await asyncio.open_unix_connection(f"{p.host}/.s.PGSQL.{p.port}")
        else:
            _, w = await asyncio.open_connection(p.host, p.port)
        w.write(native.cancel_request(pid, key))
        await w.drain()
        w.close()
    except OSError:
        pass
