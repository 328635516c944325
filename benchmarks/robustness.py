"""Run the mlglass robustness harness for a time budget and report what escaped.

Usage::

    python benchmarks/robustness.py --seconds 600 [--seed 0] [--entry-points formula,predict]
                                    [--bound 5] [--ignore-known] [--json report.json]

Uses the models in ``models/`` when ``models/metadata.json`` exists and loads,
else trains a tiny predictor (10 trees per model; a few seconds). Prints the
inputs tried per entry point, the escaped exceptions with the first few
reproducers, the rows lost or duplicated and the slowest input.

Exit code 1 if anything escaped (an exception that is not a documented
``MlglassError``, a malformed error message or a timeout). Escapes that
match a known, already reported issue (``fuzz.harness.KNOWN_ISSUES``)
count too unless ``--ignore-known`` is given; rule violations (lost rows,
missing ``error``, slow calls ...) are printed and set the exit code with
``--strict``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
for _path in (REPO, REPO / "tests"):  # the harness lives in tests/fuzz (not in the installed package)
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))


def _predictor(models: Path):
    from mlglass.errors import MlglassError
    from fuzz.harness import train_tiny_predictor

    if (models / "metadata.json").exists():
        from mlglass.models.predictor import GlassPredictor

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return GlassPredictor.load(models), f"loaded {models}"
        except (MlglassError, OSError) as err:
            print(f"note: cannot load {models} ({type(err).__name__}: {err}); training a tiny predictor",
                  file=sys.stderr)
    return train_tiny_predictor(), "tiny predictor (10 trees per model)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=600.0, help="time budget (default 600)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--entry-points", default="", help="comma-separated subset of the entry points")
    parser.add_argument("--bound", type=float, default=5.0, help="seconds one call may take (default 5)")
    parser.add_argument("--models", type=Path, default=REPO / "models", help="model folder to try first")
    parser.add_argument("--ignore-known", action="store_true", help="do not count known, reported issues")
    parser.add_argument("--strict", action="store_true", help="rule violations also give exit code 1")
    parser.add_argument("--reproducers", type=int, default=5, help="reproducers shown per list (default 5)")
    parser.add_argument("--json", type=Path, default=None, help="also write the report as JSON")
    args = parser.parse_args(argv)

    from fuzz.harness import ENTRY_POINTS, run_harness

    entries = [e.strip() for e in args.entry_points.split(",") if e.strip()] or list(ENTRY_POINTS)
    t0 = time.perf_counter()
    predictor, how = _predictor(args.models)
    print(f"predictor: {how} ({time.perf_counter() - t0:.1f} s)", flush=True)
    last = [time.perf_counter()]

    def progress(rep) -> None:
        now = time.perf_counter()
        if now - last[0] >= 30:
            last[0] = now
            print(f"  {rep.seconds:6.0f} s  inputs {sum(rep.tried.values()):>8}  escaped {rep.n_escaped:>4}  "
                  f"violations {rep.n_violations:>4}", file=sys.stderr, flush=True)

    report = run_harness(seconds=args.seconds, seed=args.seed, entry_points=entries, predictor=predictor,
                         bound=args.bound, ignore_known=args.ignore_known, progress=progress)
    print(report.summary(reproducers=args.reproducers))
    if args.json is not None:
        payload = {"seed": report.seed, "seconds": report.seconds, "tried": report.tried,
                   "escaped": report.escaped, "known": report.known, "violations": report.violations,
                   "lost_rows": report.lost_rows, "duplicated_rows": report.duplicated_rows,
                   "slowest": list(report.slowest), "skipped": report.skipped}
        args.json.write_text(json.dumps(payload, indent=2, default=str), encoding="utf-8")
    failed = bool(report.escaped) or (args.strict and (report.violations or report.lost_rows
                                                       or report.duplicated_rows))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
