"""Every ```python example in docs/mcp/README.md runs: servers are started and checked with the
official SDK client (stdio, or Streamable HTTP on a free port); client examples are run as
scripts from the repository root."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("mcp")

from mcp_helpers import ROOT, HttpServerProcess, run

from mcp import Client, StdioServerParameters

pytestmark = pytest.mark.timeout(60)

DOC = ROOT / "docs" / "mcp" / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)


def test_the_guide_has_examples() -> None:
    assert len(BLOCKS) >= 5


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_example(index: int, tmp_path: Path) -> None:
    code = BLOCKS[index]
    script = tmp_path / f"example_{index}.py"
    if 'transport="stdio"' in code:
        script.write_text(code)
        run(_check_stdio(script))
    elif 'transport="http"' in code or "app.mount(" in code:
        script.write_text(code.replace("port=8000", "port=int(__import__('sys').argv[2])"))
        proc = HttpServerProcess(script)
        try:
            run(_check_server(Client(proc.url, mode="legacy")))
        finally:
            proc.close()
    else:
        script.write_text(code)
        done = subprocess.run(
            [sys.executable, str(script)], cwd=ROOT, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr


CALLS = [
    ("calculate", {"operation": "add", "a": 2, "b": 3},
     lambda r: r.structured_content == {"result": 5.0} or pytest.fail(str(r))),
    ("greet", {}, lambda r: r.content[0].text == "Hello, world!" or pytest.fail(str(r))),
    ("divide", {"a": 1, "b": 0}, lambda r: r.is_error or pytest.fail(str(r))),
    ("pixel", {}, lambda r: r.content[0].type == "image" or pytest.fail(str(r))),
    ("count", {"n": 2}, lambda r: r.content[0].text == "counted to 2" or pytest.fail(str(r))),
    ("midpoint", {"p": {"x": 0, "y": 0}, "q": {"x": 2, "y": 2}},
     lambda r: r.structured_content == {"x": 1.0, "y": 1.0} or pytest.fail(str(r))),
    ("add", {"a": 1, "b": 2},
     lambda r: r.structured_content == {"result": 3} or pytest.fail(str(r))),
]


async def _check_stdio(script: Path) -> None:
    params = StdioServerParameters(command=sys.executable, args=[str(script)])
    await _check_server(Client(params, mode="legacy"))


async def _check_server(client: Client) -> None:
    """The example initializes and every listed tool, resource and prompt is reachable."""
    async with client:
        caps = client.server_capabilities
        assert caps.tools is not None
        names = set()
        for tool in (await client.list_tools()).tools:
            assert tool.input_schema["type"] == "object"
            names.add(tool.name)
        for name, args, check in CALLS:
            if name in names:
                check(await client.call_tool(name, args))
        for resource in (await client.list_resources()).resources:
            assert (await client.read_resource(str(resource.uri))).contents
        for template in (await client.list_resource_templates()).resource_templates:
            uri = re.sub(r"{\w+}", "7", template.uri_template)
            assert (await client.read_resource(uri)).contents
        for prompt in (await client.list_prompts()).prompts:
            args = {a.name: "x" for a in prompt.arguments or () if a.required}
            assert (await client.get_prompt(prompt.name, args)).messages
