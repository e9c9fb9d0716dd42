"""Ratios, the Markdown table, and the issues' targets checked against one run's results."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Result = dict[str, Any]  # one row's entry in the results JSON (see run_http.py)


def add_ratios(results: list[Result]) -> None:
    """Sets vs_fastapi and vs_nginx on every measured row whose baseline was measured."""
    rps = {r["key"]: r["rps"] for r in results if r.get("rps")}
    for r in results:
        if not r.get("rps"):
            continue
        for field, base in (("vs_fastapi", r["fastapi_base"]), ("vs_nginx", r["nginx_base"])):
            r[field] = r["rps"] / rps[base] if base in rps else None


def _num(value: float | None, fmt: str, unit: str = "") -> str:
    return "—" if value is None else format(value, fmt) + unit


def markdown_table(results: list[Result]) -> str:
    """Returns the results as a Markdown table (skipped and failed rows say why)."""
    lines = [
        "| row | server | route | req/s | vs FastAPI | vs nginx | server CPU µs/req | errors |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        route = "POST /event, GET /stats" if r["mode"] == "onemrc" else "GET " + r["path"]
        head = f"| {r['key']} | {r['label']} | {route} ({r['handler']}) |"
        if r["status"] != "ok":
            lines.append(f"{head} {r['status']}: {r['note']} | | | | |")
            continue
        errors = str(r["errors"])
        if r["mode"] == "onemrc":
            errors += ", totals " + ("EXACT" if r["exact"] else "MISMATCH")
        lines.append(
            f"{head} {r['rps']:,.0f} | {_num(r.get('vs_fastapi'), '.2f', 'x')} | "
            f"{_num(r.get('vs_nginx'), '.2f', 'x')} | {_num(r.get('cpu_us_per_req'), '.2f')} | "
            f"{errors} |")
    return "\n".join(lines)


Check = Callable[[dict[str, Result]], tuple[bool, str] | None]


def _ratio(row: str, base: str, at_least: float) -> Check:
    def check(by: dict[str, Result]) -> tuple[bool, str] | None:
        if row not in by or base not in by:
            return None
        ratio = by[row]["rps"] / by[base]["rps"]
        return ratio >= at_least, f"{ratio:.2f}x"
    return check


def _rps(row: str, at_least: float) -> Check:
    def check(by: dict[str, Result]) -> tuple[bool, str] | None:
        return (by[row]["rps"] >= at_least, f"{by[row]['rps']:,.0f} req/s") if row in by else None
    return check


def _cpu(row: str, at_most: float | str) -> Check:
    def check(by: dict[str, Result]) -> tuple[bool, str] | None:
        if row not in by or by[row].get("cpu_us_per_req") is None:
            return None
        limit = at_most if isinstance(at_most, float) else (
            by[at_most]["cpu_us_per_req"] if at_most in by else None)
        if limit is None:
            return None
        cpu = by[row]["cpu_us_per_req"]
        return cpu <= limit, f"{cpu:.2f} µs vs ≤ {limit:.2f} µs"
    return check


def _onemrc(row: str, at_least: float) -> Check:
    def check(by: dict[str, Result]) -> tuple[bool, str] | None:
        if row not in by:
            return None
        r = by[row]
        verdict = "EXACT" if r["exact"] else "MISMATCH"
        return r["exact"] and r["rps"] >= at_least, f"{verdict}, {r['rps']:,.0f} req/s"
    return check


TARGETS: list[tuple[str, Check]] = [
    ("FasterAPI sync ≥ 10x FastAPI async", _ratio("fasterapi-sync", "fastapi-async", 10)),
    ("FasterAPI sync ≥ 0.9x nginx", _ratio("fasterapi-sync", "nginx", 0.9)),
    ("FasterAPI sync ≤ 6 µs server CPU/req", _cpu("fasterapi-sync", 6.0)),
    ("FasterAPI async ≥ 8x FastAPI async", _ratio("fasterapi-async", "fastapi-async", 8)),
    ("FasterAPI sync x16 pipelined ≥ 1,000,000 req/s", _rps("fasterapi-sync-pipe16", 1e6)),
    ("1MRC on FasterAPI exact at ≥ 100,000 req/s", _onemrc("1mrc-fasterapi", 1e5)),
    ("C++ hello_server ≥ 1.0x nginx", _ratio("hello_server", "nginx", 1.0)),
    ("C++ hello_server CPU/req ≤ nginx's", _cpu("hello_server", "nginx")),
    ("C++ hello_server x16 pipelined ≥ 2,000,000 req/s", _rps("hello_server-pipe16", 2e6)),
]


def check_targets(results: list[Result]) -> list[dict[str, Any]]:
    """Returns [{target, met, detail}] for every target whose rows were measured."""
    by = {r["key"]: r for r in results if r["status"] == "ok"}
    out = []
    for name, check in TARGETS:
        verdict = check(by)
        if verdict is not None:
            out.append({"target": name, "met": verdict[0], "detail": verdict[1]})
    return out
