"""Turn an unwrapped fragment into an RDKit molecule and a canonical SMILES.

Charge rule (documented)
------------------------
The bonds come from the periodic bond graph (:mod:`mlglass.structure.bonds`),
never from RDKit's own distance rules. Bond orders and formal charges are
then perceived with ``rdkit.Chem.rdDetermineBonds.DetermineBondOrders``
(the xyz2mol algorithm), which needs the total charge *q* of the fragment.
The charge of a deprotonated linker is not written in a CIF, so *q* is
searched:

* fragment bonded to a metal (a ligand): q = 0, -1, -2, ... down to
  ``-(n_donor_atoms + 2)`` (at most -8), then +1, +2;
* fragment not bonded to a metal (counter-ion or guest): q = 0, +1, -1, +2,
  -2, ... up to |q| = 4.

Charges that leave an odd number of electrons are skipped (the H atoms are
explicit, so the parity of *q* is fixed). A structure RDKit returns is kept
only if it is chemically sensible: no radical electrons, no atom with
|formal charge| > 1, no positively charged C, O, S or halogen. Each kept
structure is brought to its preferred resonance form (below), and among all
charges the one whose form has (1) the fewest negatively charged carbons, (2)
the most aromatic atoms, (3) comes first in the order above wins. xyz2mol
alone would take the first charge that works, and that is wrong for
conjugated linkers: with q = 0 it happily writes neutral quinoid isomers of
1,4-benzenedipyrazolate and 2,5-dioxidoterephthalate (dobdc) instead of the
aromatic dianion/tetra-anion; rule (2) picks the aromatic species. Results:
imidazolate -1, terephthalate -2, dobdc -4, DABCO 0, cyanide -1,
dimethylammonium +1.

Resonance form: xyz2mol puts charges wherever its search ends (imidazolate as
``c1[cH-]ncn1``). When the placement can be ambiguous (a charged carbon, a
charged ring atom, or a non-aromatic ring of sp2 atoms), the resonance
structures (``Chem.ResonanceMolSupplier``, at most 512) are scored by negatively
charged carbons, then aromatic atoms (more is better), then number of charged
atoms, and the lexicographically smallest canonical SMILES of the best score is
the ligand's name. The search is bounded by design: RDKit's progress callback stops it after :data:`MAX_RESONANCE_WORK`
(steps x the largest conjugated group's atoms squared) per structure and
:data:`MAX_RESONANCE_WORK_PER_FRAGMENT` per fragment, and a conjugated group
of more than :data:`MAX_RESONANCE_GROUP_ATOMS` atoms is not searched (all fixed
before the search starts, and step counts rather than seconds, so the outcome
does not depend on the machine). The best form found, the perceived one
included, is kept; the record then carries a warning. :func:`canonical_ligand_smiles`
applies the same normalisation to any SMILES, so two spellings of one species
(``c1c[n-]cn1`` / ``c1[cH-]ncn1``) compare equal after it.

Single heavy atoms (bridging O, OH, water, halide, ...) skip RDKit's search:
their charge is ``n_H - normal valence`` (O: 2, N: 3, S: 2, halogens: 1), so a
μ4-O in Zn4O is ``[O-2]``, a μ-OH is ``[OH-]`` and a coordinated water ``O``.

Missing hydrogens: a carbon with at most two neighbours (metals included) and
neither a triple bond nor an acyclic cumulated C=C=X bond has lost an H atom
(the C-H positions of the Ni layer in ``ni_2d_flake.cif``, which has no H at
all, come out as carbanions and ring cumulenes); the fragment is refused with
:class:`FragmentPerceptionError`. H-free species such as cyanide, thiocyanate,
CO2, oxalate or CF3 groups pass.

SMILES are RDKit canonical SMILES with implicit hydrogens and aromatic
lower-case atoms (no ``:``). Double-bond E/Z configuration is taken from the
3D coordinates (fumarate is ``/C=C/``); tetrahedral chirality is dropped,
because a racemic crystal would otherwise split one linker into two entries.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mlglass.structure.bonds import BondGraph
from mlglass.structure.fragment_labels import (
    SOLVENT_SMILES_RAW,
    fragment_formula,
    fragment_key,
    hill_formula,
    is_solvent,
    solvent_table,
)
from mlglass.structure.fragments import Fragment
from mlglass.structure.molecules import (
    NORMAL_VALENCE,
    build_mol,
    deprotonate,
    fragment_smiles,
    single_atom_smiles,
    underbonded_carbons,
)

__all__ = ["PerceivedFragment", "perceive_fragment", "canonical_ligand_smiles", "fragment_key", "fragment_formula",
           "FragmentPerceptionError", "SOLVENT_SMILES_RAW", "solvent_table", "is_solvent", "charge_sequence"]

_NO_POSITIVE = {"C", "O", "S", "Se", "F", "Cl", "Br", "I"}


class FragmentPerceptionError(ValueError):
    """RDKit found no sensible bond orders for a fragment at any tried charge."""


@dataclass(frozen=True)
class PerceivedFragment:
    """Result of perceiving one fragment."""

    smiles: str
    charge: int
    formula: str
    n_heavy: int
    carbanion: bool = False
    resonance_capped: bool = False  # the resonance search hit MAX_RESONANCE_STEPS for some tried charge


def charge_sequence(bonded_to_metal: bool, n_contacts: int) -> list[int]:
    """Charges tried, in order (see module docstring)."""
    if bonded_to_metal:
        low = min(8, n_contacts + 2)
        return [0] + [-k for k in range(1, low + 1)] + [1, 2]
    seq = [0]
    for k in range(1, 5):
        seq += [k, -k]
    return seq


def _sensible(mol) -> bool:
    for atom in mol.GetAtoms():
        if atom.GetNumRadicalElectrons():
            return False
        fc = atom.GetFormalCharge()
        if abs(fc) > 1:
            return False
        if fc > 0 and atom.GetSymbol() in _NO_POSITIVE:
            return False
    return True


def _has_carbanion(mol) -> bool:
    """A negatively charged C that is not a cyanide/isocyanide-type triple-bonded carbon."""
    from rdkit import Chem

    for atom in mol.GetAtoms():
        if atom.GetSymbol() == "C" and atom.GetFormalCharge() < 0:
            if any(b.GetBondType() == Chem.BondType.TRIPLE for b in atom.GetBonds()):
                continue
            return True
    return False


def _resonance_score(mol) -> tuple[int, int, int]:
    n_carbanion = sum(1 for a in mol.GetAtoms() if a.GetSymbol() == "C" and a.GetFormalCharge() < 0)
    n_arom = sum(1 for a in mol.GetAtoms() if a.GetIsAromatic())
    n_charged = sum(1 for a in mol.GetAtoms() if a.GetFormalCharge() != 0)
    return n_carbanion, -n_arom, n_charged


def _needs_resonance(mol) -> bool:
    """True if the charge placement of ``mol`` may be one of several: a charged C, a charged ring
    atom, or a ring of unsaturated atoms that is not aromatic (quinoid form)."""
    from rdkit import Chem

    ring_info = mol.GetRingInfo()
    for atom in mol.GetAtoms():
        fc = atom.GetFormalCharge()
        if fc and (atom.GetSymbol() == "C" or atom.IsInRing()):
            return True
    for ring in ring_info.AtomRings():
        atoms = [mol.GetAtomWithIdx(i) for i in ring]
        if all(not a.GetIsAromatic() for a in atoms) and all(
                a.GetHybridization() in (Chem.HybridizationType.SP2, Chem.HybridizationType.SP) for a in atoms):
            return True
    return False


#: ``maxIterations`` of RDKit's bond-order search (xyz2mol) per tried charge.
#: It counts valence/charge combinations tried, so the bound is deterministic,
#: and a failed search costs time proportional to it: about 12 ms per 100
#: iterations for a 77-92-atom fragment (REYJEM, VEJHID), i.e. 12 s per failed
#: charge at RDKit's default of 100 000 and up to 63 failed charges per file
#: (VEJHID: more than 120 s). At 2 000 a failed search costs about 0.25 s;
#: the records of ``../shared/cifs`` and of a 300-file sample of the thermal
#: set were compared before/after (see ``benchmarks/cif_bench.py``).
DETERMINE_MAX_ITERATIONS = 2_000
#: When no tried charge gives a usable structure at ``DETERMINE_MAX_ITERATIONS``,
#: all candidates are searched again at ``ESCALATED_MAX_ITERATIONS`` (RDKit's
#: default), which is the search as it was before the cap: a large linker that
#: needs the longer search (AXUHIL, PEVBUP in the thermal sample: RDKit returns
#: bond orders at 2 000 iterations that are then rejected as not sensible) gets
#: the same result as before, and only fragments that fail at the cap pay the
#: old cost (bounded by the per-file limit).
ESCALATED_MAX_ITERATIONS = 100_000

_MAX_RESONANCE_FORMS = 512
#: Work allowed to RDKit's resonance search for one structure: steps x n², n the
#: number of atoms in the largest conjugated group (a step's cost grows about
#: with n²: 0.3-0.6 ms at n = 20, 2.5 ms at n = 30, 10 ms at n = 60). RDKit calls a
#: progress callback at every step of its search and stops when the callback says
#: so, so the bound holds inside the C++ loop; it is fixed before the search
#: starts and counts steps, not seconds, so the result does not depend on the
#: machine's speed. Measured needs: the linkers of ``../shared/cifs`` at most
#: 356 steps at n = 20 (2,6-naphthalenedipyrazolate, 0.14 M); a sample of the
#: thermal set at most 768 steps at n = 29 (MAKHAK, 0.65 M).
MAX_RESONANCE_WORK = 1_500_000
#: Work allowed for all the tried charges of one fragment together (up to ~14
#: candidate structures are searched; once this is spent, the remaining
#: candidates are scored as perceived).
MAX_RESONANCE_WORK_PER_FRAGMENT = 2_000_000
#: Largest conjugated group (atoms) whose resonance forms are searched at all;
#: a larger one keeps its charges where the bond-order perception put them. The
#: largest group the samples needed to search to the end has 29 atoms; a
#: porphyrin tetracarboxylate (TCPP, AVILEY in the thermal set, 60 atoms) runs
#: for tens of minutes without a bound, and 10-60 ms per step with one.
MAX_RESONANCE_GROUP_ATOMS = 40

def _best_resonance(mol, max_work: int | None = None):
    """(score, canonical SMILES without H, molecule, complete, work) of the preferred resonance form of ``mol``.

    Resonance structures are enumerated only when :func:`_needs_resonance` says
    the charge placement is ambiguous (the enumeration is combinatorial: a
    tritopic linker such as BTB has tens of thousands of forms, 4 s), and the
    search is bounded by ``max_work`` (default :data:`MAX_RESONANCE_WORK`) steps
    x (atoms of the largest conjugated group)², which RDKit honours inside its
    C++ loop; a conjugated group larger than :data:`MAX_RESONANCE_GROUP_ATOMS`
    is not searched. ``complete`` is false when the bound stopped the search; the best of
    the forms found until then (always including ``mol`` itself, as perceived)
    is returned. ``work`` is the work used; ``max_work=0`` skips the search.
    """
    from rdkit import Chem

    from mlglass.chem.ligands import resonance_budget
    from mlglass.structure import _stages

    best = None
    forms = [mol]
    complete = True
    work = 0
    limit = MAX_RESONANCE_WORK if max_work is None else max(0, int(max_work))
    if _needs_resonance(mol):
        _stages.enter("resonance")
        try:
            supplier = Chem.ResonanceMolSupplier(mol, 0, _MAX_RESONANCE_FORMS)
            groups = [supplier.GetAtomConjGrpIdx(i) for i in range(mol.GetNumAtoms())]
            size = max([groups.count(g) for g in set(groups) if g >= 0], default=1)
            cost = max(size, 1) ** 2  # work per step
            max_steps = limit // cost if size <= MAX_RESONANCE_GROUP_ATOMS else 0
            if max_steps < 1:
                complete = False
            else:
                budget = resonance_budget(max_steps)
                supplier.SetProgressCallback(budget)
                forms += [r for r in supplier if r is not None]
                complete = not supplier.WasCanceled()
                work = budget.steps * cost
        except Exception:  # noqa: BLE001 - resonance enumeration is an optional refinement
            pass
        _stages.enter("ligands")
    for form in forms:
        m = Chem.Mol(form)
        try:
            Chem.SanitizeMol(m)
        except Exception:  # noqa: BLE001
            continue
        if not _sensible(m):
            continue
        smi = Chem.MolToSmiles(Chem.RemoveHs(m))
        key = (_resonance_score(m), smi)
        if best is None or key < best[0]:
            best = (key, m)
    if best is None:
        return None
    (score, smi), m = best
    return score, smi, m, complete, work


def canonical_ligand_smiles(smiles: str) -> str:
    """Canonical SMILES of the preferred resonance form (see module docstring).

    Raises
    ------
    ValueError
        RDKit cannot parse ``smiles``.
    """
    from rdkit import Chem

    mol = Chem.MolFromSmiles(smiles)
    if mol is None:
        raise ValueError(f"RDKit cannot parse SMILES {smiles!r}")
    best = _best_resonance(Chem.AddHs(mol))
    return best[1] if best is not None else Chem.MolToSmiles(mol)


def _determine(mol, q: int, max_iterations: int):
    """Copy of ``mol`` with bond orders for total charge ``q``, or None."""
    from rdkit import Chem
    from rdkit.Chem import rdDetermineBonds

    m = Chem.Mol(mol)
    try:
        rdDetermineBonds.DetermineBondOrders(m, charge=int(q), allowChargedFragments=True, embedChiral=False,
                                             maxIterations=max_iterations)
        Chem.SanitizeMol(m)
    except Exception:  # noqa: BLE001 - RDKit signals "no valid structure" with various exception types
        return None
    return m


def perceive_fragment(fragment: Fragment, structure, graph: BondGraph, *,
                      max_iterations: int = DETERMINE_MAX_ITERATIONS) -> PerceivedFragment:
    """Perceive bond orders and charge of a finite fragment (see module docstring).

    Raises
    ------
    FragmentPerceptionError
        No tried charge gives a sensible structure (typically missing or
        extra hydrogen atoms, or an unresolved disorder).
    ValueError
        The fragment is periodic (not a molecule).
    """
    from rdkit import Chem

    if fragment.periodic:
        raise ValueError("periodic fragment is not a molecule")
    symbols = [graph.symbols[i] for i in fragment.atoms]
    formula = hill_formula(symbols)
    heavy = [k for k, s in enumerate(symbols) if s != "H"]
    if len(heavy) <= 1:
        if heavy:
            sym = symbols[heavy[0]]
            n_h = len(symbols) - 1
        else:  # lone H atoms
            sym, n_h = "H", 0
        smi, q = single_atom_smiles(sym, n_h)
        return PerceivedFragment(smi, q, formula, len(heavy))

    coords = np.asarray(fragment.cart_coords(structure), dtype=float)
    bonds = fragment.internal_bonds(graph)
    base = build_mol(symbols, bonds, coords)
    n_electrons = sum(a.GetAtomicNum() for a in base.GetAtoms())
    pos = {a: k for k, a in enumerate(fragment.atoms)}
    contact_atoms = sorted({pos[a] for a, _, _ in fragment.metal_contacts})
    # quick refusal before the (expensive) charge search: a ring carbon with two
    # neighbours cannot be triple-bonded or an acyclic cumulene, so it lost an H
    Chem.FastFindRings(base)
    ring_info = base.GetRingInfo()
    contacts_set = set(contact_atoms)
    bare = [a.GetIdx() for a in base.GetAtoms()
            if a.GetSymbol() == "C" and ring_info.NumAtomRings(a.GetIdx())
            and a.GetDegree() + (a.GetIdx() in contacts_set) <= 2]
    if bare:
        raise FragmentPerceptionError(
            f"fragment {formula} has {len(bare)} ring carbon atom(s) with only two neighbours: hydrogen atoms are "
            "missing from the file")

    # Candidate structures are (route, charge) pairs, ranked by (|q|, route, order).
    # Each one costs an RDKit bond-order search (seconds for a large linker, most
    # of them failing), so they are perceived lazily in rank order, and the search
    # stops as soon as the winner is certain (below); the choice is the same as
    # perceiving all of them first.
    tried: list[int] = []
    todo: list[tuple[tuple[int, int, int], int, int]] = []  # ((|q|, route, order), route, q tried)

    # route 0: RDKit's charge search on the fragment as it is
    for order, q in enumerate(charge_sequence(fragment.bonded_to_metal, len(contact_atoms))):
        if (n_electrons - q) % 2:
            continue  # odd electron count: cannot be closed-shell
        tried.append(q)
        todo.append(((abs(q), 0, order), 0, q))

    # route 1: xyz2mol is at home with neutral molecules but cannot place the
    # charges of some deprotonated azolates (1,4-benzenedipyrazolate at q = -2,
    # 2,6-naphthalenedipyrazolate). So build the conjugate acid: group the N/O/S
    # donor atoms that have room for an H (donors <= 2 bonds apart form one
    # group: the two O of a carboxylate, the N of an azolate ring), put one
    # helper H on the first donor of each group, where the metal was, perceive
    # that molecule, and remove the helper H atoms again.
    degree = [a.GetDegree() for a in base.GetAtoms()]
    donors = [k for k in contact_atoms
              if symbols[k] in ("N", "O", "S", "Se") and degree[k] < NORMAL_VALENCE[symbols[k]]]
    prot, added = None, []
    if donors:
        dist = Chem.GetDistanceMatrix(base)
        groups: list[list[int]] = []
        for k in donors:
            for grp in groups:
                if any(dist[k][j] <= 2 for j in grp):
                    grp.append(k)
                    break
            else:
                groups.append([k])
        sites = [grp[0] for grp in groups]
        lattice = structure.lattice
        metal_pos: dict[int, np.ndarray] = {}
        for a, m_idx, img in fragment.metal_contacts:
            metal_pos.setdefault(pos[a], lattice.get_cartesian_coords(structure[m_idx].frac_coords + np.array(img)))
        h_coords = []
        for k in sites:
            v = metal_pos[k] - coords[k]
            h_coords.append(coords[k] + v / max(np.linalg.norm(v), 1e-6))
        n0 = len(symbols)
        prot = build_mol(symbols + ["H"] * len(sites), list(bonds) + [(k, n0 + i) for i, k in enumerate(sites)],
                          np.vstack([coords, np.array(h_coords)]))
        added = list(range(n0, n0 + len(sites)))
        n_el_p = n_electrons + len(sites)
        seq = [0]
        for k in range(1, len(sites) + 3):
            seq += [k, -k]
        for order, qp in enumerate(seq):
            if (n_el_p - qp) % 2:
                continue
            todo.append(((abs(qp - len(sites)), 1, order), 1, qp))

    def perceive(route: int, q_tried: int, iterations: int):
        """(charge of the fragment, molecule) of one candidate, or None."""
        if route == 0:
            m = _determine(base, q_tried, iterations)
            return None if m is None else (q_tried, m)
        m = _determine(prot, q_tried, iterations)
        if m is None:
            return None
        final = deprotonate(m, added)
        return None if final is None else (q_tried - len(added), final)

    # choose: fewest carbanions, most aromatic atoms, smallest |q|, route, order.
    # No candidate can do better than (0 carbanions, every ring atom with < 4
    # neighbours aromatic), so the search stops at the first candidate (in rank
    # order) that reaches this bound: every later one ranks after it.
    ring_info = base.GetRingInfo()
    max_arom = sum(1 for a in base.GetAtoms() if ring_info.NumAtomRings(a.GetIdx()) and a.GetDegree() < 4)
    best = None
    capped = False
    work_left = MAX_RESONANCE_WORK_PER_FRAGMENT
    ranked = sorted(todo, key=lambda c: c[0])
    # pass 1: every candidate at ``max_iterations``; pass 2, only if pass 1
    # found nothing: every candidate again at RDKit's default (some large
    # linkers need more than DETERMINE_MAX_ITERATIONS)

    def attempts():
        for key, route, q_tried in ranked:
            yield key, route, q_tried, max_iterations
        if best is None and max_iterations < ESCALATED_MAX_ITERATIONS:
            for key, route, q_tried in ranked:
                yield key, route, q_tried, ESCALATED_MAX_ITERATIONS

    for key, route, q_tried, iters in attempts():
        found = perceive(route, q_tried, iters)
        if found is None:
            continue
        q, m = found
        res = _best_resonance(m, max_work=min(MAX_RESONANCE_WORK, work_left))
        if res is None:
            continue
        score, _, form, complete, work = res
        work_left -= work
        capped = capped or not complete
        full = (score[0], score[1]) + key
        if best is None or full < best[0]:
            best = (full, q, form)
        if score[0] == 0 and -score[1] >= max_arom:
            break
    if best is None:
        raise FragmentPerceptionError(
            f"RDKit found no closed-shell structure for fragment {formula} at charges {tried}; "
            "hydrogen atoms are probably missing or extra (disorder)")
    _, q, form = best
    bare = underbonded_carbons(form, contact_atoms)
    if bare:
        raise FragmentPerceptionError(
            f"fragment {formula} has {len(bare)} carbon atom(s) with at most two neighbours and no triple or "
            "cumulated bond: hydrogen atoms are missing from the file")
    if form.GetNumConformers() == 0:
        form = Chem.Mol(form)
        form.AddConformer(base.GetConformer(), assignId=True)
    return PerceivedFragment(fragment_smiles(form), int(q), formula, len(heavy), _has_carbanion(form), capped)
