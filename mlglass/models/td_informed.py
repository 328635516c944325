"""Tm and Tg informed by the thermal-stability set (censored Tm information as a Td prior).

Why
---
In a chemistry-grouped cross-validation the 22 Im-based ZIFs (Tm 310-590 degC) form one
group: when they are held out, no training compound melts above ~270 degC and a tree model
predicts them ~270 degC too low. The thermal-stability set (``datasets/thermal.csv``: TGA
onsets Td of ~3,000 frameworks) knows that Zn/Co-azolate frameworks survive to 300-550 degC.
A framework that melts does so below its Td, and a framework that decomposes first has
Tm > Td, so the predicted Td of a compound is a physical scale for its Tm that does not
depend on any measured Tm.

Model
-----
``Tm_hat = w * Td_hat(x) + (1 - w) * f(x)``: ``Td_hat`` is an xgboost Td regressor fitted on
thermal rows only, ``f`` the boosted Tm regressor of the record descriptors, and the weight
``w`` (grid 0, 0.1, ..., 1) is chosen by a chemistry-grouped cross-validation *inside* the
training data (:func:`choose_blend_weight`), never on the rows that are scored.

Tg is predicted through the Tg/Tm ratio (kelvin): ``Tg_hat = r * Tm_hat`` with ``r`` the median
Tg/Tm of the training compounds that have both (0.66-0.96 in the data; the review's 2/3 rule,
ZIF-62 0.84), and compared with the direct Tg model by :func:`evaluate_td_informed`. Since
``r < 1``, ``Tg_hat < Tm_hat`` always.

Leakage
-------
In cross-validation the Td regressor of a fold is fitted on the thermal rows that are not
known melters and whose composition (:func:`mlglass.thermal.composition_key`) is not that of a
held-out compound (:func:`thermal_training_mask`).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np
import xgboost as xgb
from sklearn.model_selection import GroupKFold

from mlglass.models.boosting import conformal_quantile, make_estimator

__all__ = [
    "BLEND_GRID",
    "choose_blend_weight",
    "evaluate_td_informed",
    "fit_td_prior",
    "glass_composition_keys",
    "ratio_bounds",
    "tg_from_tm",
    "tg_interval_from_tm",
    "tg_tm_ratio",
    "tg_tm_ratios",
    "thermal_inputs",
    "thermal_training_mask",
]

_K = 273.15
#: Candidate weights of the Td prior.
BLEND_GRID = tuple(round(0.1 * i, 1) for i in range(11))


def thermal_training_mask(thermal_keys: Sequence[Hashable | None], known_melter: np.ndarray,
                          held_keys: set[Hashable | None]) -> np.ndarray:
    """Thermal rows a fold may train its Td prior on.

    Parameters
    ----------
    thermal_keys : sequence
        Composition key of each thermal row (:func:`mlglass.thermal.composition_key`; ``None`` if blank).
    known_melter : ndarray of bool
        Rows whose composition melts according to the glass dataset.
    held_keys : set
        Composition keys of the held-out compounds.

    Returns
    -------
    ndarray of bool
        False for known melters and for rows with a held-out composition.
    """
    held = {k for k in held_keys if k is not None}
    same = np.array([k is not None and k in held for k in thermal_keys], dtype=bool)
    return ~np.asarray(known_melter, dtype=bool) & ~same


def fit_td_prior(X: np.ndarray, td_c: np.ndarray, *, params: dict[str, Any] | None = None, seed: int = 0,
                 n_jobs: int = 1) -> xgb.XGBRegressor:
    """xgboost Td regressor (degC) on thermal rows (record descriptors)."""
    from mlglass.models.decomposition import TD_PARAMS

    p = {**TD_PARAMS, **(params or {})}
    return make_estimator("plain", **p, n_jobs=n_jobs, random_state=seed).fit(X, td_c)


def choose_blend_weight(X: np.ndarray, y: np.ndarray, groups: np.ndarray, td_hat: np.ndarray, *,
                        n_splits: int = 5, seed: int = 0, params: dict[str, Any] | None = None,
                        grid: Sequence[float] = BLEND_GRID) -> tuple[float, np.ndarray]:
    """Weight of the Td prior minimising the chemistry-grouped CV MAE on (X, y) only.

    Returns
    -------
    w : float
    oof : ndarray
        Out-of-fold predictions of the boosted Tm model (degC), for interval calibration.
    """
    oof = np.full(len(y), np.nan)
    n_groups = len(np.unique(groups))
    if n_groups < 2:
        return 0.0, oof
    split = GroupKFold(n_splits=max(2, min(n_splits, n_groups)), shuffle=True, random_state=seed)
    for tr, te in split.split(X, y, groups):
        est = make_estimator("regressor", **{"random_state": seed, **(params or {}), "calibration_folds": 0})
        oof[te] = est.fit(X[tr], y[tr]).predict(X[te])
    maes = [float(np.mean(np.abs(w * td_hat + (1 - w) * oof - y))) for w in grid]
    return float(grid[int(np.argmin(maes))]), oof


def tg_tm_ratio(tg_c: np.ndarray, tm_c: np.ndarray) -> float:
    """Median Tg/Tm (kelvin) of the rows with both values (0.8 when there are none)."""
    tg_c, tm_c = np.asarray(tg_c, float), np.asarray(tm_c, float)
    ok = np.isfinite(tg_c) & np.isfinite(tm_c)
    return float(np.median((tg_c[ok] + _K) / (tm_c[ok] + _K))) if ok.any() else 0.8


def tg_tm_ratios(tg_c: np.ndarray, tm_c: np.ndarray) -> np.ndarray:
    """Tg/Tm (kelvin) of every row with both values, sorted (the ratio's own spread)."""
    tg_c, tm_c = np.asarray(tg_c, float), np.asarray(tm_c, float)
    ok = np.isfinite(tg_c) & np.isfinite(tm_c)
    return np.sort((tg_c[ok] + _K) / (tm_c[ok] + _K))


def ratio_bounds(ratios: Sequence[float] | np.ndarray, coverage: float) -> tuple[float, float]:
    """Central ``coverage`` range of the training Tg/Tm ratios: their (1 - c)/2 and (1 + c)/2 quantiles.

    With no ratios both bounds are NaN (the caller keeps its other interval).
    """
    r = np.asarray(ratios, float)
    r = r[np.isfinite(r)]
    if not len(r):
        return math.nan, math.nan
    lo, hi = np.quantile(r, [(1 - coverage) / 2, (1 + coverage) / 2])
    return float(lo), float(hi)


def tg_interval_from_tm(tm_lo_c: np.ndarray, tm_hi_c: np.ndarray, ratio_lo: float, ratio_hi: float
                        ) -> tuple[np.ndarray, np.ndarray]:
    """Tg interval (degC) propagated from a Tm interval through the Tg/Tm ratio range (kelvin).

    ``Tg = r * Tm`` is increasing in both ``r`` and ``Tm`` (kelvin), so a compound whose Tm lies in
    ``[tm_lo, tm_hi]`` and whose ratio lies in ``[ratio_lo, ratio_hi]`` has Tg in
    ``[ratio_lo * tm_lo, ratio_hi * tm_hi]``. A lower Tm bound below 0 K is taken as 0 K.

    Returns
    -------
    tg_lo_c, tg_hi_c : ndarray (degC)
    """
    lo_k = np.maximum(np.asarray(tm_lo_c, float) + _K, 0.0)
    hi_k = np.asarray(tm_hi_c, float) + _K
    return ratio_lo * lo_k - _K, ratio_hi * hi_k - _K


def tg_from_tm(tm_c: np.ndarray, ratio: float) -> np.ndarray:
    """Tg = ratio * Tm in kelvin, returned in degC (below Tm for ``0 < ratio < 1``)."""
    if not 0 < ratio < 1:
        raise ValueError(f"Tg/Tm ratio must be in (0, 1), got {ratio!r}")
    return ratio * (np.asarray(tm_c, float) + _K) - _K


def evaluate_td_informed(sets: dict, labels: list[str], thermal_X: np.ndarray, thermal_td: np.ndarray,
                         thermal_keys: Sequence[Hashable | None], known_melter: np.ndarray,
                         glass_keys: Mapping[str, Sequence[Hashable | None]], *, n_splits: int = 5,
                         n_repeats: int = 1, seed: int = 0, coverage: float = 0.8,
                         td_params: dict[str, Any] | None = None, n_jobs: int = 1) -> dict[str, Any]:
    """Chemistry-grouped CV of the Td-informed Tm model and of Tg through the Tg/Tm ratio.

    Per outer fold: the Td prior is fitted on the admissible thermal rows
    (:func:`thermal_training_mask`), the blend weight is chosen inside the training fold
    (:func:`choose_blend_weight`), the interval half-width is the conformal quantile of the
    training fold's inner out-of-fold residuals of the blend. Tg rows are folded by their own
    groups; their Tm model is trained on the Tm rows whose group is not held out.

    Returns a dict with ``tm`` and ``tg`` entries: MAE per method (``model`` = boosted only,
    ``td_informed``; ``td_prior_only``, a baseline that predicts Tm = Td_hat and uses no Tm
    label; for Tg ``ratio_td_informed`` and ``ratio_td_prior_only``), the ZIF / other split of the first
    repeat, the chosen weights, and coverage / mean width of the intervals.
    """
    tm = sets["tm"]
    out: dict[str, Any] = {}
    for target in ("tm", "tg"):
        s = sets[target]
        y = s.y
        res: dict[str, list[float]] = {}
        weights: list[float] = []
        cover: list[float] = []
        width: list[float] = []
        split_first: dict[str, Any] = {}
        for r in range(n_repeats):
            pred: dict[str, np.ndarray] = {}
            lo = np.full(len(y), np.nan)
            hi = np.full(len(y), np.nan)
            for tr, te in GroupKFold(n_splits=n_splits, shuffle=True, random_state=seed + r).split(s.X, y, s.groups):
                held_groups = set(s.groups[te])
                tm_tr = np.array([g not in held_groups for g in tm.groups])
                held = ({glass_keys[target][int(i)] for i in te}
                        | {glass_keys["tm"][int(i)] for i in np.nonzero(~tm_tr)[0]})
                keep = thermal_training_mask(thermal_keys, known_melter, held)
                prior = fit_td_prior(thermal_X[keep], thermal_td[keep], params=td_params, seed=seed, n_jobs=n_jobs)
                w, oof = choose_blend_weight(tm.X[tm_tr], tm.y[tm_tr], tm.groups[tm_tr],
                                             prior.predict(tm.X[tm_tr]), seed=seed)
                weights.append(w)
                tm_model = make_estimator("regressor", random_state=seed, calibration_folds=0).fit(
                    tm.X[tm_tr], tm.y[tm_tr])
                tm_hat = w * prior.predict(s.X[te]) + (1 - w) * tm_model.predict(s.X[te])
                direct = (tm_model.predict(s.X[te]) if target == "tm" else
                          make_estimator("regressor", random_state=seed, calibration_folds=0).fit(
                              s.X[tr], y[tr]).predict(s.X[te]))
                pred.setdefault("model", np.full(len(y), np.nan))[te] = direct
                blend_oof = w * prior.predict(tm.X[tm_tr]) + (1 - w) * oof
                td_te = prior.predict(s.X[te])
                if target == "tm":
                    pred.setdefault("td_informed", np.full(len(y), np.nan))[te] = tm_hat
                    pred.setdefault("td_prior_only", np.full(len(y), np.nan))[te] = td_te
                    q = conformal_quantile(np.abs(tm.y[tm_tr] - blend_oof), coverage)
                    lo[te], hi[te] = tm_hat - q, tm_hat + q
                else:
                    both_tm = s.frame["tm_c"].to_numpy(float)[tr] if "tm_c" in s.frame else np.full(len(tr), np.nan)
                    ratio = tg_tm_ratio(y[tr], both_tm)
                    tg_hat = tg_from_tm(tm_hat, ratio)
                    pred.setdefault("ratio_td_informed", np.full(len(y), np.nan))[te] = tg_hat
                    pred.setdefault("ratio_td_prior_only", np.full(len(y), np.nan))[te] = tg_from_tm(td_te, ratio)
                    # calibration: Tg training rows' residuals of ratio * (inner-OOF Tm blend)
                    tg_tm_idx = {i: k for k, i in enumerate(tm.ids[tm_tr])}
                    cal = [k for k, i in enumerate(s.ids[tr]) if i in tg_tm_idx]
                    r_cal = np.abs(y[tr][cal] - tg_from_tm(blend_oof[[tg_tm_idx[i] for i in s.ids[tr][cal]]], ratio))
                    q = conformal_quantile(r_cal, coverage)
                    lo[te], hi[te] = tg_hat - q, tg_hat + q
            for m, p in pred.items():
                res.setdefault(m, []).append(float(np.mean(np.abs(p - y))))
            ok = np.isfinite(lo)
            cover.append(float(np.mean((y[ok] >= lo[ok]) & (y[ok] <= hi[ok]))))
            width.append(float(np.mean(hi[ok] - lo[ok])))
            if r == 0:
                zif = s.families == "ZIF"
                best = pred["td_informed" if target == "tm" else "ratio_td_informed"]
                split_first = {"zif_mae": float(np.mean(np.abs(best - y)[zif])) if zif.any() else math.nan,
                               "other_mae": float(np.mean(np.abs(best - y)[~zif])), "n_zif": int(zif.sum())}
        out[target] = {"n": len(y), "mae": {m: float(np.mean(v)) for m, v in res.items()},
                       "mae_std": {m: float(np.std(v)) for m, v in res.items()}, "first_repeat": split_first,
                       "weights": weights, "coverage": float(np.mean(cover)), "width_c": float(np.mean(width)),
                       "coverage_nominal": coverage}
    return out


def thermal_inputs(thermal: Any, featurizer: Any = None) -> dict[str, Any]:
    """Featurized train/val thermal rows for :func:`evaluate_td_informed`.

    Parameters
    ----------
    thermal : DataFrame
        The thermal table (:func:`mlglass.datasets.load_thermal`).
    featurizer : GlassFeaturizer, optional

    Returns
    -------
    dict with ``thermal_X``, ``thermal_td`` (degC), ``thermal_keys`` and ``known_melter``; the
    ``test`` split is left out (it is reserved for the Td evaluation).
    """
    from mlglass.models.decomposition import TRAIN_SPLITS, featurize_thermal
    from mlglass.thermal import composition_key

    ts = featurize_thermal(thermal, featurizer)
    good = thermal[(thermal["error"] == "") & thermal["td_c"].notna()]
    keys = {str(r): composition_key(m, lig) for r, m, lig in zip(good["refcode"], good["metal"], good["ligands"])}
    m = ts.mask(TRAIN_SPLITS)
    return {"thermal_X": ts.X_row[m], "thermal_td": ts.y[m], "thermal_keys": [keys.get(r) for r in ts.refcode[m]],
            "known_melter": ts.known_melter[m]}


def glass_composition_keys(sets: dict) -> dict[str, list[Hashable | None]]:
    """Composition key of every row of each training set (``metal`` and ``ligands`` columns)."""
    from mlglass.thermal import composition_key

    return {name: [composition_key(m, lig) for m, lig in zip(s.frame["metal"], s.frame["ligands"])]
            for name, s in sets.items()}
