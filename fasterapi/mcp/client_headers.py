"""SEP-2243 on the client side: the `x-mcp-header` annotations of a tool's inputSchema.

2026-07-28 basic/transports/streamable-http.mdx "Custom Headers from Tool Parameters" and
server/tools.mdx "x-mcp-header": a server may mark tool parameters whose values the client
mirrors into `Mcp-Param-{Name}` HTTP headers on `tools/call`, so that load balancers and
gateways can route without reading the body. The client MUST reject (leave out of the
`tools/list` result) a tool whose annotations break the rules, and MUST mirror the annotated
arguments of the tools it keeps.

`invalid_reason(schema)` checks a tool's annotations, `header_map(schema)` lists them, and
`param_headers(map, arguments)` renders a call's headers as (name, text) pairs; the C++ HTTP
upstream (src/mcp/client/http_upstream.cpp) writes them, Base64-wrapping a value that is not
plain visible ASCII ("Value Encoding").
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

X_MCP_HEADER = "x-mcp-header"
# RFC 9110 §5.6.2: token = 1*tchar. Rules out the empty name, spaces, ':', control characters
# and anything outside ASCII.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# "MUST only be applied to parameters with primitive types (integer, string, boolean)".
_PRIMITIVE = frozenset({"string", "integer", "boolean"})
# "Integer values MUST be within the safe range" (IEEE 754 doubles: ±(2**53 - 1)).
MAX_SAFE_INTEGER = 2**53 - 1

# JSON Schema 2020-12 keywords whose values are subschemas. Only `properties` keeps a position
# "statically reachable" from the root; every other one (array, composition, conditional
# keywords) leaves the pure-properties chain. `$ref` is never followed (SEP-2106: no
# dereferencing), and data keywords (`default`, `const`, `enum`, `examples`) are not schemas.
_ONE = frozenset(
    {
        "items",
        "contains",
        "additionalProperties",
        "unevaluatedItems",
        "unevaluatedProperties",
        "propertyNames",
        "not",
        "if",
        "then",
        "else",
        "contentSchema",
    }
)
_LIST = frozenset({"allOf", "anyOf", "oneOf", "prefixItems"})
_MAP = frozenset({"patternProperties", "dependentSchemas", "$defs", "definitions"})

Path = tuple[str, ...]


def _positions(schema: Any) -> Iterator[tuple[Path | None, dict[str, Any]]]:
    """(path, subschema) for every schema position under `schema`: `path` is the chain of
    `properties` keys from the root, None once another keyword was crossed. Iterative, so a
    deeply nested schema cannot exhaust the stack."""
    stack: list[tuple[Path | None, Any]] = [((), schema)]
    while stack:
        path, node = stack.pop()
        if not isinstance(node, dict):
            continue
        yield path, node
        for key, value in node.items():
            if key == "properties" and isinstance(value, dict):
                for name, sub in value.items():
                    stack.append((None if path is None else (*path, name), sub))
            elif key in _ONE:
                stack.append((None, value))
            elif key in _LIST and isinstance(value, list):
                stack.extend((None, sub) for sub in value)
            elif key in _MAP and isinstance(value, dict):
                stack.extend((None, sub) for sub in value.values())


def invalid_reason(schema: Any) -> str | None:
    """Why a tool's inputSchema carries an invalid `x-mcp-header` annotation, or None when all
    of them (perhaps none) follow the rules: a non-empty RFC 9110 token, case-insensitively
    unique in the schema, on a string, integer or boolean property reachable from the root
    through `properties` alone."""
    seen: dict[str, str] = {}
    for path, node in _positions(schema):
        if X_MCP_HEADER not in node:
            continue
        if not path:  # None: under items/allOf/if/...; (): on the root itself
            return f"{X_MCP_HEADER} on a schema not reachable through `properties` alone"
        where = ".".join(path)
        header = node[X_MCP_HEADER]
        if not isinstance(header, str):
            return f"property {where!r}: {X_MCP_HEADER} is a {type(header).__name__}, not a string"
        if not _TOKEN.fullmatch(header):
            return f"property {where!r}: {X_MCP_HEADER} {header!r} is not an HTTP field-name token"
        kind = node.get("type")
        if not isinstance(kind, str) or kind not in _PRIMITIVE:
            return (
                f"property {where!r}: {X_MCP_HEADER} needs type string, integer or boolean, "
                f"not {kind!r}"
            )
        first = seen.setdefault(header.lower(), where)
        if first != where:
            return f"{X_MCP_HEADER} {header!r} on {where!r} repeats the one on {first!r}"
    return None


def header_map(schema: Any) -> list[tuple[Path, str]]:
    """(property path, header name) of each annotated property of a schema that
    `invalid_reason` accepted."""
    return [
        (path, node[X_MCP_HEADER])
        for path, node in _positions(schema)
        if path and isinstance(node.get(X_MCP_HEADER), str)
    ]


def _render(value: Any, path: Path) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # 42.0 for an integer parameter
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise ValueError(
                f"argument {'.'.join(path)!r}: {value} is outside the integer range an "
                "Mcp-Param header may carry (±(2**53 - 1))"
            )
        return str(value)
    if isinstance(value, str):
        return value
    return None  # not a primitive: nothing to mirror (the server will say what it wanted)


def param_headers(
    hmap: list[tuple[Path, str]], arguments: Mapping[str, Any]
) -> list[tuple[str, str]]:
    """The (header name, value text) pairs a tools/call with `arguments` sends as
    `Mcp-Param-{name}`: a string as is, an integer in decimal, a boolean as true/false. An
    argument that is absent or null sends no header ("Client MUST omit the header")."""
    out: list[tuple[str, str]] = []
    for path, header in hmap:
        node: Any = arguments
        for key in path:
            node = node.get(key) if isinstance(node, Mapping) else None
        if node is None:
            continue
        text = _render(node, path)
        if text is not None:
            out.append((header, text))
    return out
