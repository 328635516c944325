"""Evaluation of Td and of p_melt = P(Tm < Td) on the published thermal test split.

Td (degC), on the ``test`` rows of the thermal table (models fitted on
``train`` + ``val`` only), side by side:

* ``mean``: the training mean;
* ``rf_rac_zeo``: scikit-learn ``RandomForestRegressor(n_estimators=500,
  min_samples_leaf=2)`` on MOFSimplify's RAC + Zeo++ descriptors
  (``../shared/thermal/rac_zeo_features.csv``; the published baseline set);
* ``mlglass_cif``: the CIF view (record + structure descriptors);
* ``mlglass_row``: the table-row view (record descriptors only);
* ``mlglass_structure``: the structure-only view (graph descriptors only).

Figures are given on the test rows every method can predict (the CIF pipeline
fails on a few structures) and the RF also on all test rows. ``predictor``
gives the figures of what :class:`~mlglass.models.predictor.GlassPredictor`
returns for every test CIF: the CIF view where the record was extracted,
else the structure-only view (``n_predicted`` of ``n_test_table``).

p_melt: ROC-AUC, balanced accuracy (threshold 0.5) and Brier score on the
review's ``melts`` labels (series-grouped K-fold over ``series``; the censored
Tm model is refitted without the held-out series, Td from the table-row view)
together with the thermal ``test`` frameworks (not known melters) as
decomposition examples (Td from the CIF view), beside baselines fitted on the
same training rows: the prior, a per-metal-element melt rate (a chemistry
family, not a label-defined one; Laplace-smoothed towards the prior) and
logistic regression on the record descriptors.

``methods`` are fold-matched: in each fold the model fitted without the
held-out series scores both its held-out review compounds and the test
frameworks, the metrics are computed on that fold and averaged over folds
(``methods_per_fold`` keeps each). Pooling held-out compounds scored by fold
models with frameworks scored by one full-data model mixes models whose base
rates differ, which made the constant prior reach an AUC of 0.00; fold-matched,
a constant scores 0.50. ``glass_only`` still pools the out-of-fold
predictions (4 negatives: no fold holds both classes), so there even the
prior's AUC differs from 0.5. ``test_frameworks_mean_p`` is the mean p of the
model fitted on every labelled row (the bundled setting).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlglass.models.censored import prob_tm_below_td
from mlglass.models.evaluate import classification_metrics, regression_metrics

__all__ = ["evaluate_thermal", "evaluate_td", "evaluate_p_melt"]

_Z80 = 1.2815515655446004


def _interval_metrics(y: np.ndarray, pred: np.ndarray, half: float) -> dict[str, float]:
    m = regression_metrics(y, pred)
    ok = np.isfinite(pred)
    m["coverage"] = float(np.mean(np.abs(y[ok] - pred[ok]) <= half)) if ok.any() else math.nan
    m["width_c"] = float(2 * half)
    return m


def evaluate_td(thermal: pd.DataFrame, ts: Any, td_models: dict[str, Any], shared_dir: Path | None, *,
                coverage: float = 0.8, seed: int = 0, n_jobs: int = 1) -> dict[str, Any]:
    """Td test-split figures (see module docstring)."""
    train = ts.mask(("train", "val"))
    test = ts.mask(("test",))
    y = ts.y[test]
    out: dict[str, Any] = {"n_test_table": int((thermal["split"] == "test").sum()),
                           "n_test_predicted": int(test.sum()), "n_train": int(train.sum()),
                           "coverage_nominal": coverage, "methods": {}}
    out["methods"]["mean"] = _interval_metrics(y, np.full(len(y), ts.y[train].mean()), math.nan)
    out["methods"]["mean"].pop("coverage")
    out["methods"]["mean"].pop("width_c")
    for name, X in (("mlglass_cif", ts.X_cif), ("mlglass_row", ts.X_row)):
        model = td_models["td_cif" if name == "mlglass_cif" else "td_row"]
        out["methods"][name] = _interval_metrics(y, model.predict(X[test]), model.interval_halfwidth(coverage))
    if "td_struct" in td_models:
        g_model = td_models["td_struct"]
        g_half = g_model.interval_halfwidth(coverage)
        g_test = ts.graph_mask(("test",))
        g_pred = dict(zip(ts.G_refcode[g_test], g_model.predict(ts.G_X[g_test])))
        pred_s = np.array([g_pred.get(r, np.nan) for r in ts.refcode[test]], dtype=float)
        out["methods"]["mlglass_structure"] = _interval_metrics(y, pred_s, g_half)
        # what the predictor returns for every test CIF: CIF view where the record exists, else structure view
        cif_pred = dict(zip(ts.refcode[test], td_models["td_cif"].predict(ts.X_cif[test])))
        cif_half = td_models["td_cif"].interval_halfwidth(coverage)
        tt = thermal[thermal["split"] == "test"]
        ys, ps, hs, views = [], [], [], []
        for r, yv in zip(tt["refcode"].astype(str), tt["td_c"].astype(float)):
            if r in cif_pred:
                ps.append(cif_pred[r])
                hs.append(cif_half)
                views.append("cif")
            elif r in g_pred:
                ps.append(g_pred[r])
                hs.append(g_half)
                views.append("structure")
            else:
                continue
            ys.append(yv)
        yy, pp, hh = np.array(ys), np.array(ps), np.array(hs)
        comb: dict[str, Any] = dict(regression_metrics(yy, pp))
        comb["coverage"] = float(np.mean(np.abs(yy - pp) <= hh)) if len(yy) else math.nan
        comb["n_predicted"] = int(len(yy))
        comb["n_structure_view"] = int(sum(v == "structure" for v in views))
        sv = np.array(views) == "structure"
        if sv.any():
            comb["structure_view_rows"] = {**regression_metrics(yy[sv], pp[sv]),
                                           "coverage": float(np.mean(np.abs(yy[sv] - pp[sv]) <= g_half))}
        out["predictor"] = comb
    rac_path = shared_dir / "rac_zeo_features.csv" if shared_dir is not None else None
    if shared_dir is not None and rac_path is not None and rac_path.is_file():
        from sklearn.ensemble import RandomForestRegressor

        rac = pd.read_csv(rac_path)
        td = pd.read_csv(shared_dir / "td.csv")
        rac = rac.merge(td[["core_name", "td_c", "split"]], on="core_name", how="inner")
        feats = [c for c in rac.columns if c not in ("core_name", "td_c", "split")]
        tr = rac["split"].isin(["train", "val"]).to_numpy()
        te = (rac["split"] == "test").to_numpy()
        rf = RandomForestRegressor(n_estimators=500, min_samples_leaf=2, random_state=seed, n_jobs=n_jobs)
        rf.fit(rac.loc[tr, feats].to_numpy(dtype=float), rac.loc[tr, "td_c"].to_numpy(dtype=float))
        pred_all = rf.predict(rac.loc[te, feats].to_numpy(dtype=float))
        by_core = dict(zip(rac.loc[te, "core_name"], pred_all))
        good = thermal[(thermal["error"] == "") & thermal["td_c"].notna()]
        test_cores = good.set_index("refcode").loc[ts.refcode[test], "core_name"]
        pred = np.array([by_core.get(c, np.nan) for c in test_cores], dtype=float)
        m: dict[str, Any] = dict(regression_metrics(y, pred))
        m["all_test_rows"] = regression_metrics(rac.loc[te, "td_c"].to_numpy(dtype=float), pred_all)
        out["methods"]["rf_rac_zeo"] = m
        out["methods"]["mean"]["all_test_rows"] = regression_metrics(
            rac.loc[te, "td_c"].to_numpy(dtype=float), np.full(int(te.sum()), rac.loc[tr, "td_c"].mean()))
    else:
        out["rf_skipped"] = "../shared/thermal/rac_zeo_features.csv not found: RAC+Zeo++ baseline skipped"
    return out


def _metal_family(metal: np.ndarray) -> np.ndarray:
    return np.array([str(m).split(":")[0].split(";")[0].strip() for m in metal], dtype=object)


def _rate_baseline(train_y: np.ndarray, train_fam: np.ndarray, test_fam: np.ndarray, alpha: float = 1.0
                   ) -> np.ndarray:
    prior = train_y.mean()
    rates = {}
    for f in np.unique(train_fam):
        sel = train_y[train_fam == f]
        rates[f] = (sel.sum() + alpha * prior) / (len(sel) + alpha)
    return np.array([rates.get(f, prior) for f in test_fam])


def evaluate_p_melt(glasses: pd.DataFrame, X_glasses: np.ndarray, ts: Any, td_models: dict[str, Any], *,
                    n_splits: int = 5, seed: int = 0, n_jobs: int = 1, sigma: float | None = None
                    ) -> dict[str, Any]:
    """p_melt figures (see module docstring)."""
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from mlglass.models.decomposition import TM_AFT_PARAMS
    from mlglass.models.decomposition_training import fit_tm_aft

    sigma = float(TM_AFT_PARAMS["sigma"] if sigma is None else sigma)
    td_row, td_cif = td_models["td_row"], td_models["td_cif"]
    sd_row = td_row.interval_halfwidth(0.8) / _Z80
    sd_cif = td_cif.interval_halfwidth(0.8) / _Z80
    melts = glasses["melts"].astype("boolean")
    labelled = melts.notna().to_numpy() & np.isfinite(X_glasses).any(axis=1)
    y_glass = melts.fillna(False).to_numpy().astype(int)
    series = glasses["series"].astype(str).to_numpy()
    fam_glass = _metal_family(glasses["metal"].astype(str).to_numpy())
    tr_th = ts.mask(("train", "val")) & ~ts.known_melter
    te_th = ts.mask(("test",)) & ~ts.known_melter
    fam_th = _metal_family(ts.metal)
    td_glass = np.full(len(glasses), np.nan)
    ok = np.isfinite(X_glasses).any(axis=1)
    td_glass[ok] = td_row.predict(X_glasses[ok])

    def baselines(train_glass: np.ndarray, X_test: np.ndarray, fam_test: np.ndarray) -> dict[str, np.ndarray]:
        Xtr = np.vstack([X_glasses[train_glass], ts.X_row[tr_th]])
        ytr = np.concatenate([y_glass[train_glass], np.zeros(int(tr_th.sum()), int)])
        famtr = np.concatenate([fam_glass[train_glass], fam_th[tr_th]])
        lr = make_pipeline(SimpleImputer(strategy="median", keep_empty_features=True), StandardScaler(),
                           LogisticRegression(C=0.1, max_iter=3000))
        return {"prior": np.full(len(X_test), ytr.mean()),
                "metal_rate": _rate_baseline(ytr.astype(float), famtr, fam_test),
                "logistic": lr.fit(Xtr, ytr).predict_proba(X_test)[:, 1]}

    methods = ("mlglass", "prior", "metal_rate", "logistic")
    p_glass = {m: np.full(len(glasses), np.nan) for m in methods}
    idx = np.flatnonzero(labelled)
    k = max(2, min(n_splits, len(np.unique(series[idx]))))
    td_test = td_cif.predict(ts.X_cif[te_th])
    n_fw = int(te_th.sum())
    per_fold: dict[str, list[dict[str, float]]] = {m: [] for m in methods}
    for _tr_i, te_i in GroupKFold(n_splits=k, shuffle=True, random_state=seed).split(idx, groups=series[idx]):
        train_rows = np.zeros(len(glasses), bool)
        train_rows[ok] = True
        test_rows = idx[te_i]
        train_rows &= ~np.isin(series, series[test_rows])  # held-out series: none of their rows (Tm, labels)
        aft, _ = fit_tm_aft(glasses, X_glasses, ts, td_row, seed=seed, n_jobs=n_jobs, glass_rows=train_rows)
        p_glass["mlglass"][test_rows] = prob_tm_below_td(aft.margin(X_glasses[test_rows]), sigma,
                                                         td_glass[test_rows], sd_row)
        p_fw = {"mlglass": prob_tm_below_td(aft.margin(ts.X_row[te_th]), sigma, td_test, sd_cif)}
        train_lab = train_rows & labelled & ok
        both = baselines(train_lab, np.vstack([X_glasses[test_rows], ts.X_row[te_th]]),
                         np.concatenate([fam_glass[test_rows], fam_th[te_th]]))
        for m, v in both.items():
            p_glass[m][test_rows] = v[:len(test_rows)]
            p_fw[m] = v[len(test_rows):]
        y_fold = np.concatenate([y_glass[test_rows], np.zeros(n_fw, int)])
        for m in methods:
            per_fold[m].append(classification_metrics(y_fold, np.concatenate([p_glass[m][test_rows], p_fw[m]])))
    aft, _ = fit_tm_aft(glasses, X_glasses, ts, td_row, seed=seed, n_jobs=n_jobs)
    p_test = {"mlglass": prob_tm_below_td(aft.margin(ts.X_row[te_th]), sigma, td_test, sd_cif)}
    p_test.update(baselines(labelled, ts.X_row[te_th], fam_th[te_th]))
    out: dict[str, Any] = {"n_glass": int(len(idx)), "n_glass_melt": int(y_glass[idx].sum()),
                           "n_test_frameworks": n_fw, "n_folds": k, "sigma": sigma, "methods": {},
                           "methods_per_fold": per_fold, "glass_only": {}, "test_frameworks_mean_p": {}}
    for m in methods:
        out["methods"][m] = {key: float(np.nanmean([f[key] for f in per_fold[m]]))
                             for key in ("auc", "balanced_accuracy", "brier")}
        out["glass_only"][m] = classification_metrics(y_glass[idx], p_glass[m][idx])
        out["test_frameworks_mean_p"][m] = float(np.nanmean(p_test[m]))
    out["oof_glass"] = {"id": glasses["id"].astype(str).to_numpy()[idx].tolist(), "y": y_glass[idx].tolist(),
                        "p": p_glass["mlglass"][idx].tolist()}
    return out


def evaluate_thermal(glasses: pd.DataFrame, thermal: pd.DataFrame | None = None, *,
                     shared_dir: str | Path | None = None, coverage: float = 0.8, seed: int = 0,
                     n_splits: int = 5, n_jobs: int = 1) -> dict[str, Any]:
    """Td and p_melt figures; ``{"skipped": reason}`` when the thermal table is unavailable."""
    import os

    from mlglass.featurize import GlassFeaturizer
    from mlglass.models.decomposition import featurize_thermal, fit_td_regressors
    from mlglass.models.decomposition_training import glass_features
    from mlglass.thermal import default_shared_thermal_dir

    if thermal is None and os.environ.get("MLGLASS_THERMAL", "").lower() in ("off", "0", "false", "no"):
        return {"skipped": "MLGLASS_THERMAL=off: the thermal (Td, p_melt) part was skipped"}
    if thermal is None:
        from mlglass.datasets import dataset_path, load_thermal

        if not dataset_path("thermal.csv").exists():
            return {"skipped": "datasets/thermal.csv not found (build it with datasets/build_thermal.py)"}
        thermal = load_thermal()
    shared = Path(shared_dir) if shared_dir is not None else default_shared_thermal_dir()
    featurizer = GlassFeaturizer()
    ts = featurize_thermal(thermal, featurizer)
    td_models = fit_td_regressors(ts, coverage=coverage, seed=seed, n_jobs=n_jobs)
    res: dict[str, Any] = {"td": evaluate_td(thermal, ts, td_models, shared if shared.is_dir() else None,
                                             coverage=coverage, seed=seed, n_jobs=n_jobs)}
    if not shared.is_dir():
        res["shared_note"] = f"{shared} not found: the RAC+Zeo++ baseline was skipped"
    X_glasses = glass_features(glasses, featurizer)
    res["p_melt"] = evaluate_p_melt(glasses, X_glasses, ts, td_models, n_splits=n_splits, seed=seed, n_jobs=n_jobs)
    return res
