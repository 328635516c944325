"""Per-composition chemistry of the candidate batch: oxidation states and (metals, donor kinds) classes.

The oxidation-state rule is the one of :mod:`mlglass.chem.oxidation` (given, charge balance,
default); :mod:`mlglass.candidates` applies it once per class of compositions that share
the metal cell, the given states and the charge-balance result.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from mlglass.candidate_columns import ParsedColumns, pair_codes
from mlglass.errors import RecordError

__all__ = ["chemistry_classes", "oxidation_states"]


def oxidation_states(metals: tuple[tuple[str, float], ...], gm: dict[str, float], all_given: bool, cand: float,
            default: Any) -> tuple[list[tuple[str, float]], str]:
    """Oxidation states and method (the rule of :mod:`mlglass.chem.oxidation`) for one composition class."""
    from mlglass.chem.oxidation import _allowed

    if all_given:
        return [(sym, float(gm[sym])) for sym, _ in metals], "given"
    if math.isfinite(cand):
        free = [sym for sym, _ in metals if sym not in gm]
        if all(_allowed(sym, cand) for sym in free):
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
