"""Throughput and memory of ``mlglass.screen.screen_file`` on large synthetic candidate files.

Not a test. Two workloads, each screened (CSV in, CSV out) in a fresh
subprocess so the peak RSS belongs to that run alone, reporting rows/s,
rows/min and peak memory (median of ``--repeat`` runs):

* ``repeated`` (``--sizes``, default 100k, 1M and 10M rows): rows drawn from a
  few hundred distinct compositions (ZIF mixed-linker variants, dicyanamide
  perovskites, bis(acetamide) salts, phosphate-azoles, Cu(I) thiocyanates);
* ``distinct`` (``--distinct-sizes``, default 1,000,010 rows): every row a
  different composition, Zn/Co/Cd/Mn/Cu/Fe and their pairs with
  ``Im:2-x;S:x``, S in bIm/mbIm/ClbIm/FbIm, x in steps of 1e-5; 10 rows name an
  unknown ligand and must come back flagged. It then times featurizing a few thousand
rows one by one with a fresh featurizer per row (no caching) against the
cached batch path of the predictor.

    .venv/bin/python benchmarks/screen_bench.py                      # 100k, 1M, 10M
    .venv/bin/python benchmarks/screen_bench.py --sizes 100000,1000000 --workers 2
    .venv/bin/python benchmarks/screen_bench.py --sizes 1000000 --distinct-sizes 1000010 --repeat 2
    .venv/bin/python benchmarks/screen_bench.py --sizes '' --distinct-sizes 200000 --profile 30
    .venv/bin/python benchmarks/screen_bench.py --sizes 1000000 --td-slowdown 3   # Td cost, medians of 3

``--td-slowdown N`` screens each size N times with the bundle and N times with
a copy of it without the decomposition heads (no Td, p_melt from the old
classifier), alternating, and prints the median wall times and the slowdown
from predicting Td (issue-10 target: at most 30 %).

The model is ``models/`` when ``models/metadata.json`` loads, else a small
model trained on the bundled dataset (a few seconds).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def compositions() -> list[tuple[str, str, str, str, str]]:
    """A few hundred distinct (metal, oxidation_state, ligands, counter_ions, dimensionality)."""
    out = []
    for metal in ("Zn", "Co", "Zn:0.8;Co:0.2", "Zn:0.5;Co:0.5"):
        for sub in ("bIm", "mbIm", "ClbIm", "FbIm"):
            for x in np.round(np.arange(0.05, 0.55, 0.05), 2):
                out.append((metal, "2", f"Im:{2 - x:g};{sub}:{x:g}", "", "3"))
    for m in ("Mn", "Fe", "Co", "Ni", "Zn", "Cd", "Cu", "Mg"):
        for cat in ("TPrA", "CCCC[N+](CCCC)(CCCC)CCCC", "CC[N+](CC)(CC)CC"):
            out.append((m, "2", "dca:3", f"{cat}:1", "3"))
        for lig in ("bba", "hmba"):
            for an in ("CoCl4", "MnCl4", "ZnCl4", "FeCl4", "CoBr4"):
                out.append((m, "2", f"{lig}:3", f"{an}:1", "3"))
        out.append((m, "2", "HPO4:1;H2PO4:2", "ImH2:2", "1"))
        out.append((m, "2", "HTr:2;H2PO4:2", "", "2"))
    for cat in ("C2bpy", "C4bpy", "Phbpy", "3-Pybpv"):
        out.append(("Cu", "1", f"SCN-:1.5;{cat}:0.5", "", "2"))
    return out


#: Metal columns of the distinct workload: 6 single metals and 15 pairs at 3 site fractions (51 values).
_SINGLE_METALS = ("Zn", "Co", "Cd", "Mn", "Cu", "Fe")
_SUBSTITUENTS = ("bIm", "mbIm", "ClbIm", "FbIm")
#: Step of the substituted-linker amount in the distinct workload (moles per metal).
_X_STEP = 1e-5
_X_STEPS = 50_000  # x = 1e-5 ... 0.5


def _distinct_metals() -> list[str]:
    out = list(_SINGLE_METALS)
    for i, a in enumerate(_SINGLE_METALS):
        for b in _SINGLE_METALS[i + 1:]:
            for f in (0.25, 0.5, 0.75):
                out.append(f"{a}:{f:g};{b}:{1 - f:g}")
    return out


def distinct_columns(start: int, stop: int, n_bad: int = 0, n_total: int = 0) -> dict[str, np.ndarray]:
    """Rows ``start..stop`` of the distinct-composition workload (every row a different composition).

    Row ``i`` is metal ``i % 51`` (:func:`_distinct_metals`) with ``Im:2-x;S:x``, S one of
    bIm/mbIm/ClbIm/FbIm and x a multiple of 1e-5 up to 0.5, so up to 10.2 M rows are all distinct.
    ``n_bad`` rows, spread evenly over ``n_total`` rows, name an unknown ligand (they must come back
    flagged, not dropped).
    """
    metals = np.asarray(_distinct_metals(), dtype=object)
    i = np.arange(start, stop, dtype=np.int64)
    m = i % len(metals)
    rest = i // len(metals)
    sub = np.asarray(_SUBSTITUENTS, dtype=object)[rest % len(_SUBSTITUENTS)]
    k = (rest // len(_SUBSTITUENTS)) % _X_STEPS + 1
    x = np.char.mod("%.5f", k * _X_STEP)
    two_minus = np.char.mod("%.5f", 2.0 - k * _X_STEP)
    lig = np.char.add(np.char.add(np.char.add("Im:", two_minus), ";"), np.char.add(np.char.add(sub.astype(str), ":"),
                                                                                 x)).astype(object)
    if n_bad and n_total:
        bad_rows = np.arange(n_bad) * (n_total // n_bad) + n_total // (2 * n_bad)
        hit = bad_rows[(bad_rows >= start) & (bad_rows < stop)] - start
        lig[hit] = "Im:1.9;notAligand:0.1"
    ids = np.char.add("cand", np.char.zfill(i.astype(str), 9)).astype(object)
    return {"id": ids, "metal": metals[m], "oxidation_state": np.full(len(i), "", dtype=object), "ligands": lig,
            "counter_ions": np.full(len(i), "", dtype=object), "dimensionality": np.full(len(i), "3", dtype=object)}


def make_distinct_input(path: Path, n: int, chunk: int = 500_000, n_bad: int = 10) -> None:
    """Stream the distinct-composition workload (``n`` rows, ``n_bad`` of them bad) to ``path`` (CSV)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    from mlglass._io import atomic_write

    names = ["id", "metal", "oxidation_state", "ligands", "counter_ions", "dimensionality"]
    schema = pa.schema([(c, pa.string()) for c in names])
    with atomic_write(path, "wb") as fh:
        writer = pacsv.CSVWriter(fh, schema)
        for start in range(0, n, chunk):
            cols = distinct_columns(start, min(n, start + chunk), n_bad=n_bad, n_total=n)
            writer.write_table(pa.table([pa.array(cols[c], pa.string()) for c in names], schema=schema))
        writer.close()


