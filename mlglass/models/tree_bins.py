"""Tree-equivalence classes of descriptor rows: predict each distinct *path* through the trees once.

Why
---
A tree ensemble is piecewise constant. Every split of an xgboost tree compares one feature with
one threshold (``x < t`` goes left, float32 arithmetic; a missing value takes the node's default
branch). Two rows whose features fall between the same consecutive thresholds of every feature
therefore take the same branch at every node of every tree, reach the same leaves and get
bit-identical predictions and SHAP contributions. A screening grid of a million distinct
compositions (mixed-linker fractions in fine steps) holds only a few thousand such classes for the
bundled boosters, so predicting one representative row per class and broadcasting is exact and
~100x less tree work.

:class:`SplitBins` collects the sorted split thresholds of each feature over a set of boosters
(from the boosters' own JSON dump) and maps rows to classes; :class:`RowClasses` carries the
representative rows and the inverse index.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xgboost as xgb

__all__ = ["SplitBins", "RowClasses", "factorize_rows"]

_PACK_LIMIT = 2 ** 62  # packed class keys stay below this (int64)


@dataclass(frozen=True)
class RowClasses:
    """Representative rows of tree-equivalence classes and the row -> class index.

    Attributes
    ----------
    rep : ndarray, shape (n_classes, n_features), float32
        One row per class (the first row of the input in that class).
    inverse : ndarray, shape (n_rows,), int
        Class of each input row: ``predict(X) == predict(rep)[inverse]`` for the boosters the
        classes were built for.
    """

    rep: np.ndarray
    inverse: np.ndarray

    def take(self, index: np.ndarray) -> RowClasses:
        """Classes of the rows ``X[index]`` (same representatives)."""
        return RowClasses(self.rep, self.inverse[np.asarray(index, dtype=np.intp)])

    def broadcast(self, per_class: np.ndarray) -> np.ndarray:
        """Per-row values from per-class values (``per_class[inverse]``)."""
        return np.asarray(per_class)[self.inverse]


def _combine_codes(parts: Iterable[tuple[np.ndarray, int]], n: int) -> tuple[np.ndarray, np.ndarray]:
    """Codes of the distinct rows of ``n`` rows given per column as (codes in ``0..size-1``, size).

    The column codes are packed into int64 keys and factorised when a key would overflow; ``parts``
    is consumed lazily and not beyond the column after which every row is distinct. Returns (row ->
    distinct-row number in order of first appearance, first row of each distinct row).
    """
    key = np.zeros(n, dtype=np.int64)
    n_keys = 1  # key < n_keys
    for code, size in parts:
        if n_keys * size >= _PACK_LIMIT:
            key, uniques = pd.factorize(key, sort=False)
            key, n_keys = key.astype(np.int64), len(uniques)
            if n_keys == n:  # every row already its own class
                break
        key = key * size + code
        n_keys *= size
    key, _ = pd.factorize(key, sort=False)
    _, first = np.unique(key, return_index=True)
    return key.astype(np.intp), first.astype(np.intp)


def factorize_rows(*columns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes of the distinct rows of equal-length 1-D ``columns`` (exact; NaN equals NaN).

    Returns
    -------
    codes : ndarray of intp
        Row -> distinct-row number, numbered in order of first appearance.
    first : ndarray of intp
        Index of the first row of each distinct row.
    """
    def parts() -> Iterator[tuple[np.ndarray, int]]:
        for col in columns:
            code, uniques = pd.factorize(np.asarray(col), use_na_sentinel=False)
            yield code.astype(np.int64), len(uniques)

    return _combine_codes(parts(), len(columns[0]) if columns else 0)


def _tree_thresholds(booster: xgb.Booster) -> dict[int, np.ndarray]:
    """Split thresholds (float32) per feature index over all trees of ``booster``."""
    model = json.loads(booster.save_raw("json"))
    trees = model["learner"]["gradient_booster"]["model"]["trees"]
    feats: list[np.ndarray] = []
    conds: list[np.ndarray] = []
    for tree in trees:
        inner = np.asarray(tree["left_children"]) != -1
        if tree.get("categories_nodes"):
            raise ValueError("categorical splits are not supported by SplitBins")
        feats.append(np.asarray(tree["split_indices"], dtype=np.int64)[inner])
        conds.append(np.asarray(tree["split_conditions"], dtype=np.float32)[inner])
    if not feats:
        return {}
    f = np.concatenate(feats)
    c = np.concatenate(conds)
    return {int(j): np.unique(c[f == j]) for j in np.unique(f)}


class SplitBins:
    """Sorted split thresholds per feature over one or more boosters that read the same columns.

    Parameters
    ----------
    thresholds : dict of int -> ndarray
        Sorted, unique float32 thresholds per feature index (features absent are never split on).
    n_features : int
        Width of the descriptor matrix.
    """

    def __init__(self, thresholds: dict[int, np.ndarray], n_features: int):
        self.thresholds = {int(j): np.asarray(t, dtype=np.float32) for j, t in thresholds.items()}
        self.n_features = int(n_features)

    @classmethod
    def from_boosters(cls, boosters: Iterable[xgb.Booster], n_features: int) -> SplitBins:
        """Union of the split thresholds of ``boosters`` (all reading the same ``n_features`` columns)."""
        merged: dict[int, list[np.ndarray]] = {}
        for booster in boosters:
            for j, t in _tree_thresholds(booster).items():
                merged.setdefault(j, []).append(t)
        return cls({j: np.unique(np.concatenate(ts)) for j, ts in merged.items()}, n_features)

    def classes(self, X: np.ndarray) -> RowClasses:
        """Tree-equivalence classes of the rows of ``X`` (cast to float32 first, as xgboost does).

        Two rows share a class when, for every split feature, the same number of thresholds is
        <= the value (NaN: its own code, the default branch). Cost: one ``searchsorted`` per split
        feature; the codes are packed into int64 keys and factorised when a key would overflow.
        """
        X32 = np.asarray(X, dtype=np.float32)
        if X32.ndim != 2 or X32.shape[1] != self.n_features:
            raise ValueError(f"expected a matrix with {self.n_features} columns, got shape {X32.shape}")

        def parts() -> Iterator[tuple[np.ndarray, int]]:
            for j, th in self.thresholds.items():
                col = X32[:, j]
                code = np.searchsorted(th, col, side="right").astype(np.int64)
                code[np.isnan(col)] = len(th) + 1  # missing: the default branch
                yield code, len(th) + 2

        key, first = _combine_codes(parts(), len(X32))
        return RowClasses(np.ascontiguousarray(X32[first]), key.astype(np.intp))
