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
    """Python's TLS for the blocking connections and CancelRequests, by tls_params' rules."""
    t = tls_params(p)
    if t.verify:
        ctx = ssl.create_default_context(cafile=t.cafile or None)
        ctx.check_hostname = t.check_host
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


class TlsParams:
    """How a connection's TLS is set up, from its sslmode (see ssl_context for the rules)."""

    def __init__(self, verify: bool, check_host: bool, cafile: str) -> None:
        self.verify = verify
        self.check_host = check_host
        self.cafile = cafile


def tls_params(p: ConnectParams) -> TlsParams:
    """verify-full checks the certificate and host name, verify-ca the certificate only;
    require/prefer encrypt without checking."""
    verify = p.sslmode in ("verify-full", "verify-ca")
    return TlsParams(verify, p.sslmode == "verify-full", (p.sslrootcert or "") if verify else "")


async def _raw_socket_async(p: ConnectParams, loop: asyncio.AbstractEventLoop) -> socket.socket:
    if p.is_unix:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            await loop.sock_connect(s, f"{p.host}/.s.PGSQL.{p.port}")
        except BaseException:
            s.close()
            raise
        return s
    infos = await loop.getaddrinfo(p.host, p.port, type=socket.SOCK_STREAM)
    err: BaseException | None = None
    for family, type_, proto, _, addr in infos:
        s = socket.socket(family, type_, proto)
        s.setblocking(False)
        try:
            await loop.sock_connect(s, addr)
        except OSError as e:
            s.close()
            err = e
            continue
        except BaseException:
            s.close()
            raise
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return s
    raise err or OSError(f"no address for {p.host}")


async def open_socket(
    p: ConnectParams, loop: asyncio.AbstractEventLoop
) -> tuple[socket.socket, TlsParams | None]:
    """Connect on the loop and negotiate TLS per sslmode (the SSLRequest); returns the socket
    and, when the server agreed to TLS, how to set it up (the handshake is the channel's)."""
    try:
        async with asyncio.timeout(p.connect_timeout):
            sock = await _raw_socket_async(p, loop)
            if p.is_unix or p.sslmode in ("disable", "allow"):
                return sock, None
            try:
                await loop.sock_sendall(sock, native.ssl_request())
                answer = await loop.sock_recv(sock, 1)
            except BaseException:
                sock.close()
                raise
            if answer == b"S":
                return sock, tls_params(p)
            if p.sslmode in ("require", "verify-ca", "verify-full"):
                sock.close()
                raise PgConnectionError(
                    f"server at {p.host}:{p.port} refused TLS but sslmode={p.sslmode}"
                )
            return sock, None
    except (TimeoutError, OSError) as e:
        raise PgConnectionError(f"cannot connect to {p.host}:{p.port}: {e!r}") from e


async def send_cancel(p: ConnectParams, pid: int, key: int) -> bool:
    """Send a CancelRequest (§55.2.7) on a new connection, over TLS whenever the connection itself
    would use TLS (the secret key is not sent in the clear).

    Returns True once the server has closed the cancel connection (it closes it after signalling
    the backend, so the signal has been sent by then) or if the request never left; False when
    its fate is unknown (no answer within connect_timeout): the signal may still arrive later.
    """
    writer: asyncio.StreamWriter | None = None
    sent = False
    try:
        async with asyncio.timeout(p.connect_timeout):
            if p.is_unix:
                reader, writer = await asyncio.open_unix_connection(f"{p.host}/.s.PGSQL.{p.port}")
            else:
                reader, writer = await asyncio.open_connection(p.host, p.port)
                if p.sslmode not in ("disable", "allow"):
                    writer.write(native.ssl_request())
                    answer = await reader.readexactly(1)
                    if answer == b"S":
                        await writer.start_tls(ssl_context(p), server_hostname=p.host)
                    elif p.sslmode in ("require", "verify-ca", "verify-full"):
                        return True  # the connection would not have been made in the clear
            writer.write(native.cancel_request(pid, key))
            sent = True
            await writer.drain()
            await reader.read()  # EOF: the server has acted on the request
        return True
    except TimeoutError:
        return not sent
    except (OSError, EOFError, asyncio.IncompleteReadError):
        return True  # refused before sending, or closed (abruptly) by the server after reading it
    finally:
        if writer is not None:
            writer.transport.abort()


def send_cancel_blocking(p: ConnectParams, pid: int, key: int) -> bool:
    """send_cancel for blocking code; same TLS rule and return value."""
    try:
        s = connect_blocking(p)
    except PgConnectionError:
        return True  # nothing was sent
    with s:
        try:
            s.settimeout(p.connect_timeout)
            s.sendall(native.cancel_request(pid, key))
        except TimeoutError:
            return False  # perhaps partly sent
        except OSError:
            return True
        try:
            while s.recv(64):
                pass
        except TimeoutError:
            return False
        except OSError:
            pass
    return True
