"""Helpers for MCP tests: paths of the example servers, a bounded runner for coroutines."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
SEED_SERVER = ROOT / "examples" / "mcp" / "seed_server.py"
TOOLS_SERVER = ROOT / "examples" / "mcp" / "tools_server.py"


def run(coro: Coroutine[Any, Any, Any], timeout: float = 30.0) -> Any:
    """Runs coro to completion, failing the test after `timeout` seconds."""
    return asyncio.run(asyncio.wait_for(coro, timeout))
