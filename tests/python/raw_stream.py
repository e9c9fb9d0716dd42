"""Raw-socket HTTP/1.1 reading for tests that must see chunks as they arrive (per-flush
compression, event streams) rather than a client's buffered view."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator


class RawResponse:
    """One response read from `sock`: status, lower-cased headers, body chunks on demand."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buf = b""
        head = self._until(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        self.status = int(lines[0].split()[1])
        self.headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            key = name.strip().lower()
            self.headers[key] = (
                self.headers[key] + ", " if key in self.headers else ""
            ) + value.strip()

    def _fill(self) -> None:
        data = self.sock.recv(65536)
        if not data:
            raise EOFError("connection closed")
        self.buf += data

    def _until(self, sep: bytes) -> bytes:
        while sep not in self.buf:
            self._fill()
        out, _, self.buf = self.buf.partition(sep)
        return out

    def chunks(self) -> Iterator[bytes]:
        """The chunked body's chunks, each as soon as it has arrived whole."""
        while True:
            size = int(self._until(b"\r\n").split(b";")[0], 16)
            if size == 0:
                self._until(b"\r\n")
                return
            while len(self.buf) < size + 2:
                self._fill()
            chunk, self.buf = self.buf[:size], self.buf[size + 2 :]
            yield chunk


def open_stream(port: int, path: str, headers: dict[str, str], timeout: float = 10) -> RawResponse:
    from conftest import raw_socket

    sock = raw_socket(port, timeout)  # over TLS when `port` is a TestClient serving TLS
    extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: t\r\n{extra}\r\n".encode())
    return RawResponse(sock)


def wait_for(predicate: object, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(predicate) and predicate():
            return True
        time.sleep(0.02)
    return False
