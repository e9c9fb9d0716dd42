"""The 1MRC client against a tiny in-test server: EXACT when the totals match, else MISMATCH."""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness import onemrc, procs

pytestmark = pytest.mark.skipif(shutil.which("g++") is None, reason="needs g++")


class TotalsServer:
    """HTTP/1.1 keep-alive server with the 1MRC routes; /stats is sent chunked."""

    def __init__(self, skew: int) -> None:
        self.skew = skew  # added to totalRequests, to provoke a MISMATCH
        self.count, self.total, self.users = 0, 0.0, set[str]()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while head := await reader.readuntil(b"\r\n\r\n"):
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                body = await reader.readexactly(length)
                if head.startswith(b"POST /event"):
                    event = json.loads(body)
                    self.count += 1
                    self.total += event["value"]
                    self.users.add(event["userId"])
                    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
                else:
                    stats = json.dumps({"totalRequests": self.count + self.skew,
                                        "uniqueUsers": len(self.users), "sum": self.total})
                    chunk = stats.encode()
                    writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                 + f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


def _serve(skew: int) -> Iterator[int]:
    """Yields the port of a TotalsServer running on a loop in a background thread."""
    port = procs.free_port()
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    srv = asyncio.run_coroutine_threadsafe(
        asyncio.start_server(TotalsServer(skew).handle, "127.0.0.1", port, backlog=512),
        loop).result(10)
    try:
        yield port
    finally:
        asyncio.run_coroutine_threadsafe(_shutdown(srv), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


async def _shutdown(srv: asyncio.Server) -> None:
    srv.close()
    handlers = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    for task in handlers:
        task.cancel()
    await asyncio.gather(*handlers, return_exceptions=True)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return onemrc.build_client(tmp_path_factory.mktemp("build"))


@pytest.mark.parametrize(("skew", "exact"), [(0, True), (1, False)])
def test_client_checks_totals(client: Path, skew: int, exact: bool) -> None:
    for port in _serve(skew):
        res = onemrc.run_client(client, port, requests=3000, connections=50, core="0")
        assert (res.responses, res.errors, res.exact) == (3000, 0, exact)
        assert ("EXACT" if exact else "MISMATCH") in res.output
