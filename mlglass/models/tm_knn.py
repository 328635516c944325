"""Nearest-neighbour Tm of measured compounds in the applicability-domain space (issue 11).

Why
---
For non-ZIF compounds the Td-anchored Tm (``gated_td``) is far worse in nested CV than the
family mean: these compounds melt far below their predicted Td. A family is a curated
label, so instead of families this module averages the measured Tm of the ``k`` nearest
training compounds in the standardised descriptor space of
:class:`mlglass.models.domain.ApplicabilityDomain` (:func:`mlglass.models.domain.scaled_space`),
the same space that decides ``in`` / ``near`` / ``out``. No label-defined group is used.

Two ways of using it outside the ``in``/``near`` bins (both were fixed before the outer
folds were scored, both contain ``gated_td`` as a grid point, and ``k`` and the weight ``w``
are chosen by the inner chemistry-grouped CV only; see :mod:`mlglass.models.tm_anchor`):

``knn_blend``
    ``Tm = w * Td_hat + (1 - w) * kNN mean of Tm`` (``w = 1``: ``gated_td``).
``knn_margin``
    ``Tm = Td_hat + w * kNN mean of (Tm - Td_hat)`` (the local margin below Td; ``w = 0``: ``gated_td``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.neighbors import KNeighborsRegressor

from mlglass.models.domain import scaled_space

__all__ = ["KNN_K_GRID", "KNN_W_GRID", "KNN_KINDS", "knn_mean", "knn_combine"]

#: Neighbour counts tried by the inner CV.
KNN_K_GRID = (3, 5, 10)
#: Weights tried by the inner CV (of Td_hat for ``knn_blend``, of the margin for ``knn_margin``).
KNN_W_GRID = (0.0, 0.25, 0.5, 0.75, 1.0)
#: Candidate names (columns of the nested evaluation).
KNN_KINDS = ("knn_blend", "knn_margin")


def knn_mean(X_train: np.ndarray, target: np.ndarray, X_query: np.ndarray, labels: Sequence[str], k: int
             ) -> np.ndarray:
    """Mean ``target`` of the ``k`` nearest training rows in the standardised domain space.

    Parameters
    ----------
    X_train, X_query : ndarray
        Descriptor rows (``labels`` order); the space is standardised on ``X_train``.
    target : ndarray
        Value averaged (degC: measured Tm, or the margin Tm - Td_hat).
    k : int
        Neighbours (at most the number of training rows).

    Returns
    -------
    ndarray (degC), NaN when there are no training rows.
    """
    target = np.asarray(target, float)
    if len(target) == 0:
        return np.full(len(X_query), np.nan)
    Z, center, scale = scaled_space(X_train, labels)
    Zq, _, _ = scaled_space(X_query, labels, center, scale)
    reg = KNeighborsRegressor(n_neighbors=min(int(k), len(target)), algorithm="brute").fit(Z, target)
    return np.asarray(reg.predict(Zq), float)


def knn_combine(kind: str, td_hat: np.ndarray, knn: np.ndarray, w: float) -> np.ndarray:
    """Tm (degC) of ``kind`` from Td_hat and the kNN mean (of Tm for ``knn_blend``, of the margin otherwise)."""
    td_hat, knn = np.asarray(td_hat, float), np.asarray(knn, float)
    if kind == "knn_blend":
        return w * td_hat + (1 - w) * knn
    if kind == "knn_margin":
        return td_hat + w * knn
    raise ValueError(f"kind must be one of {KNN_KINDS}, got {kind!r}")
