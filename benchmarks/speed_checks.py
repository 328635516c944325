"""Speed targets that used to be wall-clock asserts in the test suite.

The tests check behaviour only (a pathological formula is refused, a CIF is
read); how fast that happens depends on the machine and its load, so the
targets live here. Each check is timed as the best of ``--repeat`` runs and
compared with its target; the script prints one line per check and exits 1 if
any best time misses its target.

Usage: python benchmarks/speed_checks.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "cifs"
if str(ROOT / "tests") not in sys.path:  # the fuzz harness lives in tests/fuzz (not in the installed package)
    sys.path.insert(0, str(ROOT / "tests"))


def _raises(fn: Callable[[], object]) -> Callable[[], None]:
    def run() -> None:
        try:
            fn()
        except ValueError:
            return
        raise AssertionError("expected an error")
    return run


def checks() -> list[tuple[str, float, Callable[[], object]]]:
    from mlglass.chem.ligands import resolve_species
    from fuzz.harness import _ring_smiles
    from mlglass.formula import parse_formula

    out: list[tuple[str, float, Callable[[], object]]] = [
        ("formula: 5000-deep nesting refused", 0.5, _raises(lambda: parse_formula("(" * 5000 + "Im" + ")" * 5000))),
        ("formula: 990-deep nesting refused", 0.5,
         _raises(lambda: parse_formula("Zn" + "(" * 990 + "Im" + ")" * 990))),
        ("formula: 1500 open brackets refused", 0.5, _raises(lambda: parse_formula("[Zn" + "[" * 1500))),
        ("formula: 390 guests parsed", 0.5, lambda: parse_formula("Zn" + "(Im)." * 390 + "1")),
        ("species: 5000-char SMILES refused", 0.5, _raises(lambda: resolve_species("C(=O)" * 1000))),
        ("species: deep branches + 30 rings refused", 1.0,
         lambda: (_raises(lambda: resolve_species("C" + "(C" * 60 + ")" * 60))(),
                  _raises(lambda: resolve_species(_ring_smiles(30)))())),
    ]
    if SHARED.is_dir():
        from mlglass.structure.record import record_from_structure

        record_from_structure(SHARED / "ZIF-8.cif")  # imports and caches
        for name in ("ZIF-8.cif", "IRMOF-1.cif", "Cu-BTC.cif"):
            out.append((f"CIF: {name}", 2.0, lambda name=name: record_from_structure(SHARED / name)))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    failed = 0
    for label, target, fn in checks():
        best = float("inf")
        for _ in range(max(1, args.repeat)):
            t0 = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - t0)
        ok = best < target
        failed += not ok
        print(f"{'ok  ' if ok else 'SLOW'} {best * 1000:8.1f} ms  (target {target * 1000:.0f} ms)  {label}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
