"""benchmarks/micro/parser_vs_pico.py: only same-ISA pairs are called like for like."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "micro"))

import parser_vs_pico as pvp


def test_like_for_like_pairs_use_one_isa_on_both_sides() -> None:
    for sample in pvp.SAMPLES:
        for p in pvp.pairs(sample):
            ours_isa = p.ours.rsplit("/", 1)[1]
            pico_isa = pvp.PICO_ISA[p.pico.rsplit("/", 1)[1]]
            assert p.like_for_like == (ours_isa == pico_isa), p
            assert p.ours.split("/")[1] == p.pico.split("/")[1] == sample  # same request bytes


def _agg(name: str, ns: float, stat: str = "min") -> dict[str, object]:
    return {"run_name": name, "run_type": "aggregate", "aggregate_name": stat,
            "cpu_time": ns, "time_unit": "ns"}


def test_table_divides_pico_by_ours_per_isa() -> None:
    s = "json_post"
    report = {"benchmarks": [
        _agg(f"BM_Ours/{s}/scalar", 100.0), _agg(f"BM_Pico/{s}/debian_scalar", 110.0),
        _agg(f"BM_Ours/{s}/sse4.2", 80.0), _agg(f"BM_Pico/{s}/sse42", 80.0),
        _agg(f"BM_Ours/{s}/avx2", 50.0), _agg(f"BM_Ours/{s}/avx2", 70.0, "median")]}
    row = next(line for line in pvp.table(report, "min").splitlines()
               if line.startswith("| JSON POST"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[3] == "1.10x"  # scalar vs scalar
    assert cells[6] == "1.00x"  # SSE4.2 vs SSE4.2
    assert cells[8] == "1.60x" and cells[9] == "2.20x"  # AVX2 rows, not like for like
