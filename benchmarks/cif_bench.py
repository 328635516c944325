"""Benchmark of the CIF pipeline at scale (isolated workers, hard per-file limit), without the cache.

Usage::

    python benchmarks/cif_bench.py [DIR_OR_TD_CSV] [--workers 2] [--sample N] [--seed 0]
                                   [--timeout 120] [--slowest 10] [--csv files.csv] [--rows table.csv]

The input defaults to the thermal set's ``../shared/thermal/td.csv`` beside the
repository (3,132 CIFs listed in its ``cif`` column); a folder takes its
``*.cif`` files. ``--sample N`` processes a random sample of N files (seeded,
sorted by name), so a shared machine can measure a few hundred files and
extrapolate to the whole set. Everything goes through
:func:`mlglass.structure.records_from_cifs` exactly as ``featurize --cif`` and
``screen --cif`` use it (``--workers`` isolated processes, ``--timeout`` s per
file), with an empty cache.

Prints: files/min (wall clock, worker start-up included) and the extrapolated
time for all files of the input, the CPU time per file (and the rate it
allows on idle cores, for a shared machine), the slowest files with the stage they spent
most time in (or were killed in), failures grouped by reason, time per stage,
and peak memory (the parent's and the largest worker's resident set).

Measured (``--sample 300 --workers 2 --seed 0``, shared machine, load average
2-4): 44.8 files/min with two 120 s timeouts (JIYXUL in oxidation_state,
VEJHID in ligands) before the oxidation-guess and bond-order caps
(``mlglass.structure`` 1.2); 138.2 files/min, slowest file 46.8 s (AXUHIL,
ligands, second bond-order pass), no timeout, after them (1.3).
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import re
import resource
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def default_input() -> Path:
    env = os.environ.get("MLGLASS_SHARED_DIR")
    shared = Path(env).parent if env else ROOT.parent / "shared"
    return shared / "thermal" / "td.csv"


def list_files(source: Path) -> list[Path]:
    if source.is_dir():
        return sorted(p for p in source.iterdir() if p.suffix.lower() == ".cif")
    with open(source, newline="", encoding="utf-8") as f:
        return [source.parent / row["cif"] for row in csv.DictReader(f) if row.get("cif")]


def reason(error: str) -> str:
    """A failure's reason without the file-specific details (formulas, counts, paths, numbers)."""
    text = re.sub(r"^field '[^']*' = '[^']*': ", "", error)  # the file's path
    if text.startswith("timeout"):
        stage = re.search(r"in stage (\w+)", text)
        text = f"timeout in stage {stage.group(1) if stage else '?'}"
    elif text.startswith("worker process"):
        text = text.split("(")[0].strip()
    text = re.sub(r"\b[A-Z][a-z]?\d*(?:[A-Z][a-z]?\d*)+\b", "<formula>", text)
    text = re.sub(r"\d+(\.\d+)?", "#", text)
    text = re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", text)
    text = re.sub(r"\(.*?\)", "(…)", text)
    return text[:110]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("source", nargs="?", type=Path, default=None, help="folder of CIFs or td.csv")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--sample", type=int, default=None, help="random sample of N files (default: all)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=None, help="per-file limit, s (default: the library's)")
    ap.add_argument("--slowest", type=int, default=10)
    ap.add_argument("--csv", type=Path, default=None, help="write one line per file (path, s, stage, error)")
    ap.add_argument("--rows", type=Path, default=None, help="write the derived candidate table (CSV)")
    args = ap.parse_args(argv)

    from mlglass.structure import DEFAULT_TIMEOUT_S, records_from_cifs

    source = args.source or default_input()
    files = list_files(source)
    if not files:
        print(f"no CIF files in {source}", file=sys.stderr)
        return 1
    n_all = len(files)
    if args.sample and args.sample < n_all:
        files = sorted(random.Random(args.seed).sample(files, args.sample))
    timeout = DEFAULT_TIMEOUT_S if args.timeout is None else args.timeout

    stats: list[dict] = []
    with tempfile.TemporaryDirectory() as cache:
        t0 = time.perf_counter()
        df = records_from_cifs(files, n_jobs=args.workers, progress=sys.stderr.isatty(), cache_dir=cache,
                               timeout=timeout, stats_out=stats)
        wall = time.perf_counter() - t0
    rate = len(files) / wall * 60
    if args.rows:
        df.to_csv(args.rows, index=False)

    print(f"input: {source} ({n_all} files); processed {len(files)}"
          + (f" (random sample, seed {args.seed})" if len(files) < n_all else "")
          + f" with {args.workers} workers, limit {timeout:g} s per file")
    print(f"rows: {len(df)} (one per file: {len(df) == len(files)})")
    print(f"wall time: {wall:.1f} s -> {rate:.1f} files/min; all {n_all} files: about "
          f"{n_all / rate:.1f} min")

    def main_stage(s: dict) -> str:
        if s["error"].startswith(("timeout", "worker process")) or not s["stages"]:
            return s["stage"] or "-"
        return max(s["stages"].items(), key=lambda kv: kv[1])[0]

    print(f"\nslowest {args.slowest} files (wall s in the worker's hands, stage with most time):")
    for s in sorted(stats, key=lambda s: -s["seconds"])[:args.slowest]:
        print(f"  {s['seconds']:7.2f} s  {main_stage(s):16s} {Path(s['path']).name:32s} {s['error'][:70]}")

    seconds = sorted(s["seconds"] for s in stats if not s["cached"])
    if seconds:
        q = lambda p: seconds[min(len(seconds) - 1, int(p * len(seconds)))]  # noqa: E731
        print(f"\nper-file seconds: median {q(0.5):.2f}, 90% {q(0.9):.2f}, 99% {q(0.99):.2f}, max {seconds[-1]:.2f}; "
              f"beyond the limit: {sum(x > timeout + 5 for x in seconds)}")
    cpu = [s["cpu_seconds"] for s in stats if not s["cached"] and s["cpu_seconds"] > 0]
    if cpu:
        mean_cpu = sum(cpu) / len(cpu)
        print(f"CPU time per finished file: mean {mean_cpu:.2f} s, total {sum(cpu):.0f} s; on {args.workers} idle "
              f"cores that is about {60 * args.workers / mean_cpu:.0f} files/min (the wall-clock rate above is "
              f"lower when other jobs share the cores; load average now {os.getloadavg()[0]:.1f})")
    per_stage: dict[str, float] = defaultdict(float)
    for s in stats:
        for k, v in s["stages"].items():
            per_stage[k] += v
    total = sum(per_stage.values()) or 1.0
    print("time per stage (sum over files): " + ", ".join(
        f"{k} {v:.0f} s ({100 * v / total:.0f}%)" for k, v in sorted(per_stage.items(), key=lambda kv: -kv[1])))

    errors = [s["error"] for s in stats if s["error"]]
    print(f"\nfailures: {len(errors)} of {len(stats)} ({100 * len(errors) / max(1, len(stats)):.1f}%)")
    for text, n in Counter(reason(e) for e in errors).most_common():
        print(f"  {n:5d}  {text}")

    worker_kb = max((s["maxrss_kb"] for s in stats), default=0)
    parent_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"\npeak memory: parent {parent_kb / 1024:.0f} MiB, largest worker {worker_kb / 1024:.0f} MiB "
          f"(x {args.workers} workers)")
    if args.csv:
        with open(args.csv, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["file", "seconds", "stage", "error"])
            for s in sorted(stats, key=lambda s: s["index"]):
                w.writerow([Path(s["path"]).name, f"{s['seconds']:.3f}", main_stage(s), s["error"]])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
