"""Ratios, the Markdown table, and the issues' targets checked against one run's results.

Rules (docs/performance.md states them too):
- A wrk run with any error (wrk's `Non-2xx or 3xx responses` or a socket error: connect, read,
  write, timeout), or with no request completed, is invalid: it is kept in the JSON, marked in
  the output, and left out of the row's median. A row none of whose runs is valid is `invalid`
  and has no figures; a 1MRC row with errors or inexact totals is `invalid` too.
- A ratio divides two valid rows doing identical work: same request, same pipelining depth,
  same wrk connections and threads (`same_work`), and the same response body (read from each
  server before measuring). Anything else is a bug in rows.py and raises.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

Result = dict[str, Any]  # one row's entry in the results JSON (see run_http.py)


def run_is_valid(run: dict[str, Any]) -> bool:
    """A wrk run counts only if it completed requests and wrk reported no error at all."""
    return run.get("requests", 0) > 0 and run.get("non_2xx", 0) == 0 \
        and run.get("socket_errors", 0) == 0


def work_key(r: Result) -> tuple[Any, ...]:
    """What a row measured, for pairing: request, pipelining depth, connections, threads."""
    return (*r["work"], r["connections"], r["threads"])


def same_body(a: Result, b: Result) -> bool:
    """True if two rows' servers answered with the same body (JSON compared as values)."""
    if a.get("body") is None or b.get("body") is None:
        return a.get("body") == b.get("body")
    try:
        return json.loads(a["body"]) == json.loads(b["body"])
    except ValueError:
        return a["body"] == b["body"]


def add_ratios(results: list[Result]) -> None:
    """Sets vs_fastapi and vs_nginx on every ok row whose baseline is ok and did the same
    work; raises ValueError if a baseline does different work (a pairing bug)."""
    by = {r["key"]: r for r in results}
    for r in results:
        for field, base_key in (("vs_fastapi", r.get("fastapi_base")),
                                ("vs_nginx", r.get("nginx_base"))):
            r[field] = None
            base = by.get(base_key) if base_key else None
            if base is None or r["status"] != "ok" or base["status"] != "ok":
                continue
            if work_key(r) != work_key(base):
                raise ValueError(f"{field}: {r['key']} {work_key(r)} paired with "
                                 f"{base['key']} {work_key(base)}: different work")
            if not same_body(r, base):
                r["note"] = (r.get("note", "") + f" no {field}: {base['key']} answered a "
                             "different body").strip()
                continue
            r[field] = r["rps"] / base["rps"]


def _num(value: float | None, fmt: str, unit: str = "") -> str:
    return "—" if value is None else format(value, fmt) + unit


