"""benchmarks/techempower/plot.py: one PNG per test type that has figures in a run.py result
(bars for one concurrency level, lines for several), none for a type every server failed."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from conftest import ROOT, require_module

sys.path.insert(0, str(ROOT / "benchmarks" / "techempower"))

import plot


def _row(server: str, kind: str, conns: int, rps: float) -> dict[str, Any]:
    return {"server": server, "type": kind, "connections": conns, "rps": rps,
            "server_cpu_us": 1e6 / rps, "pg_cpu_us": 12.0 if kind == "db" else None,
            "failures": []}


def test_one_png_per_type_with_figures(tmp_path: Path) -> None:
    require_module("matplotlib")
    rows = [
        _row("fasterapi-cpp", "json", 64, 90_000.0),
        _row("nginx", "json", 64, 80_000.0),
        *(_row(s, "db", c, r * c) for s, r in (("fasterapi", 300.0), ("fastapi", 30.0))
          for c in (16, 64, 256)),
        {"server": "fasterapi", "type": "fortunes", "failures": ["fortunes: no <!DOCTYPE html>"]},
        {"server": "robyn", "type": "db", "skipped": "pip install failed"},
    ]
    result = {"started": "2026-01-01 00:00:00", "loadavg": [0.1, 0.1, 0.1],
              "args": {"duration": 3, "queries": 20, "cached_count": 100}, "rows": rows}
    written = plot.write_plots(result, tmp_path)
    assert [p.name for p in written] == ["tfb-json.png", "tfb-db.png"]
    for p in written:
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert p.stat().st_size > 10_000  # a drawn figure, not an empty canvas
    assert not (tmp_path / "tfb-fortunes.png").exists()
