"""Columnar view of many records for vectorised featurization.

:class:`mlglass.candidates.CandidateBatch` resolves every distinct metal ion
and species once (with the caches of this module) and lays the records out as
padded "slot" arrays:
``metal_idx[i, k]`` is the k-th metal of record i (index into ``metals``),
``metal_frac[i, k]`` its site fraction, and likewise for ligands and
counter-ions (amounts in moles per metal). Featurizers then compute with
numpy over the slots instead of looping over records in Python.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mlglass.chem.elements import MetalIon, metal_ion
from mlglass.chem.ligands import resolve_species, species_descriptors
from mlglass.errors import RecordError

__all__ = ["RecordBatch", "species_entry", "ion_descriptors", "gather", "entropy"]

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
    hit = species_entry(name, field_name)
    if isinstance(hit, RecordError):
        raise hit.with_row(hit.row)  # a copy: raising the cached error would grow its traceback on every call
    return hit


def _ion(symbol: str, ox: float | None) -> MetalIon:
    key = (symbol, ox)
    hit = _ION_CACHE.get(key)
    if hit is None:
        try:
            hit = metal_ion(symbol, ox)
        except RecordError as err:
            hit = err.with_traceback(None)
        _ION_CACHE[key] = hit
    if isinstance(hit, RecordError):
        raise hit.with_row(hit.row)  # a copy (see _species)
    return hit


def species_entry(name: str, field_name: str) -> tuple[np.ndarray, str] | RecordError:
    """Descriptor vector and donor kind of a species, or the error resolving it raised (cached per process).

    Cached errors carry no traceback (a traceback keeps the frames, and their data, of the call that raised).
    """
    key = (name, field_name)
    hit = _SPECIES_CACHE.get(key)
    if hit is None:
        try:
            sp = resolve_species(name, field_name)
            hit = (np.asarray(species_descriptors(sp.smiles, sp.donor_kind, sp.n_donors), dtype=float), sp.donor_kind)
        except RecordError as err:
            hit = err.with_traceback(None)
        if len(_SPECIES_CACHE) > _MAX_CACHE:
            _SPECIES_CACHE.clear()
        _SPECIES_CACHE[key] = hit
    return hit


def ion_descriptors(symbol: str, ox: float | None) -> MetalIon:
    """The :class:`~mlglass.chem.elements.MetalIon` of ``symbol`` in ``ox`` (cached; raises RecordError)."""
    return _ion(symbol, ox)


def gather(table: np.ndarray, idx: np.ndarray, fill: float = np.nan) -> np.ndarray:
    """``table[idx]`` with rows of ``fill`` where ``idx`` is -1. Shape (n, k, table.shape[1])."""
    pad = np.full((1, table.shape[1]), fill)
    padded = np.vstack([table, pad]) if table.size else pad
    safe = np.where(idx < 0, len(padded) - 1, idx)
    return padded[safe]


def entropy(fracs: np.ndarray) -> np.ndarray:
    """-sum f ln f over slots (0 ln 0 = 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(fracs > 0, fracs * np.log(np.where(fracs > 0, fracs, 1.0)), 0.0)
    return 0.0 - terms.sum(axis=1)

