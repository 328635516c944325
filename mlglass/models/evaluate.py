"""Honest evaluation: series-grouped cross-validation, leave-one-family-out, baselines.

Protocol
--------
* Repeated group K-fold over the dataset's ``series`` column (``n_repeats``
  shuffles with seeds 0, 1, ...), so no analog of a test compound is in its
  training fold. Every figure is computed on out-of-fold predictions only.
* Intervals are calibrated *inside* each training fold (nested conformal), then
  their empirical coverage and width are measured on the held-out fold.
* Groups are *chemistry groups* (:func:`mlglass.models.domain.chemistry_groups`): the
  dataset's series merged with every near-duplicate, so no near-duplicate sits across a
  fold boundary.
* The headline uses the default hyperparameters: nothing is tuned on the rows it is
  scored on (tuned parameters are judged by ``mlglass tune --nested-trials``).
* Per applicability-domain bin (``in``/``near``/``out``, fitted inside each training
  fold) the coverage and width of the distance-normalised intervals are reported.
* Leave-one-family-out is reported separately as the extrapolation figure.
* Baselines run on exactly the same folds: training mean, family mean, ridge
  regression on the same descriptors, and for Tg the Kauzmann rule
  Tg = 2/3 Tm (kelvin) with the *measured* Tm (rows that have one).
* A diagnostic, not a method: the label-range bound (:func:`label_range_bound`), the
  smallest MAE that *any* predictor confined to the training fold's label range could reach
  on the same folds (kNN, family means, forests and blends of them are so confined).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, RidgeCV
from sklearn.metrics import balanced_accuracy_score, brier_score_loss, mean_absolute_error, r2_score, roc_auc_score
from sklearn.model_selection import GroupKFold, LeaveOneGroupOut, StratifiedGroupKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mlglass.models.boosting import make_estimator
from mlglass.models.training_sets import TrainingSet

__all__ = ["evaluate_all", "evaluate_regression", "evaluate_classification", "label_range_bound",
           "regression_metrics"]

_K = 273.15


def regression_metrics(y: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    """MAE, RMSE (degC) and R2 on the rows where ``pred`` is finite."""
    ok = np.isfinite(pred)
    y, pred = y[ok], pred[ok]
    if len(y) == 0:
        return {"mae": math.nan, "rmse": math.nan, "r2": math.nan, "n": 0}
    return {"mae": float(mean_absolute_error(y, pred)), "rmse": float(np.sqrt(np.mean((y - pred) ** 2))),
            "r2": float(r2_score(y, pred)) if len(y) > 1 else math.nan, "n": int(len(y))}


def label_range_bound(y_train: np.ndarray, y_test: np.ndarray) -> np.ndarray:
    """Smallest absolute error (same unit as ``y``) of any prediction inside ``[min, max]`` of ``y_train``.

    It reads the held-out labels, so it is a bound, never a method: a model whose predictions
    never leave the range of its training labels (a kNN or group mean, a random forest, any
    convex blend of them; boosted trees, which sum shrunken leaf means, in practice) errs on a
    held-out row by at least this much. Zero for rows inside the range.
    """
    y_train, y_test = np.asarray(y_train, float), np.asarray(y_test, float)
    if len(y_train) == 0:
        return np.full(len(y_test), np.nan)
    lo, hi = float(np.min(y_train)), float(np.max(y_train))
    return np.maximum(0.0, np.maximum(lo - y_test, y_test - hi))


def _ridge() -> Any:
    return make_pipeline(SimpleImputer(strategy="median", keep_empty_features=True), StandardScaler(),
                         RidgeCV(alphas=np.logspace(-2, 4, 25)))


def _family_mean(train_y: np.ndarray, train_fam: np.ndarray, test_fam: np.ndarray) -> np.ndarray:
    means = {f: train_y[train_fam == f].mean() for f in np.unique(train_fam)}
    return np.array([means.get(f, train_y.mean()) for f in test_fam])


def _folds(ts: TrainingSet, n_splits: int, seed: int, classify: bool):
    n_groups = len(np.unique(ts.groups))
    k = max(2, min(n_splits, n_groups))
    if classify:
        k = max(2, min(k, int(np.bincount(ts.y.astype(int)).min())))  # every fold can hold a minority case
        return StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed).split(ts.X, ts.y, ts.groups)
    return GroupKFold(n_splits=k, shuffle=True, random_state=seed).split(ts.X, ts.y, ts.groups)


def evaluate_regression(ts: TrainingSet, *, params: dict[str, Any] | None = None, n_splits: int = 5,
                        n_repeats: int = 3, coverage: float = 0.8, seed: int = 0, tm_measured: np.ndarray | None = None,
                        progress: Callable[[], None] | None = None, labels: list[str] | None = None) -> dict[str, Any]:
    """Grouped CV of a temperature model and its baselines.

    Returns a dict with, per method (``model``, ``mean``, ``family_mean``, ``ridge`` and, when
    ``tm_measured`` is given, ``kauzmann``), the mean and std over repeats of MAE, RMSE, R2,
    plus ``coverage``/``width_c`` of the model's intervals, the leave-one-family-out figures and
    the out-of-fold predictions of the first repeat (for parity plots).
    """
    params = params or {}
    y = ts.y
    methods: dict[str, list[dict[str, float]]] = {"model": [], "mean": [], "family_mean": [], "ridge": []}
    if tm_measured is not None:
        methods["kauzmann"] = []
        methods["model_on_kauzmann_rows"] = []
    coverages, widths, bound_maes, n_outside = [], [], [], []
    bin_hits: dict[str, list[float]] = {"in": [], "near": [], "out": []}
    bin_widths: dict[str, list[float]] = {"in": [], "near": [], "out": []}
    chem = _chemistry(ts)
    oof_first = None
    for r in range(n_repeats):
        preds = {m: np.full(len(y), np.nan) for m in methods}
        lo = np.full(len(y), np.nan)
        hi = np.full(len(y), np.nan)
        bound = np.full(len(y), np.nan)
        for tr, te in _folds(ts, n_splits, seed + r, classify=False):
            bound[te] = label_range_bound(y[tr], y[te])
            est = make_estimator("regressor", coverage=coverage, random_state=seed, **params)
            est.fit(ts.X[tr], y[tr], groups=ts.groups[tr])
            p, l_, h_ = est.predict_interval(ts.X[te], coverage)
            preds["model"][te], lo[te], hi[te] = p, l_, h_
            preds["mean"][te] = y[tr].mean()
            preds["family_mean"][te] = _family_mean(y[tr], ts.families[tr], ts.families[te])
            preds["ridge"][te] = _ridge().fit(ts.X[tr], y[tr]).predict(ts.X[te])
            if chem is not None and labels is not None:
                bins, lo_a, hi_a = _domain_intervals(ts, tr, te, p, chem, labels, params, coverage, seed)
                for b in bin_hits:
                    sel = bins == b
                    bin_hits[b].extend(((y[te][sel] >= lo_a[sel]) & (y[te][sel] <= hi_a[sel])).astype(float))
                    bin_widths[b].extend(hi_a[sel] - lo_a[sel])
            if progress:
                progress()
        if tm_measured is not None:
            preds["kauzmann"] = 2.0 / 3.0 * (tm_measured + _K) - _K
            preds["model_on_kauzmann_rows"] = np.where(np.isfinite(tm_measured), preds["model"], np.nan)
        for m in methods:
            methods[m].append(regression_metrics(y, preds[m]))
        bound_maes.append(float(np.mean(bound)))
        n_outside.append(int(np.sum(bound > 0)))
        inside = (y >= lo) & (y <= hi)
        coverages.append(float(inside.mean()))
        widths.append(float(np.mean(hi - lo)))
        if oof_first is None:
            oof_first = {"y": y.tolist(), "pred": preds["model"].tolist(), "lo": lo.tolist(), "hi": hi.tolist(),
                         "family": ts.families.tolist(), "id": ts.ids.tolist()}
    out: dict[str, Any] = {"n": int(len(y)), "n_series": int(len(np.unique(ts.groups))), "excluded": ts.excluded,
                           "methods": {m: _summarise(v) for m, v in methods.items()},
                           "coverage_nominal": coverage, "coverage": float(np.mean(coverages)),
                           "width_c": float(np.mean(widths)), "oof": oof_first,
                           "label_range_bound": {"mae": float(np.mean(bound_maes)),
                                                 "mae_std": float(np.std(bound_maes)),
                                                 "n_outside_range": float(np.mean(n_outside))}}
    all_hits = [h for v in bin_hits.values() for h in v]
    all_w = [w for v in bin_widths.values() for w in v]
    out["coverage_domain_adaptive"] = float(np.mean(all_hits)) if all_hits else math.nan
    out["width_domain_adaptive_c"] = float(np.mean(all_w)) if all_w else math.nan
    out["domain_coverage"] = {b: {"n": len(v) // max(n_repeats, 1), "coverage": float(np.mean(v)) if v else math.nan,
                                  "width_c": float(np.mean(bin_widths[b])) if v else math.nan}
                              for b, v in bin_hits.items()}
    out["lofo"] = _lofo_regression(ts, params, seed)
    return out


def _chemistry(ts: TrainingSet) -> list | None:
    from mlglass.errors import RecordError
    from mlglass.models.domain import record_chemistry
    from mlglass.records import record_from_mapping

    try:
        return [record_chemistry(record_from_mapping({str(k): v for k, v in row.items()}))
                for row in ts.frame.to_dict("records")]
    except (RecordError, KeyError):
        return None


def _domain_intervals(ts: TrainingSet, tr: np.ndarray, te: np.ndarray, pred: np.ndarray, chem: list,
                      labels: list[str], params: dict[str, Any], coverage: float, seed: int):
    """Fit the applicability domain on the training fold; bins and normalised intervals of the test fold."""
    from mlglass.models.domain import ApplicabilityDomain, grouped_cv_calibration

    dist, res = grouped_cv_calibration(
        ts.X[tr], ts.y[tr], ts.groups[tr], labels, seed=seed,
        make_model=lambda: make_estimator("regressor", **{"random_state": seed, **params, "calibration_folds": 0}))
    dom = ApplicabilityDomain(coverage=coverage).fit(ts.X[tr], labels, [chem[i] for i in tr], dist, res)
    chem_te = [chem[i] for i in te]
    bins, _ = dom.classify(ts.X[te], chem_te)
    q = dom.halfwidth(ts.X[te], chem_te, coverage)
    return np.asarray(bins), pred - q, pred + q


def _lofo_regression(ts: TrainingSet, params: dict[str, Any], seed: int) -> dict[str, Any]:
    pred = np.full(len(ts.y), np.nan)
    base = np.full(len(ts.y), np.nan)
    per_family = {}
    for tr, te in LeaveOneGroupOut().split(ts.X, ts.y, ts.families):
        est = make_estimator("regressor", **{"random_state": seed, **params, "calibration_folds": 0})
        est.fit(ts.X[tr], ts.y[tr])
        pred[te] = est.predict(ts.X[te])
        base[te] = ts.y[tr].mean()
        fam = ts.families[te][0]
        per_family[fam] = {"n": int(len(te)), "mae": float(np.mean(np.abs(pred[te] - ts.y[te])))}
    return {"model": regression_metrics(ts.y, pred), "mean": regression_metrics(ts.y, base), "families": per_family}


def _summarise(runs: list[dict[str, float]]) -> dict[str, float]:
    out = {}
    for key in ("mae", "rmse", "r2", "auc", "balanced_accuracy", "brier"):
        vals = [r[key] for r in runs if key in r and r[key] is not None and not math.isnan(r[key])]
        if vals:
            out[key] = float(np.mean(vals))
            out[f"{key}_std"] = float(np.std(vals))
    if runs and "n" in runs[0]:
        out["n"] = runs[0]["n"]
    return out


def classification_metrics(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    """ROC-AUC, balanced accuracy (threshold 0.5) and Brier score of probabilities ``p``."""
    ok = np.isfinite(p)
    y, p = y[ok], p[ok]
    auc = float(roc_auc_score(y, p)) if len(np.unique(y)) == 2 else math.nan
    return {"auc": auc, "balanced_accuracy": float(balanced_accuracy_score(y, (p >= 0.5).astype(int))),
            "brier": float(brier_score_loss(y, p)), "n": int(len(y))}


def evaluate_classification(ts: TrainingSet, *, params: dict[str, Any] | None = None, n_splits: int = 5,
                            n_repeats: int = 3, seed: int = 0,
                            progress: Callable[[], None] | None = None) -> dict[str, Any]:
    """Grouped, stratified CV of the melt-vs-decompose classifier and its baselines."""
    params = params or {}
    y = ts.y.astype(int)
    methods: dict[str, list[dict[str, float]]] = {"model": [], "prior": [], "family_rate": [], "logistic": []}
    oof_first = None
    for r in range(n_repeats):
        preds = {m: np.full(len(y), np.nan) for m in methods}
        for tr, te in _folds(ts, n_splits, seed + r, classify=True):
            clf = make_estimator("classifier", random_state=seed, **params).fit(ts.X[tr], y[tr], groups=ts.groups[tr])
            proba = clf.predict_proba(ts.X[te])
            preds["model"][te] = proba[:, 1] if proba.shape[1] == 2 else float(clf.classes_[0])
            preds["prior"][te] = y[tr].mean()
            preds["family_rate"][te] = _family_mean(y[tr].astype(float), ts.families[tr], ts.families[te])
            if len(np.unique(y[tr])) == 2:
                lr = make_pipeline(SimpleImputer(strategy="median", keep_empty_features=True), StandardScaler(),
                                   LogisticRegression(C=0.1, max_iter=2000))
                preds["logistic"][te] = lr.fit(ts.X[tr], y[tr]).predict_proba(ts.X[te])[:, 1]
            else:
                preds["logistic"][te] = float(y[tr][0])
            if progress:
                progress()
        for m in methods:
            methods[m].append(classification_metrics(y, preds[m]))
        if oof_first is None:
            oof_first = {"y": y.tolist(), "p": preds["model"].tolist(), "family": ts.families.tolist(),
                         "id": ts.ids.tolist()}
    return {"n": int(len(y)), "n_positive": int(y.sum()), "n_negative": int((1 - y).sum()),
            "excluded": ts.excluded, "methods": {m: _summarise(v) for m, v in methods.items()}, "oof": oof_first}


def evaluate_all(sets: dict[str, TrainingSet], *, params: dict[str, dict[str, Any]] | None = None,
                 n_splits: int = 5, n_repeats: int = 3, coverage: float = 0.8, seed: int = 0,
                 progress: Callable[[], None] | None = None, labels: list[str] | None = None,
                 thermal: Any = None) -> dict[str, Any]:
    """Evaluate the Tm, Tg and melt models with their baselines (see module docstring).

    ``params`` (tuned hyperparameters) are recorded but not used for the temperature
    headline, which must not depend on parameters tuned on the same rows. With ``thermal``
    (the thermal table, a DataFrame) the Td-informed Tm model and Tg through the Tg/Tm ratio
    (:func:`mlglass.models.td_informed.evaluate_td_informed`) are scored too (key
    ``td_informed``; featurizing the thermal table takes minutes).
    """
    tuned = params or {}
    params = {"melt": tuned.get("melt", {})}
    if labels is None:
        from mlglass.featurize import GlassFeaturizer

        labels = GlassFeaturizer().feature_labels()
    tg = sets["tg"]
    tm_for_tg = tg.frame["tm_c"].to_numpy(dtype=float) if "tm_c" in tg.frame else None
    extra: dict[str, Any] = {}
    if thermal is not None:
        from mlglass.models import td_informed as ti

        extra["td_informed"] = ti.evaluate_td_informed(sets, labels, **ti.thermal_inputs(thermal),
                                                       glass_keys=ti.glass_composition_keys(sets), n_splits=n_splits,
                                                       n_repeats=n_repeats, seed=seed, coverage=coverage)
    return {**extra,
        "protocol": {"cv": "repeated GroupKFold by chemistry group (series + near-duplicates)",
                     "hyperparameters": "defaults (no tuning on the scored rows)",
                     "tuned_params_ignored": sorted(k for k in tuned if k != "melt"),
                     "n_splits": n_splits, "n_repeats": n_repeats,
                     "seed": seed, "coverage_nominal": coverage,
                     "extrapolation": "leave-one-family-out"},
        "tm": evaluate_regression(sets["tm"], params=params.get("tm"), n_splits=n_splits, n_repeats=n_repeats,
                                  coverage=coverage, seed=seed, progress=progress, labels=labels),
        "tg": evaluate_regression(tg, params=params.get("tg"), n_splits=n_splits, n_repeats=n_repeats,
                                  coverage=coverage, seed=seed, tm_measured=tm_for_tg, progress=progress,
                                  labels=labels),
        "tg_after_cap": tg_cap_check(sets["tm"], tg, n_splits=n_splits, n_repeats=n_repeats, coverage=coverage,
                                     seed=seed),
        "melt": evaluate_classification(sets["melt"], params=params.get("melt"), n_splits=n_splits,
                                        n_repeats=n_repeats, seed=seed, progress=progress),
    }


def tg_cap_check(tm: TrainingSet, tg: TrainingSet, *, n_splits: int = 5, n_repeats: int = 3, coverage: float = 0.8,
                 seed: int = 0) -> dict[str, Any]:
    """Tg coverage and MAE *after* the Tg/Tm cap, as :class:`GlassPredictor` applies it.

    In each chemistry-grouped fold of the Tg rows, a Tm model is trained on the Tm rows
    whose group is not held out, the Tg model on the Tg training rows, the ratio cap on the
    training rows with both values; the held-out Tg intervals are then capped
    (:func:`mlglass.models.predictor.cap_tg_interval`) and scored.

    The same folds also score Tg *through the Tg/Tm ratio* (``ratio``): Tg = r * Tm_hat in
    kelvin (:func:`mlglass.models.td_informed.tg_from_tm`), r the median Tg/Tm of the training
    rows with both values, Tm_hat from that Tm model, half-width r * (Tm half-width).
    """
    from mlglass.models.predictor import cap_tg_interval
    from mlglass.models.td_informed import tg_from_tm, tg_tm_ratio

    both = tg.frame["tm_c"].to_numpy(dtype=float) if "tm_c" in tg.frame else np.full(len(tg.y), np.nan)
    cov, mae, capped = [], [], []
    r_mae, r_cov, r_width, r_ratio = [], [], [], []
    for r in range(n_repeats):
        rp = np.full(len(tg.y), np.nan)
        rq = np.full(len(tg.y), np.nan)
        pred = np.full(len(tg.y), np.nan)
        lo = np.full(len(tg.y), np.nan)
        hi = np.full(len(tg.y), np.nan)
        n_cap = 0
        for tr, te in _folds(tg, n_splits, seed + r, classify=False):
            held = set(tg.groups[te])
            tm_tr = np.array([g not in held for g in tm.groups])
            if tm_tr.sum() < 4:
                continue
            tm_model = make_estimator("regressor", coverage=coverage, random_state=seed).fit(tm.X[tm_tr], tm.y[tm_tr],
                                                                                  groups=tm.groups[tm_tr])
            tm_p, _, tm_hi = tm_model.predict_interval(tg.X[te], coverage)
            tg_model = make_estimator("regressor", coverage=coverage, random_state=seed).fit(tg.X[tr], tg.y[tr],
                                                                                  groups=tg.groups[tr])
            raw = tg_model.predict(tg.X[te])
            q = tg_model.interval_halfwidth(coverage)
            ok = np.isfinite(both[tr])
            ratios = (tg.y[tr][ok] + _K) / (both[tr][ok] + _K)
            cap = float(min(0.99, math.ceil(ratios.max() * 100) / 100)) if len(ratios) else 0.9
            p, l_, h_ = cap_tg_interval(raw, q, tm_p, tm_hi, cap)
            n_cap += int((p < raw - 1e-9).sum())
            pred[te], lo[te], hi[te] = p, l_, h_
            r_tr = tg_tm_ratio(tg.y[tr], both[tr])
            r_ratio.append(r_tr)
            rp[te] = tg_from_tm(tm_p, r_tr)
            rq[te] = r_tr * (tm_hi - tm_p)
        ok = np.isfinite(pred)
        cov.append(float(((tg.y[ok] >= lo[ok]) & (tg.y[ok] <= hi[ok])).mean()))
        mae.append(float(np.mean(np.abs(tg.y[ok] - pred[ok]))))
        capped.append(n_cap)
        ok = np.isfinite(rp)
        r_mae.append(float(np.mean(np.abs(tg.y[ok] - rp[ok]))))
        r_cov.append(float(np.mean(np.abs(tg.y[ok] - rp[ok]) <= rq[ok])))
        r_width.append(float(np.mean(2 * rq[ok])))
    ratio = {"mae": float(np.mean(r_mae)), "mae_std": float(np.std(r_mae)), "coverage": float(np.mean(r_cov)),
             "width_c": float(np.mean(r_width)), "ratio_median": float(np.median(r_ratio)) if r_ratio else math.nan}
    return {"coverage": float(np.mean(cov)), "mae": float(np.mean(mae)), "n_capped_per_repeat": float(np.mean(capped)),
            "coverage_nominal": coverage, "ratio": ratio}
