
import numpy as np
import pandas as pd
import pytest

from mlglass.errors import InvalidSmilesError, RecordError, UnknownSpeciesError
from mlglass.featurize import (CounterIonFeaturizer, GlassFeaturizer, HSABFeaturizer, LigandFeaturizer,
                               MetalFeaturizer, NetworkFeaturizer)
from mlglass.records import record_from_mapping

ALL = [MetalFeaturizer(), LigandFeaturizer(), HSABFeaturizer(), NetworkFeaturizer(), CounterIonFeaturizer()]


def rec(**kw):
    return record_from_mapping(kw)


def feats(frame_or_records):
    return GlassFeaturizer().transform(frame_or_records)


@pytest.mark.parametrize("f", ALL + [GlassFeaturizer()])
def test_contract(f):
    labels = f.feature_labels()
    assert len(labels) == len(set(labels))
    assert all(lab == lab.lower() or "_N_" in lab or "_O_" in lab or "NS" in lab for lab in labels)
    out = f.featurize(rec(metal="Zn", ligands="Im:2", dimensionality=3))
    assert len(out) == len(labels)
    assert f.citations() and all("@" in c for c in f.citations())
    assert f.fit(None) is f
    assert f.get_params()["on_error"] == "report"


def test_whole_dataset_featurizes(glasses):
    X = feats(glasses)
    usable = (glasses["metal"] != "") | (glasses["ligands"] != "")
    assert (X.loc[usable, "error"] == "").all(), X.loc[X["error"] != "", "error"].tolist()


def test_known_chemistry():
    X = feats([rec(metal="Zn", ligands="Im:2"), rec(metal="Co", ligands="Im:2"), rec(metal="Cu", oxidation_state=1,
               ligands="SCN-:2"), rec(metal="Co", ligands="bba:3", counter_ions="CoCl4:1")])
    assert X.loc[0, "metal_d_electrons"] == 10 and X.loc[0, "metal_cfse_oct_delta_o"] == 0
    assert X.loc[1, "metal_d_electrons"] == 7 and X.loc[1, "metal_cfse_oct_delta_o"] < 0
    assert X.loc[2, "metal_d_electrons"] == 10 and X.loc[2, "metal_d10_fraction"] == 1
    # imidazolate is rigid, bba is flexible
    assert X.loc[0, "ligand_rotatable_bonds_mean"] < X.loc[3, "ligand_rotatable_bonds_mean"]
    assert X.loc[0, "ligand_kier_phi_mean"] < X.loc[3, "ligand_kier_phi_mean"]
    # uncoordinated [CoCl4]2- counted as a complex anion, charge balanced
    assert X.loc[3, "counter_complex_anion_amount"] == 1
    assert X.loc[3, "network_net_charge_per_metal"] == pytest.approx(0)


def test_benzimidazolate_bulkier_than_imidazolate():
    X = feats([rec(metal="Zn", ligands="Im:2"), rec(metal="Zn", ligands="bIm:2")])
    assert X.loc[1, "ligand_heavy_atoms_mean"] > X.loc[0, "ligand_heavy_atoms_mean"]
    assert X.loc[1, "ligand_vdw_volume_a3_mean"] > X.loc[0, "ligand_vdw_volume_a3_mean"]


def test_linker_descriptors_monotonic_in_x():
    xs = [0.0, 0.05, 0.1, 0.25, 0.35, 0.5, 1.0]
    X = feats([rec(metal="Zn", ligands=f"Im:{2 - x};bIm:{x}" if x else "Im:2") for x in xs])
    for col in ("ligand_heavy_atoms_mean", "ligand_vdw_volume_a3_mean", "ligand_molar_mass_g_per_mol_mean"):
        assert np.all(np.diff(X[col].to_numpy()) > 0), col
    assert np.all(np.diff(X["ligand_minor_fraction"].to_numpy()) >= 0)


def test_symmetry_not_broken_by_charge_position():
    X = feats([rec(metal="Zn", ligands="c1c[n-]cn1:2"), rec(metal="Zn", ligands="[n-]1ccnc1:2")])
    assert X.loc[0, "ligand_symmetry_class_fraction_mean"] == X.loc[1, "ligand_symmetry_class_fraction_mean"]
    assert X.loc[0, "ligand_symmetry_class_fraction_mean"] < 1.0  # imidazolate has a mirror plane


def test_hsab_mismatch_li_nitrile_vs_ag_nitrile():
    X = feats([rec(metal="Li", ligands="succinonitrile:2", counter_ions="FSA:1"), rec(metal="Ag", ligands="succinonitrile:2")])
    assert X.loc[0, "hsab_mismatch"] > X.loc[1, "hsab_mismatch"]


def test_dimensionality_missing_is_explicit():
    X = feats([rec(metal="Zn", ligands="Im:2"), rec(metal="Zn", ligands="Im:2", dimensionality=0)])
    assert np.isnan(X.loc[0, "network_dimensionality"])
    assert X.loc[1, "network_dimensionality"] == 0 and X.loc[1, "network_dim_0"] == 1


