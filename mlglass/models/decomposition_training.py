"""Fit the decomposition heads of a :class:`~mlglass.models.predictor.GlassPredictor` bundle.

``td_cif``, ``td_row`` and ``td_struct`` (Td regressors, :mod:`mlglass.models.decomposition`) on the
thermal table's train + val rows, and ``tm_aft`` (censored Tm model,
:mod:`mlglass.models.censored`) on the glass dataset plus those thermal rows.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pandas as pd

from mlglass.featurize import GlassFeaturizer
from mlglass.models.boosting import make_estimator
from mlglass.models.censored import CensoredTmRegressor
from mlglass.models.decomposition import (
    TD_PARAMS,
    TM_AFT_PARAMS,
    TRAIN_SPLITS,
    ThermalSet,
    featurize_thermal,
    fit_td_regressors,
    tm_censored_labels,
)

__all__ = ["train_decomposition_heads", "fit_tm_aft", "glass_features"]


def glass_features(data: pd.DataFrame, featurizer: GlassFeaturizer) -> np.ndarray:
    """Record descriptors of the glass dataset rows (NaN rows where featurization failed)."""
    feats = featurizer.transform(data)
    X = feats[featurizer.feature_labels()].to_numpy(dtype=float).copy()
    X[(feats["error"] != "").to_numpy()] = np.nan
    return X


def fit_tm_aft(data: pd.DataFrame, X_glasses: np.ndarray, ts: ThermalSet | None, td_row_model: Any, *,
               seed: int = 0, n_jobs: int = 1, glass_rows: np.ndarray | None = None,
               params: dict[str, Any] | None = None) -> tuple[CensoredTmRegressor, dict[str, int]]:
    """Censored Tm model on the glass rows (optionally a subset) and the thermal train/val rows."""
    td_pred = np.full(len(data), np.nan)
    ok = np.isfinite(X_glasses).any(axis=1)
    if td_row_model is not None and ok.any():
        td_pred[ok] = td_row_model.predict(X_glasses[ok])
    lab = tm_censored_labels(data, X_glasses, ts, td_row_pred_glasses=td_pred, glass_rows=glass_rows)
    model = make_estimator("censored", random_state=seed, n_jobs=n_jobs, **{**TM_AFT_PARAMS, **(params or {})})
    model.fit(lab["X"], lab["lower"], lab["upper"], sample_weight=lab["weight"])
    counts = Counter(f"{s}: {k}" for s, k in zip(lab["source"], lab["kind"]))
    return model, {k: int(v) for k, v in sorted(counts.items())}


def train_decomposition_heads(data: pd.DataFrame, thermal: pd.DataFrame, featurizer: GlassFeaturizer, *,
                              coverage: float = 0.8, seed: int = 0, n_jobs: int = 1,
                              params: dict[str, dict[str, Any]] | None = None
                              ) -> tuple[dict[str, Any], dict[str, Any]]:
    """Heads ``td_cif``, ``td_row``, ``td_struct`` (when the table has graph descriptors), ``tm_aft`` and their
    metadata (never trained on the test split).

    ``params`` may override hyperparameters: ``{"td": {...}, "tm_aft": {...}}``.
    """
    params = params or {}
    td_params = {**TD_PARAMS, **params.get("td", {})}
    aft_params = {**TM_AFT_PARAMS, **params.get("tm_aft", {})}
    from mlglass.models.boosting import FittedBooster
    from mlglass.models.training_sets import frame_hash

    ts = featurize_thermal(thermal, featurizer)
    td_models = fit_td_regressors(ts, coverage=coverage, seed=seed, n_jobs=n_jobs, params=td_params)
    X_glasses = glass_features(data, featurizer)
    aft, counts = fit_tm_aft(data, X_glasses, ts, td_models["td_row"], seed=seed, n_jobs=n_jobs, params=aft_params)
    heads: dict[str, FittedBooster] = {name: m.fitted_ for name, m in td_models.items()}
    heads["tm_aft"] = FittedBooster(aft.booster_)
    m = ts.mask(TRAIN_SPLITS)
    info = {
        "thermal_sha256": frame_hash(thermal), "thermal_rows": int(len(thermal)),
        "train_splits": list(TRAIN_SPLITS), "n_td_train": int(m.sum()), "excluded": ts.excluded,
        "n_td_struct_train": int(ts.graph_mask(TRAIN_SPLITS).sum()) if "td_struct" in td_models else 0,
        "td_params": td_params,
        "td_interval_halfwidth_c": {name: mdl.interval_halfwidth(coverage) for name, mdl in td_models.items()},
        "tm_aft": {**aft_params, "labels": counts},
        "calibration": None,
        "calibration_note": "p_melt = P(Tm < Td) is used uncalibrated: the training mix (a few dozen melters "
                            "against thousands of frameworks that decompose) sets no meaningful base rate.",
    }
    return heads, info
