"""Consistency and chemistry checks of the ligand library ``mlglass/chem/data/ligands.csv``."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from rdkit import Chem, RDLogger
from rdkit.Chem import Descriptors

RDLogger.DisableLog("rdApp.*")

CSV = Path(__file__).parents[1] / "mlglass" / "chem" / "data" / "ligands.csv"

COLUMNS = ["name", "aliases", "smiles", "charge", "donor_atoms", "donor_kind", "role", "full_name", "source"]
DONOR_KINDS = {
    "azolate_N", "azole_N", "nitrile_N", "thiocyanate_NS", "phosphate_O", "amide_O", "carboxylate_O",
    "phosphine_oxide_O", "diketonate_O", "sulfonate_O", "thiolate_S", "carbanion_C", "pyridine_N", "amine_N", "halide",
    "oxide_O", "hydroxide_O", "water_O", "alcohol_O", "none",
}
ROLES = {"bridging_linker", "terminal_ligand", "counter_ion", "guest", "complex_anion"}
REQUIRED = [
    "Im", "bIm", "mbIm", "ClbIm", "FbIm", "5-Cl-2-mbIm", "6-Cl-5-FbIm", "MeIm", "HTr", "BTA", "HbIm", "HmbIm",
    "ImH2", "H2dmbIm", "ClbImH", "bba", "hmba", "dca", "SCN-", "C2bpy", "C4bpy", "Phbpy", "3-Pybpv",
    "pyrazinamide", "mL1", "pL2", "succinonitrile", "FSA", "H2PO4", "HPO4", "H3PO4", "H2O", "MeOH", "C6H6", "CF3SO3",
    "hfa", "p-dpeb", "TPrA", "dema", "C4C1py", "ipim", "Cl-", "Br-", "CoCl4", "CoBr4", "MnCl4", "MnBr4",
    "ZnCl4", "FeCl4", "Co(NCS)4", "SPh", "SMePh", "SEtPh", "BDC", "BTC", "ndc", "OH", "O2-", "dobdc", "DABCO",
]


def _split(value: str) -> list[str]:
    return [p.strip() for p in value.split(";") if p.strip()]


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return pd.read_csv(CSV, dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def mols(table) -> dict[str, Chem.Mol]:
    return {row.name: Chem.MolFromSmiles(row.smiles) for row in table.itertuples()}


@pytest.fixture(scope="module")
def by_name(table) -> dict[str, pd.Series]:
    return {row["name"]: row for _, row in table.iterrows()}


def test_columns_exact(table):
    assert list(table.columns) == COLUMNS


def test_no_blank_required_fields(table):
    for col in ("name", "smiles", "charge", "donor_kind", "role", "full_name", "source"):
        blank = table.loc[table[col].str.strip() == "", "name"].tolist()
        assert not blank, f"blank {col}: {blank}"


def test_required_names_present(table):
    missing = sorted(set(REQUIRED) - set(table["name"]))
    assert not missing, missing


def test_names_unique(table):
    dup = table.loc[table["name"].duplicated(), "name"].tolist()
    assert not dup, dup


def test_names_and_aliases_have_no_separators(table):
    for row in table.itertuples():
        for token in [row.name, *_split(row.aliases)]:
            assert ";" not in token and token == token.strip() and token, (row.name, token)


def test_aliases_unique_and_not_names(table):
    names = set(table["name"])
    seen: dict[str, str] = {}
    for row in table.itertuples():
        for alias in _split(row.aliases):
            assert alias != row.name, f"{row.name}: alias repeats its own name"
            assert alias not in names, f"alias {alias!r} of {row.name} is another entry's name"
            assert alias not in seen, f"alias {alias!r} used by {seen.get(alias)} and {row.name}"
            seen[alias] = row.name


def test_tokens_unambiguous_case_insensitively(table):
    """A lower-cased name/alias must point at one entry only (own-name case variants such as bim are fine)."""
    owner: dict[str, str] = {}
    for row in table.itertuples():
        for token in [row.name, *_split(row.aliases)]:
            key = token.lower()
            assert owner.setdefault(key, row.name) == row.name, (token, owner[key], row.name)


def test_smiles_parse(table, mols):
    bad = [n for n, m in mols.items() if m is None]
    assert not bad, bad


def test_charge_matches_smiles(table, mols):
    for row in table.itertuples():
        assert int(row.charge) == Chem.GetFormalCharge(mols[row.name]), row.name


def test_role_and_donor_kind_allowed(table):
    assert set(table["role"]) <= ROLES, set(table["role"]) - ROLES
    assert set(table["donor_kind"]) <= DONOR_KINDS, set(table["donor_kind"]) - DONOR_KINDS


def test_donor_atoms_occur_in_molecule(table, mols):
    for row in table.itertuples():
        symbols = {a.GetSymbol() for a in mols[row.name].GetAtoms()} | {"H"}
        for sym in _split(row.donor_atoms):
            assert sym in symbols, (row.name, sym)


def test_donor_fields_consistent(table):
    for row in table.itertuples():
        donors = _split(row.donor_atoms)
        if row.donor_kind == "none":
            assert not donors, row.name
        if row.role in ("bridging_linker", "terminal_ligand"):
            assert donors and row.donor_kind != "none", row.name
        if row.role == "bridging_linker":
            assert len(donors) >= 1, row.name
        if row.role == "complex_anion":
            assert int(row.charge) < 0 and not donors, row.name


def test_donor_kind_matches_donor_element(table):
    for row in table.itertuples():
        donors = set(_split(row.donor_atoms))
        kind = row.donor_kind
        if not donors or kind in ("thiocyanate_NS", "halide", "nitrile_N"):
            continue
        assert donors == {kind.rsplit("_", 1)[1]}, (row.name, kind, donors)


def test_counter_ions_are_charged(table):
    for row in table.itertuples():
        if row.role in ("counter_ion", "complex_anion"):
            assert int(row.charge) != 0, row.name


# ---- chemical facts ----------------------------------------------------------------------------------

def test_imidazolate_and_imidazolium(by_name, mols):
    assert int(by_name["Im"]["charge"]) == -1
    assert int(by_name["ImH2"]["charge"]) == 1
    assert Chem.MolToSmiles(mols["Im"]) == Chem.MolToSmiles(Chem.MolFromSmiles("[n-]1ccnc1"))


def test_benzimidazolate_heavier_than_imidazolate(mols):
    assert Descriptors.MolWt(mols["bIm"]) > Descriptors.MolWt(mols["Im"])
    assert mols["bIm"].GetNumAtoms() == 9 and mols["Im"].GetNumAtoms() == 5


def test_neutral_azoles(by_name):
    for name in ("HTr", "BTA", "HbIm", "HmbIm", "bba", "hmba", "succinonitrile", "pyrazinamide", "p-dpeb", "DABCO",
                 "H2O", "MeOH", "C6H6", "mL1", "pL2", "H3PO4"):
        assert int(by_name[name]["charge"]) == 0, name


def test_anionic_azolates(by_name):
    for name in ("Im", "bIm", "mbIm", "ClbIm", "FbIm", "5-Cl-2-mbIm", "6-Cl-5-FbIm", "MeIm", "ipim"):
        assert int(by_name[name]["charge"]) == -1, name
        assert by_name[name]["donor_kind"] == "azolate_N"


def test_linker_charges(by_name):
    expected = {"BDC": -2, "BTC": -3, "ndc": -2, "dobdc": -4, "OH": -1, "O2-": -2, "H2PO4": -1, "HPO4": -2,
                "SCN-": -1, "dca": -1, "FSA": -1, "CF3SO3": -1, "hfa": -1, "SPh": -1, "TPrA": 1, "dema": 1,
                "C4C1py": 1, "C2bpy": 1, "C4bpy": 1, "Phbpy": 1, "3-Pybpv": 1, "H2dmbIm": 1, "ClbImH": 1}
    for name, q in expected.items():
        assert int(by_name[name]["charge"]) == q, name


def test_complex_anions_are_dianions(by_name, mols):
    for name, metal in (("CoCl4", "Co"), ("CoBr4", "Co"), ("MnCl4", "Mn"), ("MnBr4", "Mn"), ("ZnCl4", "Zn"),
                        ("FeCl4", "Fe"), ("Co(NCS)4", "Co")):
        assert int(by_name[name]["charge"]) == -2, name
        assert by_name[name]["role"] == "complex_anion"
        assert sum(a.GetSymbol() == metal for a in mols[name].GetAtoms()) == 1, name


def test_isothiocyanatocobaltate_is_n_bound(mols):
    co = next(a for a in mols["Co(NCS)4"].GetAtoms() if a.GetSymbol() == "Co")
    assert sorted(n.GetSymbol() for n in co.GetNeighbors()) == ["N"] * 4


def test_only_complex_anions_contain_metals(table, mols):
    metals = {"Co", "Mn", "Zn", "Fe", "Cu", "Ag", "Au", "Cd", "Li", "Mg", "Eu", "Ru", "Al", "Ga", "Zr", "Cr"}
    for row in table.itertuples():
        has_metal = any(a.GetSymbol() in metals for a in mols[row.name].GetAtoms())
        assert has_metal == (row.role == "complex_anion"), row.name


def test_review_isomers(mols):
    """mbIm is 5-methyl (review), HmbIm is 2-methyl, H2dmbIm is 5,6-dimethyl, 3-Pybpv is a terpyridinium."""
    same = lambda a, b: Chem.MolToSmiles(a) == Chem.MolToSmiles(Chem.MolFromSmiles(b))  # noqa: E731
    assert same(mols["mbIm"], "Cc1ccc2[n-]cnc2c1")
    assert same(mols["HmbIm"], "Cc1nc2ccccc2[nH]1")
    assert same(mols["H2dmbIm"], "Cc1cc2[nH+]c[nH]c2cc1C")
    assert same(mols["3-Pybpv"], "c1cncc(c1)-[n+]1ccc(-c2ccncc2)cc1")
    assert same(mols["hmba"], "CC(=O)NCCCCCCNC(C)=O")


def test_alias_lookup_examples(table):
    alias_to_name = {a: row.name for row in table.itertuples() for a in _split(row.aliases)}
    assert alias_to_name["H2Im"] == "ImH2"
    assert alias_to_name["NCS-"] == "SCN-"
    assert alias_to_name["mIm"] == "MeIm"
    assert alias_to_name["2-mIm"] == "MeIm"
    assert alias_to_name["Htrz"] == "HTr"
    assert alias_to_name["bim"] == "bIm"
    assert alias_to_name["3-Pybp"] == "3-Pybpv"
    assert alias_to_name["hmiba"] == "hmba"
    assert alias_to_name["2-Mebim"] == "HmbIm"
    assert alias_to_name["5-ClbIm"] == "ClbIm"
    assert alias_to_name["5-FbIm"] == "FbIm"
