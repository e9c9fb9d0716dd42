#!/usr/bin/env python3
"""Draws the e2e results JSON (from run_http.py) as a PNG: req/s and server CPU per request.

    python3 benchmarks/e2e/plot.py benchmarks/results/e2e_python.json --out docs/e2e_http.png
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

# One colour per family, so FasterAPI stands apart from its peers and from the ceilings.
COLOURS = {"fasterapi": "#d62728", "hello_server": "#ff7f0e", "nginx": "#7f7f7f"}
PEER_COLOUR = "#1f77b4"


def _measured(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in results if r.get("status") == "ok" and r.get("rps")]


def plot(json_path: Path, png_path: Path) -> None:
    """Writes png_path from the results in json_path; raises ImportError without matplotlib."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = json.loads(json_path.read_text())
    rows = _measured(data["results"])
    if not rows:
        raise ValueError(f"plot: no measured rows in {json_path}")
    labels = [r["key"] for r in rows]
    colours = [COLOURS.get(r["server"], PEER_COLOUR) for r in rows]
    fig, (ax_rps, ax_cpu) = plt.subplots(
        1, 2, figsize=(13, 0.45 * len(rows) + 1.8), sharey=True,
        gridspec_kw={"width_ratios": [3, 2]})
    y = range(len(rows))
    ax_rps.barh(y, [r["rps"] for r in rows], color=colours)
    ax_rps.set_xscale("log")
    ax_rps.set_xlim(right=max(r["rps"] for r in rows) * 4)  # room for the labels
    ax_rps.set_xlabel("requests/s (log scale, median)")
    ax_rps.set_yticks(list(y), labels)
    ax_rps.invert_yaxis()
    for i, r in enumerate(rows):
        text = f" {r['rps']:,.0f}"
        if r.get("exact") is not None:
            text += " exact" if r["exact"] else " MISMATCH"
        ax_rps.text(r["rps"], i, text, va="center", fontsize=8)
    cpu = [r.get("cpu_us_per_req") or 0.0 for r in rows]
    ax_cpu.barh(y, cpu, color=colours)
    ax_cpu.set_xscale("log")  # from ~1 µs (C++) to hundreds (FastAPI)
    ax_cpu.set_xlim(right=max(cpu) * 4)
    ax_cpu.set_xlabel("server CPU µs per request (log scale, lower is better)")
    for i, value in enumerate(cpu):
        ax_cpu.text(value, i, f" {value:.1f}", va="center", fontsize=8)
    meta = data.get("meta", {})
    options = meta.get("options", {})
    fig.suptitle(
        f"FasterAPI e2e HTTP, {meta.get('cpu', '?')}: server on core 0, load on core 1, "
        f"{options.get('connections', '?')} connections, load avg {meta.get('loadavg_before')}",
        fontsize=10)
    fig.tight_layout()
    png_path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png_path, dpi=120)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("json", type=Path, nargs="?",
                        default=Path(__file__).resolve().parents[1] / "results/e2e_python.json")
    parser.add_argument("--out", type=Path, default=None,
                        help="PNG path (default: the JSON's path with .png)")
    args = parser.parse_args()
    plot(args.json, args.out or args.json.with_suffix(".png"))


if __name__ == "__main__":
    main()