def markdown_table(results: list[Result]) -> str:
    """Returns the results as a Markdown table (skipped, failed and invalid rows say why)."""
    lines = [
        "| row | server | request | req/s | vs FastAPI (same request) | vs nginx (same request) "
        "| server CPU µs/req | valid runs | errors |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        request, depth = r["work"]
        pipelined = f", {depth} pipelined" if depth > 1 else ""
        head = f"| {r['key']} | {r['label']} | {request}{pipelined} ({r['handler']}) |"
        runs = r.get("runs", [])
        valid = f"{sum(1 for x in runs if x.get('valid'))}/{len(runs)}" if runs else "—"
        if r["status"] != "ok":
            status = r["status"].upper() if r["status"] == "invalid" else r["status"]
            lines.append(f"{head} {status}: {r['note']} | | | | {valid} | "
                         f"{r.get('errors', '')} |")
            continue
        errors = str(r["errors"])
        if r["mode"] == "onemrc":
            errors += ", totals " + ("EXACT" if r["exact"] else "MISMATCH")
        lines.append(
            f"{head} {r['rps']:,.0f} | {_num(r.get('vs_fastapi'), '.2f', 'x')} | "
            f"{_num(r.get('vs_nginx'), '.2f', 'x')} | {_num(r.get('cpu_us_per_req'), '.2f')} | "
            f"{valid} | {errors} |")
    return "\n".join(lines)


@dataclass(frozen=True)
class Target:
    name: str
    kind: Literal["ratio", "rps", "cpu", "cpu_vs", "onemrc"]
    row: str
    base: str | None = None  # the row a ratio or cpu_vs target compares with
    bound: float = 0.0

    def rows(self) -> list[str]:
        return [self.row] + ([self.base] if self.base else [])


TARGETS: list[Target] = [
    Target("FasterAPI sync ≥ 10x FastAPI async (both GET /)", "ratio", "fasterapi-sync",
           "fastapi-async-root", 10),
    Target("FasterAPI sync ≥ 0.9x nginx (both GET /)", "ratio", "fasterapi-sync", "nginx", 0.9),
    Target("FasterAPI sync ≤ 6 µs server CPU/req", "cpu", "fasterapi-sync", bound=6.0),
    Target("FasterAPI async ≥ 8x FastAPI async (both GET /users/42)", "ratio",
           "fasterapi-async", "fastapi-async", 8),
    Target("FasterAPI sync x16 pipelined ≥ 1,000,000 req/s", "rps", "fasterapi-sync-pipe16",
           bound=1e6),
    Target("1MRC on FasterAPI exact at ≥ 100,000 req/s", "onemrc", "1mrc-fasterapi", bound=1e5),
    Target("1MRC on the C++ engine exact at ≥ 150,000 req/s", "onemrc", "1mrc-cpp", bound=1.5e5),
    Target("C++ hello_server ≥ 1.0x nginx (both GET /)", "ratio", "hello_server", "nginx", 1.0),
    Target("C++ hello_server CPU/req ≤ nginx's (both GET /)", "cpu_vs", "hello_server", "nginx"),
    Target("C++ hello_server x16 pipelined ≥ 2,000,000 req/s", "rps", "hello_server-pipe16",
           bound=2e6),
]


def _verdict(t: Target, by: dict[str, Result]) -> tuple[bool, str]:
    row = by[t.row]
    base = by[t.base] if t.base else None
    if base is not None:
        if work_key(row) != work_key(base):
            raise ValueError(f"target {t.name!r} pairs different work")
        if not same_body(row, base):
            return False, f"{t.row} and {t.base} answered different bodies: not comparable"
    if t.kind == "ratio":
        assert base is not None
        ratio = row["rps"] / base["rps"]
        return ratio >= t.bound, f"{ratio:.2f}x"
    if t.kind == "rps":
        return row["rps"] >= t.bound, f"{row['rps']:,.0f} req/s"
    if t.kind in ("cpu", "cpu_vs"):
        limit = base["cpu_us_per_req"] if base is not None else t.bound
        cpu = row["cpu_us_per_req"]
        if cpu is None or limit is None:
            return False, "no CPU figure"
        return cpu <= limit, f"{cpu:.2f} µs vs ≤ {limit:.2f} µs"
    verdict = "EXACT" if row["exact"] else "MISMATCH"
    return row["exact"] and row["rps"] >= t.bound, f"{verdict}, {row['rps']:,.0f} req/s"


def check_targets(results: list[Result]) -> list[dict[str, Any]]:
    """Returns [{target, met, detail}] for every target whose rows were all measured; a target
    with an invalid row is not met ("invalid run")."""
    by = {r["key"]: r for r in results if r["status"] in ("ok", "invalid")}
    out = []
    for t in TARGETS:
        if any(k not in by for k in t.rows()):
            continue
        invalid = [k for k in t.rows() if by[k]["status"] == "invalid"]
        if invalid:
            met, detail = False, f"invalid run ({', '.join(invalid)}: {by[invalid[0]]['note']})"
        else:
            met, detail = _verdict(t, by)
        out.append({"target": t.name, "met": met, "detail": detail})
    return out
