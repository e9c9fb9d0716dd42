"""One PNG per TechEmpower test type from a run.py result (tfb.json): requests per second per
server, and CPU µs per request (the server's, with PostgreSQL's stacked on it where the type
queries it). With several --connections levels in the run, each panel is a line per server
over the concurrency levels instead of one bar per server.

    python3 benchmarks/techempower/plot.py benchmarks/results/tfb.json --out DIR
    python3 benchmarks/techempower/run.py ... --plots DIR       # the same, after the run

matplotlib (in the dev extras) is needed only here: run.py imports this module only when
--plots is given."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

TYPES = ("json", "plaintext", "db", "queries", "fortunes", "updates", "cached-queries")
OURS = ("fasterapi", "fasterapi-cpp")
_OURS_COLOR, _PEER_COLOR, _PG_COLOR = "#d9480f", "#4c6ef5", "#adb5bd"


def _timed(rows: Sequence[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [r for r in rows if r["type"] == kind and r.get("rps") and not r.get("failures")]


def _untimed(rows: Sequence[dict[str, Any]], kind: str) -> list[str]:
    """'server: reason' for every server that has no figure for this type."""
    out = []
    for r in rows:
        if r["type"] == kind and (r.get("skipped") or r.get("failures")):
            why = r.get("skipped") or f"INVALID: {r['failures'][0]}"
            out.append(f"{r['server']}: {why[:70]}")
    return sorted(set(out))


def _subtitle(kind: str, meta: dict[str, Any]) -> str:
    args = meta.get("args", {})
    what = {"plaintext": "pipelined x16", "queries": f"?queries={args.get('queries', '')}",
            "updates": f"?queries={args.get('queries', '')}",
            "cached-queries": f"?count={args.get('cached_count', '')}"}.get(kind, "")
    bits = [what, f"{args.get('duration', '?')} s per run" if args else "",
            f"started {meta.get('started', '?')}"]
    load = meta.get("loadavg")
    if load:
        bits.append(f"load {load[0]:.1f} (provisional unless the machine was quiet)")
    return ", ".join(b for b in bits if b)


def _bars(ax_rps: Any, ax_cpu: Any, timed: list[dict[str, Any]]) -> None:
    timed = sorted(timed, key=lambda r: r["rps"])
    names = [r["server"] for r in timed]
    colors = [_OURS_COLOR if n in OURS else _PEER_COLOR for n in names]
    y = range(len(timed))
    ax_rps.barh(y, [r["rps"] for r in timed], color=colors)
    ax_rps.set_yticks(list(y), names)
    top = max(r["rps"] for r in timed)
    for i, r in enumerate(timed):
        ax_rps.text(r["rps"] + top * 0.01, i, f"{r['rps']:,.0f}", va="center", fontsize=8)
    ax_rps.set_xlim(0, top * 1.25)
    ax_rps.set_xlabel("requests per second (higher is better)")

    server = [r["server_cpu_us"] for r in timed]
    pg = [r.get("pg_cpu_us") or 0.0 for r in timed]
    from matplotlib.patches import Patch

    ax_cpu.barh(y, server, color=colors)
    legend = [Patch(color=_OURS_COLOR, label="FasterAPI (server)"),
              Patch(color=_PEER_COLOR, label="peer (server)")]
    if any(pg):
        ax_cpu.barh(y, pg, left=server, color=_PG_COLOR)
        legend.append(Patch(color=_PG_COLOR, label="PostgreSQL"))
    # upper right: the top bar is the fastest server, usually the cheapest, so it is short
    ax_cpu.legend(handles=legend, loc="upper right", fontsize=8)
    ax_cpu.set_yticks(list(y), names)
    top = max(s + p for s, p in zip(server, pg, strict=True))
    for i, (s, p) in enumerate(zip(server, pg, strict=True)):
        label = f"{s:.1f}" + (f" + {p:.1f}" if p else "")
        ax_cpu.text(s + p + top * 0.01, i, label, va="center", fontsize=8)
    ax_cpu.set_xlim(0, top * 1.35)
    ax_cpu.set_xlabel("CPU µs per request (lower is better)")


def _lines(ax_rps: Any, ax_cpu: Any, timed: list[dict[str, Any]]) -> None:
    from matplotlib.ticker import FuncFormatter

    by_server: dict[str, list[dict[str, Any]]] = {}
    for r in timed:
        by_server.setdefault(r["server"], []).append(r)
    for name, runs in sorted(by_server.items()):
        runs.sort(key=lambda r: r["connections"])
        conns = [r["connections"] for r in runs]
        style = {"linewidth": 2.5} if name in OURS else {"linewidth": 1.2}
        ax_rps.plot(conns, [r["rps"] for r in runs], marker="o", label=name, **style)
        ax_cpu.plot(conns, [r["server_cpu_us"] for r in runs], marker="o", label=name, **style)
    levels = sorted({r["connections"] for r in timed})
    for ax in (ax_rps, ax_cpu):
        ax.set_xscale("log", base=2)
        ax.set_xticks(levels, [str(c) for c in levels])
        ax.minorticks_off()
        ax.set_xlabel("concurrent connections")
        ax.grid(alpha=0.3)
    ax_rps.set_ylim(bottom=0)
    ax_rps.set_ylabel("requests per second (higher is better)")
    ax_cpu.set_yscale("log")  # peers differ from us by 10x and more
    plain = FuncFormatter(lambda v, _: f"{v:g}")
    ax_cpu.yaxis.set_major_formatter(plain)
    ax_cpu.yaxis.set_minor_formatter(plain)
    ax_cpu.set_ylabel("server CPU µs per request (log; lower is better)")
    ax_rps.legend(fontsize=8)


def plot_type(kind: str, rows: Sequence[dict[str, Any]], meta: dict[str, Any], path: Path) -> bool:
    """Writes the PNG of one type; False (nothing written) when no server has a figure."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    timed = _timed(rows, kind)
    if not timed:
        return False
    levels = {r.get("connections") for r in timed}
    untimed = _untimed(rows, kind)
    fig, (ax_rps, ax_cpu) = plt.subplots(1, 2, figsize=(13, 1.6 + 0.45 * max(len(timed), 4)))
    if len(levels) > 1:
        _lines(ax_rps, ax_cpu, timed)
        conns = ""
    else:
        _bars(ax_rps, ax_cpu, timed)
        conns = f", {levels.pop()} connections"
    fig.suptitle(f"TechEmpower {kind}{conns}", fontweight="bold")
    ax_rps.set_title(_subtitle(kind, meta), fontsize=8, loc="left")
    if untimed:
        fig.text(0.01, 0.005, "no figure: " + "; ".join(untimed), fontsize=7, va="bottom")
    fig.tight_layout(rect=(0, 0.04 if untimed else 0, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def write_plots(result: dict[str, Any], out_dir: Path) -> list[Path]:
    """One PNG per type with figures in `result` (run.py's JSON), named tfb-<type>.png."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for kind in TYPES:
        path = out_dir / f"tfb-{kind}.png"
        if plot_type(kind, result["rows"], result, path):
            written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("result", help="run.py's JSON output (e.g. benchmarks/results/tfb.json)")
    p.add_argument("--out", default=None, help="directory for the PNGs (default: beside it)")
    args = p.parse_args(argv)
    src = Path(args.result)
    for path in write_plots(json.loads(src.read_text()), Path(args.out or src.parent)):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
