"""H2Client: an HTTP/2 client on the `h2` package for tests that need to see single events
(interim responses, resets) or to withhold flow-control window."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from typing import Any


class H2Client:
    """A client on the `h2` package with events kept per stream. By default it opens no
    stream window unless told to (RFC 9113 §6.9): the server's response bytes for a stream stay
    queued until WINDOW_UPDATE (`open_window`); `window` sets another initial size."""

    def __init__(self, port: int, window: int = 0, enable_push: bool = True) -> None:
        from h2.config import H2Configuration
        from h2.connection import H2Connection
        from h2.settings import SettingCodes, Settings

        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.conn = H2Connection(H2Configuration(client_side=True, header_encoding="utf-8"))
        # As initial values: these are what initiate_connection() announces.
        self.conn.local_settings = Settings(
            client=True,
            initial_values={
                SettingCodes.INITIAL_WINDOW_SIZE: window,
                SettingCodes.ENABLE_PUSH: int(enable_push),  # RFC 9113 §6.5.2
            },
        )
        self.conn.initiate_connection()
        self.events: list[Any] = []
        self.flush()

    def flush(self) -> None:
        self.sock.sendall(self.conn.data_to_send())

    def get(self, path: str, extra: list[tuple[str, str]] | None = None) -> int:
        sid: int = self.conn.get_next_available_stream_id()
        fields = [(":method", "GET"), (":path", path), (":scheme", "http"), (":authority", "x")]
        self.conn.send_headers(sid, fields + (extra or []), end_stream=True)
        self.flush()
        return sid

    def open_window(self, sid: int, size: int) -> None:
        self.conn.increment_flow_control_window(size, stream_id=sid)
        self.flush()

    def read_until(self, done: Callable[[], bool], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not done():
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"events so far: {self.events}")
            self.sock.settimeout(left)
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError(f"server closed the connection; events: {self.events}")
            self.events.extend(self.conn.receive_data(data))
            self.flush()

    def reset(self, sid: int) -> Any:
        from h2.events import StreamReset

        return next(
            (e for e in self.events if isinstance(e, StreamReset) and e.stream_id == sid), None
        )

    def body(self, sid: int) -> bytes:
        from h2.events import DataReceived

        return b"".join(
            e.data for e in self.events if isinstance(e, DataReceived) and e.stream_id == sid
        )

    def ended(self, sid: int) -> bool:
        from h2.events import StreamEnded

        return any(isinstance(e, StreamEnded) and e.stream_id == sid for e in self.events)
