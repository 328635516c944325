"""RDKit molecules from fragment atoms: building the single-bonded graph with coordinates, removing helper
hydrogens, finding carbons that lost a hydrogen, and the SMILES of a perceived fragment.

Helpers of :func:`mlglass.structure.ligands.perceive_fragment`.
"""

from __future__ import annotations

import numpy as np

__all__ = ["single_atom_smiles", "build_mol", "deprotonate", "underbonded_carbons", "fragment_smiles",
           "NORMAL_VALENCE"]

#: Usual valence of the non-metal elements (for the formal charge of a lone atom).
NORMAL_VALENCE = {"O": 2, "S": 2, "Se": 2, "Te": 2, "N": 3, "P": 3, "As": 3, "C": 4, "Si": 4,
                   "F": 1, "Cl": 1, "Br": 1, "I": 1, "H": 1, "B": 3}


def single_atom_smiles(symbol: str, n_h: int) -> tuple[str, int]:
    from rdkit import Chem

    if symbol == "H" and n_h == 0:
        charge = -1  # a hydride on a metal
    else:
        valence = NORMAL_VALENCE.get(symbol)
        charge = (n_h - valence) if valence is not None else 0
    mol = Chem.RWMol()
    atom = Chem.Atom(symbol)
    atom.SetFormalCharge(int(charge))
    atom.SetNumExplicitHs(int(n_h))
    atom.SetNoImplicit(True)
    mol.AddAtom(atom)
    m = mol.GetMol()
    Chem.SanitizeMol(m)
    return Chem.MolToSmiles(m), int(charge)


def build_mol(symbols, bonds, coords):
    from rdkit import Chem
    from rdkit.Geometry import Point3D

    rw = Chem.RWMol()
    for sym in symbols:
        atom = Chem.Atom(sym)
        atom.SetNoImplicit(True)
        rw.AddAtom(atom)
    for i, j in bonds:
        rw.AddBond(int(i), int(j), Chem.BondType.SINGLE)
    conf = Chem.Conformer(len(symbols))
    for k, (x, y, z) in enumerate(np.asarray(coords, dtype=float)):
        conf.SetAtomPosition(k, Point3D(float(x), float(y), float(z)))
    conf.Set3D(True)
    rw.AddConformer(conf, assignId=True)
    return rw.GetMol()


def deprotonate(mol, added: list[int]):
    """Remove the helper H atoms ``added`` (indices), lowering their partner's formal charge by one each."""
    from rdkit import Chem

    rw = Chem.RWMol(mol)
    for h in sorted(added, reverse=True):
        partner = rw.GetAtomWithIdx(h).GetNeighbors()[0]
        partner.SetFormalCharge(partner.GetFormalCharge() - 1)
        partner.SetNoImplicit(True)
        partner.SetNumExplicitHs(0)
        rw.RemoveAtom(h)
    m = rw.GetMol()
    try:
        Chem.SanitizeMol(m)
    except Exception:  # noqa: BLE001
        return None
    return m


def underbonded_carbons(mol, contact_atoms) -> list[int]:
    """Carbons that must have lost an H: <= 2 neighbours (metals included), no triple bond, no acyclic C=C=X."""
    from rdkit import Chem

    contacts = set(contact_atoms)
    out = []
    for atom in mol.GetAtoms():
        if atom.GetSymbol() != "C":
            continue
        n = atom.GetDegree() + atom.GetTotalNumHs() + (1 if atom.GetIdx() in contacts else 0)
        if n > 2:
            continue
        types = [b.GetBondType() for b in atom.GetBonds()]
        if Chem.BondType.TRIPLE in types:
            continue
        if n == 2 and types.count(Chem.BondType.DOUBLE) == 2 and not atom.IsInRing():
            continue  # S=C=N-, O=C=O, N=C=N
        out.append(atom.GetIdx())
    return out


def fragment_smiles(mol) -> str:
    from rdkit import Chem

    mol = Chem.Mol(mol)
    Chem.AssignStereochemistryFrom3D(mol)
    for atom in mol.GetAtoms():
        atom.SetChiralTag(Chem.ChiralType.CHI_UNSPECIFIED)
    mol = Chem.RemoveHs(mol)
    return Chem.MolToSmiles(mol)
