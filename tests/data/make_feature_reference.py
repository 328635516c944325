"""Write ``features_reference.csv.gz``: every descriptor of the reference inputs, as computed before issue 13.

The reference inputs are the bundled dataset (``datasets/glasses.csv``), the example
candidates (``datasets/candidates/example.csv``), a sample of the distinct-composition
screening workload (``benchmarks/screen_bench.py``) and a few hand-written edge rows
(mixed metals, given/partial oxidation states, geometry, counter-ions, SMILES species,
formula-only rows, bad rows). ``tests/test_feature_reference.py`` checks that the
featurizers still give these values (relative tolerance 1e-9) and the same row errors.

Run from the repository root: ``python tests/data/make_feature_reference.py`` (only when a
descriptor is meant to change; the file is the record of the values before the change).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
OUT = Path(__file__).with_name("features_reference.csv.gz")
INPUT_COLUMNS = ["id", "metal", "oxidation_state", "ligands", "counter_ions", "dimensionality", "geometry", "formula"]

EDGE_ROWS = [
    {"id": "edge_mixed_metal_counter", "metal": "Zn:0.7;Co:0.3", "ligands": "bba:3", "counter_ions": "CoCl4:1"},
    {"id": "edge_given_ox", "metal": "Cu", "oxidation_state": "1", "ligands": "SCN-:2"},
    {"id": "edge_partial_ox", "metal": "Zn:0.5;Fe:0.5", "oxidation_state": "Fe:3", "ligands": "Im:2.5"},
    {"id": "edge_tetrahedral", "metal": "Co", "ligands": "Im:2", "geometry": "tetrahedral", "dimensionality": "3"},
    {"id": "edge_octahedral", "metal": "Co", "ligands": "Im:2", "geometry": "octahedral"},
    {"id": "edge_smiles", "metal": "Zn", "ligands": "c1c(C)[n-]cn1:2", "dimensionality": "2D"},
    {"id": "edge_three_linkers", "metal": "Zn", "ligands": "Im:1.5;bIm:0.25;mbIm:0.25"},
    {"id": "edge_zero_amount", "metal": "Zn", "ligands": "Im:2;bIm:0"},
    {"id": "edge_repeat_species", "metal": "Zn", "ligands": "Im:1;Im:1"},
    {"id": "edge_dca_cation", "metal": "Mn", "ligands": "dca:3", "counter_ions": "TPrA:1", "dimensionality": "3"},
    {"id": "edge_guest", "metal": "Zn", "ligands": "Im:2", "counter_ions": "CCO:0.5"},
    {"id": "edge_no_ligand", "metal": "Zn", "counter_ions": "Cl-:2"},
    {"id": "edge_formula_only", "formula": "Zn(Im)1.75(bIm)0.25"},
    {"id": "edge_formula_salt", "formula": "[Co(bba)3][CoCl4]"},
    {"id": "edge_bad_metal", "metal": "Xx", "ligands": "Im:2"},
    {"id": "edge_bad_ligand", "metal": "Zn", "ligands": "Im:1.9;notAligand:0.1"},
    {"id": "edge_bad_amount", "metal": "Zn", "ligands": "Im:two"},
    {"id": "edge_bad_dim", "metal": "Zn", "ligands": "Im:2", "dimensionality": "5"},
    {"id": "edge_bad_geometry", "metal": "Zn", "ligands": "Im:2", "geometry": "cubic"},
    {"id": "edge_blank", "metal": "", "ligands": ""},
    {"id": "edge_spaces", "metal": " Zn ", "ligands": " Im : 1.8 ; bIm : 0.2 "},
    {"id": "edge_three_metals", "metal": "Zn:0.5;Co:0.25;Cd:0.25", "ligands": "Im:1.9;ClbIm:0.1", "dimensionality": "3"},
]


def reference_inputs() -> pd.DataFrame:
    """The reference input rows (all text), with a ``source`` column."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from screen_bench import distinct_columns

    from mlglass.datasets import dataset_path, read_table

    parts = []
    glasses = read_table(dataset_path("glasses.csv"))
    parts.append(glasses.assign(source="glasses"))
    example = read_table(dataset_path("candidates/example.csv"))
    parts.append(example.assign(source="example"))
    distinct = pd.DataFrame(distinct_columns(0, 3000, n_bad=3, n_total=3000))
    distinct = pd.concat([distinct, pd.DataFrame(distinct_columns(2_000_000, 2_001_000))], ignore_index=True)
    parts.append(distinct.assign(source="distinct"))
    parts.append(pd.DataFrame(EDGE_ROWS).assign(source="edge"))
    frame = pd.concat([p.reindex(columns=INPUT_COLUMNS + ["source"]) for p in parts], ignore_index=True)
    return frame.fillna("")


def main() -> None:
    sys.path.insert(0, str(ROOT))
    from mlglass.featurize import GlassFeaturizer

    frame = reference_inputs()
    X = GlassFeaturizer().transform(frame[INPUT_COLUMNS])
    out = pd.concat([frame, X], axis=1)
    out.to_csv(OUT, index=False, float_format="%.17g")
    print(f"wrote {OUT} ({len(out)} rows, {X.shape[1] - 1} features, {(X['error'] != '').sum()} error rows)")


if __name__ == "__main__":
    main()
