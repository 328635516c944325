"""Featurization throughput: rows per second and peak memory.

Builds N candidate rows (default 100,000) drawn from about 200 distinct ligand
species (library names plus substituted azolates given as SMILES) and six
metals, featurizes them with :class:`mlglass.featurize.GlassFeaturizer`, and
prints rows/s, the number of distinct records and peak memory. Also times a
cold run (empty species cache) against a warm run.

Usage: python benchmarks/featurize_bench.py [--rows 100000] [--seed 0]
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import pandas as pd


def species_pool(n: int = 200) -> list[str]:
    from mlglass.chem.ligands import load_ligand_library

    lib = load_ligand_library()
    names = [r for r, role in zip(lib["name"], lib["role"]) if role in ("bridging_linker", "terminal_ligand")]
    subs = ["C", "CC", "CCC", "Cl", "F", "Br", "C(F)(F)F", "OC", "C#N", "[N+](=O)[O-]", "CO", "C(C)C", "c9ccccc9",
            "CCCC", "N", "O", "S", "SC", "C=O", "CCl", "C(C)(C)C"]
    cores = ["c1c({s})[n-]cn1", "c1cc2[n-]cnc2cc1{s}", "c1nc([n-]c1){s}", "c1c({s})nc[n-]1", "c1({s})ccc2[n-]cnc2c1",
             "N#Cc1ccc({s})cc1", "CC(=O)NCC({s})CNC(C)=O", "[O-]C(=O)c1ccc({s})cc1"]
    smiles = [c.format(s=s) for c in cores for s in subs]
    pool = list(dict.fromkeys(names + smiles))
    return pool[:n]


def make_frame(n_rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    pool = species_pool()
    metals = np.array(["Zn", "Co", "Cd", "Mn", "Fe", "Cu"])
    a = rng.integers(0, len(pool), n_rows)
    b = rng.integers(0, len(pool), n_rows)
    x = rng.choice([0.05, 0.1, 0.25, 0.5], n_rows)
    ligands = [f"{pool[i]}:{2 - f:g};{pool[j]}:{f:g}" for i, j, f in zip(a, b, x)]
    return pd.DataFrame({"id": [f"c{i}" for i in range(n_rows)], "metal": rng.choice(metals, n_rows),
                         "ligands": ligands, "dimensionality": rng.integers(1, 4, n_rows).astype(str)})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    from mlglass.featurize import GlassFeaturizer

    frame = make_frame(args.rows, args.seed)
    n_species = len(species_pool())
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    X = GlassFeaturizer().transform(frame)
    cold = time.perf_counter() - t0
    t0 = time.perf_counter()
    GlassFeaturizer().transform(frame)
    warm = time.perf_counter() - t0
    distinct = frame[["metal", "ligands", "dimensionality"]].drop_duplicates().shape[0]
    errors = int((X["error"] != "").sum())
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"rows: {args.rows:,}  distinct species: {n_species}  distinct records: {distinct:,}  errors: {errors}")
    print(f"cold cache: {cold:.2f} s  ({args.rows / cold:,.0f} rows/s)")
    print(f"warm cache: {warm:.2f} s  ({args.rows / warm:,.0f} rows/s)")
    print(f"peak RSS: {rss:.0f} MiB (before featurizing: {rss0:.0f} MiB, including the input table)")


if __name__ == "__main__":
    main()
