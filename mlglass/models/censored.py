"""Melting temperature from censored data, and P(Tm < Td).

Most frameworks decompose before they melt: their TGA onset Td says only that
Tm > Td (a right-censored Tm). A compound seen to melt below its measured Td
says Tm < Td (left-censored) and a measured Tm is exact. :class:`CensoredTmRegressor`
learns from all three with xgboost's accelerated-failure-time objective
(``survival:aft``): ``ln(Tm / K) = f(x) + sigma * eps`` with ``eps`` standard
normal, so ``P(Tm < t) = Phi((ln(t / K) - f(x)) / sigma)``.

:func:`prob_tm_below_td` combines that with a normal predictive distribution of
Td (mean ``td_c``, standard deviation ``td_sd_c``; zero for a known Td) by
Gauss-Hermite quadrature: ``p_melt = E_Td[P(Tm < Td)]``.

:class:`MonotoneCalibrator` is the only calibration allowed on top: a
strictly increasing map (isotonic fit blended with the identity), so it can
change probabilities but never the order of two candidates.

References
----------
Barnwal, Cho & Hocking, "Survival regression with accelerated failure time
model in XGBoost", J. Comput. Graph. Stat. 31, 1292 (2022).
Ma & Horike, Chem. Rev. 2022, 122, 4163, section 3 (melting needs Tm < Td).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xgboost as xgb
from scipy.special import ndtr
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

__all__ = ["CensoredTmRegressor", "prob_tm_below_td", "MonotoneCalibrator", "aft_cdf"]

_K = 273.15
_GH_X, _GH_W = np.polynomial.hermite.hermgauss(24)


def aft_cdf(margin: np.ndarray, sigma: float, t_c: np.ndarray) -> np.ndarray:
    """``P(Tm < t)`` for AFT margins ``margin`` (ln K), scale ``sigma``, temperatures ``t_c`` (degC)."""
    t_k = np.asarray(t_c, dtype=float) + _K
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (np.log(np.where(t_k > 0, t_k, np.nan)) - margin) / sigma
    out = ndtr(z)
    return np.where(np.isfinite(t_k) & (t_k <= 0), 0.0, out)


def prob_tm_below_td(margin: np.ndarray, sigma: float, td_c: np.ndarray, td_sd_c: np.ndarray | float) -> np.ndarray:
    """``P(Tm < Td)`` with Tm ~ AFT(``margin``, ``sigma``) and Td ~ Normal(``td_c``, ``td_sd_c``) (degC).

    NaN where ``margin`` or ``td_c`` is NaN. A zero ``td_sd_c`` means Td is known exactly.
    """
    from mlglass.models.tree_bins import factorize_rows

    margin = np.asarray(margin, dtype=float)
    td = np.asarray(td_c, dtype=float)
    sd = np.broadcast_to(np.asarray(td_sd_c, dtype=float), td.shape)
    if len(td) > 1024:  # each distinct (margin, Td, sd) once: screening rows repeat them (tree classes)
        codes, first = factorize_rows(margin, td, sd)
        if len(first) < len(td):
            return prob_tm_below_td(margin[first], sigma, td[first], sd[first])[codes]
    nodes = td[:, None] + np.sqrt(2.0) * np.nan_to_num(sd)[:, None] * _GH_X[None, :]
    p = (aft_cdf(margin[:, None], sigma, nodes) * _GH_W[None, :]).sum(axis=1) / np.sqrt(np.pi)
    return np.where(np.isfinite(margin) & np.isfinite(td), p, np.nan)


class CensoredTmRegressor(BaseEstimator):
    """xgboost AFT model of the melting temperature from exact and censored labels.

    Parameters
    ----------
    n_estimators, max_depth, learning_rate, subsample, colsample_bytree, min_child_weight
        xgboost hyperparameters.
    sigma : float, default=0.12
        Scale of the normal error of ``ln(Tm / K)`` (0.12 is about +-70 degC at 300 degC).
    random_state : int, default=0
    n_jobs : int, default=1

    Attributes
    ----------
    booster_ : xgboost.Booster
    n_features_in_ : int
    """

    def __init__(self, *, n_estimators: int = 400, max_depth: int = 3, learning_rate: float = 0.05,
                 subsample: float = 0.8, colsample_bytree: float = 0.7, min_child_weight: float = 1.0,
                 sigma: float = 0.12, random_state: int = 0, n_jobs: int = 1):
        self.n_estimators = n_estimators
        self.max_depth = max_depth
        self.learning_rate = learning_rate
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.min_child_weight = min_child_weight
        self.sigma = sigma
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _params(self) -> dict[str, Any]:
        return {"objective": "survival:aft", "eval_metric": "aft-nloglik", "aft_loss_distribution": "normal",
                "aft_loss_distribution_scale": float(self.sigma), "max_depth": self.max_depth,
                "learning_rate": self.learning_rate, "subsample": self.subsample,
                "colsample_bytree": self.colsample_bytree, "min_child_weight": self.min_child_weight,
                "seed": self.random_state, "nthread": self.n_jobs, "tree_method": "hist", "verbosity": 0}

    def fit(self, X: Any, lower_c: Any, upper_c: Any, sample_weight: Any = None) -> CensoredTmRegressor:
        """Fit on interval labels ``[lower_c, upper_c]`` (degC; ``upper_c = inf`` right-censored,
        ``lower_c = -273.15`` left-censored, equal bounds exact)."""
        if not (self.sigma > 0):
            raise ValueError(f"sigma must be positive, got {self.sigma!r}")
        X = np.asarray(X, dtype=np.float32)
        lo = np.asarray(lower_c, dtype=float) + _K
        hi = np.asarray(upper_c, dtype=float) + _K
        if X.ndim != 2 or len(X) != len(lo) or len(lo) != len(hi):
            raise ValueError("X, lower_c and upper_c must have the same number of rows")
        if np.any(~np.isfinite(lo)) or np.any(lo < 0) or np.any(hi < lo):
            raise ValueError("labels need finite lower bounds >= -273.15 degC and upper >= lower")
        dtrain = xgb.DMatrix(X, missing=np.nan, weight=None if sample_weight is None else np.asarray(sample_weight))
        dtrain.set_float_info("label_lower_bound", lo)
        dtrain.set_float_info("label_upper_bound", hi)
        self.booster_ = xgb.train(self._params(), dtrain, num_boost_round=int(self.n_estimators))
        self.n_features_in_ = X.shape[1]
        return self

    def margin(self, X: Any) -> np.ndarray:
        """Predicted ``ln(Tm / K)`` location (the median of ln Tm)."""
        check_is_fitted(self)
        X = np.asarray(X, dtype=np.float32)
        if len(X) == 0:
            return np.zeros(0)
        return np.asarray(self.booster_.inplace_predict(X, missing=np.nan, predict_type="margin"), dtype=float)

    def predict(self, X: Any) -> np.ndarray:
        """Median Tm (degC)."""
        return np.exp(self.margin(X)) - _K

    def cdf(self, X: Any, t_c: Any) -> np.ndarray:
        """``P(Tm < t_c)`` per row."""
        return aft_cdf(self.margin(X), self.sigma, np.asarray(t_c, dtype=float))


class MonotoneCalibrator:
    """Strictly increasing probability calibration: ``(1 - eps) * isotonic(p) + eps * p``.

    The isotonic part (scikit-learn, ``increasing=True``) is non-decreasing
    whatever the labels say, and the ``eps`` identity share makes the map
    strictly increasing, so two candidates never swap order. With labels that
    contradict the scores (a reversed fixture) the isotonic part is flat: the
    calibration then changes nothing but the level, never the ranking.

    Parameters
    ----------
    eps : float, default=0.05
    """

    def __init__(self, eps: float = 0.05):
        self.eps = eps

    def fit(self, p: Any, y: Any) -> MonotoneCalibrator:
        from sklearn.isotonic import IsotonicRegression

        p = np.asarray(p, dtype=float)
        y = np.asarray(y, dtype=float)
        ok = np.isfinite(p) & np.isfinite(y)
        iso = IsotonicRegression(increasing=True, out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(p[ok], y[ok])
        self.x_ = np.asarray(iso.X_thresholds_, dtype=float)
        self.y_ = np.asarray(iso.y_thresholds_, dtype=float)
        return self

    @classmethod
    def from_thresholds(cls, x: Any, y: Any, eps: float = 0.05) -> MonotoneCalibrator:
        """Rebuild from stored thresholds; refuses a decreasing table (it would invert the ranking)."""
        cal = cls(eps)
        cal.x_ = np.asarray(x, dtype=float)
        cal.y_ = np.asarray(y, dtype=float)
        if np.any(np.diff(cal.x_) < 0) or np.any(np.diff(cal.y_) < 0):
            raise ValueError("calibration thresholds must be non-decreasing (a decreasing map would invert "
                             "the ranking)")
        return cal

    def transform(self, p: Any) -> np.ndarray:
        p = np.asarray(p, dtype=float)
        if len(self.x_) == 0:
            return p
        iso = np.interp(p, self.x_, self.y_)
        return np.where(np.isfinite(p), (1 - self.eps) * iso + self.eps * p, np.nan)
