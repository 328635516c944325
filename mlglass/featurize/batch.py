"""Columnar view of many records for vectorised featurization.

:func:`build_batch` resolves every distinct metal ion and species once
(dictionary caches) and lays the records out as padded "slot" arrays:
``metal_idx[i, k]`` is the k-th metal of record i (index into ``metals``),
``metal_frac[i, k]`` its site fraction, and likewise for ligands and
counter-ions (amounts in moles per metal). Featurizers then compute with
numpy over the slots instead of looping over records in Python.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from mlglass.chem.elements import MetalIon, metal_ion
from mlglass.chem.ligands import resolve_species, species_descriptors
from mlglass.chem.oxidation import oxidation_state
from mlglass.errors import RecordError
from mlglass.records import CompoundRecord

__all__ = ["RecordBatch", "build_batch"]

# Shared across batches: distinct species are resolved once per process.
_SPECIES_CACHE: dict[tuple[str, str], tuple[np.ndarray, str] | RecordError] = {}
_ION_CACHE: dict[tuple[str, float | None], MetalIon | RecordError] = {}
_MAX_CACHE = 200_000


@dataclass
class RecordBatch:
    """Padded slot arrays of a list of records (see module docstring)."""

    n: int
    metals: list[MetalIon]
    metal_idx: np.ndarray
    metal_frac: np.ndarray
    species_vec: np.ndarray          # (n_species, n_descriptors)
    species_kind: list[str]
    lig_idx: np.ndarray
    lig_amt: np.ndarray
    cnt_idx: np.ndarray
    cnt_amt: np.ndarray
    dim: np.ndarray                  # float, NaN when unknown
    tetrahedral: np.ndarray          # bool: record geometry is tetrahedral
    geometry_given: np.ndarray       # bool
    errors: list[str] = field(default_factory=list)


def _species(name: str, field_name: str) -> tuple[np.ndarray, str]:
    key = (name, field_name)
    hit = _SPECIES_CACHE.get(key)
    if hit is None:
        try:
            sp = resolve_species(name, field_name)
            hit = (np.asarray(species_descriptors(sp.smiles, sp.donor_kind, sp.n_donors), dtype=float), sp.donor_kind)
        except RecordError as err:
            hit = err
        if len(_SPECIES_CACHE) > _MAX_CACHE:
            _SPECIES_CACHE.clear()
        _SPECIES_CACHE[key] = hit
    if isinstance(hit, RecordError):
        raise hit
    return hit


def _ion(symbol: str, ox: float | None) -> MetalIon:
    key = (symbol, ox)
    hit = _ION_CACHE.get(key)
    if hit is None:
        try:
            hit = metal_ion(symbol, ox)
        except RecordError as err:
            hit = err
        _ION_CACHE[key] = hit
    if isinstance(hit, RecordError):
        raise hit
    return hit


def build_batch(records: Sequence[CompoundRecord]) -> RecordBatch:
    """Resolve species and metal ions of ``records`` and lay them out as slot arrays.

    A record whose metal or species cannot be resolved gets its message in
    ``errors[i]`` and empty slots.
    """
    n = len(records)
    km = max((len(r.metals) for r in records), default=1) or 1
    kl = max((len(r.ligands) for r in records), default=1) or 1
    kc = max((len(r.counter_ions) for r in records), default=1) or 1
    metal_idx = np.full((n, km), -1, dtype=np.int64)
    metal_frac = np.zeros((n, km))
    lig_idx = np.full((n, kl), -1, dtype=np.int64)
    lig_amt = np.zeros((n, kl))
    cnt_idx = np.full((n, kc), -1, dtype=np.int64)
    cnt_amt = np.zeros((n, kc))
    dim = np.full(n, np.nan)
    tet = np.zeros(n, dtype=bool)
    given = np.zeros(n, dtype=bool)
    metals: list[MetalIon] = []
    metal_pos: dict[int, int] = {}
    vecs: list[np.ndarray] = []
    kinds: list[str] = []
    species_pos: dict[tuple[str, str], int] = {}
    errors = [""] * n

    def species_index(name: str, field_name: str) -> int:
        key = (name, field_name)
        j = species_pos.get(key)
        if j is None:
            vec, kind = _species(name, field_name)
            j = species_pos[key] = len(vecs)
            vecs.append(vec)
            kinds.append(kind)
        return j

    for i, rec in enumerate(records):
        try:
            mrow = []
            for sym, frac in rec.metals:
                ion = _ion(sym, oxidation_state(rec, sym))
                j = metal_pos.get(id(ion))
                if j is None:
                    j = metal_pos[id(ion)] = len(metals)
                    metals.append(ion)
                mrow.append((j, frac))
            lrow = [(species_index(c.name, "ligands"), c.amount) for c in rec.ligands]
            crow = [(species_index(c.name, "counter_ions"), c.amount) for c in rec.counter_ions]
        except RecordError as err:
            errors[i] = str(err)
            continue
        for k, (j, f) in enumerate(mrow):
            metal_idx[i, k], metal_frac[i, k] = j, f
        for k, (j, a) in enumerate(lrow):
            lig_idx[i, k], lig_amt[i, k] = j, a
        for k, (j, a) in enumerate(crow):
            cnt_idx[i, k], cnt_amt[i, k] = j, a
        if rec.dimensionality is not None:
            dim[i] = rec.dimensionality
        if rec.geometry is not None:
            given[i] = True
            tet[i] = rec.geometry == "tetrahedral"
    from mlglass.chem.ligands import SpeciesDescriptors

    width = len(SpeciesDescriptors.LABELS)
    species_vec = np.vstack(vecs) if vecs else np.zeros((0, width))
    return RecordBatch(n=n, metals=metals, metal_idx=metal_idx, metal_frac=metal_frac, species_vec=species_vec,
                       species_kind=kinds, lig_idx=lig_idx, lig_amt=lig_amt, cnt_idx=cnt_idx, cnt_amt=cnt_amt,
                       dim=dim, tetrahedral=tet, geometry_given=given, errors=errors)


def gather(table: np.ndarray, idx: np.ndarray, fill: float = np.nan) -> np.ndarray:
    """``table[idx]`` with rows of ``fill`` where ``idx`` is -1. Shape (n, k, table.shape[1])."""
    padded = np.vstack([table, np.full((1, table.shape[1]), fill)]) if table.size else np.full((1, table.shape[1]), fill)
    safe = np.where(idx < 0, len(padded) - 1, idx)
    return padded[safe]


def entropy(fracs: np.ndarray) -> np.ndarray:
    """-sum f ln f over slots (0 ln 0 = 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(fracs > 0, fracs * np.log(np.where(fracs > 0, fracs, 1.0)), 0.0)
    return 0.0 - terms.sum(axis=1)


_ = math  # keep import for type checkers
