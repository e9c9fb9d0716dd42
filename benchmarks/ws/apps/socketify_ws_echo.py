"""socketify peer for the WebSocket echo benchmark (uWebSockets with a Python message
handler): every message is sent back with its opcode.

Run: python3 benchmarks/ws/apps/socketify_ws_echo.py --port 8000
"""

from __future__ import annotations

import argparse
from typing import Any

from socketify import App, AppListenOptions, CompressOptions, OpCode


def message(ws: Any, data: Any, opcode: OpCode) -> None:
    ws.send(data, opcode)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    app = App()
    app.ws(
        "/ws",
        {
            "compression": CompressOptions.DISABLED,
            "max_payload_length": 16 * 1024 * 1024,
            "idle_timeout": 120,
            "message": message,
        },
    )
    app.get("/", lambda res, req: res.end("ws echo on /ws"))
    app.listen(AppListenOptions(port=args.port, host=args.host))
    app.run()


if __name__ == "__main__":
    main()
