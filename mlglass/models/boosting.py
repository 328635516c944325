"""Gradient-boosted estimators (xgboost) with calibrated uncertainty.

:class:`BoostedRegressor` gives split-conformal prediction intervals from
cross-validated (optionally group-wise) residuals; :class:`BoostedClassifier`
gives probabilities calibrated by Platt scaling on out-of-fold scores. Both
take numeric descriptor matrices (NaN allowed: xgboost routes missing values)
and follow the scikit-learn estimator contract.

References
----------
Lei, G'Sell, Rinaldo, Tibshirani & Wasserman, "Distribution-free predictive
inference for regression", JASA 113, 1094 (2018).
Platt, "Probabilistic outputs for support vector machines", 1999.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import xgboost as xgb
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.model_selection import GroupKFold, KFold, StratifiedGroupKFold, StratifiedKFold
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

__all__ = ["BoostedRegressor", "BoostedClassifier", "FittedBooster", "make_estimator", "conformal_quantile",
           "BOOSTER_PARAMS"]

#: Hyperparameters shared by both estimators (tuned by ``mlglass tune``).
BOOSTER_PARAMS = ("n_estimators", "max_depth", "learning_rate", "subsample", "colsample_bytree",
                  "min_child_weight", "reg_lambda", "reg_alpha")


def conformal_quantile(residuals: np.ndarray, coverage: float) -> float:
    """Split-conformal quantile of absolute residuals for nominal ``coverage``.

    Returns the ceil((n+1) coverage)-th smallest residual, or +inf when there
    are too few residuals for that coverage.
    """
    r = np.sort(np.abs(np.asarray(residuals, dtype=float)))
    r = r[np.isfinite(r)]
    n = len(r)
    if n == 0:
        return math.inf
    k = math.ceil((n + 1) * coverage)
    if k > n:
        return math.inf
    return float(r[k - 1])


def _splitter(y: np.ndarray, groups: np.ndarray | None, n_splits: int, seed: int, classify: bool):
    n = len(y)
    if groups is not None:
        n_groups = len(np.unique(groups))
        if n_groups >= n_splits:
            if classify:
                _, counts = np.unique(y, return_counts=True)
                k = min(n_splits, int(counts.min()))
                if k < 2:
                    return None, None
                return StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed), groups
            return GroupKFold(n_splits=n_splits, shuffle=True, random_state=seed), groups
    n_splits = min(n_splits, n)
    if classify:
        _, counts = np.unique(y, return_counts=True)
        n_splits = min(n_splits, int(counts.min()))
        if n_splits < 2:
            return None, None
        return StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed), None
    if n_splits < 2:
        return None, None
    return KFold(n_splits=n_splits, shuffle=True, random_state=seed), None


class FittedBooster:
    """A fitted boosted model as it is saved and loaded: one xgboost booster plus its calibration.

    The one implementation of prediction, Platt scaling, conformal half-widths and SHAP
    contributions: :class:`BoostedRegressor` and :class:`BoostedClassifier` delegate to it after
    fitting, and :class:`~mlglass.models.predictor.GlassPredictor` holds one per model, loaded from
    xgboost JSON plus JSON metadata (never pickled).

    Parameters
    ----------
    booster : xgboost.Booster or None
        ``None`` for a constant model (a classifier trained on one class).
    residuals : array-like, optional
        Absolute out-of-fold residuals calibrating the split-conformal interval (target units).
    platt : (slope, intercept), optional
        Platt scaling of a probability (applied to its logit).
    constant : float, optional
        Prediction of a model without booster.
    loader : callable, optional
        Builds the booster on first use (a bundle loads rarely used models lazily).
    digest : str, optional
        SHA-256 of the booster's saved JSON when it is known (a checked model file), so that
        :meth:`content_digest` does not have to build or serialise the booster.
    """

    def __init__(self, booster: xgb.Booster | None = None, *, residuals: Any = (),
                 platt: tuple[float, float] | list[float] | None = None, constant: float | None = None,
                 loader: Callable[[], xgb.Booster] | None = None, digest: str | None = None):
        self._booster = booster
        self._loader = loader
        self._digest = digest
        self.residuals = np.asarray(residuals, dtype=float)
        self.platt = None if platt is None else (float(platt[0]), float(platt[1]))
        self.constant = constant

    @property
    def booster(self) -> xgb.Booster | None:
        """The xgboost booster (built by ``loader`` on first access)."""
        if self._booster is None and self._loader is not None:
            self._booster, self._loader = self._loader(), None
        return self._booster

    @property
    def loaded(self) -> bool:
        """False while a lazily loaded booster has not been built yet."""
        return self._loader is None

    def predict(self, X: np.ndarray, classes: Any = None) -> np.ndarray:
        """Predictions (target units, or calibrated probability) for the rows of ``X``.

        ``classes`` (:class:`mlglass.models.tree_bins.RowClasses` of ``X``) predicts one row per
        tree-equivalence class; the result is identical.
        """
        if self.booster is None:
            return np.full(len(X), self.constant if self.constant is not None else np.nan)
        if len(X) == 0:
            return np.zeros(0)
        if classes is not None:
            return classes.broadcast(self.predict(classes.rep))
        out = np.asarray(self.booster.inplace_predict(X, missing=np.nan), dtype=float)
        return out if self.platt is None else _apply_platt(out, self.platt)

    def predict_margin(self, X: np.ndarray, classes: Any = None) -> np.ndarray:
        """Untransformed margins (e.g. ln(Tm/K) of the censored AFT model); NaN without booster."""
        if self.booster is None or len(X) == 0:
            return np.full(len(X), np.nan)
        if classes is not None:
            return classes.broadcast(self.predict_margin(classes.rep))
        return np.asarray(self.booster.inplace_predict(X, missing=np.nan, predict_type="margin"), dtype=float)

    def content_digest(self) -> str:
        """SHA-256 of the booster (its JSON; empty text for a constant model), without the calibration."""
        if self._digest is None:
            booster = self.booster
            raw = b"" if booster is None else bytes(booster.save_raw(raw_format="json"))
            self._digest = hashlib.sha256(raw).hexdigest()
        return self._digest

    def halfwidth(self, coverage: float) -> float:
        """Split-conformal half-width at ``coverage`` (target units; inf without enough residuals)."""
        return conformal_quantile(self.residuals, coverage)

    def contributions(self, X: np.ndarray) -> np.ndarray:
        """SHAP contributions per feature (last column: bias), via xgboost ``pred_contribs``."""
        if self.booster is None or len(X) == 0:
            return np.zeros((len(X), np.shape(X)[1] + 1))
        return self.booster.predict(xgb.DMatrix(X, missing=np.nan), pred_contribs=True)

    def calibration(self) -> dict[str, Any]:
        """JSON-safe calibration state (what the bundle metadata stores beside the booster file)."""
        return {"residuals": self.residuals.tolist(), "platt": None if self.platt is None else list(self.platt),
                "constant": self.constant}


class _BoostedBase(BaseEstimator):
    def _xgb_params(self) -> dict[str, Any]:
        return dict(n_estimators=self.n_estimators, max_depth=self.max_depth, learning_rate=self.learning_rate,
                    subsample=self.subsample, colsample_bytree=self.colsample_bytree,
                    min_child_weight=self.min_child_weight, reg_lambda=self.reg_lambda, reg_alpha=self.reg_alpha,
                    random_state=self.random_state, n_jobs=self.n_jobs, tree_method="hist", verbosity=0)

    def _check_params(self) -> None:
        if not (isinstance(self.n_estimators, (int, np.integer)) and self.n_estimators >= 1):
            raise ValueError(f"n_estimators must be a positive integer, got {self.n_estimators!r}")
        if not 0 < self.coverage < 1:
            raise ValueError(f"coverage must be in (0, 1), got {self.coverage!r}")
        if not (isinstance(self.calibration_folds, (int, np.integer)) and self.calibration_folds >= 0):
            raise ValueError("calibration_folds must be a non-negative integer")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags


class BoostedRegressor(RegressorMixin, _BoostedBase):
    """xgboost regressor with split-conformal intervals.

    Parameters
    ----------
    n_estimators, max_depth, learning_rate, subsample, colsample_bytree, min_child_weight, reg_lambda, reg_alpha
        xgboost hyperparameters.
    coverage : float, default=0.8
        Default nominal coverage of :meth:`predict_interval`.
    calibration_folds : int, default=5
        Folds of the cross-validation whose out-of-fold residuals calibrate the
        intervals (grouped by ``groups`` when given to :meth:`fit`). 0 disables
        intervals (they are then infinite).
    random_state : int, default=0
    n_jobs : int, default=1

    Attributes
    ----------
    booster_ : xgboost.XGBRegressor
        Model fitted on all data.
    residuals_ : ndarray
        Absolute out-of-fold residuals (target units).
    n_features_in_ : int
    """

    def __init__(self, *, n_estimators: int = 300, max_depth: int = 3, learning_rate: float = 0.05,
                 subsample: float = 0.8, colsample_bytree: float = 0.7, min_child_weight: float = 1.0,
                 reg_lambda: float = 1.0, reg_alpha: float = 0.0, coverage: float = 0.8,
                 calibration_folds: int = 5, random_state: int = 0, n_jobs: int = 1):
        self.n_estimators = n_estimators
        self.max_depth = max_depth
        self.learning_rate = learning_rate
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.min_child_weight = min_child_weight
        self.reg_lambda = reg_lambda
        self.reg_alpha = reg_alpha
        self.coverage = coverage
        self.calibration_folds = calibration_folds
        self.random_state = random_state
        self.n_jobs = n_jobs

    def fit(self, X: Any, y: Any, groups: Any = None) -> BoostedRegressor:
        """Fit on all rows; calibrate intervals on out-of-fold residuals."""
        self._check_params()
        X, y = validate_data(self, X, y, ensure_all_finite="allow-nan", y_numeric=True, dtype=np.float64)
        groups = None if groups is None else np.asarray(groups)
        self.booster_ = xgb.XGBRegressor(**self._xgb_params()).fit(X, y)
        residuals = np.array([], dtype=float)
        if self.calibration_folds >= 2 and len(y) >= 4:
            splitter, g = _splitter(y, groups, self.calibration_folds, self.random_state, classify=False)
            if splitter is not None:
                oof = np.full(len(y), np.nan)
                for tr, te in splitter.split(X, y, g):
                    model = xgb.XGBRegressor(**self._xgb_params()).fit(X[tr], y[tr])
                    oof[te] = model.predict(X[te])
                residuals = np.abs(y - oof)
        self.residuals_ = residuals
        self.fitted_ = FittedBooster(self.booster_.get_booster(), residuals=residuals)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Point predictions (target units)."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, ensure_all_finite="allow-nan", dtype=np.float64)
        return self.fitted_.predict(X)

    def interval_halfwidth(self, coverage: float | None = None) -> float:
        """Half-width of the conformal interval at ``coverage`` (target units)."""
        check_is_fitted(self)
        return self.fitted_.halfwidth(self.coverage if coverage is None else coverage)

    def predict_interval(self, X: Any, coverage: float | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Predictions with lower and upper bounds of nominal ``coverage``.

        Returns
        -------
        pred, lower, upper : ndarray
        """
        pred = self.predict(X)
        q = self.interval_halfwidth(coverage)
        return pred, pred - q, pred + q

    def contributions(self, X: Any) -> np.ndarray:
        """SHAP contributions per feature (last column: bias), via xgboost ``pred_contribs``."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, ensure_all_finite="allow-nan", dtype=np.float64)
        return self.fitted_.contributions(X)


class BoostedClassifier(ClassifierMixin, _BoostedBase):
    """xgboost classifier with Platt-calibrated probabilities.

    Parameters
    ----------
    n_estimators, max_depth, learning_rate, subsample, colsample_bytree, min_child_weight, reg_lambda, reg_alpha
        xgboost hyperparameters.
    calibration_folds : int, default=5
        Folds for out-of-fold scores used by Platt scaling (binary problems). 0 disables calibration.
    balance_classes : bool, default=False
        Weight samples inversely to class frequency, so that a rare class (the few
        compounds known to decompose before melting) still shapes the trees;
        Platt scaling then restores calibrated probabilities.
    coverage : float, default=0.8
        Unused by the classifier (kept so both estimators share tuning code).
    random_state : int, default=0
    n_jobs : int, default=1

    Attributes
    ----------
    classes_ : ndarray
    booster_ : xgboost.XGBClassifier or None
        ``None`` when the training data hold a single class.
    platt_ : tuple of float or None
        (slope, intercept) applied to the logit of the raw probability.
    """

    def __init__(self, *, n_estimators: int = 300, max_depth: int = 3, learning_rate: float = 0.05,
                 subsample: float = 0.8, colsample_bytree: float = 0.7, min_child_weight: float = 1.0,
                 reg_lambda: float = 1.0, reg_alpha: float = 0.0, coverage: float = 0.8,
                 calibration_folds: int = 5, balance_classes: bool = False, random_state: int = 0,
                 n_jobs: int = 1):
        self.balance_classes = balance_classes
        self.n_estimators = n_estimators
        self.max_depth = max_depth
        self.learning_rate = learning_rate
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.min_child_weight = min_child_weight
        self.reg_lambda = reg_lambda
        self.reg_alpha = reg_alpha
        self.coverage = coverage
        self.calibration_folds = calibration_folds
        self.random_state = random_state
        self.n_jobs = n_jobs

    def fit(self, X: Any, y: Any, groups: Any = None) -> BoostedClassifier:
        """Fit on all rows; calibrate with Platt scaling on out-of-fold scores."""
        self._check_params()
        X, y = validate_data(self, X, y, ensure_all_finite="allow-nan", dtype=np.float64)
        check_classification_targets(y)
        self.classes_, codes = np.unique(y, return_inverse=True)
        self.platt_ = None
        if len(self.classes_) < 2:
            self.booster_ = None
            self.fitted_ = FittedBooster(None)
            return self
        self.booster_ = xgb.XGBClassifier(**self._xgb_params()).fit(X, codes, sample_weight=self._weights(codes))
        if len(self.classes_) == 2 and self.calibration_folds >= 2:
            groups = None if groups is None else np.asarray(groups)
            splitter, g = _splitter(codes, groups, self.calibration_folds, self.random_state, classify=True)
            if splitter is not None:
                oof = np.full(len(codes), np.nan)
                ok = True
                for tr, te in splitter.split(X, codes, g):
                    if len(np.unique(codes[tr])) < 2:
                        ok = False
                        break
                    model = xgb.XGBClassifier(**self._xgb_params()).fit(X[tr], codes[tr],
                                                                        sample_weight=self._weights(codes[tr]))
                    oof[te] = model.predict_proba(X[te])[:, 1]
                if ok and np.isfinite(oof).all():
                    self.platt_ = _fit_platt(oof, codes)
        self.fitted_ = FittedBooster(self.booster_.get_booster(), platt=self.platt_)
        return self

    def _weights(self, codes: np.ndarray) -> np.ndarray | None:
        if not self.balance_classes:
            return None
        counts = np.bincount(codes)
        return (len(codes) / (len(counts) * counts))[codes]

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities (columns in ``classes_`` order), calibrated for binary problems."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, ensure_all_finite="allow-nan", dtype=np.float64)
        if self.booster_ is None:
            return np.ones((len(X), 1))
        if len(self.classes_) > 2:
            return self.booster_.predict_proba(X)
        p1 = self.fitted_.predict(X)  # Platt-calibrated when calibration was possible
        return np.column_stack([1 - p1, p1])

    def predict(self, X: Any) -> np.ndarray:
        """Most probable class."""
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    def contributions(self, X: Any) -> np.ndarray:
        """SHAP contributions to the log-odds of the positive class (binary); last column: bias."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, ensure_all_finite="allow-nan", dtype=np.float64)
        return self.fitted_.contributions(X)


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def _fit_platt(scores: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    from sklearn.linear_model import LogisticRegression

    lr = LogisticRegression(C=1.0).fit(_logit(scores).reshape(-1, 1), y)
    return float(lr.coef_[0, 0]), float(lr.intercept_[0])


def _apply_platt(p: np.ndarray, platt: tuple[float, float]) -> np.ndarray:
    a, b = platt
    return 1.0 / (1.0 + np.exp(-(a * _logit(p) + b)))


def make_estimator(kind: str, **params: Any) -> Any:
    """The one factory of the package's boosted estimators.

    Parameters
    ----------
    kind : {"regressor", "classifier", "censored", "plain"}
        Conformal regressor (Tm, Tg, Td), Platt-calibrated classifier (melts), the censored
        AFT regressor of Tm (:class:`mlglass.models.censored.CensoredTmRegressor`), or a plain
        ``xgboost.XGBRegressor`` (``tree_method="hist"``, silent) for the Td priors and the
        residual on Td that fit with ``base_margin`` (:mod:`mlglass.models.tm_anchor`).
    **params
        Hyperparameters of that estimator (``random_state``, ``n_jobs``, ``coverage``, booster
        parameters, ...).
    """
    if kind == "regressor":
        return BoostedRegressor(**params)
    if kind == "classifier":
        return BoostedClassifier(**params)
    if kind == "censored":
        from mlglass.models.censored import CensoredTmRegressor

        return CensoredTmRegressor(**params)
    if kind == "plain":
        return xgb.XGBRegressor(**{"tree_method": "hist", "verbosity": 0, **params})
    raise ValueError(f"kind must be 'regressor', 'classifier', 'censored' or 'plain', got {kind!r}")
