"""A sign-constrained linear Tm on Td_hat and the review's stated directions (issue 11, measured, not shipped).

Why
---
Every predictor whose output stays inside the range of the training labels (trees, the kNN
means of :mod:`mlglass.models.tm_knn`, family means and blends of them) misses a held-out
chemistry whose Tm lies outside that range by at least the distance to it
(:func:`mlglass.models.evaluate.label_range_bound`: 59 degC for the Tm set, where the
held-out Im-based ZIFs melt at 310-590 degC and every other compound below 275 degC). A
linear model can extrapolate, so this candidate tests whether the directions the review
states carry a held-out chemistry beyond the training range:

``Tm_hat = b0 + b_td * Td_hat + sum_i s_i * b_i * x_i``,  every ``b >= 0``

with ``s_i`` the sign of :data:`TM_DIRECTIONS` (Ma & Horike, Chem. Rev. 2022, 122, 4163,
sections 2-3): a higher-dimensional network and a more symmetric ligand raise Tm; bulky
counter-ions (charge spread, ionic-liquid design), d10 metals (no CFSE), a hard/soft
mismatch (weaker bonds) and flexible ligands (larger entropy of fusion) lower it; and a
compound that melts does so below its decomposition, so Tm rises with Td_hat. Descriptors
are median-imputed and standardised on the training rows; the ridge penalty ``alpha`` and
the weight ``w`` of the blend with Td_hat outside the ``in``/``near`` bins are chosen by the
inner chemistry-grouped CV (:mod:`mlglass.models.tm_anchor_evaluation`, candidate ``linear``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.linear_model import Ridge

__all__ = ["TM_DIRECTIONS", "LINEAR_ALPHA_GRID", "LINEAR_W_GRID", "SignedLinearTm"]

#: Descriptor -> sign of its effect on Tm stated by the review (+1 raises Tm, -1 lowers it).
TM_DIRECTIONS: dict[str, int] = {
    "network_dimensionality": +1,
    "ligand_log2_automorphisms_mean": +1,
    "counter_amount_per_metal": -1,
    "metal_d10_fraction": -1,
    "hsab_mismatch": -1,
    "ligand_rotatable_bonds_mean": -1,
}
#: Ridge penalties tried by the inner CV (standardised inputs).
LINEAR_ALPHA_GRID = (0.3, 3.0, 30.0)
#: Weights of the linear Tm against Td_hat tried by the inner CV (``0``: ``gated_td``).
LINEAR_W_GRID = (0.0, 0.5, 1.0)


class SignedLinearTm:
    """Ridge regression of Tm (degC) on Td_hat and :data:`TM_DIRECTIONS`, coefficients of the stated sign.

    Parameters
    ----------
    labels : sequence of str
        Descriptor names of the ``X`` passed to :meth:`fit` and :meth:`predict`; descriptors of
        :data:`TM_DIRECTIONS` missing from them are left out (``used`` lists the ones in the model).
    alpha : float, default=3.0
        Ridge penalty on the standardised inputs.
    """

    def __init__(self, labels: Sequence[str], alpha: float = 3.0):
        self.used = [k for k in TM_DIRECTIONS if k in labels]
        self.columns = [list(labels).index(k) for k in self.used]
        self.alpha = float(alpha)
        self.signs = np.array([1.0, *(TM_DIRECTIONS[k] for k in self.used)])

    def _signed(self, X: np.ndarray, td_hat: np.ndarray) -> np.ndarray:
        """``[td_hat, used descriptors]`` times their signs (NaN where not measured)."""
        return np.column_stack([np.asarray(td_hat, float), np.asarray(X, float)[:, self.columns]]) * self.signs

    def _inputs(self, X: np.ndarray, td_hat: np.ndarray) -> np.ndarray:
        A = self._signed(X, td_hat)
        return np.where(np.isfinite(A), A, self.fill_)

    def fit(self, X: np.ndarray, y: np.ndarray, td_hat: np.ndarray) -> SignedLinearTm:
        """Fit on descriptors ``X``, measured Tm ``y`` and predicted Td ``td_hat`` (degC)."""
        raw = self._signed(X, td_hat)
        finite = np.isfinite(raw)
        # training median per input; 0 for an input never measured
        self.fill_ = np.array([np.median(raw[finite[:, j], j]) if finite[:, j].any() else 0.0
                               for j in range(raw.shape[1])])
        A = np.where(finite, raw, self.fill_)
        self.center_ = A.mean(axis=0)
        scale = A.std(axis=0)
        self.scale_ = np.where(scale > 0, scale, 1.0)
        self.ridge_ = Ridge(alpha=self.alpha, positive=True).fit((A - self.center_) / self.scale_, y)
        return self

    def predict(self, X: np.ndarray, td_hat: np.ndarray) -> np.ndarray:
        """Tm (degC) of rows ``X`` whose predicted Td is ``td_hat``."""
        if len(X) == 0:
            return np.zeros(0)
        return np.asarray(self.ridge_.predict((self._inputs(X, td_hat) - self.center_) / self.scale_), float)

    def effects(self) -> dict[str, float]:
        """Signed change of Tm (degC) per training standard deviation of each input (``td_hat`` first)."""
        names = ["td_hat", *self.used]
        return {n: float(s * b) for n, s, b in zip(names, self.signs, self.ridge_.coef_)}
