"""Per-composition chemistry of the candidate batch: oxidation states and (metals, donor kinds) classes.

The oxidation-state rule is the one of :mod:`mlglass.chem.oxidation` (given, charge balance,
default); :mod:`mlglass.candidates` applies it once per class of compositions that share
the metal cell, the given states and the charge-balance result.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mlglass.candidate_columns import ParsedColumns, pair_codes
from mlglass.errors import RecordError

__all__ = ["chemistry_classes", "oxidation_states", "settle_oxidation_states", "SettledStates"]


def oxidation_states(metals: tuple[tuple[str, float], ...], gm: dict[str, float], all_given: bool, cand: float,
            default: Any) -> tuple[list[tuple[str, float]], str]:
    """Oxidation states and method (the rule of :mod:`mlglass.chem.oxidation`) for one composition class."""
    from mlglass.chem.oxidation import allowed_oxidation_state

    if all_given:
        return [(sym, float(gm[sym])) for sym, _ in metals], "given"
    if math.isfinite(cand):
        free = [sym for sym, _ in metals if sym not in gm]
        if all(allowed_oxidation_state(sym, cand) for sym in free):
            return [(sym, float(gm.get(sym, cand))) for sym, _ in metals], "charge_balance"
    return [(sym, float(gm[sym]) if sym in gm else float(default(sym))) for sym, _ in metals], "default"


def chemistry_classes(p: ParsedColumns, lig_entries: list[Any], n_u: int) -> np.ndarray:
    """``(metals, donor kinds)`` per composition, built once per distinct (metal set, donor-kind set) pair.

    The donor kinds of a ligand cell are a bit mask over the distinct kinds (numpy over the slots).
    """
    kinds = [("unknown" if isinstance(e, RecordError) else e[1]) for e in lig_entries]
    kind_names, kind_code = np.unique(np.asarray(kinds + ["unknown"], dtype=object).astype(str), return_inverse=True)
    bits = np.left_shift(np.int64(1), kind_code.astype(np.int64))
    bits[-1] = 0  # the padding slot
    idx = p.ligands.idx[p.lig]
    masks = np.bitwise_or.reduce(bits[np.where(idx < 0, len(bits) - 1, idx)], axis=1) if idx.size else \
        np.zeros(n_u, dtype=np.int64)
    metal_sets: dict[frozenset, int] = {}
    set_code = np.array([metal_sets.setdefault(frozenset(sym for sym, _ in ms), len(metal_sets)) for ms in p.metals]
                        + [0], dtype=np.int64)
    codes, first = pair_codes(set_code[p.m], pd.factorize(masks)[0].astype(np.int64))
    values = np.empty(len(first), dtype=object)
    for j, u in enumerate(first):
        metals = frozenset(sym for sym, _ in p.metals[p.m[u]])
        values[j] = (metals, frozenset(str(kind_names[k]) for k in range(len(kind_names)) if masks[u] >> k & 1))
    return values[codes] if len(first) else np.empty(n_u, dtype=object)


@dataclass
class SettledStates:
    """Oxidation states of the composition classes (:func:`settle_oxidation_states`).

    Attributes
    ----------
    codes : ndarray of int64, shape (n_compositions,)
        Class of each composition.
    slots, fracs : ndarray, shape (n_classes, max metals)
        Per class and metal: index into ``ions`` (-1 for none) and the metal's fraction.
    ions : list
        Distinct ion descriptors (:func:`mlglass.featurize.batch.ion_descriptors`).
    errors : list of RecordError or None
        Per class: why no oxidation state could be settled.
    used, method : ndarray of object, shape (n_classes,)
        ``"Zn:2;Co:2"`` and ``given``/``charge_balance``/``default`` (blank for bad classes).
    """

    codes: np.ndarray
    slots: np.ndarray
    fracs: np.ndarray
    ions: list[Any]
    errors: list[RecordError | None]
    used: np.ndarray
    method: np.ndarray


def settle_oxidation_states(p: ParsedColumns, q: np.ndarray, bad: np.ndarray) -> SettledStates:
    """Oxidation states of each composition, settled once per class of compositions.

    A class shares the metal cell, the given states and the charge-balance candidate
    (from ``q``, the summed species charge per composition; NaN when a species is unknown).
    Compositions marked ``bad`` get no states.
    """
    from mlglass.chem.elements import default_oxidation_state
    from mlglass.featurize.batch import ion_descriptors

    n_u = len(bad)
    n_given = max(1, len(p.given))
    known = np.zeros(n_given)
    rest = np.zeros(n_given)
    all_given = np.zeros(n_given, dtype=bool)
    g_first = np.full(n_given, n_u, dtype=np.int64)
    np.minimum.at(g_first, p.g, np.arange(n_u, dtype=np.int64))
    for gi in np.flatnonzero(g_first < n_u):
        mi = p.m[g_first[gi]]
        gm = dict(p.given[gi])
        metals = p.metals[mi]
        all_given[gi] = bool(metals) and all(sym in gm for sym, _ in metals)
        known[gi] = sum(f * gm[sym] for sym, f in metals if sym in gm)
        rest[gi] = sum(f for sym, f in metals if sym not in gm)
    with np.errstate(invalid="ignore", divide="ignore"):
        need = (-q - known[p.g]) / rest[p.g]
        integral = np.isfinite(need) & (np.abs(need - np.round(need)) < 1e-3)
    cand = np.where(integral, np.round(need), np.nan)
    cand_key = np.where(integral, cand, -1e9)
    ox_codes, ox_first = pair_codes(p.g, pd.factorize(cand_key)[0].astype(np.int64))
    ion_list: list[Any] = []
    ion_pos: dict[int, int] = {}
    km = max([len(x) for x in p.metals] + [1])
    ox_slots = np.full((len(ox_first), km), -1, dtype=np.int64)
    ox_frac = np.zeros((len(ox_first), km))
    ox_err: list[RecordError | None] = [None] * len(ox_first)
    used_txt = np.empty(len(ox_first), dtype=object)
    method_txt = np.empty(len(ox_first), dtype=object)
    for j, u in enumerate(ox_first):
        used_txt[j] = method_txt[j] = ""
        if bad[u]:
            continue
        metals = p.metals[p.m[u]]
        gm = dict(p.given[p.g[u]])
        try:
            states, how = oxidation_states(metals, gm, bool(all_given[p.g[u]]), cand[u], default_oxidation_state)
            used_txt[j] = ";".join(f"{s}:{v:g}" for s, v in states)
            method_txt[j] = how
            for k, ((sym, frac), (_, ox)) in enumerate(zip(metals, states)):
                ion = ion_descriptors(sym, ox)
                pos = ion_pos.get(id(ion))
                if pos is None:
                    pos = ion_pos[id(ion)] = len(ion_list)
                    ion_list.append(ion)
                ox_slots[j, k] = pos
                ox_frac[j, k] = frac
        except RecordError as err:
            ox_err[j] = err
            used_txt[j] = method_txt[j] = ""
    return SettledStates(codes=ox_codes, slots=ox_slots, fracs=ox_frac, ions=ion_list, errors=ox_err, used=used_txt,
                         method=method_txt)
