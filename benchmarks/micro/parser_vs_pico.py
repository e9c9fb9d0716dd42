#!/usr/bin/env python3
"""Our HTTP/1.1 head parser against picohttpparser, ISA for ISA (h1_parser_bench).

Like for like:
  scalar vs scalar   ours pinned to its portable scanner vs Debian's libh2o-evloop build of
                     picohttpparser (plain x86-64: its SSE4.2 path is compiled out);
  SSE4.2 vs SSE4.2   ours pinned to its SSE4.2 scanner vs picohttpparser built with -msse4.2
                     (the copy vendored by the PyPI package gunicorn-h1c, which its setup.py
                     builds with -O3 -msse4.2; installed into the build dir, not this repository).
Not like for like, reported as such: our AVX2 scanner (what the server picks on an AVX2 CPU)
against either picohttpparser build; picohttpparser has no AVX2 path.

    python3 benchmarks/micro/parser_vs_pico.py                     # pinned to core 1, 15 reps
    python3 benchmarks/micro/parser_vs_pico.py --pico-sse42 none   # Debian build only
    python3 benchmarks/micro/parser_vs_pico.py --from-json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SAMPLES = ["chrome_navigate", "chrome_fetch", "json_post", "minimal_get"]
SAMPLE_TEXT = {"chrome_navigate": "Chrome navigation GET, 708 B",
               "chrome_fetch": "Chrome `fetch()` GET, 515 B",
               "json_post": "JSON POST, 204 B head", "minimal_get": "wrk's minimal GET, 40 B"}
PICO_SSE42_PACKAGE = "gunicorn-h1c==0.6.10"


@dataclass(frozen=True)
class Pair:
    """One ratio: ours (an ISA) against a picohttpparser build, on one sample."""

    name: str
    ours: str  # BM_Ours/<sample>/<isa>
    pico: str  # BM_Pico/<sample>/<build>
    like_for_like: bool


# (ours ISA, pico build, like for like): the ISA each pico build uses is the second word.
PAIRINGS = [("scalar", "debian_scalar", True, "scalar vs scalar"),
            ("sse4.2", "sse42", True, "SSE4.2 vs SSE4.2"),
            ("avx2", "sse42", False, "our AVX2 vs their SSE4.2 build"),
            ("avx2", "debian_scalar", False, "our AVX2 vs their scalar build")]
PICO_ISA = {"debian_scalar": "scalar", "sse42": "sse4.2"}


def pairs(sample: str) -> list[Pair]:
    """The ratios reported for one sample; like_for_like only when both sides use one ISA."""
    out = []
    for isa, build, like, name in PAIRINGS:
        assert like == (PICO_ISA[build] == isa), f"pairing {name} mislabelled"
        out.append(Pair(name, f"BM_Ours/{sample}/{isa}", f"BM_Pico/{sample}/{build}", like))
    return out


def times(report: dict, stat: str) -> dict[str, float]:
    """{benchmark name: CPU ns} for the aggregate `stat` (min, median, mean) of each benchmark;
    with a single repetition (no aggregates), that one run's figure."""
    out: dict[str, float] = {}
    single: dict[str, float] = {}
    for b in report["benchmarks"]:
        if b.get("error_occurred"):
            continue
        assert b["time_unit"] == "ns", b
        if b.get("run_type") == "aggregate" and b.get("aggregate_name") == stat:
            out[b["run_name"]] = float(b["cpu_time"])
        elif b.get("run_type") == "iteration":
            single[b["run_name"]] = float(b["cpu_time"])
    return {**single, **out} if not out else out


