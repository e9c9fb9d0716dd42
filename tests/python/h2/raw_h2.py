"""A bare HTTP/2 client for the attack tests: frames are built with hyperframe and hpack (the
`h2` package's own layers) and sent exactly as written, so a test can send what a polite client
never would (floods, resets, oversized windows, endless CONTINUATION)."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

from hpack import Decoder, Encoder
from hyperframe.frame import (
    ContinuationFrame,
    DataFrame,
    Frame,
    GoAwayFrame,
    HeadersFrame,
    RstStreamFrame,
    SettingsFrame,
    WindowUpdateFrame,
)

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

# RFC 9113 §7 error codes the tests expect.
NO_ERROR, PROTOCOL_ERROR, FLOW_CONTROL_ERROR = 0x0, 0x1, 0x3
REFUSED_STREAM, COMPRESSION_ERROR, ENHANCE_YOUR_CALM = 0x7, 0x9, 0xB


class RawH2:
    def __init__(self, port: int, settings: dict[int, int] | None = None) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.encoder = Encoder()
        self.buf = b""
        self.closed = False
        self.frames: list[Frame] = []
        self.decoder = Decoder()
        self.heads: dict[int, dict[str, str]] = {}  # response fields per stream (decoded in order)
        s = SettingsFrame(0)
        s.settings = dict(settings or {})
        self.sock.sendall(PREFACE + s.serialize())

    def request_block(
        self, path: str, method: str = "GET", extra: list[tuple[str, str]] | None = None
    ) -> bytes:
        fields = [
            (":method", method),
            (":path", path),
            (":scheme", "http"),
            (":authority", "localhost"),
        ]
        return bytes(self.encoder.encode(fields + (extra or [])))

    def headers(
        self,
        stream: int,
        path: str,
        *,
        end_stream: bool = True,
        method: str = "GET",
        extra: list[tuple[str, str]] | None = None,
    ) -> None:
        f = HeadersFrame(stream)
        f.data = self.request_block(path, method, extra)
        f.flags.add("END_HEADERS")
        if end_stream:
            f.flags.add("END_STREAM")
        self.send(f)

    def send(self, *frames: Frame) -> None:
        self.sock.sendall(b"".join(f.serialize() for f in frames))

    def send_bytes(self, data: bytes) -> None:
        self.sock.sendall(data)

    def read_until(self, done: Callable[[list[Frame]], bool], timeout: float = 10) -> list[Frame]:
        """Reads frames (acknowledging SETTINGS) until done(frames) or the server closes."""
        deadline = time.monotonic() + timeout
        while not done(self.frames) and not self.closed:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"frames so far: {[type(f).__name__ for f in self.frames]}")
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                self.closed = True
                break
            self.buf += chunk
            while len(self.buf) >= 9:
                frame, length = Frame.parse_frame_header(memoryview(self.buf[:9]))
                if len(self.buf) < 9 + length:
                    break
                frame.parse_body(memoryview(self.buf[9 : 9 + length]))
                self.buf = self.buf[9 + length :]
                self.frames.append(frame)
                if isinstance(frame, HeadersFrame):
                    fields = self.decoder.decode(bytes(frame.data))
                    self.heads.setdefault(frame.stream_id, {}).update(
                        {str(k): str(v) for k, v in fields}
                    )
                if isinstance(frame, SettingsFrame) and "ACK" not in frame.flags:
                    try:
                        self.send(SettingsFrame(0, flags=["ACK"]))
                    except OSError:
                        pass  # the server already closed its side
        return self.frames

    def goaway(self) -> GoAwayFrame | None:
        return next((f for f in self.frames if isinstance(f, GoAwayFrame)), None)

    def body(self, stream: int) -> bytes:
        return b"".join(
            f.data for f in self.frames if isinstance(f, DataFrame) and f.stream_id == stream
        )

    def ended(self, stream: int) -> bool:
        return any(
            f.stream_id == stream and "END_STREAM" in f.flags
            for f in self.frames
            if isinstance(f, (DataFrame, HeadersFrame))
        ) or any(isinstance(f, RstStreamFrame) and f.stream_id == stream for f in self.frames)

    def status(self, stream: int) -> str | None:
        return self.heads.get(stream, {}).get(":status")

    def close(self) -> None:
        self.sock.close()


__all__ = [
    "ContinuationFrame",
    "DataFrame",
    "HeadersFrame",
    "RawH2",
    "RstStreamFrame",
    "WindowUpdateFrame",
]
