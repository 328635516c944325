"""Labels of a structure fragment: its Hill formula, an exact key of its bond graph, and the solvent it is.

Split out of :mod:`mlglass.structure.ligands` (which re-exports every public name here).
"""

from __future__ import annotations

from mlglass.structure.bonds import BondGraph
from mlglass.structure.fragments import Fragment

__all__ = ["SOLVENT_SMILES_RAW", "solvent_table", "is_solvent", "fragment_formula", "fragment_key", "hill_formula"]

#: Canonical SMILES of common crystallisation/synthesis solvents. A fragment
#: with one of these SMILES that is *not* bonded to a metal is a solvent guest.
SOLVENT_SMILES_RAW = {
    "water": "O", "methanol": "CO", "ethanol": "CCO", "1-propanol": "CCCO", "2-propanol": "CC(C)O",
    "DMF": "CN(C)C=O", "DEF": "CCN(CC)C=O", "DMA": "CC(=O)N(C)C", "NMP": "CN1CCCC1=O",
    "DMSO": "CS(C)=O", "acetone": "CC(C)=O", "acetonitrile": "CC#N", "THF": "C1CCOC1",
    "1,4-dioxane": "C1COCCO1", "diethyl ether": "CCOCC", "benzene": "c1ccccc1", "toluene": "Cc1ccccc1",
    "chlorobenzene": "Clc1ccccc1", "xylene": "Cc1ccccc1C", "p-xylene": "Cc1ccc(C)cc1",
    "m-xylene": "Cc1cccc(C)c1", "dichloromethane": "ClCCl", "chloroform": "ClC(Cl)Cl",
    "tetrachloromethane": "ClC(Cl)(Cl)Cl", "cyclohexane": "C1CCCCC1", "hexane": "CCCCCC",
    "pentane": "CCCCC", "ethyl acetate": "CCOC(C)=O", "ethylene glycol": "OCCO", "formamide": "NC=O",
    "nitrobenzene": "O=[N+]([O-])c1ccccc1", "pyridine": "c1ccncc1", "formic acid": "O=CO",
    "acetic acid": "CC(=O)O", "mesitylene": "Cc1cc(C)cc(C)c1", "ammonia": "N",
}


def _canon(smiles: str) -> str:
    from rdkit import Chem

    mol = Chem.MolFromSmiles(smiles)
    return Chem.MolToSmiles(mol) if mol is not None else smiles


_SOLVENTS: dict[str, str] | None = None


def solvent_table() -> dict[str, str]:
    """Canonical SMILES -> solvent name."""
    global _SOLVENTS
    if _SOLVENTS is None:
        _SOLVENTS = {_canon(s): name for name, s in SOLVENT_SMILES_RAW.items()}
    return _SOLVENTS


def is_solvent(smiles: str) -> str | None:
    """Name of the solvent with this canonical SMILES, or ``None``."""
    return solvent_table().get(smiles)


def hill_formula(symbols: list[str]) -> str:
    """Hill-ordered formula of a list of element symbols (C, H, then alphabetical), e.g. ``C8H4O4``."""
    from collections import Counter

    c = Counter(symbols)
    order = (["C"] if "C" in c else []) + (["H"] if "H" in c else [])
    order += sorted(k for k in c if k not in ("C", "H"))
    return "".join(f"{el}{c[el] if c[el] > 1 else ''}" for el in order)


def fragment_formula(fragment: Fragment, graph: BondGraph) -> str:
    """Hill-ordered formula of a fragment, e.g. ``C8H4O4``."""
    return hill_formula([graph.symbols[i] for i in fragment.atoms])


def fragment_key(fragment: Fragment, graph: BondGraph) -> str:
    """Exact key of a fragment's labelled bond graph: RDKit canonical SMILES with all bonds single and
    every H explicit. Two fragments with the same key are the same species up to geometry."""
    from rdkit import Chem

    rw = Chem.RWMol()
    for a in fragment.atoms:
        atom = Chem.Atom(graph.symbols[a])
        atom.SetNoImplicit(True)
        rw.AddAtom(atom)
    for i, j in fragment.internal_bonds(graph):
        rw.AddBond(i, j, Chem.BondType.SINGLE)
    mol = rw.GetMol()
    mol.UpdatePropertyCache(strict=False)
    Chem.FastFindRings(mol)
    return Chem.MolToSmiles(mol)