def make_input(path: Path, n: int, seed: int = 0, chunk: int = 500_000) -> None:
    """Stream ``n`` synthetic rows to ``path`` (CSV) through one atomic write."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    from mlglass._io import atomic_write

    comps = compositions()
    cols = list(zip(*comps))
    arrays = [np.asarray(c, dtype=object) for c in cols]
    rng = np.random.default_rng(seed)
    names = ["id", "metal", "oxidation_state", "ligands", "counter_ions", "dimensionality"]
    schema = pa.schema([(c, pa.string()) for c in names])
    with atomic_write(path, "wb") as fh:
        writer = pacsv.CSVWriter(fh, schema)
        for start in range(0, n, chunk):
            stop = min(n, start + chunk)
            pick = rng.integers(0, len(comps), stop - start)
            ids = np.char.add("cand", np.char.zfill(np.arange(start, stop).astype(str), 9)).astype(object)
            table = pa.table([pa.array(ids, pa.string())] + [pa.array(a[pick], pa.string()) for a in arrays],
                             schema=schema)
            writer.write_table(table)
        writer.close()


def model_folder(workdir: Path) -> Path:
    from mlglass.models.predictor import GlassPredictor, default_model_dir

    bundled = default_model_dir()
    if (bundled / "metadata.json").exists():
        try:
            GlassPredictor.load(bundled)
            return bundled
        except Exception as err:  # noqa: BLE001 - incompatible bundle: fall back to a quick model
            print(f"(models/ not usable: {err}; training a small model)", file=sys.stderr)
    from mlglass.datasets import load_glasses

    folder = workdir / "model"
    if not (folder / "metadata.json").exists():
        try:
            data = load_glasses()
        except ValueError:
            data = load_glasses(validate=False)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            GlassPredictor.train(data).save(folder)
    return folder


def strip_decomposition(model: Path, workdir: Path) -> Path:
    """A copy of the bundle ``model`` without the Td heads and the censored Tm model (same other models)."""
    import shutil

    from mlglass.models.predictor import GlassPredictor

    folder = workdir / "model_without_td"
    if folder.exists():
        shutil.rmtree(folder)
    p = GlassPredictor.load(model)
    for name in ("td_cif", "td_row", "td_struct", "tm_aft"):
        p.heads.pop(name, None)
    p.metadata.pop("decomposition", None)
    p.save(folder)
    return folder


def screen_once(inp: Path, out: Path, model: Path, args: argparse.Namespace) -> dict:
    """Screen ``inp`` in a fresh subprocess; its JSON report."""
    cmd = [sys.executable, __file__, "--run-one", "--input", str(inp), "--output", str(out), "--model",
           str(model), "--workers", str(args.workers), "--threads", str(args.threads),
           "--chunk-size", str(args.chunk_size)]
    proc = subprocess.run(cmd, text=True, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if proc.returncode != 0:
        print(proc.stderr or "", file=sys.stderr)
        raise SystemExit(f"screen of {inp} failed")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def td_slowdown(model: Path, work: Path, sizes: list[int], repeats: int, args: argparse.Namespace) -> None:
    """Median screen wall time with and without the Td models (alternating runs, same input)."""
    plain = strip_decomposition(model, work)
    print(f"Td slowdown: {repeats} alternating runs per size, bundle {model} vs {plain}")
    distinct = getattr(args, "td_slowdown_workload", "repeated") == "distinct"
    for size in sizes:
        inp = work / (f"distinct_{size}.csv" if distinct else f"cands_{size}.csv")
        if not inp.exists():
            make_distinct_input(inp, size) if distinct else make_input(inp, size)
        walls: dict[str, list[float]] = {"with Td": [], "without Td": []}
        for _ in range(repeats):
            for label, folder in (("with Td", model), ("without Td", plain)):
                r = screen_once(inp, work / f"ranked_{size}.csv", folder, args)
                walls[label].append(r["wall_s"])
        med = {k: float(np.median(v)) for k, v in walls.items()}
        print(f"{size:>12,} rows: with Td {med['with Td']:.1f} s {walls['with Td']}, without Td "
              f"{med['without Td']:.1f} s {walls['without Td']}, slowdown "
              f"{(med['with Td'] / med['without Td'] - 1) * 100:+.1f} %", flush=True)


def run_one(args: argparse.Namespace) -> None:
    """Child process: screen one file and report timings and peak memory as JSON."""
    from mlglass.screen import screen_file

    prof = None
    if args.profile:
        import cProfile

        prof = cProfile.Profile()
        prof.enable()
    t0 = time.perf_counter()
    res = screen_file(args.input, args.output, args.model, chunk_size=args.chunk_size, workers=args.workers,
                      threads=args.threads,
                      dask_address=args.dask, progress=args.progress, top_n=10)
    wall = time.perf_counter() - t0
    if prof is not None:
        import io
        import pstats

        prof.disable()
        for key in ("cumulative", "tottime"):
            buf = io.StringIO()
            pstats.Stats(prof, stream=buf).sort_stats(key).print_stats(args.profile)
            print(buf.getvalue(), file=sys.stderr)
    self_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    child_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(json.dumps({"rows": res.n_rows, "errors": res.n_errors, "wall_s": wall, "predict_s": res.timings["predict"],
                      "merge_s": res.timings["merge"], "rows_per_s": res.rows_per_second,
                      "peak_self_mb": self_kb / 1024, "peak_children_mb": child_kb / 1024}))


def row_by_row_speedup(model: Path, n: int = 3000) -> dict[str, float]:
    """Seconds for ``n`` rows: fresh featurizer per row (no caching) vs the predictor's cached batch path."""
    import pandas as pd

    from mlglass.chem import ligands as lig_mod
    from mlglass.featurize import GlassFeaturizer
    from mlglass.models.predictor import GlassPredictor

    comps = compositions()
    rng = np.random.default_rng(1)
    pick = rng.integers(0, len(comps), n)
    frame = pd.DataFrame([dict(zip(("metal", "oxidation_state", "ligands", "counter_ions", "dimensionality"),
                                   comps[i])) for i in pick])
    frame.insert(0, "id", [f"r{i}" for i in range(n)])
    predictor = GlassPredictor.load(model)
    caches = [getattr(lig_mod, name) for name in dir(lig_mod)
              if callable(getattr(getattr(lig_mod, name), "cache_clear", None))]
    t = time.perf_counter()
    for i in range(n):
        for c in caches:  # no caching at all: species parsed and described again for every row
            c.cache_clear()
        X = GlassFeaturizer().transform(frame.iloc[[i]])
        predictor.predict_matrix(X.drop(columns="error").to_numpy(dtype=float))
    slow = time.perf_counter() - t
    t = time.perf_counter()
    for i in range(n):  # fresh featurizer per row, but the species caches stay warm
        X = GlassFeaturizer().transform(frame.iloc[[i]])
        predictor.predict_matrix(X.drop(columns="error").to_numpy(dtype=float))
    warm = time.perf_counter() - t
    t = time.perf_counter()
    predictor.predict(frame)
    batch = time.perf_counter() - t
    return {"rows": n, "row_by_row_s": slow, "row_by_row_warm_s": warm, "cached_batch_s": batch}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="100000,1000000,10000000",
                    help="comma-separated row counts of the repeated-composition workload")
    ap.add_argument("--distinct-sizes", default="1000010",
                    help="comma-separated row counts of the distinct-composition workload ('' to skip)")
    ap.add_argument("--repeat", type=int, default=1, help="runs per size (the median is reported)")
    ap.add_argument("--workdir", default="/tmp/mlglass-screen-bench", help="folder for the synthetic files")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2, help="chunks in flight in one process (screen_file's threads)")
    ap.add_argument("--dask", default=None, help="dask address ('local' for a LocalCluster)")
    ap.add_argument("--chunk-size", type=int, default=50_000)
    ap.add_argument("--output-format", choices=("csv", "parquet"), default="csv")
    ap.add_argument("--keep", action="store_true", help="keep the synthetic input/output files")
    ap.add_argument("--speedup-rows", type=int, default=3000, help="rows of the row-by-row comparison (0: skip)")
    ap.add_argument("--profile", type=int, default=0, help="print the top N cProfile entries of each screen")
    ap.add_argument("--progress", action="store_true")
    ap.add_argument("--models", default=None, help="model bundle folder (default: models/ or a small trained one); "
                    "compare a bundle with Td models against one without (MLGLASS_THERMAL=off mlglass train --out D)")
    ap.add_argument("--td-slowdown-workload", choices=("repeated", "distinct"), default="repeated",
                    help="input of --td-slowdown: the repeated-composition or the distinct-composition workload")
    ap.add_argument("--td-slowdown", type=int, default=0, metavar="N",
                    help="only measure the Td slowdown: N alternating runs with and without the Td models")
    ap.add_argument("--run-one", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--input", help=argparse.SUPPRESS)
    ap.add_argument("--output", help=argparse.SUPPRESS)
    ap.add_argument("--model", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.run_one:
        run_one(args)
        return
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    model = Path(args.models) if args.models else model_folder(work)
    if args.td_slowdown:
        td_slowdown(model, work, [int(s) for s in args.sizes.split(",") if s.strip()], args.td_slowdown, args)
        return
    print(f"model: {model}   workers: {args.workers}   threads: {args.threads}   "
          f"dask: {args.dask}   chunk: {args.chunk_size:,} rows   "
          f"repeated workload: {len(compositions())} distinct compositions; distinct workload: every row distinct")
    header = f"{'workload':>9} {'rows':>12} {'gen s':>7} {'screen s':>9} {'predict s':>9} {'merge s':>8} " \
             f"{'rows/s':>10} {'rows/min':>12} {'peak MB':>8} {'errors':>7}"
    print(header)
    print("-" * len(header))
    jobs = [("repeated", int(s)) for s in args.sizes.split(",") if s.strip()]
    jobs += [("distinct", int(s)) for s in args.distinct_sizes.split(",") if s.strip()]
    for workload, size in jobs:
        inp = work / f"cands_{workload}_{size}.csv"
        out = work / f"ranked_{workload}_{size}.{args.output_format}"
        t = time.perf_counter()
        if not inp.exists():
            if workload == "distinct":
                make_distinct_input(inp, size, n_bad=10 if size >= 1000 else 0)
            else:
                make_input(inp, size)
        gen = time.perf_counter() - t
        cmd = [sys.executable, __file__, "--run-one", "--input", str(inp), "--output", str(out), "--model",
               str(model), "--workers", str(args.workers), "--threads", str(args.threads),
               "--chunk-size", str(args.chunk_size),
               "--profile", str(args.profile)]
        if args.dask:
            cmd += ["--dask", args.dask]
        if args.progress:
            cmd += ["--progress"]
        runs = []
        for _ in range(max(1, args.repeat)):
            proc = subprocess.run(cmd, check=False, text=True, cwd=ROOT, stdout=subprocess.PIPE,
                                  stderr=None if (args.progress or args.profile) else subprocess.PIPE)
            if proc.returncode != 0:
                print(proc.stderr or "", file=sys.stderr)
                raise SystemExit(f"screen of {size} rows failed")
            runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        runs.sort(key=lambda r: r["rows_per_s"])
        r = runs[len(runs) // 2]
        r["peak_self_mb"] = max(x["peak_self_mb"] for x in runs)
        print(f"{workload:>9} {r['rows']:>12,} {gen:>7.1f} {r['wall_s']:>9.1f} {r['predict_s']:>9.1f} "
              f"{r['merge_s']:>8.1f} {r['rows_per_s']:>10,.0f} {r['rows_per_s'] * 60:>12,.0f} "
              f"{r['peak_self_mb']:>8,.0f} {r['errors']:>7,}", flush=True)
        if len(runs) > 1:
            print(f"{'':>9} runs rows/min: " + ", ".join(f"{x['rows_per_s'] * 60:,.0f}" for x in runs), flush=True)
        if not args.keep:
            for p in (inp, out):
                if p.exists():
                    os.unlink(p)
    if args.speedup_rows <= 0:
        return
    s = row_by_row_speedup(model, args.speedup_rows)
    print(f"\nfeaturize + predict {s['rows']:,} rows:")
    print(f"  row by row, fresh featurizer, species caches cleared : {s['row_by_row_s']:8.2f} s")
    print(f"  row by row, fresh featurizer, species caches warm    : {s['row_by_row_warm_s']:8.2f} s")
    print(f"  {'GlassPredictor.predict (per distinct composition)':<52} : {s['cached_batch_s']:8.3f} s  "
          f"(x{s['row_by_row_s'] / s['cached_batch_s']:,.0f} vs cleared, "
          f"x{s['row_by_row_warm_s'] / s['cached_batch_s']:,.0f} vs warm)")


if __name__ == "__main__":
    main()
