"""Oxidation state of the network metal(s): given, from charge balance, or the element default.

Rule (documented in ``datasets/README.md`` and the README's candidate-table section)
-----------------------------------------------------------------------------------
1. ``given``: every metal has an ``oxidation_state`` in the record -> used as is.
2. ``charge_balance``: otherwise the formal charges of the ligands and
   counter-ions (ligand library / SMILES, moles per formula metal) fix the
   total positive charge per metal, ``-sum(charge * amount)``. States given for
   some metals are subtracted first; the metals left take one common state, which
   is accepted when it is a whole number and a known positive oxidation state of
   each of them (pymatgen ``Element.oxidation_states``). ``Cu2(SCN)3(C2bpy)``:
   3 SCN- and 1 C2bpy+ per 2 Cu give Cu(I); ``Au(SPh)`` gives Au(I);
   ``Eu(hfa)3(p-dpeb)`` gives Eu(III).
3. ``default``: the charges do not fix the state (a neutral-ligand-only
   record, a non-integer or impossible result, or a species that cannot be
   resolved) -> :func:`mlglass.chem.elements.default_oxidation_state`.
"""

from __future__ import annotations

import math
from functools import lru_cache

from pymatgen.core.periodic_table import Element

from mlglass.chem.elements import default_oxidation_state, is_element
from mlglass.errors import RecordError
from mlglass.records import CompoundRecord

__all__ = ["resolve_oxidation_states", "oxidation_state", "allowed_oxidation_state", "METHODS"]

#: Methods reported by :func:`resolve_oxidation_states`.
METHODS = ("given", "charge_balance", "default")


def _species_charge_sum(record: CompoundRecord) -> float | None:
    from mlglass.chem.ligands import resolve_species

    total = 0.0
    try:
        for field, comps in (("ligands", record.ligands), ("counter_ions", record.counter_ions)):
            for c in comps:
                total += resolve_species(c.name, field).charge * c.amount
    except RecordError:
        return None
    return total


def allowed_oxidation_state(symbol: str, ox: float) -> bool:
    """True if ``ox`` is a positive oxidation state pymatgen lists for element ``symbol``."""
    if not is_element(symbol):
        return False
    return ox > 0 and int(ox) in {int(s) for s in Element(symbol).oxidation_states}


@lru_cache(maxsize=65536)
def _resolve(metals: tuple, given: tuple, ligands: tuple, counters: tuple) -> tuple[tuple[tuple[str, float], ...], str]:
    given_map = dict(given)
    if all(sym in given_map for sym, _ in metals):
        return tuple((sym, float(given_map[sym])) for sym, _ in metals), "given"
    record = CompoundRecord(metals=metals, ligands=ligands, counter_ions=counters, oxidation_states=given)
    q = _species_charge_sum(record)
    if q is not None:
        known = sum(f * given_map[sym] for sym, f in metals if sym in given_map)
        rest = sum(f for sym, f in metals if sym not in given_map)
        need = (-q - known) / rest if rest > 0 else math.nan
        if math.isfinite(need) and abs(need - round(need)) < 1e-3:
            ox = float(round(need))
            free = [sym for sym, _ in metals if sym not in given_map]
            if all(allowed_oxidation_state(sym, ox) for sym in free):
                return tuple((sym, float(given_map.get(sym, ox))) for sym, _ in metals), "charge_balance"
    out = []
    for sym, _ in metals:
        if sym in given_map:
            out.append((sym, float(given_map[sym])))
        else:
            out.append((sym, float(default_oxidation_state(sym))))
    return tuple(out), "default"


def resolve_oxidation_states(record: CompoundRecord) -> tuple[tuple[tuple[str, float], ...], str]:
    """Oxidation state of each network metal and the method that fixed it.

    Returns
    -------
    states : tuple of (str, float)
        One ``(symbol, oxidation state)`` per metal of ``record.metals``.
    method : {"given", "charge_balance", "default"}
        See the module docstring. With some states given and the rest from
        charge balance the method is ``"charge_balance"``.

    Raises
    ------
    UnknownElementError, OxidationStateError
        From :func:`~mlglass.chem.elements.default_oxidation_state` when a default is needed.

    Examples
    --------
    >>> from mlglass.formula import parse_formula
    >>> resolve_oxidation_states(parse_formula("Cu2(SCN)3(C2bpy)"))
    ((('Cu', 1.0),), 'charge_balance')
    """
    return _resolve(record.metals, record.oxidation_states, record.ligands, record.counter_ions)


def oxidation_state(record: CompoundRecord, symbol: str) -> float:
    """Oxidation state used for ``symbol`` in ``record`` (see :func:`resolve_oxidation_states`)."""
    given = record.oxidation_state_of(symbol)
    if given is not None:
        return float(given)
    states, _ = resolve_oxidation_states(record)
    return dict(states)[symbol]
