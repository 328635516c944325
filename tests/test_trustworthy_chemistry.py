"""Issue 11 (descriptors and data labels): each test failed on main before the fix."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from mlglass.chem.elements import d_electron_count, metal_ion
from mlglass.chem.ligands import DONOR_SOFTNESS, describe, library_names, load_ligand_library, resolve_species
from mlglass.featurize import GlassFeaturizer
from mlglass.formula import parse_formula
from mlglass.records import record_from_mapping


def resolve_oxidation_states(record):
    from mlglass.chem.oxidation import resolve_oxidation_states as resolve

    return resolve(record)


def _feats(rows):
    return GlassFeaturizer().transform(pd.DataFrame(rows))


# ----------------------------------------------------------------- metal ion
def test_ionic_not_crystal_radius_at_coordination_number():
    from mlglass.chem.elements import shannon_ionic_radius

    assert shannon_ionic_radius("Zn", 2, "VI") == pytest.approx(0.74)
    assert shannon_ionic_radius("Zn", 2, "IV") == pytest.approx(0.60)
    X = _feats([{"metal": "Zn", "ligands": "Im:2", "geometry": "tetrahedral"},
                {"metal": "Zn", "ligands": "Im:2"}])
    assert "metal_ionic_radius_a" not in X.columns
    assert X["metal_shannon_ionic_radius_a"].tolist() == pytest.approx([0.60, 0.74])


@pytest.mark.parametrize("symbol, charge, expected", [("Ni", 2, 0.69), ("Cr", 3, 0.615), ("Sn", 2, math.nan)])
def test_missing_charge_never_borrows_another_charge(symbol, charge, expected):
    got = getattr(metal_ion(symbol, charge), "ionic_radius_vi_a", None)
    if got is None:  # main: one radius column, borrowed across charges
        got = metal_ion(symbol, charge).ionic_radius_a
    if math.isnan(expected):
        assert math.isnan(got)
    else:
        assert got == pytest.approx(expected)


@pytest.mark.parametrize("symbol, charge, d", [("Pd", 2, 8), ("Pt", 2, 8), ("Au", 3, 8), ("Au", 1, 10),
                                               ("Zn", 2, 10), ("Co", 2, 7), ("Cu", 2, 9), ("Ni", 2, 8)])
def test_d_count_of_the_ion(symbol, charge, d):
    assert d_electron_count(symbol, charge) == d


def test_cfse_on_one_delta_o_axis():
    X = _feats([{"metal": "Co", "ligands": "Im:2", "geometry": "tetrahedral"},
                {"metal": "Co", "ligands": "Im:2", "geometry": "octahedral"}])
    tet, octa = X["metal_cfse_geom_delta_o"].tolist()
    assert tet == pytest.approx(-1.2 * 4 / 9)    # -0.533 Delta_o, not -1.2 "Delta"
    assert octa == pytest.approx(-0.8)
    assert abs(tet) < abs(octa)


# ---------------------------------------------------------- oxidation states
@pytest.mark.parametrize("formula, ox", [("Cu2(SCN)3(C2bpy)", 1), ("Au(SPh)", 1), ("Eu(hfa)3(p-dpeb)", 3),
                                         ("Cu(SCN)2(3-Pybpv)", 1), ("(TPrA)[Mn(dca)3]", 2)])
def test_oxidation_state_from_charge_balance(formula, ox):
    states, method = resolve_oxidation_states(parse_formula(formula))
    assert method == "charge_balance"
    assert states[0][1] == ox


def test_oxidation_state_default_only_when_underdetermined():
    states, method = resolve_oxidation_states(parse_formula("Zn(pyrazinamide)2"))
    assert method == "default" and states == (("Zn", 2.0),)
    rec = record_from_mapping({"metal": "Cu", "oxidation_state": "2", "ligands": "SCN-:1.5;C2bpy:0.5"})
    assert resolve_oxidation_states(rec)[1] == "given"


def test_formula_and_equivalent_row_give_the_same_features():
    X = _feats([{"formula": "Cu2(SCN)3(C2bpy)"},
                {"metal": "Cu", "oxidation_state": 1, "ligands": "SCN-:1.5;C2bpy:0.5"},
                {"formula": "Mg(bba)3Cl2"},
                {"metal": "Mg", "oxidation_state": 2, "ligands": "bba:3", "counter_ions": "Cl-:2"}])
    labels = GlassFeaturizer().feature_labels()
    A = X[labels].to_numpy(float)
    np.testing.assert_allclose(A[0], A[1], equal_nan=True)
    np.testing.assert_allclose(A[2], A[3], equal_nan=True)


def test_bare_halides_are_counter_ions_and_tbua_is_known():
    rec = parse_formula("Mg(bba)3Cl2")
    assert [c.name for c in rec.ligands] == ["bba"]
    assert [(c.name, c.amount) for c in rec.counter_ions] == [("Cl-", 2.0)]
    assert resolve_species("TBuA", "counter_ions").charge == 1
    X = _feats([{"formula": "(TBuA)[Mn(dca)3]"}])
    assert X.loc[0, "error"] == ""


# ------------------------------------------------------------------ species
def _d(smiles, label):
    return describe(smiles)[label]


def test_charge_density_follows_the_species():
    assert _d("[OH-]", "charge_density") == pytest.approx(1.0)
    assert _d("OP(=O)(O)[O-]", "charge_density") == pytest.approx(0.5)
    assert _d("OP(=O)(O)[O-]", "charge_density") < _d("[OH-]", "charge_density")


def test_symmetry_counts_hydrogens():
    h3 = _d("OP(=O)(O)O", "symmetry_class_fraction")
    h2 = _d("OP(=O)(O)[O-]", "symmetry_class_fraction")
    bdc = _d("[O-]C(=O)c1ccc(cc1)C(=O)[O-]", "symmetry_class_fraction")
    assert h2 > bdc                              # H2PO4- is less symmetric than BDC (more classes)
    assert _d("OP(=O)(O)[O-]", "log2_automorphisms") != _d("OP(=O)(O)O", "log2_automorphisms")
    hpo4 = _d("OP(=O)([O-])[O-]", "log2_automorphisms")
    assert len({_d("OP(=O)(O)O", "log2_automorphisms"), _d("OP(=O)(O)[O-]", "log2_automorphisms"), hpo4}) >= 2
    assert h3 == pytest.approx(3 / 5)            # P, OH (x3), O: 3 classes over 5 heavy atoms


def test_one_donor_scale_consistent_with_pearson():
    soft = {k: DONOR_SOFTNESS[k] for k in ("carboxylate_O", "phosphate_O", "azolate_N", "thiocyanate_NS",
                                           "thiolate_S")}
    assert soft["carboxylate_O"] == soft["phosphate_O"] == 0.0
    assert soft["carboxylate_O"] < soft["azolate_N"] < soft["thiocyanate_NS"] <= soft["thiolate_S"]
    labels = GlassFeaturizer().feature_labels()
    assert not any("donor_atom_hardness" in lab or "hardness_gap" in lab for lab in labels)


@pytest.mark.parametrize("smiles, charge", [("O", 0), ("Cl", 0), ("CN", 0), ("SCN", 0), ("SN", 0), ("Br", 0)])
def test_a_valid_smiles_is_never_read_as_a_library_species(smiles, charge):
    sp = resolve_species(smiles)
    assert sp.charge == charge
    from rdkit import Chem

    assert sp.smiles == Chem.MolToSmiles(Chem.MolFromSmiles(smiles))


def test_no_library_name_is_the_smiles_of_another_species():
    from rdkit import Chem

    lib = load_ligand_library()
    for row in lib.itertuples(index=False):
        own = Chem.MolToSmiles(Chem.MolFromSmiles(row.smiles))
        for name in [row.name] + [a.strip() for a in row.aliases.split(";") if a.strip()]:
            mol = Chem.MolFromSmiles(name)
            if mol is not None and mol.GetNumHeavyAtoms() > 0:
                assert Chem.MolToSmiles(mol) == own, (row.name, name)
    assert "SCN-" in library_names() and "Cl-" in library_names()


# ------------------------------------------------------------------- Tg cap
def test_capped_tg_interval_brackets_the_estimate():
    from mlglass.models.boosting import FittedBooster
    from mlglass.models.predictor import GlassPredictor

    class Fixed(FittedBooster):
        def __init__(self, value, residuals):
            super().__init__(None, residuals=residuals, constant=value)

    heads = {"tm": Fixed(271.0, np.full(20, 40.0)), "tg": Fixed(260.0, np.full(20, 40.0)),
             "melt": Fixed(0.9, ())}
    p = GlassPredictor(heads, metadata={"tg_tm_ratio_cap": 0.97, "coverage": 0.8})
    out = p.predict_matrix(np.ones((1, len(p.feature_labels))))
    assert out["tg_lo_c"][0] < out["tg_c"][0] < out["tg_hi_c"][0]
    assert out["tg_hi_c"][0] - out["tg_c"][0] > 1.0


# -------------------------------------------------------------- data labels
def test_data_labels_follow_the_review_text():
    from mlglass.datasets import load_glasses

    d = load_glasses().set_index("id")
    assert d.loc["co_ncs_pyrazinamide", "tm_c"] == 198 and d.loc["cd_ncs_pyrazinamide", "tm_c"] == 205
    assert d.loc["zif62_mig_range", "melts"] == True  # noqa: E712 - nullable boolean
    assert d.loc["ru_cp_tchb_cp", "melts"] == True  # noqa: E712
    assert pd.isna(d.loc["ru_cp_tchb_il", "melts"])
    assert "MeOH" not in str(d.loc["zn2_hpo4_h2po4_clbimh_meoh", "counter_ions"])
    assert "C6H6" not in str(d.loc["ag_ml1_cf3so3", "counter_ions"])
    assert d.loc["zif8", "dimensionality"] == 3
