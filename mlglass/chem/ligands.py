"""The ligand library and per-species descriptors (RDKit).

A *species* is a ligand, counter-ion, guest or complex anion as it sits in a
compound, with its charge. Users name species either by a library name
(``"bIm"``, ``"H2PO4"``; see ``mlglass/chem/data/ligands.csv``, built from the
Abbreviations of Ma & Horike, Chem. Rev. 2022, 122, 4163) or by a SMILES.
Descriptors are computed once per canonical SMILES and cached.

Names and SMILES: one rule
--------------------------
**A string that RDKit parses as a SMILES is always that molecule.** ``O`` is
water, ``Cl`` is HCl, ``CN`` is methylamine, ``SCN`` is aminomethanethiol. Library
names and aliases are therefore spelled so that none of them is a valid SMILES of
another species (checked by the test suite): chloride is ``Cl-``, bromide ``Br-``,
oxide ``O2-``, cyanide ``CN-``, thiocyanate ``SCN-`` (alias ``NCS-``), succinonitrile
``succinonitrile``. A library name that is also the SMILES of the *same* species
(``[Cl-]``) is harmless. Formula strings are the review's notation, not SMILES: there
:mod:`mlglass.formula` writes the review's abbreviations (``SCN``, ``SN``, bare ``Cl``)
under their library spellings.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import pandas as pd
from rdkit import Chem, rdBase
from rdkit.Chem import rdMolDescriptors

from mlglass.errors import InvalidSmilesError, UnknownSpeciesError

__all__ = [
    "Species",
    "SpeciesDescriptors",
    "load_ligand_library",
    "resolve_species",
    "species_descriptors",
    "library_names",
    "is_library_name",
    "DONOR_KINDS",
    "DONOR_SOFTNESS",
    "MAX_SMILES_LENGTH",
    "MAX_HEAVY_ATOMS",
]

rdBase.DisableLog("rdApp.*")

#: Longest SMILES accepted (characters) and largest species (heavy atoms).
MAX_SMILES_LENGTH = 600
MAX_HEAVY_ATOMS = 150
_MAX_RINGS = 20
_MAX_AUTOMORPHISMS = 5000

#: The one donor scale of mlglass: Pearson HSAB class of the donor (base) as a number,
#: 0 hard, 0.5 borderline, 1 soft (R. G. Pearson, J. Am. Chem. Soc. 1963, 85, 3533,
#: Table II of bases). O donors (carboxylate, phosphate, water, ...) and amines are hard;
#: azole/azolate/pyridine N and Br- borderline; thiolate S soft; thiocyanate 0.75 (N end
#: borderline, S end soft, both used in Cu(I) thiocyanate CPs); nitriles soft (the review's
#: Li+/succinonitrile argument, section 7.1.2). No neutral-atom hardness is used for donors:
#: it ranks O softer than azolate N, against these classes.
DONOR_SOFTNESS = {
    "azolate_N": 0.5, "azole_N": 0.5, "pyridine_N": 0.5, "amine_N": 0.0, "nitrile_N": 1.0,
    "thiocyanate_NS": 0.75, "phosphate_O": 0.0, "amide_O": 0.0, "carboxylate_O": 0.0,
    "phosphine_oxide_O": 0.0, "diketonate_O": 0.0, "sulfonate_O": 0.0, "thiolate_S": 1.0,
    "halide": 0.25, "oxide_O": 0.0, "hydroxide_O": 0.0, "water_O": 0.0, "alcohol_O": 0.0,
    "cyanide_C": 1.0, "carbanion_C": 1.0, "none": math.nan,
}
DONOR_KINDS = tuple(DONOR_SOFTNESS)

# SMARTS used to guess the donor kind of a species given only as SMILES (first match wins).
_DONOR_PATTERNS = [
    ("thiocyanate_NS", "[S-,SH]C#N"),
    ("thiocyanate_NS", "S=C=[N-,N]"),
    ("thiolate_S", "[S-;X1]"),
    ("cyanide_C", "[C-]#N"),
    ("nitrile_N", "[CX2]#[NX1]"),
    ("phosphate_O", "P(=O)[O-,OH]"),
    ("sulfonate_O", "S(=O)(=O)[O-]"),
    ("carboxylate_O", "C(=O)[O-]"),
    ("phosphine_oxide_O", "[PX4](=O)([#6])([#6])[#6]"),
    ("amide_O", "[CX3](=O)[NX3]"),
    ("diketonate_O", "[O-]C=CC=O"),
    ("azolate_N", "[n-]"),
    ("azole_N", "[nX2;r5]"),
    ("pyridine_N", "[nX2;r6]"),
    ("amine_N", "[NX3;H2,H1,H0;!$(NC=O);!$(N-a)]"),
    ("hydroxide_O", "[OH-]"),
    ("oxide_O", "[O-2]"),
    ("water_O", "[OH2]"),
    ("alcohol_O", "[CX4][OX2H]"),
    ("halide", "[F-,Cl-,Br-,I-]"),
]
_COMPILED_DONORS = [(k, Chem.MolFromSmarts(s)) for k, s in _DONOR_PATTERNS]
assert all(p is not None for _, p in _COMPILED_DONORS), "invalid donor SMARTS"
_EWG = [Chem.MolFromSmarts(s) for s in (
    "[N+](=O)[O-]", "C(F)(F)F", "[CX3]=O", "S(=O)=O", "[CX2]#N", "[F,Cl,Br,I]")]
_HALOGEN = Chem.MolFromSmarts("[F,Cl,Br,I]")


@dataclass(frozen=True)
class Species:
    """A resolved species.

    Attributes
    ----------
    name : str
        As given by the user.
    smiles : str
        Canonical SMILES (RDKit).
    charge : int
        Formal charge (e).
    donor_kind : str
        One of :data:`DONOR_KINDS`.
    n_donors : int
        Donor atoms per species.
    role : str
        ``bridging_linker``, ``terminal_ligand``, ``counter_ion``, ``guest`` or ``complex_anion``.
    from_library : bool
    """

    name: str
    smiles: str
    charge: int
    donor_kind: str
    n_donors: int
    role: str
    from_library: bool


@lru_cache(maxsize=1)
def load_ligand_library() -> pd.DataFrame:
    """The ligand library shipped with mlglass (``mlglass/chem/data/ligands.csv``)."""
    with resources.files("mlglass.chem").joinpath("data/ligands.csv").open("r", encoding="utf-8") as fh:
        lib = pd.read_csv(fh, dtype=str, keep_default_na=False)
    return lib


@lru_cache(maxsize=1)
def _name_index() -> tuple[dict[str, int], dict[str, int]]:
    lib = load_ligand_library()
    exact: dict[str, int] = {}
    folded: dict[str, int] = {}
    for i, row in enumerate(lib.itertuples(index=False)):
        names = [str(row.name)] + [a.strip() for a in str(row.aliases).split(";") if a.strip()]
        for n in names:
            exact.setdefault(n, i)
            folded.setdefault(n.casefold(), i)
    return exact, folded


def library_names() -> list[str]:
    """Every name and alias the library resolves."""
    return sorted(_name_index()[0])


def is_library_name(name: str) -> bool:
    """True if ``name`` is exactly a name or alias of the ligand library (case-sensitive)."""
    return name in _name_index()[0]


def _parse_smiles(text: str, field: str) -> Chem.Mol:
    if len(text) > MAX_SMILES_LENGTH:
        raise InvalidSmilesError(field, text, f"SMILES longer than {MAX_SMILES_LENGTH} characters")
    if not text.isascii() or any(c.isspace() for c in text):
        raise InvalidSmilesError(field, text, "SMILES must be plain ASCII without spaces")
    depth = 0
    for c in text:  # RDKit handles deep branches, but refuse absurd nesting early
        depth += c == "("
        depth -= c == ")"
        if depth > 50:
            raise InvalidSmilesError(field, text, "branches nested more than 50 deep")
    mol = Chem.MolFromSmiles(text)
    if mol is None:
        raise InvalidSmilesError(field, text, "RDKit cannot parse this SMILES")
    if mol.GetNumHeavyAtoms() == 0:
        raise InvalidSmilesError(field, text, "SMILES has no heavy atom")
    if mol.GetNumHeavyAtoms() > MAX_HEAVY_ATOMS:
        raise InvalidSmilesError(field, text, f"more than {MAX_HEAVY_ATOMS} heavy atoms; not a ligand")
    if mol.GetRingInfo().NumRings() > _MAX_RINGS:
        raise InvalidSmilesError(field, text, f"more than {_MAX_RINGS} rings; not a ligand")
    return mol


@lru_cache(maxsize=65536)
def _is_smiles(text: str) -> bool:
    """True if RDKit parses ``text`` as a SMILES with at least one heavy atom."""
    if len(text) > MAX_SMILES_LENGTH or not text.isascii() or any(c.isspace() for c in text):
        return False
    mol = Chem.MolFromSmiles(text)
    return mol is not None and mol.GetNumHeavyAtoms() > 0


def _looks_like_smiles(name: str) -> bool:
    return any(c in name for c in "=#[]@") or name.islower() or name in ("C", "N", "O", "S")


@lru_cache(maxsize=65536)
def resolve_species(name: str, field: str = "ligands") -> Species:
    """Resolve a SMILES or a library name (or alias) to a :class:`Species`.

    A valid SMILES is read as that molecule (module docstring); a SMILES of a
    library species gets the library's donor and role data. Anything else is
    matched to the library names exactly, then case-insensitively.

    Raises
    ------
    UnknownSpeciesError
        Neither a library name nor a valid SMILES (suggests close library names).
    InvalidSmilesError
        Looks like a SMILES but RDKit rejects it, or it is absurdly large.
    """
    if not isinstance(name, str) or not name.strip():
        raise UnknownSpeciesError(field, name, "empty species name")
    name = name.strip()
    exact, folded = _name_index()
    idx = exact.get(name)
    if idx is None and not _is_smiles(name):
        idx = folded.get(name.casefold())
    if idx is not None and not _is_smiles(name):
        return _from_library_row(name, idx)
    try:
        mol = _parse_smiles(name, field)
    except InvalidSmilesError as err:
        if idx is not None:
            return _from_library_row(name, idx)
        if _looks_like_smiles(name):
            raise
        close = difflib.get_close_matches(name, list(exact), n=4, cutoff=0.6)
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise UnknownSpeciesError(
            field, name,
            f"not a ligand-library name and not a valid SMILES ({err.reason}){hint} "
            f"See mlglass.chem.ligands.library_names() for the names.") from None
    canonical = Chem.MolToSmiles(mol)
    idx = _smiles_index().get(canonical)
    if idx is not None:  # a SMILES of a library species gets the library's donor and role data
        return _from_library_row(name, idx)
    kind, n_donors = _guess_donors(mol)
    return Species(name=name, smiles=canonical, charge=Chem.GetFormalCharge(mol), donor_kind=kind,
                   n_donors=n_donors, role="unknown", from_library=False)


@lru_cache(maxsize=1)
def _smiles_index() -> dict[str, int]:
    """Canonical SMILES of each library entry -> row (first entry wins)."""
    out: dict[str, int] = {}
    for i, smi in enumerate(load_ligand_library()["smiles"]):
        mol = Chem.MolFromSmiles(smi)
        if mol is not None:
            out.setdefault(Chem.MolToSmiles(mol), i)
    return out


def _from_library_row(name: str, idx: int) -> Species:
    row = load_ligand_library().iloc[idx]
    mol = Chem.MolFromSmiles(row["smiles"])
    donors = [d for d in str(row["donor_atoms"]).split(";") if d.strip()]
    return Species(name=name, smiles=Chem.MolToSmiles(mol), charge=int(row["charge"]),
                   donor_kind=row["donor_kind"] or "none", n_donors=len(donors), role=row["role"],
                   from_library=True)


def _guess_donors(mol: Chem.Mol) -> tuple[str, int]:
    for kind, patt in _COMPILED_DONORS:
        matches = mol.GetSubstructMatches(patt)
        if matches:
            return kind, len(matches)
    return "none", 0


@dataclass(frozen=True)
class SpeciesDescriptors:
    """RDKit descriptors of one species (see :func:`species_descriptors`)."""

    values: tuple[float, ...]

    LABELS = (
        "heavy_atoms", "molar_mass_g_per_mol", "vdw_volume_a3", "charge", "abs_charge",
        "charge_density", "rotatable_bonds", "kier_phi", "fraction_csp3", "longest_flexible_chain",
        "symmetry_class_fraction", "log2_automorphisms", "ring_count", "aromatic_fraction",
        "h_bond_donors", "halogens", "ewg_count", "donor_softness", "donor_atoms", "contains_metal",
    )


def _longest_flexible_chain(mol: Chem.Mol) -> int:
    """Longest path (in bonds) through acyclic single bonds between non-terminal heavy atoms."""
    adj: dict[int, list[int]] = {}
    for b in mol.GetBonds():
        i, j = b.GetBeginAtomIdx(), b.GetEndAtomIdx()
        terminal = mol.GetAtomWithIdx(i).GetDegree() < 2 or mol.GetAtomWithIdx(j).GetDegree() < 2
        if b.GetBondType() == Chem.BondType.SINGLE and not b.IsInRing() and not terminal:
            adj.setdefault(i, []).append(j)
            adj.setdefault(j, []).append(i)
    if not adj:
        return 0
    seen: set[int] = set()
    best = 0

    def farthest(start: int) -> tuple[int, int]:
        dist = {start: 0}
        stack = [start]
        while stack:  # acyclic subgraph: DFS distances are path lengths
            u = stack.pop()
            for v in adj[u]:
                if v not in dist:
                    dist[v] = dist[u] + 1
                    stack.append(v)
        node = max(dist, key=lambda k: dist[k])
        seen.update(dist)
        return node, dist[node]

    for start in adj:
        if start in seen:
            continue
        far, _ = farthest(start)
        _, length = farthest(far)
        best = max(best, length)
    return best


def _skeleton(mol: Chem.Mol) -> Chem.Mol:
    """Heavy-atom graph labelled by element and hydrogen count (no charges or bond orders).

    Symmetry is judged on this skeleton so that a charge drawn on one resonance
    position (imidazolate ``c1c[n-]cn1``) does not break the molecule's symmetry,
    while the species keeps its hydrogens as it is: H2PO4-, HPO4 2- and H3PO4 differ
    (their OH and O oxygens are not equivalent). The H count is carried in the atom's
    isotope label, which the canonical ranking and the automorphism search compare.
    """
    rw = Chem.RWMol()
    for a in mol.GetAtoms():
        atom = Chem.Atom(a.GetAtomicNum())
        atom.SetIsotope(a.GetTotalNumHs() + 1)
        rw.AddAtom(atom)
    for b in mol.GetBonds():
        rw.AddBond(b.GetBeginAtomIdx(), b.GetEndAtomIdx(), Chem.BondType.SINGLE)
    sk = rw.GetMol()
    sk.UpdatePropertyCache(strict=False)
    return sk


def _vdw_volume(mol: Chem.Mol) -> float:
    """Van der Waals volume (A^3) by Zhao, Abraham & Zissimos (J. Org. Chem. 2003, 68, 7368)."""
    molh = Chem.AddHs(mol)
    pt = Chem.GetPeriodicTable()
    atoms = sum(4.0 / 3.0 * math.pi * pt.GetRvdw(a.GetAtomicNum()) ** 3 for a in molh.GetAtoms())
    ri = molh.GetRingInfo()
    n_arom = sum(1 for ring in ri.AtomRings() if all(molh.GetAtomWithIdx(i).GetIsAromatic() for i in ring))
    n_nonarom = ri.NumRings() - n_arom
    return atoms - 5.92 * molh.GetNumBonds() - 14.7 * n_arom - 3.8 * n_nonarom


#: Resonance forms looked at for the charge density (the first forms RDKit finds).
_CHARGE_DENSITY_FORMS = 64
#: Steps of RDKit's resonance search allowed per species (counted by its progress callback, so the
#: bound holds inside the C++ loop and does not depend on machine speed); the library's species
#: need a few hundred at most.
_CHARGE_DENSITY_STEPS = 5_000
#: Conjugated groups larger than this are not searched (a porphyrin linker has 60 atoms; its
#: enumeration runs for minutes): their charge carriers are the atoms with a formal charge.
_CHARGE_DENSITY_GROUP_ATOMS = 40
_BUDGET_CLASS = None


def resonance_budget(max_steps: int):
    """A ``Chem.ResonanceMolSupplierCallback`` that cancels the search after ``max_steps`` steps."""
    global _BUDGET_CLASS
    if _BUDGET_CLASS is None:
        class _Budget(Chem.ResonanceMolSupplierCallback):
            def __init__(self, limit: int):
                super().__init__()
                self.limit = limit
                self.steps = 0

            def __call__(self) -> bool:  # type: ignore[override]  # the stub's base declares no __call__ signature
                self.steps += 1
                return self.steps < self.limit

        _BUDGET_CLASS = _Budget
    return _BUDGET_CLASS(max_steps)


def _charge_density(mol: Chem.Mol) -> float:
    """|net formal charge| divided by the number of atoms that carry it in some resonance form.

    The carriers are the atoms with a formal charge in any resonance structure that
    RDKit enumerates (``Chem.ResonanceMolSupplier``), plus, for an oxo-anion, the
    H-free terminal O/S atoms on the same central atom as a charged terminal O/S
    (P=O / S=O resonance, which RDKit does not enumerate for hypervalent centres).
    So OH- is 1, acetate and H2PO4- 1/2, HPO4 2- 2/3, triflate 1/3, imidazolate 1/3:
    computed on the species as it is, with its hydrogens.
    """
    q = abs(Chem.GetFormalCharge(mol))
    if q == 0:
        return 0.0
    host: set[int] = set()
    try:
        sup = Chem.ResonanceMolSupplier(mol, 0, _CHARGE_DENSITY_FORMS)
        groups = [sup.GetAtomConjGrpIdx(i) for i in range(mol.GetNumAtoms())]
        size = max([groups.count(g) for g in set(groups) if g >= 0], default=0)
        if size <= _CHARGE_DENSITY_GROUP_ATOMS:  # larger groups: formal charges only (bounded by design)
            sup.SetProgressCallback(resonance_budget(_CHARGE_DENSITY_STEPS))
            for res in sup:
                if res is not None:
                    host.update(a.GetIdx() for a in res.GetAtoms() if a.GetFormalCharge() != 0)
    except (RuntimeError, ValueError):  # pragma: no cover - RDKit failure: formal charges only
        pass
    host.update(a.GetIdx() for a in mol.GetAtoms() if a.GetFormalCharge() != 0)
    for i in list(host):
        atom = mol.GetAtomWithIdx(i)
        if atom.GetSymbol() in ("O", "S") and atom.GetDegree() == 1 and atom.GetTotalNumHs() == 0:
            centre = atom.GetNeighbors()[0]
            for nb in centre.GetNeighbors():
                if nb.GetSymbol() in ("O", "S") and nb.GetDegree() == 1 and nb.GetTotalNumHs() == 0:
                    host.add(nb.GetIdx())
    return q / max(len(host), 1)


@lru_cache(maxsize=65536)
def species_descriptors(smiles: str, donor_kind: str = "none", n_donors: int = 0) -> tuple[float, ...]:
    """Descriptors of a species given by canonical SMILES, in the order of ``SpeciesDescriptors.LABELS``.

    Units: molar mass g/mol, volume A^3, charge e, hardness eV. Flexibility:
    rotatable bonds (RDKit strict definition), Kier flexibility index Phi,
    fraction of sp3 carbons, longest path of acyclic single bonds. Symmetry:
    number of topologically distinct atom classes (canonical ranking without tie
    breaking) over heavy atoms, and log2 of the automorphism-group size
    (capped at 5000 automorphisms).
    """
    from mlglass.chem.elements import is_metal

    mol = Chem.MolFromSmiles(smiles)
    n = mol.GetNumHeavyAtoms()
    charge = Chem.GetFormalCharge(mol)
    skeleton = _skeleton(mol)
    ranks = list(Chem.CanonicalRankAtoms(skeleton, breakTies=False))
    classes = len(set(ranks)) / n
    autos = len(skeleton.GetSubstructMatches(skeleton, uniquify=False, maxMatches=_MAX_AUTOMORPHISMS,
                                             useChirality=False))
    try:
        phi = float(rdMolDescriptors.CalcPhi(mol)) if n > 1 else 0.0
    except (RuntimeError, ValueError, ZeroDivisionError):
        phi = 0.0
    if not math.isfinite(phi):
        phi = 0.0
    arom = sum(a.GetIsAromatic() for a in mol.GetAtoms()) / n
    halogens = len(mol.GetSubstructMatches(_HALOGEN)) if charge == 0 or n > 1 else 0
    ewg = sum(len(mol.GetSubstructMatches(p)) for p in _EWG) if n > 1 else 0
    has_metal = float(any(is_metal(a.GetSymbol()) for a in mol.GetAtoms()))
    values = (
        float(n), float(rdMolDescriptors.CalcExactMolWt(mol)), _vdw_volume(mol), float(charge), float(abs(charge)),
        _charge_density(mol), float(rdMolDescriptors.CalcNumRotatableBonds(mol, strict=True)), phi,
        float(rdMolDescriptors.CalcFractionCSP3(mol)), float(_longest_flexible_chain(mol)), classes,
        math.log2(max(autos, 1)), float(rdMolDescriptors.CalcNumRings(mol)), arom,
        float(rdMolDescriptors.CalcNumHBD(mol)), float(halogens), float(ewg),
        DONOR_SOFTNESS.get(donor_kind, math.nan), float(n_donors), has_metal,
    )
    return values


def describe(name: str, field: str = "ligands") -> dict[str, Any]:
    """Species and descriptors of one name, as a dict (for notebooks)."""
    sp = resolve_species(name, field)
    vals = species_descriptors(sp.smiles, sp.donor_kind, sp.n_donors)
    return {"name": sp.name, "smiles": sp.smiles, "charge": sp.charge, "donor_kind": sp.donor_kind,
            "role": sp.role, **dict(zip(SpeciesDescriptors.LABELS, vals))}
