"""Nearest training compounds: the measured glasses closest to a candidate in the predictor's descriptor space.

Distance: Euclidean over the predictor's descriptors, each standardised with the
mean and standard deviation of the training compounds (a descriptor missing for
a compound counts as the training mean). Only compounds of
:func:`mlglass.load_glasses` with a measured Tm or Tg are candidates.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import pandas as pd

from mlglass.web.convert import json_value

__all__ = ["NearestCompounds", "REVIEW_CITATION"]

#: The source of every bundled data point; the dataset's ``ref`` column holds this review's reference numbers.
REVIEW_CITATION = "N. Ma and S. Horike, Chem. Rev. 2022, 122, 4163 (doi:10.1021/acs.chemrev.1c00826)"


def _reference(row: pd.Series) -> str:
    refs = str(row.get("ref", "") or "").strip()
    source = str(row.get("source", "") or "").strip()
    text = REVIEW_CITATION
    if refs:
        text += f", ref. {refs.replace(';', ', ')}"
    if source:
        text += f" ({source})"
    return text


class NearestCompounds:
    """k nearest measured compounds for candidate rows.

    Parameters
    ----------
    predictor : GlassPredictor
        Its featurizer defines the descriptor space.
    data : DataFrame, optional
        Dataset schema (default :func:`mlglass.load_glasses`).

    Examples
    --------
    >>> nn = NearestCompounds(GlassPredictor.default())               # doctest: +SKIP
    >>> nn.query(pd.DataFrame({"formula": ["Zn(Im)1.75(bIm)0.25"]}), k=3)  # doctest: +SKIP
    """

    def __init__(self, predictor: Any, data: pd.DataFrame | None = None):
        self.predictor = predictor
        self._data = data
        self._lock = threading.Lock()
        self._fitted = False

    def _fit(self) -> None:
        from sklearn.neighbors import NearestNeighbors

        from mlglass.datasets import load_glasses

        data = load_glasses() if self._data is None else self._data
        measured = data[data["tm_c"].notna() | data["tg_c"].notna()].reset_index(drop=True)
        X = self._features(measured)
        ok = np.isfinite(X).any(axis=1)
        self.compounds_ = measured[ok].reset_index(drop=True)
        X = X[ok]
        self.mean_ = np.nanmean(X, axis=0)
        std = np.nanstd(X, axis=0)
        self.scale_ = np.where(np.isfinite(std) & (std > 0), std, 1.0)
        self.mean_ = np.where(np.isfinite(self.mean_), self.mean_, 0.0)
        self.index_ = NearestNeighbors().fit(self._scaled(X))
        self._fitted = True

    def _features(self, frame: pd.DataFrame) -> np.ndarray:
        feats = self.predictor.featurizer.transform(frame)
        return feats[self.predictor.feature_labels].to_numpy(dtype=float)

    def _scaled(self, X: np.ndarray) -> np.ndarray:
        Z = (X - self.mean_) / self.scale_
        return np.where(np.isfinite(Z), Z, 0.0)

    def query(self, frame: pd.DataFrame, k: int = 3) -> list[list[dict[str, Any]]]:
        """For each row of a candidate table, its ``k`` nearest measured compounds.

        Returns
        -------
        list of list of dict
            Per row (empty for rows that cannot be featurized), nearest first: ``id``, ``name``,
            ``formula``, ``family``, ``tm_c``, ``tg_c``, ``td_c`` (degC, measured; ``None`` when
            not reported), ``melts``, ``reference`` and ``distance`` (standardised descriptor units).
        """
        with self._lock:
            if not self._fitted:
                self._fit()
        if len(frame) == 0 or k <= 0:
            return [[] for _ in range(len(frame))]
        X = self._features(frame)
        ok = np.isfinite(X).any(axis=1)
        out: list[list[dict[str, Any]]] = [[] for _ in range(len(frame))]
        if not ok.any():
            return out
        k = min(int(k), len(self.compounds_))
        dist, idx = self.index_.kneighbors(self._scaled(X[ok]), n_neighbors=k)
        for row_pos, d_row, i_row in zip(np.flatnonzero(ok), dist, idx):
            found = []
            for d, i in zip(d_row, i_row):
                c = self.compounds_.iloc[int(i)]
                found.append({key: json_value(c.get(key)) for key in
                              ("id", "name", "formula", "family", "tm_c", "tg_c", "td_c", "melts")}
                             | {"reference": _reference(c), "distance": round(float(d), 3)})
            out[int(row_pos)] = found
        return out