def table(report: dict, stat: str) -> str:
    t = times(report, stat)
    head = ["request", "ours scalar", "pico (Debian, scalar)", "**scalar vs scalar**",
            "ours SSE4.2", "pico (-msse4.2)", "**SSE4.2 vs SSE4.2**", "ours AVX2",
            "our AVX2 vs their SSE4.2 build (not like for like)",
            "our AVX2 vs their scalar build (not like for like)"]
    lines = ["| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 1)]

    def ns(name: str) -> str:
        return f"{t[name]:.1f} ns" if name in t else "—"

    def ratio(p: Pair) -> str:
        if p.ours not in t or p.pico not in t:
            return "—"
        return f"{t[p.pico] / t[p.ours]:.2f}x"  # > 1: ours is faster

    for s in SAMPLES:
        by = {p.name: p for p in pairs(s)}
        lines.append("| " + " | ".join([
            SAMPLE_TEXT[s], ns(f"BM_Ours/{s}/scalar"), ns(f"BM_Pico/{s}/debian_scalar"),
            ratio(by["scalar vs scalar"]), ns(f"BM_Ours/{s}/sse4.2"), ns(f"BM_Pico/{s}/sse42"),
            ratio(by["SSE4.2 vs SSE4.2"]), ns(f"BM_Ours/{s}/avx2"),
            ratio(by["our AVX2 vs their SSE4.2 build"]),
            ratio(by["our AVX2 vs their scalar build"])]) + " |")
    return "\n".join(lines)


def pico_sse42_lib(spec: str, build_dir: Path) -> Path | None:
    """Returns the SSE4.2 picohttpparser shared object: spec is none, auto or a path."""
    if spec == "none":
        return None
    if spec != "auto":
        return Path(spec)
    target = build_dir / "pico-sse42"
    found = sorted(target.glob("gunicorn_h1c/_parser.*.so"))
    if not found:
        print(f"installing {PICO_SSE42_PACKAGE} (built from source) into {target}", flush=True)
        done = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                               "--no-binary", "gunicorn-h1c", "--target", str(target),
                               PICO_SSE42_PACKAGE], check=False)
        found = sorted(target.glob("gunicorn_h1c/_parser.*.so"))
        if done.returncode != 0 or not found:
            print(f"no SSE4.2 picohttpparser (pip exited with {done.returncode}): the SSE4.2 "
                  "columns stay empty", flush=True)
            return None
    return found[0]


def has_sse42_code(lib: Path) -> bool | None:
    """True if lib contains pcmpestri (picohttpparser's SSE4.2 scan); None without objdump."""
    if shutil.which("objdump") is None:
        return None
    dis = subprocess.run(["objdump", "-d", str(lib)], capture_output=True, text=True, check=True)
    return "pcmpestri" in dis.stdout


def run_bench(args: argparse.Namespace) -> dict:
    env = dict(os.environ)
    lib = pico_sse42_lib(args.pico_sse42, args.bench.parents[2])
    if lib is not None:
        if has_sse42_code(lib) is False:
            raise SystemExit(f"{lib} has no pcmpestri: not an SSE4.2 build")
        env["FA_PICO_SSE42_LIB"] = str(lib)
        # The module references the Python C API (never called); its data symbols must resolve.
        libpython = Path(sysconfig.get_config_var("LIBDIR") or "") / (
            sysconfig.get_config_var("INSTSONAME") or "")
        if libpython.is_file():
            env["LD_PRELOAD"] = f"{libpython} {env.get('LD_PRELOAD', '')}".strip()
    out = args.json or args.bench.parent / "h1_parser_vs_pico.json"
    argv = ["taskset", "-c", args.core, str(args.bench),
            f"--benchmark_repetitions={args.repetitions}",
            f"--benchmark_min_time={args.min_time}", "--benchmark_report_aggregates_only=true",
            # Repetitions of all benchmarks interleaved in random order: ours and pico's are
            # measured across the same stretch of time, not one after the other.
            "--benchmark_enable_random_interleaving=true",
            f"--benchmark_out={out}", "--benchmark_out_format=json"]
    print(" ".join(argv), flush=True)
    subprocess.run(argv, env=env, check=True)
    return json.loads(out.read_text())


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bench", type=Path,
                   default=REPO / "build/bench/benchmarks/micro/h1_parser_bench")
    p.add_argument("--core", default="1", help="taskset -c list (default: %(default)s)")
    p.add_argument("--repetitions", type=int, default=15)
    p.add_argument("--min-time", default="0.05", help="--benchmark_min_time, seconds")
    p.add_argument("--stat", choices=["min", "median", "mean"], default="min",
                   help="which aggregate the table shows (default: min, the least disturbed)")
    p.add_argument("--pico-sse42", default="auto",
                   help="auto (pip-install gunicorn-h1c into the build dir), none, or a path")
    p.add_argument("--json", type=Path, help="where the benchmark JSON goes")
    p.add_argument("--from-json", type=Path, help="only print the table of a saved run")
    args = p.parse_args(argv)
    report = json.loads(args.from_json.read_text()) if args.from_json else run_bench(args)
    ctx = report.get("context", {})
    print(f"\nCPU ns per parse, {args.stat} of {args.repetitions if not args.from_json else '?'} "
          f"repetitions; ratio = pico / ours (> 1: ours faster). Our run-time pick on this CPU: "
          f"{ctx.get('fa_scan_isa_auto', '?')}; load average {ctx.get('load_avg')}.\n")
    print(table(report, args.stat))
    return 0


if __name__ == "__main__":
    sys.exit(main())
