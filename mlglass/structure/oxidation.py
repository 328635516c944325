"""Oxidation states of the network metals.

Methods, tried in this order (the one used is reported as
``oxidation_state_method``):

``given``
    The caller's ``oxidation_states`` (a number for all metals or a mapping
    element -> number).
``bond_valence``
    pymatgen's ``BVAnalyzer.get_valences`` on the structure. Its
    symmetry-based search took 2-15 s on many MOF cells, even small ones
    (ZIF-8: "Valences cannot be assigned" after 12 s; a 164-atom Zn polymer
    15 s), so it is only tried on cells of at most ``BV_MAX_ATOMS`` (200)
    atoms with ``max_permutations=BV_MAX_PERMUTATIONS`` (2000; deterministic,
    at most 0.7 s on the test CIFs, where it succeeds on 7 of 23 such cells),
    and nothing else: no wall-clock budget, so the result does not depend on
    the machine's load (the per-file process limit of
    :mod:`mlglass.structure.batch` still bounds a pathological cell). Its
    metal valences are accepted only if they balance the charges of the
    perceived ligands and counter-ions (it assigns H = -1 and similar non-chemistry to the organic
    part, so nothing but the metal values is used).
``guess``
    pymatgen's ``Composition.oxi_state_guesses`` on the metals alone with
    ``target_charge`` = minus the total charge of the perceived ligands and
    counter-ions (charge balance; the ligand charges come from RDKit, see
    :mod:`mlglass.structure.ligands`). The most probable guess is taken.
    The elements' common oxidation states are tried first (averages such as
    Fe 2.67 are possible), then all of pymatgen's states but only as whole
    numbers (Au(I) in AuCN, with a warning). When nothing balances the
    ligands, a hydrogen atom or counter-ion is more likely missing from the
    file than the metal unusual, so no exotic value is invented.
    pymatgen enumerates every multiset of states per element (for ``n`` atoms
    of an element with ``k`` candidate states, ``C(n + k - 1, n)`` of them,
    each scored site by site) and then the product of the per-element sums:
    18 W atoms with all of W's states took more than 120 s (JIYXUL). The work
    is therefore estimated first (:func:`guess_work`) and a search above
    ``GUESS_MAX_WORK`` (50 000 site evaluations, 2-3 s: pymatgen scores each site
    with a ``Species`` look-up, about 45 us) is skipped
    with a warning, falling through to the next search or to ``default``.
``default``
    :func:`mlglass.chem.elements.default_oxidation_state` per element, with a
    warning when that leaves the formula unbalanced.
"""

from __future__ import annotations

import math
import warnings
from collections import Counter
from collections.abc import Mapping

from mlglass.chem.elements import default_oxidation_state
from mlglass.errors import OxidationStateError

__all__ = ["assign_oxidation_states", "guess_work", "BV_MAX_ATOMS", "GUESS_MAX_WORK"]

BV_MAX_ATOMS = 200
#: Cap on BVAnalyzer's valence enumeration (deterministic; pymatgen's default is 100 000).
BV_MAX_PERMUTATIONS = 2000
#: Cap on the estimated work of one ``oxi_state_guesses`` search (site evaluations, see :func:`guess_work`).
GUESS_MAX_WORK = 50_000


def _candidate_states(el: str, all_oxi_states: bool, override: Mapping[str, list]) -> tuple:
    """The states pymatgen's ``oxi_state_guesses`` tries for ``el`` (same rule as pymatgen)."""
    from pymatgen.core import Element

    if override.get(el):
        return tuple(override[el])
    if all_oxi_states:
        return tuple(Element(el).oxidation_states)
    return tuple(Element(el).icsd_oxidation_states or Element(el).common_oxidation_states)


def guess_work(counts: Mapping[str, int], *, all_oxi_states: bool = False,
               override: Mapping[str, list] | None = None) -> int:
    """Estimated work of ``Composition(counts).oxi_state_guesses`` (number of site evaluations).

    pymatgen scores every multiset of candidate states of each element
    (``C(n + k - 1, n)`` multisets of ``n`` sites each for ``n`` atoms and
    ``k`` states), then tries every combination of the per-element sums
    (at most ``n * (max - min) + 1`` distinct sums per element). Computed from
    the counts alone, without enumerating anything.

    Parameters
    ----------
    counts : mapping element -> int
        Atoms per element (after any reduction the caller applies).
    all_oxi_states : bool
        Whether all of pymatgen's states are tried (else the common/ICSD ones).
    override : mapping element -> list of int, optional
        Fixed candidate states per element, as passed to pymatgen.

    Returns
    -------
    int
        Estimated number of site evaluations (dimensionless).
    """
    override = override or {}
    work, n_combos = 0, 1
    for el, n in counts.items():
        n = int(n)
        states = _candidate_states(el, all_oxi_states, override)
        k = len(states)
        if k == 0 or n <= 0:
            continue
        multisets = math.comb(n + k - 1, n)
        work += multisets * n
        n_combos *= min(multisets, n * (max(states) - min(states)) + 1)
    return work + n_combos


