"""Deterministic work caps of the CIF pipeline (no clocks): the oxidation-state
guess and RDKit's bond-order search are bounded by counts fixed before they run."""

from __future__ import annotations

import inspect
import math
from collections import Counter
from itertools import combinations_with_replacement
from pathlib import Path

import pytest

from mlglass.structure import ligands, oxidation
from mlglass.structure.oxidation import GUESS_MAX_WORK, assign_oxidation_states, guess_work


def _enumerated_work(counts, all_oxi_states, override):
    """The same estimate by enumerating what pymatgen enumerates (small cases only)."""
    work, n_combos = 0, 1
    for el, n in counts.items():
        states = oxidation._candidate_states(el, all_oxi_states, override)
        combos = list(combinations_with_replacement(states, n))
        work += len(combos) * n
        n_combos *= len({sum(c) for c in combos})
    return work, n_combos


@pytest.mark.parametrize("counts,all_states", [({"Fe": 3, "F": 8}, True), ({"Cu": 2, "Zn": 3, "F": 10}, False),
                                               ({"W": 4, "F": 20}, True)])
def test_guess_work_counts_what_pymatgen_enumerates(counts, all_states):
    override = {"F": [-1]}
    work, n_combos = _enumerated_work(counts, all_states, override)
    # exact here (the sums fill their range); in general the product term is an upper bound
    assert guess_work(counts, all_oxi_states=all_states, override=override) == work + n_combos


def test_polyoxometalate_guess_is_skipped_not_run(monkeypatch):
    # JIYXUL's metals: 18 W (10 states each with all_oxi_states) made pymatgen run > 120 s
    metals = Counter({"W": 18, "Na": 13, "Fe": 4, "Sb": 2})
    assert guess_work({**metals, "F": 40}, all_oxi_states=True, override={"F": [-1]}) > GUESS_MAX_WORK

    from pymatgen.core import Composition

    def boom(*a, **k):
        raise AssertionError("oxi_state_guesses called above the cap")

    monkeypatch.setattr(Composition, "oxi_state_guesses", boom)
    warns: list[str] = []
    states, method = assign_oxidation_states([None] * (oxidation.BV_MAX_ATOMS + 1), metals, -139.0,
                                             warnings_out=warns)
    assert method == "default"
    assert set(states) == set(metals)
    assert any("skipped" in w and str(GUESS_MAX_WORK) in w for w in warns)


def test_small_guess_still_runs():
    warns: list[str] = []
    states, method = assign_oxidation_states([None] * (oxidation.BV_MAX_ATOMS + 1), Counter({"Zn": 4}), -8.0,
                                             warnings_out=warns)
    assert (states, method) == ({"Zn": 2.0}, "guess")
    assert not any("skipped" in w for w in warns)


def test_no_wall_clock_budget_in_bond_valence():
    src = inspect.getsource(oxidation.assign_oxidation_states)
    assert "time_limit" not in src and not hasattr(oxidation, "BV_TIME_BUDGET_S")


def test_bond_order_search_uses_the_iteration_cap(monkeypatch):
    assert inspect.signature(ligands.perceive_fragment).parameters["max_iterations"].default \
        == ligands.DETERMINE_MAX_ITERATIONS < 100_000
    from rdkit.Chem import rdDetermineBonds

    seen = []
    real = rdDetermineBonds.DetermineBondOrders

    def spy(*a, **k):
        seen.append(k.get("maxIterations"))
        return real(*a, **k)

    monkeypatch.setattr(rdDetermineBonds, "DetermineBondOrders", spy)
    cif = Path(__file__).resolve().parents[2] / "shared" / "cifs" / "ZIF-8.cif"
    if not cif.exists():
        pytest.skip("../shared/cifs not available")
    from mlglass.structure import record_from_structure

    record_from_structure(cif)
    assert seen and set(seen) == {ligands.DETERMINE_MAX_ITERATIONS}


def test_escalation_only_when_nothing_is_found(monkeypatch):
    """A fragment whose bond orders need a longer search is retried at RDKit's default, after the short pass."""
    cif = Path(__file__).resolve().parents[2] / "shared" / "cifs" / "ZIF-8.cif"
    if not cif.exists():
        pytest.skip("../shared/cifs not available")
    from mlglass.structure import record_from_structure

    real = ligands._determine
    seen = []

    def needs_long_search(mol, q, max_iterations):
        seen.append(max_iterations)
        return real(mol, q, max_iterations) if max_iterations >= ligands.ESCALATED_MAX_ITERATIONS else None

    monkeypatch.setattr(ligands, "_determine", needs_long_search)
    row = record_from_structure(cif).to_row()
    assert "[n-]" in row["ligands"]  # imidazolate found in the second pass
    long_runs = [i for i in seen if i == ligands.ESCALATED_MAX_ITERATIONS]
    assert long_runs
    assert seen.index(ligands.ESCALATED_MAX_ITERATIONS) > 0  # after the short pass
