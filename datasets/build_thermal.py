"""Build ``datasets/thermal.csv`` from the shared thermal set (``../shared/thermal``).

Usage (from the repository root)::

    python datasets/build_thermal.py [--shared ../shared/thermal] [--workers 2] [--timeout 60]
    python datasets/build_thermal.py --descriptors-only   # only the second pass (sg_* columns)

Same as ``mlglass dataset build-thermal``. Every CIF goes through mlglass's own
pipeline (:func:`mlglass.structure.records_from_cifs`, cached), then through
:func:`mlglass.structure.graph_descriptors.graph_descriptors_for_cifs` (a second
pass with its own cache, for the ``sg_*`` columns); the table, its
SHA-256, the build time and the failures by reason are written to
``datasets/thermal.csv`` and the ``thermal`` entry of ``datasets/metadata.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=None, help="folder with td.csv and cifs/")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent, help="output folder")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per CIF")
    parser.add_argument("--cache-dir", type=Path, default=None)
    parser.add_argument("--descriptors-only", action="store_true",
                        help="keep the records of OUT/thermal.csv, recompute only the sg_* structure descriptors")
    args = parser.parse_args(argv)
    from mlglass.thermal import build_and_write

    report = build_and_write(args.out, args.shared, n_jobs=args.workers, timeout=args.timeout,
                             cache_dir=args.cache_dir, progress=True, descriptors_only=args.descriptors_only)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