def _normalise_given(given, elements: list[str]) -> dict[str, float]:
    if isinstance(given, Mapping):
        out = {}
        for el, v in given.items():
            if el not in elements:
                raise OxidationStateError("oxidation_state", dict(given), f"{el!r} is not a metal of this structure "
                                                                         f"({', '.join(elements)})")
            out[el] = float(v)
        for el in elements:
            if el not in out:
                out[el] = float(default_oxidation_state(el))
        return out
    if isinstance(given, bool) or not isinstance(given, (int, float)) or not math.isfinite(float(given)):
        raise OxidationStateError("oxidation_state", given, "expected a number or a mapping element -> number")
    return {el: float(given) for el in elements}


def assign_oxidation_states(structure, metal_counts: Counter, ligand_charge_total: float, *, given=None,
                            warnings_out: list[str]) -> tuple[dict[str, float], str]:
    """Oxidation state per metal element and the method used.

    Parameters
    ----------
    structure : pymatgen Structure
        The structure (for the bond-valence method).
    metal_counts : Counter
        Network metal sites per element in the cell.
    ligand_charge_total : float
        Sum of the charges of all ligands and counter-ions in the cell (negative
        for anionic linkers); ``nan`` if unknown.
    given : number or mapping, optional
        User-given oxidation states.
    warnings_out : list of str
        Warnings are appended here.
    """
    elements = list(metal_counts)
    target = -ligand_charge_total
    balanced_known = math.isfinite(target)

    def balance(states: Mapping[str, float]) -> float:
        return sum(states[el] * n for el, n in metal_counts.items())

    if given is not None:
        states = _normalise_given(given, elements)
        if balanced_known and abs(balance(states) - target) > 0.5:
            warnings_out.append(f"given oxidation states give metal charge {balance(states):g} per cell but the "
                                f"ligands carry {-target:g}")
        return states, "given"

    if len(structure) <= BV_MAX_ATOMS:
        try:
            from pymatgen.analysis.bond_valence import BVAnalyzer

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                valences = BVAnalyzer(max_permutations=BV_MAX_PERMUTATIONS).get_valences(structure)
            per_el: dict[str, list[float]] = {}
            for site, v in zip(structure, valences):
                if site.specie.symbol in metal_counts:
                    per_el.setdefault(site.specie.symbol, []).append(float(v))
            states = {el: sum(v) / len(v) for el, v in per_el.items()}
            if set(states) == set(elements) and all(states[el] > 0 for el in elements):
                if not balanced_known or abs(balance(states) - target) <= 0.5:
                    return states, "bond_valence"
                warnings_out.append(f"bond-valence oxidation states {_fmt(states)} do not balance the ligand charge; "
                                    "using charge balance instead")
        except Exception:  # BVAnalyzer raises ValueError("Valences cannot be assigned!") and others
            pass

    if balanced_known and target > 0:
        try:
            from pymatgen.core import Composition

            counts = {el: n for el, n in metal_counts.items()}
            t = int(round(target))
            ints = [int(round(n)) for n in counts.values()]
            if all(abs(n - i) < 1e-6 for n, i in zip(counts.values(), ints)):
                factor = math.gcd(t, *ints)
                counts = {el: int(round(n)) // factor for el, n in counts.items()}
                t //= factor
            # pymatgen returns 0 for a one-element composition, so the ligand
            # charge is carried by a stand-in anion: t fluoride ions fixed at -1
            anion = "F" if "F" not in counts else "Cl"
            comp = Composition({**counts, anion: t})
            override = {anion: [-1]}
            comp_counts = {**counts, anion: t}
            guesses = _bounded_guesses(comp, comp_counts, override, False, warnings_out)
            if guesses:
                return {el: float(guesses[0][el]) for el in elements}, "guess"
            # an uncommon but whole-number state (Au(I) in AuCN); fractional
            # averages of uncommon states are rejected (more likely a missing H)
            guesses = _bounded_guesses(comp, comp_counts, override, True, warnings_out)
            whole = [g for g in guesses if all(float(g[el]).is_integer() for el in elements)]
            if whole:
                states = {el: float(whole[0][el]) for el in elements}
                warnings_out.append(f"charge balance needs the uncommon oxidation state(s) {_fmt(states)}")
                return states, "guess"
        except Exception:
            pass

    states = {el: float(default_oxidation_state(el)) for el in elements}
    if balanced_known:
        warnings_out.append(f"no oxidation states balance the ligand charge {-target:g} per cell; using element "
                            f"defaults {_fmt(states)}")
    return states, "default"


def _bounded_guesses(comp, counts, override, all_oxi_states: bool, warnings_out: list[str]) -> list:
    """``comp.oxi_state_guesses`` if its estimated work is within ``GUESS_MAX_WORK``, else ``[]`` and a warning."""
    work = guess_work(counts, all_oxi_states=all_oxi_states, override=override)
    if work > GUESS_MAX_WORK:
        which = "all" if all_oxi_states else "common"
        warnings_out.append(f"oxidation-state guess over {which} states skipped: about {work:.3g} site evaluations "
                            f"for {comp.formula} exceed the cap {GUESS_MAX_WORK}")
        return []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return comp.oxi_state_guesses(oxi_states_override=override, target_charge=0, all_oxi_states=all_oxi_states)


def _fmt(states: Mapping[str, float]) -> str:
    return ", ".join(f"{el}{v:+g}" for el, v in states.items())
