"""Benchmark of CIF -> compound record (mlglass.structure), without the cache.

Usage::

    python benchmarks/cif_bench.py [DIR] [--jobs N]

DIR defaults to ``../shared/cifs`` beside the repository (or ``$MLGLASS_SHARED_DIR``).
Prints the one-off import time, files per minute (sequential, in-process,
imports excluded), the slowest files, how many succeeded / failed, and, with
``--jobs N > 1``, the wall time of ``records_from_cifs(n_jobs=N)`` (imports included).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def default_dir() -> Path:
    env = os.environ.get("MLGLASS_SHARED_DIR")
    if env:
        return Path(env)
    return ROOT.parent / "shared" / "cifs"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir", nargs="?", type=Path, default=None)
    ap.add_argument("--jobs", type=int, default=2, help="also time records_from_cifs with this many workers")
    args = ap.parse_args(argv)
    folder = args.dir or default_dir()
    files = sorted(p for p in folder.glob("*") if p.suffix.lower() == ".cif")
    if not files:
        print(f"no CIF files in {folder}", file=sys.stderr)
        return 1

    t0 = time.perf_counter()
    from mlglass.structure import batch

    batch._warm_up()  # noqa: SLF001
    t_import = time.perf_counter() - t0

    times = []
    ok = failed = 0
    errors = []
    t_start = time.perf_counter()
    for path in files:
        t = time.perf_counter()
        row = batch._process_one(str(path), True, None)  # noqa: SLF001 - the uncached worker
        dt = time.perf_counter() - t
        times.append((dt, path.name, row.get("n_atoms", row.get("struct_n_atoms"))))
        if row["error"]:
            failed += 1
            errors.append((path.name, row["error"]))
        else:
            ok += 1
    total = time.perf_counter() - t_start

    print(f"files: {len(files)} in {folder}")
    print(f"one-off import time: {t_import:.2f} s")
    print(f"sequential, in-process: {total:.2f} s -> {len(files) / total * 60:.0f} files/min "
          f"(mean {total / len(files):.3f} s/file)")
    times.sort(reverse=True)
    print(f"slowest file: {times[0][1]} {times[0][0]:.2f} s ({times[0][2]:.0f} atoms)")
    for dt, name, n in times[1:5]:
        print(f"              {name} {dt:.2f} s ({n:.0f} atoms)")
    print(f"succeeded: {ok}, failed: {failed}")
    for name, err in errors:
        print(f"  failed {name}: {err[:160]}")

    if args.jobs and args.jobs > 1:
        with tempfile.TemporaryDirectory() as cache:
            t = time.perf_counter()
            df = batch.records_from_cifs(files, n_jobs=args.jobs, progress=False, cache_dir=cache)
            dt = time.perf_counter() - t
            print(f"records_from_cifs(n_jobs={args.jobs}), empty cache: {dt:.2f} s -> "
                  f"{len(files) / dt * 60:.0f} files/min; errors: {(df['error'] != '').sum()}")
            t = time.perf_counter()
            batch.records_from_cifs(files, n_jobs=args.jobs, progress=False, cache_dir=cache)
            dt2 = time.perf_counter() - t
            print(f"re-run from cache: {dt2:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
