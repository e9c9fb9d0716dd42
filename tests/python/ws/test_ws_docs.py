"""Every ```python example in docs/websockets.md runs: each defines `app`, which is served and
driven with the `websockets` client as the text around it says."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from conftest import ROOT, require_module
from ws_helpers import connect, serve

require_module("websockets")

DOC = ROOT / "docs" / "websockets.md"
BLOCKS = {
    m.group(1): m.group(0)
    for m in re.finditer(r"# example: (\w+)\n.*?(?=```)", DOC.read_text(), re.S)
}


def load(name: str) -> dict[str, Any]:
    namespace: dict[str, Any] = {"__name__": f"docs_example_{name}"}
    exec(compile(BLOCKS[name], f"{DOC}:{name}", "exec"), namespace)
    return namespace


def check_echo(ns: dict[str, Any]) -> None:
    with serve(ns["app"]) as client, connect(client, "/ws") as ws:
        ws.send("hi")
        assert ws.recv() == "you said: hi"


def check_params(ns: dict[str, Any]) -> None:
    from websockets.exceptions import InvalidStatus

    with serve(ns["app"]) as client:
        with connect(client, "/items/7/ws?token=t1&q=3") as ws:
            ws.send("x")
            assert json.loads(ws.recv()) == {"item_id": 7, "q": 3, "token": "t1", "text": "x"}
        with connect(client, "/items/8/ws", additional_headers={"Cookie": "session=s"}) as ws:
            ws.send("y")
            assert json.loads(ws.recv())["token"] == "s"
        for path in ["/items/7/ws", "/items/seven/ws?token=t"]:
            with pytest.raises(InvalidStatus) as info:
                connect(client, path)
            assert info.value.response.status_code == 403


def check_subprotocol(ns: dict[str, Any]) -> None:
    from websockets.exceptions import InvalidStatus

    with serve(ns["app"]) as client:
        with connect(client, "/graphql", subprotocols=["graphql-transport-ws"]) as ws:
            assert ws.subprotocol == "graphql-transport-ws"
            assert ws.response.headers["x-server"] == "fasterapi"
            assert json.loads(ws.recv()) == {"type": "connection_ack"}
        with pytest.raises(InvalidStatus) as info:
            connect(client, "/graphql")
        assert info.value.response.status_code == 403


def check_chat(ns: dict[str, Any]) -> None:
    with serve(ns["app"]) as client:
        with connect(client, "/chat/a?name=ann") as ann:
            assert ann.recv() == "ann joined"
            with connect(client, "/chat/a?name=bob") as bob:
                assert bob.recv() == "bob joined"
                assert ann.recv() == "bob joined"
                bob.send("hello")
                assert ann.recv() == "bob: hello"
                assert bob.recv() == "bob: hello"
            assert ann.recv() == "bob left"


def check_testing(ns: dict[str, Any]) -> None:
    ns["test_hello"]()  # the block already ran it once; it is a real test


CHECKS: dict[str, Callable[[dict[str, Any]], None]] = {
    "echo": check_echo,
    "params": check_params,
    "subprotocol": check_subprotocol,
    "chat": check_chat,
    "testing": check_testing,
}


def test_every_example_has_a_check() -> None:
    assert set(BLOCKS) == set(CHECKS)
    assert DOC.read_text().count("```python") == len(BLOCKS)


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_example(name: str) -> None:
    CHECKS[name](load(name))