def test_smiles_and_library_name_agree():
    X = feats([rec(metal="Zn", ligands="Im:2"), rec(metal="Zn", ligands="c1cnc[n-]1:2")])
    cols = [c for c in X.columns if c.startswith("ligand_") and "donor" not in c]
    pd.testing.assert_series_equal(X.loc[0, cols], X.loc[1, cols], check_names=False)


def test_deterministic():
    frame = pd.DataFrame({"metal": ["Zn", "Co:0.3;Zn:0.7"], "ligands": ["Im:1.8;ClbIm:0.2", "bba:3"]})
    a, b = feats(frame), feats(frame.copy())
    pd.testing.assert_frame_equal(a, b)


class TestErrors:
    def test_unknown_name_suggests(self):
        with pytest.raises(UnknownSpeciesError, match="bIm"):
            GlassFeaturizer(on_error="raise").transform([rec(metal="Zn", ligands="bImm:2")])

    def test_invalid_smiles(self):
        with pytest.raises(InvalidSmilesError):
            GlassFeaturizer(on_error="raise").transform([rec(metal="Zn", ligands="c1ccc[n-:2")])

    def test_batch_reports_and_keeps_good_rows(self):
        frame = pd.DataFrame({"id": ["good1", "bad_el", "bad_lig", "bad_dim", "good2", "bad_amt"],
                              "metal": ["Zn", "Xx", "Zn", "Zn", "Co", "Zn"],
                              "ligands": ["Im:2", "Im:2", "Nope:2", "Im:2", "bIm:2", "Im:0"],
                              "dimensionality": ["3", "3", "3", "7", "", "3"]})
        X = feats(frame)
        assert list(X.index) == list(frame.index)
        good = X["error"] == ""
        assert good.tolist() == [True, False, False, False, True, False]
        assert X.loc[good, "metal_d_electrons"].notna().all()
        assert X.loc[~good, "metal_d_electrons"].isna().all()
        for i, field in [(1, "metal"), (2, "ligands"), (3, "dimensionality"), (5, "ligands")]:
            assert frame.loc[i, "id"] in X.loc[i, "error"] and field in X.loc[i, "error"]

    def test_raise_mode_names_row(self):
        frame = pd.DataFrame({"id": ["a", "b"], "metal": ["Zn", "Zn"], "ligands": ["Im:2", "Im:abc"]})
        with pytest.raises(RecordError, match="'b'"):
            GlassFeaturizer(on_error="raise").transform(frame)

    def test_missing_columns(self):
        from mlglass.errors import SchemaError

        with pytest.raises(SchemaError, match="metal"):
            feats(pd.DataFrame({"foo": [1]}))


def test_cache_makes_big_batches_fast():
    rng = np.random.default_rng(0)
    ligs = ["Im", "bIm", "mbIm", "ClbIm", "FbIm", "MeIm", "HTr", "dca", "SCN-", "bba", "hmba"]
    metals = ["Zn", "Co", "Cd", "Mn", "Fe", "Cu"]
    n = 20_000
    frame = pd.DataFrame({
        "metal": rng.choice(metals, n),
        "ligands": [f"{a}:1.5;{b}:0.5" for a, b in zip(rng.choice(ligs, n), rng.choice(ligs, n))],
        "dimensionality": rng.integers(1, 4, n).astype(str),
    })
    X = feats(frame)  # speed: benchmarks/featurize_bench.py
    assert (X["error"] == "").all()


def test_vectorised_path_equals_per_record(glasses):
    """The batch (numpy) path and matminer-style featurize(record) agree on every dataset row."""
    from mlglass.featurize.base import records_from_frame

    frame = glasses[glasses["metal"] != ""]
    extra = pd.DataFrame({"metal": ["Zn:0.7;Co:0.3", "Li", "Zn", "Cu"], "oxidation_state": ["", "", "", "1"],
                          "ligands": ["Im:1.8;bIm:0.1;ClbIm:0.1", "succinonitrile:2", "", "SCN-:1;c1ccncc1:1"],
                          "counter_ions": ["", "FSA:1", "Cl:2", "TPrA:1;C6H6:0.5"],
                          "geometry": ["tetrahedral", "", "octahedral", ""]})
    both = pd.concat([frame.astype(object), extra], ignore_index=True)
    records, _ = records_from_frame(both.where(both.notna(), None))
    f = GlassFeaturizer()
    fast = f.transform([r for r in records if r is not None]).drop(columns="error").to_numpy()
    slow = np.array([f.featurize(r) for r in records if r is not None], dtype=float)
    np.testing.assert_allclose(fast, slow, rtol=1e-9, atol=1e-9, equal_nan=True)


def test_smiles_of_library_species_gets_library_donor_data():
    X = feats([rec(metal="Cu", ligands="BTC:0.6667"),
               rec(metal="Cu", ligands="O=C([O-])c1cc(C(=O)[O-])cc(C(=O)[O-])c1:0.6667")])
    cols = [c for c in X.columns if c.startswith(("ligand_", "hsab_"))]
    pd.testing.assert_series_equal(X.loc[0, cols], X.loc[1, cols], check_names=False)
