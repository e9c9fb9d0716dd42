"""Bad input over stdio: each gets the spec's error, never a crash or a hang, and the server
keeps serving (basic/index.mdx error codes; basic/utilities/cancellation.mdx)."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

import pytest
from mcp_helpers import TOOLS_SERVER, run

pytestmark = pytest.mark.timeout(60)


class StdioPeer:
    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc

    @classmethod
    async def start(cls) -> StdioPeer:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            str(TOOLS_SERVER),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
            limit=16 * 1024 * 1024,
        )
        return cls(proc)

    async def send_raw(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)
        await self.proc.stdin.drain()

    async def send(self, message: Any) -> None:
        await self.send_raw(json.dumps(message).encode() + b"\n")

    async def recv(self, timeout: float = 10) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = await asyncio.wait_for(self.proc.stdout.readline(), timeout)
        assert line.endswith(b"\n"), line
        return json.loads(line)  # type: ignore[no-any-return]

    async def close(self) -> int:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        return await asyncio.wait_for(self.proc.wait(), 10)


def request(id_: Any, method: str, params: Any = None) -> dict[str, Any]:
    msg: dict[str, Any] = {"jsonrpc": "2.0", "id": id_, "method": method}
    if params is not None:
        msg["params"] = params
    return msg


def test_protocol_errors_and_survival() -> None:
    async def main() -> None:
        peer = await StdioPeer.start()
        await peer.send(request(1, "initialize", {"protocolVersion": "2025-11-25",
                                                  "capabilities": {},
                                                  "clientInfo": {"name": "t", "version": "1"}}))
        assert (await peer.recv())["result"]["protocolVersion"] == "2025-11-25"

        await peer.send_raw(b'{"jsonrpc": "2.0", "id": 2, "method": \n')
        r = await peer.recv()
        assert r["id"] is None and r["error"]["code"] == -32700

        await peer.send_raw(b"\xff\xfe not utf-8\n")
        assert (await peer.recv())["error"]["code"] == -32700

        await peer.send(request(3, "tools/call", [1, 2]))
        r = await peer.recv()
        assert r["id"] == 3 and r["error"]["code"] == -32602

        await peer.send(request(None, "ping"))
        assert (await peer.recv())["error"]["code"] == -32600

        await peer.send({"jsonrpc": "1.0", "id": 4, "method": "ping"})
        assert (await peer.recv())["error"]["code"] == -32600

        await peer.send([request(5, "ping")])  # batches were removed in 2025-11-25
        r = await peer.recv()
        assert r["id"] is None and r["error"]["code"] == -32600

        await peer.send(request(6, "no/such/method"))
        r = await peer.recv()
        assert r["id"] == 6 and r["error"]["code"] == -32601

        await peer.send(request(7, "tools/call", {"name": "calculate", "arguments": "x"}))
        assert (await peer.recv())["error"]["code"] == -32602

        await peer.send(request(8, "tools/call", {"name": "crash", "arguments": {}}))
        r = await peer.recv()
        assert r["result"]["isError"] is True

        await peer.send(request(9, "tools/call", {"name": "calculate",
                                                  "arguments": {"operation": "add", "a": 1}}))
        r = await peer.recv()
        assert r["result"]["isError"] is True and "b" in r["result"]["content"][0]["text"]

        # 5 MiB on one line: refused, and the next message is served.
        await peer.send_raw(b'{"jsonrpc":"2.0","id":10,"method":"ping","params":{"x":"'
                            + b"a" * (5 * 1024 * 1024) + b'"}}\n')
        r = await peer.recv()
        assert r["error"]["code"] == -32600 and "too large" in r["error"]["message"]

        await peer.send(request("last", "ping"))
        assert (await peer.recv()) == {"jsonrpc": "2.0", "id": "last", "result": {}}
        assert await peer.close() == 0

    run(main())


def test_hanging_tool_is_cancelled() -> None:
    async def main() -> None:
        peer = await StdioPeer.start()
        await peer.send(request(1, "tools/call", {"name": "hang", "arguments": {}}))
        await peer.send({"jsonrpc": "2.0", "method": "notifications/cancelled",
                         "params": {"requestId": 1, "reason": "user gave up"}})
        await peer.send(request(2, "ping"))
        assert (await peer.recv())["id"] == 2
        with pytest.raises(asyncio.TimeoutError):  # no response for the cancelled request
            await peer.recv(timeout=0.5)
        # A hanging tool does not keep the server alive after EOF either.
        await peer.send(request(3, "tools/call", {"name": "hang", "arguments": {}}))
        assert await peer.close() == 0

    run(main())
