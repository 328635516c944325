"""Tm anchored on the predicted decomposition temperature, and its nested evaluation (issue 11).

Why
---
In chemistry-grouped cross-validation the boosted Tm model is worse than the family mean
(it cannot extrapolate to a held-out chemistry such as the Im-based ZIFs), while the
predicted Td of the thermal-stability set, ``Td_hat`` (no Tm label used), is much closer
(see :mod:`mlglass.models.td_informed`). A framework that melts does so below its Td, so
``Td_hat`` is a physical anchor for Tm.

Candidates (fixed before the outer test folds were scored)
---------------------------------------------------------
``residual``
    ``Tm_hat = Td_hat + c + g(x)``: ``c`` the median of ``Tm - Td_hat`` on the training
    compounds and ``g`` a strongly regularised xgboost model of what is left, fitted with
    ``base_margin = Td_hat + c`` (how far below its decomposition a compound melts).
    The few hyperparameters (:data:`RESIDUAL_GRID`, including ``g = 0``) are chosen by an
    inner chemistry-grouped CV on the training compounds only.
``gated``
    The boosted Tm model where the row is ``in``/``near`` the Tm applicability domain
    (:class:`mlglass.models.domain.ApplicabilityDomain` fitted on the training compounds),
    ``residual`` outside; ``gated_td`` uses ``Td_hat`` outside instead.
``capped``
    ``Tm_hat = min(model, Td_hat - delta)`` with ``delta`` (:data:`DELTA_GRID`) chosen by the
    inner CV (a melter melts below Td).

Tg of every candidate is ``r * Tm_hat`` in kelvin (:func:`mlglass.models.td_informed.tg_from_tm`).

Leakage
-------
Per outer fold the Td prior is fitted on thermal rows that are neither known melters nor
of a held-out composition (:func:`mlglass.models.td_informed.thermal_training_mask`).
Since every compound of the Tm set is a known melter, its thermal rows never train the
prior, so ``Td_hat`` of a training compound is out-of-sample too and the inner CV may use it.

Intervals
---------
Split-conformal on the inner out-of-fold residuals of the candidate (nested): one global
quantile, and Mondrian per applicability-domain bin (``in``/``near``/``out``; a bin with
fewer than :data:`MIN_BIN` inner residuals takes the global quantile). Coverage is reported
per bin on the outer test rows.

Tg: the quantile of inner Tg residuals under-covers in nested CV (59 % at 80 %: a held-out
chemistry's Tm error and its Tg/Tm ratio shift together, which no inner fold sees). The shipped
Tg interval (``propagated`` in the evaluation) is the Mondrian Tm interval carried through the
central ``coverage`` range of the training Tg/Tm ratios, ``[r_lo * Tm_lo, r_hi * Tm_hi]`` in
kelvin (:func:`mlglass.models.td_informed.tg_interval_from_tm`), then the Tg/Tm cap; its
coverage is reported after the cap, per domain bin.

kNN candidates (``knn_blend``, ``knn_margin``; :mod:`mlglass.models.tm_knn`): ``gated_td`` with,
outside ``in``/``near``, the kNN mean of measured Tm (or of Tm - Td_hat) in the domain space
mixed in with a weight; ``k`` and the weight are chosen by the inner CV.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np
import xgboost as xgb
from sklearn.model_selection import GroupKFold

from mlglass.models import td_informed as _ti
from mlglass.models.boosting import conformal_quantile, make_estimator
from mlglass.models.domain import DOMAIN_BINS, ApplicabilityDomain
from mlglass.models.tm_knn import KNN_K_GRID, KNN_KINDS, KNN_W_GRID, knn_combine, knn_mean

__all__ = ["ANCHOR_KIND", "CANDIDATES", "DELTA_GRID", "HEAD_KINDS", "MIN_BIN", "RESIDUAL_COMMON", "RESIDUAL_GRID",
           "ResidualTm", "InnerCV", "inner_cv", "choose_delta", "mondrian_quantiles", "evaluate_tm_anchor",
           "fit_anchor_head", "predict_anchor", "evaluate_anchor_tables", "train_bundle_anchor", "bundle_anchor"]

#: Shared, strongly regularising settings of the residual trees.
RESIDUAL_COMMON: dict[str, Any] = {"learning_rate": 0.1, "min_child_weight": 8.0, "reg_lambda": 10.0,
                                   "subsample": 0.8, "colsample_bytree": 0.6}
#: Inner-CV grid of the residual model (``n_estimators = 0``: Td_hat + constant offset).
RESIDUAL_GRID: tuple[dict[str, int], ...] = (
    {"n_estimators": 0}, {"max_depth": 1, "n_estimators": 20}, {"max_depth": 1, "n_estimators": 60},
    {"max_depth": 2, "n_estimators": 20}, {"max_depth": 2, "n_estimators": 60})
#: Inner-CV grid of the margin (degC) below Td_hat of the ``capped`` candidate.
DELTA_GRID = tuple(float(d) for d in range(0, 201, 25))
#: Candidates scored by :func:`evaluate_tm_anchor` besides the baselines.
CANDIDATES = ("residual", "gated", "gated_td", "capped", *KNN_KINDS)
#: Fewest inner residuals of a domain bin for its own conformal quantile.
MIN_BIN = 8
#: Kind of anchored head :meth:`GlassPredictor.train` adds (None: none). ``gated_td`` won the nested
#: CV (Tm 110.8 degC against 133.5 for the family mean and 117.1 for Td_hat alone; models/README.md).
ANCHOR_KIND: str | None = "gated_td"


class ResidualTm:
    """``Tm_hat = Td_hat + offset + trees(x)`` (degC), the trees fitted with ``base_margin``.

    Parameters
    ----------
    params : dict, optional
        ``n_estimators`` and ``max_depth`` (one entry of :data:`RESIDUAL_GRID`); other keys
        override :data:`RESIDUAL_COMMON`. ``n_estimators = 0`` keeps only the offset.
    seed : int, default=0
    n_jobs : int, default=1
    """

    def __init__(self, params: Mapping[str, Any] | None = None, *, seed: int = 0, n_jobs: int = 1):
        self.params = dict(params or {"n_estimators": 0})
        self.seed = seed
        self.n_jobs = n_jobs
        self.offset_: float = 0.0
        self.booster_: xgb.Booster | None = None

    def fit(self, X: np.ndarray, y: np.ndarray, td_hat: np.ndarray) -> ResidualTm:
        """Fit on descriptors ``X``, measured Tm ``y`` and predicted Td ``td_hat`` (degC)."""
        y, td_hat = np.asarray(y, float), np.asarray(td_hat, float)
        self.offset_ = float(np.median(y - td_hat)) if len(y) else 0.0
        self.booster_ = None
        if int(self.params.get("n_estimators", 0)) > 0 and len(y) >= 2:
            p = {**RESIDUAL_COMMON, **self.params}
            reg = make_estimator("plain", **p, base_score=0.0, random_state=self.seed, n_jobs=self.n_jobs)
            reg.fit(np.asarray(X, float), y, base_margin=td_hat + self.offset_)
            self.booster_ = reg.get_booster()
        return self

    def predict(self, X: np.ndarray, td_hat: np.ndarray) -> np.ndarray:
        """Tm (degC) of rows ``X`` whose predicted Td is ``td_hat``."""
        margin = np.asarray(td_hat, float) + self.offset_
        if self.booster_ is None or len(margin) == 0:
            return margin
        return np.asarray(self.booster_.inplace_predict(np.asarray(X, np.float32), missing=np.nan,
                                                        base_margin=margin), float)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe settings (the booster is saved separately as xgboost JSON)."""
        return {"params": self.params, "offset_c": self.offset_, "seed": self.seed,
                "has_trees": self.booster_ is not None}

    @classmethod
    def from_dict(cls, state: Mapping[str, Any], booster: xgb.Booster | None) -> ResidualTm:
        self = cls(state.get("params"), seed=int(state.get("seed", 0)))
        self.offset_ = float(state["offset_c"])
        self.booster_ = booster
        return self


class InnerCV:
    """Out-of-fold quantities of one chemistry-grouped K-fold on the training compounds.

    Attributes
    ----------
    model : ndarray
        Boosted Tm model's out-of-fold predictions (degC).
    residual : list of ndarray
        Out-of-fold predictions of :class:`ResidualTm` for each entry of :data:`RESIDUAL_GRID`.
    distance : ndarray
        kNN distance of each row to its inner training fold (domain space).
    novel : ndarray of bool
        Chemical novelty of each row relative to its inner training fold.
    knn_tm, knn_margin : dict of int to ndarray
        Out-of-fold kNN means (:func:`mlglass.models.tm_knn.knn_mean`) of Tm and of Tm - Td_hat
        for each ``k`` of :data:`mlglass.models.tm_knn.KNN_K_GRID` (degC).
    """

    def __init__(self, n: int, n_grid: int):
        self.model = np.full(n, np.nan)
        self.residual = [np.full(n, np.nan) for _ in range(n_grid)]
        self.distance = np.full(n, np.nan)
        self.novel = np.zeros(n, bool)
        self.knn_tm = {k: np.full(n, np.nan) for k in KNN_K_GRID}
        self.knn_margin = {k: np.full(n, np.nan) for k in KNN_K_GRID}


def _splitter(groups: np.ndarray, n_splits: int, seed: int) -> GroupKFold | None:
    n_groups = len(np.unique(groups))
    if n_groups < 2:
        return None
    return GroupKFold(n_splits=max(2, min(n_splits, n_groups)), shuffle=True, random_state=seed)


def inner_cv(X: np.ndarray, y: np.ndarray, groups: np.ndarray, td_hat: np.ndarray, labels: Sequence[str],
             chemistry: Sequence[tuple[frozenset, frozenset]], *, n_splits: int = 5, seed: int = 0,
             params: Mapping[str, Any] | None = None, grid: Sequence[Mapping[str, Any]] = RESIDUAL_GRID) -> InnerCV:
    """Chemistry-grouped inner CV on the training compounds (same splitter as the domain calibration).

    Parameters
    ----------
    X, y, groups : training compounds (descriptors, Tm degC, chemistry groups)
    td_hat : ndarray
        Predicted Td of the training compounds (degC) from the fold's leakage-free prior.
    labels : list of str
        Descriptor names of ``X`` (for the domain space).
    chemistry : list of (metals, donor kinds)
    """
    out = InnerCV(len(y), len(grid))
    split = _splitter(groups, n_splits, seed)
    if split is None:
        return out
    for tr, te in split.split(X, y, groups):
        est = make_estimator("regressor", **{"random_state": seed, **(params or {}), "calibration_folds": 0})
        out.model[te] = est.fit(X[tr], y[tr]).predict(X[te])
        for k, g in enumerate(grid):
            out.residual[k][te] = ResidualTm(g, seed=seed).fit(X[tr], y[tr], td_hat[tr]).predict(X[te], td_hat[te])
        dom = ApplicabilityDomain().fit(X[tr], labels, [chemistry[i] for i in tr], np.zeros(0), np.zeros(0))
        out.distance[te] = dom.distance(X[te])
        out.novel[te] = dom.novel([chemistry[i] for i in te])
        for k in KNN_K_GRID:
            out.knn_tm[k][te] = knn_mean(X[tr], y[tr], X[te], labels, k)
            out.knn_margin[k][te] = knn_mean(X[tr], y[tr] - td_hat[tr], X[te], labels, k)
    return out


def choose_knn(kind: str, inner: InnerCV, near_in: np.ndarray, td_hat: np.ndarray, y: np.ndarray
               ) -> tuple[int, float]:
    """``(k, w)`` minimising the inner MAE of the gated kNN candidate ``kind`` (model in ``in``/``near``).

    Ties keep the first grid point (``KNN_K_GRID`` then ``KNN_W_GRID`` order).
    """
    best, best_mae = (KNN_K_GRID[0], KNN_W_GRID[0]), math.inf
    for k in KNN_K_GRID:
        knn = inner.knn_tm[k] if kind == "knn_blend" else inner.knn_margin[k]
        for w in KNN_W_GRID:
            p = np.where(near_in, inner.model, knn_combine(kind, td_hat, knn, w))
            ok = np.isfinite(p)
            mae = float(np.mean(np.abs(p[ok] - y[ok]))) if ok.any() else math.inf
            if mae < best_mae - 1e-9:
                best, best_mae = (k, w), mae
    return best


def choose_delta(model_oof: np.ndarray, td_hat: np.ndarray, y: np.ndarray,
                 grid: Sequence[float] = DELTA_GRID) -> float:
    """Margin below Td_hat minimising the inner MAE of ``min(model, Td_hat - delta)``."""
    ok = np.isfinite(model_oof)
    if not ok.any():
        return float(grid[0])
    maes = [float(np.mean(np.abs(np.minimum(model_oof[ok], td_hat[ok] - d) - y[ok]))) for d in grid]
    return float(grid[int(np.argmin(maes))])


def _bins(distance: np.ndarray, novel: np.ndarray, dom: ApplicabilityDomain) -> np.ndarray:
    b = np.where(distance <= dom.in_threshold_, "in", np.where(distance <= dom.near_threshold_, "near", "out"))
    return np.where(novel, "out", b).astype(object)


def mondrian_quantiles(residuals: np.ndarray, bins: np.ndarray, coverage: float, *,
                       min_bin: int = MIN_BIN) -> dict[str, float]:
    """Conformal quantile of ``|residuals|`` per domain bin (global one for small bins; key ``all``)."""
    r = np.abs(np.asarray(residuals, float))
    ok = np.isfinite(r)
    q = {"all": conformal_quantile(r[ok], coverage)}
    for b in DOMAIN_BINS:
        sel = ok & (bins == b)
        q[b] = conformal_quantile(r[sel], coverage) if sel.sum() >= min_bin else q["all"]
    return q


#: Central levels of the Tg/Tm ratio range tried by :func:`choose_ratio_level`.
RATIO_LEVELS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


def choose_ratio_level(tm_oof: np.ndarray, tm_half: np.ndarray, tg: np.ndarray, ratios: np.ndarray,
                       coverage: float) -> float:
    """Smallest ratio-range level whose propagated Tg interval covers ``coverage`` of the inner rows.

    ``tm_oof`` / ``tm_half``: inner out-of-fold Tm and its half-width (degC) of compounds with a
    measured Tg ``tg`` (degC); ``ratios`` the training Tg/Tm ratios. Falls back to the largest level.
    """
    for level in RATIO_LEVELS:
        lo, hi = _ti.tg_interval_from_tm(tm_oof - tm_half, tm_oof + tm_half, *_ti.ratio_bounds(ratios, level))
        if len(tg) and float(np.mean((lo <= tg) & (tg <= hi))) >= coverage:
            return level
    return RATIO_LEVELS[-1]


def _cap_tg(tg: np.ndarray, q: tuple[np.ndarray, np.ndarray], tm: np.ndarray, tm_hi: np.ndarray,
            cap: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    from mlglass.models.predictor import cap_tg_interval

    return cap_tg_interval(tg, q, tm, tm_hi, cap)


def _family_mean(y: np.ndarray, fam_tr: np.ndarray, fam_te: np.ndarray) -> np.ndarray:
    means = {f: float(y[fam_tr == f].mean()) for f in np.unique(fam_tr)}
    return np.array([means.get(f, float(y.mean())) for f in fam_te])


def _fold_tm_candidates(tm: Any, tm_tr: np.ndarray, X_te: np.ndarray, chem_tm: Sequence, chem_te: Sequence,
                        labels: Sequence[str], prior: Any, *, seed: int, n_splits: int, coverage: float
                        ) -> dict[str, Any]:
    """Fit every Tm candidate on the Tm training rows ``tm_tr``; predict rows ``X_te``."""
    X, y, g = tm.X[tm_tr], tm.y[tm_tr], tm.groups[tm_tr]
    chem = [chem_tm[int(i)] for i in np.nonzero(tm_tr)[0]]
    td_tr = prior.predict(X)
    td_te = prior.predict(X_te)
    inner = inner_cv(X, y, g, td_tr, labels, chem, n_splits=n_splits, seed=seed)
    k_best = int(np.argmin([np.nanmean(np.abs(r - y)) for r in inner.residual]))
    delta = choose_delta(inner.model, td_tr, y)
    dom = ApplicabilityDomain(coverage=coverage).fit(X, labels, chem, inner.distance, np.abs(y - inner.model))
    bins_te, _, _ = dom.assess(X_te, chem_te, coverage)
    bins_in = _bins(inner.distance, inner.novel, dom)
    model = make_estimator("regressor", random_state=seed, calibration_folds=0).fit(X, y)
    resid = ResidualTm(RESIDUAL_GRID[k_best], seed=seed).fit(X, y, td_tr)
    m_te, r_te = model.predict(X_te), resid.predict(X_te, td_te)
    near_te, near_in = np.isin(bins_te, ["in", "near"]), np.isin(bins_in, ["in", "near"])
    r_in = inner.residual[k_best]
    te = {"model": m_te, "td_prior_only": td_te, "residual": r_te, "gated": np.where(near_te, m_te, r_te),
          "gated_td": np.where(near_te, m_te, td_te), "capped": np.minimum(m_te, td_te - delta)}
    oof = {"model": inner.model, "td_prior_only": td_tr, "residual": r_in,
           "gated": np.where(near_in, inner.model, r_in), "gated_td": np.where(near_in, inner.model, td_tr),
           "capped": np.minimum(inner.model, td_tr - delta)}
    knn_choice: dict[str, tuple[int, float]] = {}
    for kind in KNN_KINDS:  # (k, w) from the inner CV; the kNN of the test rows uses every training compound
        k, w = knn_choice[kind] = choose_knn(kind, inner, near_in, td_tr, y)
        tgt = y if kind == "knn_blend" else y - td_tr
        te[kind] = np.where(near_te, m_te, knn_combine(kind, td_te, knn_mean(X, tgt, X_te, labels, k), w))
        knn_in = inner.knn_tm[k] if kind == "knn_blend" else inner.knn_margin[k]
        oof[kind] = np.where(near_in, inner.model, knn_combine(kind, td_tr, knn_in, w))
    return {"te": te, "oof": oof, "bins_te": bins_te, "bins_in": bins_in, "residual_params": RESIDUAL_GRID[k_best],
            "residual_offset_c": resid.offset_, "delta_c": delta, "knn": knn_choice}


def evaluate_tm_anchor(sets: dict, labels: list[str], chemistry: Mapping[str, Sequence[tuple] | None],
                       thermal_X: np.ndarray, thermal_td: np.ndarray, thermal_keys: Sequence[Hashable | None],
                       known_melter: np.ndarray, glass_keys: Mapping[str, Sequence[Hashable | None]], *,
                       n_splits: int = 5, n_repeats: int = 3, seed: int = 0, coverage: float = 0.8,
                       td_params: dict[str, Any] | None = None, n_jobs: int = 1,
                       targets: Sequence[str] = ("tm", "tg")) -> dict[str, Any]:
    """Nested chemistry-grouped CV of the Td-anchored Tm candidates and their baselines.

    Per outer fold (``GroupKFold`` over the target's chemistry groups, seeds ``seed + r``):
    the Td prior is fitted on the admissible thermal rows (known melters and held-out
    compositions removed), every candidate is fitted and its few settings chosen on the
    Tm training compounds only (:func:`inner_cv`), and the held-out rows are scored. For
    ``tg`` the Tm training compounds are those whose group is not held out, and each Tm
    candidate becomes Tg through ``r * Tm_hat`` (kelvin), ``r`` the median Tg/Tm of the Tg
    training rows; the direct Tg model and the Tg family mean are the baselines.

    Returns
    -------
    dict
        Per target: ``mae`` / ``mae_std`` (over repeats) per method, ``zif_mae`` / ``other_mae``
        (mean over repeats), ``coverage`` per method and interval kind (``global``,
        ``mondrian``) and domain bin, ``choices`` (chosen settings per fold) and ``n``.
    """
    tm = sets["tm"]
    chem_tm = chemistry.get("tm") or [(frozenset(), frozenset())] * len(tm.y)
    out: dict[str, Any] = {}
    for target in targets:
        s = sets[target]
        y = s.y
        chem_s = chemistry.get(target) or [(frozenset(), frozenset())] * len(y)
        zif = s.families == "ZIF"
        maes: dict[str, list[float]] = {}
        zif_m: dict[str, list[float]] = {}
        oth_m: dict[str, list[float]] = {}
        hits: dict[str, dict[str, list[float]]] = {}
        widths: dict[str, dict[str, list[float]]] = {}
        bin_count: dict[str, int] = dict.fromkeys(DOMAIN_BINS, 0)
        choices: list[dict[str, Any]] = []
        brackets: list[bool] = []
        for r in range(n_repeats):
            pred: dict[str, np.ndarray] = {}
            for tr, te in GroupKFold(n_splits=n_splits, shuffle=True, random_state=seed + r).split(s.X, y, s.groups):
                held_groups = set(s.groups[te])
                tm_tr = np.array([g not in held_groups for g in tm.groups])
                held = ({glass_keys[target][int(i)] for i in te}
                        | {glass_keys["tm"][int(i)] for i in np.nonzero(~tm_tr)[0]})
                keep = _ti.thermal_training_mask(thermal_keys, known_melter, held)
                prior = _ti.fit_td_prior(thermal_X[keep], thermal_td[keep], params=td_params, seed=seed,
                                         n_jobs=n_jobs)
                fold = _fold_tm_candidates(tm, tm_tr, s.X[te], chem_tm, [chem_s[i] for i in te], labels, prior,
                                           seed=seed, n_splits=n_splits, coverage=coverage)
                choices.append({"repeat": r, "residual_params": fold["residual_params"],
                                "residual_offset_c": fold["residual_offset_c"], "delta_c": fold["delta_c"],
                                "knn": fold["knn"]})
                bins_te = fold["bins_te"]
                for b in DOMAIN_BINS:
                    bin_count[b] += int((bins_te == b).sum())
                if target == "tm":
                    te_pred, y_cal, oof, bins_cal = fold["te"], tm.y[tm_tr], fold["oof"], fold["bins_in"]
                    te_pred = {**te_pred, "family_mean": _family_mean(tm.y[tm_tr], tm.families[tm_tr],
                                                                      s.families[te])}
                else:
                    both_tm = s.frame["tm_c"].to_numpy(float)[tr] if "tm_c" in s.frame else np.full(len(tr), np.nan)
                    ratio = _ti.tg_tm_ratio(y[tr], both_tm)
                    te_pred = {f"ratio_{m}": _ti.tg_from_tm(p, ratio) for m, p in fold["te"].items()}
                    ratios = _ti.tg_tm_ratios(y[tr], both_tm)
                    r_lo, r_hi = _ti.ratio_bounds(ratios, coverage)
                    cap = float(min(0.99, math.ceil(ratios.max() * 100) / 100)) if len(ratios) else 0.9
                    te_pred["model"] = make_estimator("regressor", random_state=seed, calibration_folds=0).fit(
                        s.X[tr], y[tr]).predict(s.X[te])
                    te_pred["family_mean"] = _family_mean(y[tr], s.families[tr], s.families[te])
                    # calibration rows: Tg training rows that are Tm training compounds (inner OOF Tm)
                    pos = {i: k for k, i in enumerate(tm.ids[tm_tr])}
                    cal = [k for k, i in enumerate(s.ids[tr]) if i in pos]
                    idx = [pos[i] for i in s.ids[tr][cal]]
                    y_cal = y[tr][cal]
                    oof = {f"ratio_{m}": _ti.tg_from_tm(p[idx], ratio) for m, p in fold["oof"].items()}
                    bins_cal = fold["bins_in"][idx]
                for m, p in te_pred.items():
                    pred.setdefault(m, np.full(len(y), np.nan))[te] = p
                for m, p_oof in oof.items():
                    q = mondrian_quantiles(y_cal - p_oof, bins_cal, coverage)
                    h_g, h_m = np.full(len(te), q["all"]), np.array([q[str(b)] for b in bins_te], float)
                    bounds = {"global": (te_pred[m] - h_g, te_pred[m] + h_g),
                              "mondrian": (te_pred[m] - h_m, te_pred[m] + h_m)}
                    if target == "tg":  # the shipped Tg interval: Tm's Mondrian interval through the ratio range
                        base = m.removeprefix("ratio_")
                        q_tm = mondrian_quantiles(tm.y[tm_tr] - fold["oof"][base], fold["bins_in"], coverage)
                        tm_p = fold["te"][base]
                        h_tm = np.array([q_tm[str(b)] for b in bins_te], float)
                        lo, hi = _ti.tg_interval_from_tm(tm_p - h_tm, tm_p + h_tm, r_lo, r_hi)
                        tg_c, lo_c, hi_c = _cap_tg(te_pred[m], (te_pred[m] - lo, hi - te_pred[m]), tm_p,
                                                   tm_p + h_tm, cap)
                        bounds["propagated"] = (lo_c, hi_c)
                        # variant (reported, not shipped): the ratio range's level chosen on the inner rows
                        p_in = fold["oof"][base][idx]
                        h_in = np.array([q_tm[str(b)] for b in fold["bins_in"][idx]], float)
                        level = choose_ratio_level(p_in, h_in, y_cal, ratios, coverage)
                        lo, hi = _ti.tg_interval_from_tm(tm_p - h_tm, tm_p + h_tm, *_ti.ratio_bounds(ratios, level))
                        bounds["propagated_inner"] = _cap_tg(te_pred[m], (te_pred[m] - lo, hi - te_pred[m]), tm_p,
                                                             tm_p + h_tm, cap)[1:]
                        brackets.append(bool(np.all((lo_c <= tg_c) & (tg_c <= hi_c))))
                    for kind, (lo, hi) in bounds.items():
                        inside = (lo <= y[te]) & (y[te] <= hi)
                        for b in (*DOMAIN_BINS, "all"):
                            sel = np.ones(len(te), bool) if b == "all" else bins_te == b
                            hits.setdefault(f"{m}|{kind}", {}).setdefault(b, []).extend(inside[sel].astype(float))
                            widths.setdefault(f"{m}|{kind}", {}).setdefault(b, []).extend((hi - lo)[sel])
            for m, p in pred.items():
                err = np.abs(p - y)
                maes.setdefault(m, []).append(float(np.mean(err)))
                zif_m.setdefault(m, []).append(float(np.mean(err[zif])) if zif.any() else math.nan)
                oth_m.setdefault(m, []).append(float(np.mean(err[~zif])))
        cov = {mk: {b: {"n": len(v) // max(n_repeats, 1), "coverage": float(np.mean(v)) if v else math.nan,
                        "width_c": float(np.mean(widths[mk][b])) if v else math.nan} for b, v in per.items()}
               for mk, per in hits.items()}
        out[target] = {"n": int(len(y)), "n_zif": int(zif.sum()),
                       "mae": {m: float(np.mean(v)) for m, v in maes.items()},
                       "mae_std": {m: float(np.std(v)) for m, v in maes.items()},
                       "zif_mae": {m: float(np.mean(v)) for m, v in zif_m.items()},
                       "other_mae": {m: float(np.mean(v)) for m, v in oth_m.items()},
                       "coverage": cov, "coverage_nominal": coverage, "choices": choices,
                       "capped_interval_brackets": all(brackets),
                       "domain_bins_per_repeat": {b: c // max(n_repeats, 1) for b, c in bin_count.items()}}
    return out


# --------------------------------------------------------------------------- shipped head
#: Kinds of anchored Tm head a bundle can hold: outside the domain's ``in``/``near`` bins the
#: residual head (``residual`` everywhere, ``gated``) or Td_hat itself (``gated_td``).
HEAD_KINDS = ("residual", "gated", "gated_td")


def fit_anchor_head(tm: Any, tg: Any, labels: Sequence[str], chem_tm: Sequence[tuple], thermal_X: np.ndarray,
                    thermal_td: np.ndarray, known_melter: np.ndarray, *, kind: str = "residual", seed: int = 0,
                    coverage: float = 0.8, n_splits: int = 5, td_params: dict[str, Any] | None = None,
                    n_jobs: int = 1, nested: Mapping[str, Any] | None = None) -> tuple[ResidualTm, dict[str, Any]]:
    """Fit the anchored Tm head of a bundle on all Tm compounds.

    ``Td_hat`` of the training compounds comes from a prior fitted on the thermal rows that are
    not known melters (as in every fold of :func:`evaluate_tm_anchor`, so the offset is learnt
    on out-of-sample Td); at prediction time ``Td_hat`` is the bundle's ``td_row`` head. The
    residual settings are chosen by the inner grouped CV; the interval half-widths are the
    Mondrian split-conformal quantiles of the inner out-of-fold residuals (per domain bin),
    and Tg's ratio ``r`` and half-widths likewise for ``Tg = r * Tm_hat``.

    Returns
    -------
    head : ResidualTm
    state : dict
        JSON-safe metadata (``kind``, residual settings, half-widths per bin for Tm and Tg, ratio).
    """
    if kind not in HEAD_KINDS:
        raise ValueError(f"kind must be one of {HEAD_KINDS}, got {kind!r}")
    keep = ~np.asarray(known_melter, bool)
    prior = _ti.fit_td_prior(thermal_X[keep], thermal_td[keep], params=td_params, seed=seed, n_jobs=n_jobs)
    td_tr = prior.predict(tm.X)
    inner = inner_cv(tm.X, tm.y, tm.groups, td_tr, labels, chem_tm, n_splits=n_splits, seed=seed)
    dom = ApplicabilityDomain(coverage=coverage).fit(tm.X, labels, chem_tm, inner.distance,
                                                     np.abs(tm.y - inner.model))
    bins = _bins(inner.distance, inner.novel, dom)
    if kind == "gated_td":  # Td_hat itself outside the domain: no residual trees, no offset
        head = ResidualTm({"n_estimators": 0}, seed=seed)
        oof = td_tr.copy()
    else:
        k_best = int(np.argmin([np.nanmean(np.abs(r - tm.y)) for r in inner.residual]))
        head = ResidualTm(RESIDUAL_GRID[k_best], seed=seed, n_jobs=n_jobs).fit(tm.X, tm.y, td_tr)
        oof = inner.residual[k_best]
    if kind in ("gated", "gated_td"):
        oof = np.where(np.isin(bins, ["in", "near"]), inner.model, oof)
    both = tg.frame["tm_c"].to_numpy(float) if "tm_c" in tg.frame else np.full(len(tg.y), np.nan)
    ratio = _ti.tg_tm_ratio(tg.y, both)
    pos = {i: k for k, i in enumerate(tm.ids)}
    cal = np.array([i in pos for i in tg.ids], bool)
    idx = [pos[i] for i in tg.ids[cal]]
    tg_res = tg.y[cal] - _ti.tg_from_tm(oof[idx], ratio)
    state = {"kind": kind, "residual": head.to_dict(), "td_head": "td_row", "coverage": coverage,
             "tm_calibration": {"residuals_c": np.abs(tm.y - oof).tolist(), "bins": [str(b) for b in bins]},
             "tg_calibration": {"residuals_c": np.abs(tg_res).tolist(), "bins": [str(b) for b in bins[idx]]},
             "tm_halfwidth_c": mondrian_quantiles(tm.y - oof, bins, coverage),
             "tg_halfwidth_c": mondrian_quantiles(tg_res, bins[idx], coverage), "tg_tm_ratio": ratio,
             "tg_tm_ratios": _ti.tg_tm_ratios(tg.y, both).tolist(), "tg_interval": "propagated",
             "min_bin": MIN_BIN, "use_for_tg": True,
             "inner_mae_c": float(np.nanmean(np.abs(oof - tm.y))),
             "prior": "td prior on thermal train+val rows without known melters (TD_PARAMS)",
             "nested": dict(nested or {})}
    return head, state


def predict_anchor(state: Mapping[str, Any], head: ResidualTm, td_hat: np.ndarray, X: np.ndarray,
                   tm_model: np.ndarray, bins: np.ndarray | None, coverage: float
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, Any]:
    """Anchored Tm and Tg (degC) with half-widths, for a bundle's ``tm_anchor`` metadata.

    Parameters
    ----------
    td_hat : ndarray
        Predicted Td of the rows (the bundle's ``td_row`` head, degC).
    tm_model : ndarray
        The boosted Tm model's predictions (used in the ``in``/``near`` bins for the gated kinds).
    bins : ndarray or None
        Tm applicability-domain bin of each row (None: the global half-width).
    coverage : float
        Nominal coverage; the half-widths are the Mondrian split-conformal quantiles of the
        stored inner out-of-fold residuals at this coverage.

    Returns
    -------
    tm, tm_half, tg, tg_half : ndarray (degC)
        ``tg_half`` is a ``(below, above)`` pair of half-widths when the state holds the training
        Tg/Tm ratios (``tg_tm_ratios``): the Tg interval is then the Tm interval carried through the
        central ``coverage`` range of those ratios (:func:`mlglass.models.td_informed.tg_interval_from_tm`),
        so it holds the Tm uncertainty and the ratio's own spread. Older states: the Mondrian
        quantile of the stored Tg residuals.
    """
    tm = head.predict(X, td_hat)
    if state.get("kind") in ("gated", "gated_td") and bins is not None:
        tm = np.where(np.isin(bins, ["in", "near"]), tm_model, tm)
    tg = _ti.tg_from_tm(tm, float(state["tg_tm_ratio"]))

    def half(cal: Mapping[str, Any]) -> np.ndarray:
        q = mondrian_quantiles(np.asarray(cal["residuals_c"], float), np.asarray(cal["bins"], object), coverage,
                               min_bin=int(state.get("min_bin", MIN_BIN)))
        if bins is None:
            return np.full(len(tm), q["all"])
        names, codes = np.unique(np.asarray(bins).astype(str), return_inverse=True)  # a few bins, many rows
        return np.array([q.get(str(b), q["all"]) for b in names], float)[codes.reshape(-1)]

    q_tm = half(state["tm_calibration"])
    if state.get("tg_tm_ratios"):
        r_lo, r_hi = _ti.ratio_bounds(state["tg_tm_ratios"], coverage)
        lo, hi = _ti.tg_interval_from_tm(tm - q_tm, tm + q_tm, r_lo, r_hi)
        return tm, q_tm, tg, (np.maximum(tg - lo, 0.0), np.maximum(hi - tg, 0.0))
    return tm, q_tm, tg, half(state["tg_calibration"])


def train_bundle_anchor(sets: dict, labels: Sequence[str], thermal: Any, featurizer: Any = None, *, seed: int = 0,
                        coverage: float = 0.8, n_jobs: int = 1, td_params: dict[str, Any] | None = None,
                        kind: str = "residual") -> tuple[xgb.Booster | None, dict[str, Any]]:
    """The ``tm_anchor`` head of a bundle: (residual booster or None, metadata) from the thermal table."""
    from mlglass.models.evaluate import _chemistry

    inputs = _ti.thermal_inputs(thermal, featurizer)
    chem = _chemistry(sets["tm"]) or [(frozenset(), frozenset())] * len(sets["tm"].y)
    head, state = fit_anchor_head(sets["tm"], sets["tg"], labels, chem, inputs["thermal_X"], inputs["thermal_td"],
                                  inputs["known_melter"], kind=kind, seed=seed, coverage=coverage,
                                  td_params=td_params, n_jobs=n_jobs)
    return head.booster_, state


def bundle_anchor(predictor: Any, X: np.ndarray, tm: np.ndarray, q_tm: Any, tg: np.ndarray, q_tg: Any,
                  bins: np.ndarray | None, coverage: float, td_hat: np.ndarray | None = None
                  ) -> tuple[np.ndarray, Any, np.ndarray, Any]:
    """Replace a bundle's Tm (and Tg when ``use_for_tg``) by the anchored head's; pass through without one.

    ``Td_hat`` is the bundle's ``td_row`` head on the same descriptor rows ``X`` (float32), or
    ``td_hat`` when the caller has it already; for ``gated_td`` only the rows outside
    ``in``/``near`` need it.
    """
    state = predictor.metadata.get("tm_anchor")
    if not state or "td_row" not in predictor.heads or len(X) == 0:
        return tm, q_tm, tg, q_tg
    cache = predictor.__dict__.setdefault("_anchor_head", {})
    if "head" not in cache:
        booster = predictor.heads["tm_anchor"].booster if "tm_anchor" in predictor.heads else None
        cache["head"] = ResidualTm.from_dict(state["residual"], booster)
    dom = predictor.domain("tm")
    if bins is None and dom is not None:  # no chemistry given: bins from the distance alone
        bins, _ = dom.classify(np.asarray(X, float), [(frozenset(), frozenset())] * len(X))
    if td_hat is None:
        need = np.ones(len(X), bool)
        if state.get("kind") == "gated_td" and bins is not None:
            need = ~np.isin(bins, ["in", "near"])
        td_hat = np.full(len(X), np.nan)
        if need.any():
            td_hat[need] = predictor.heads["td_row"].predict(np.asarray(X, np.float32)[need])
    a_tm, a_qtm, a_tg, a_qtg = predict_anchor(state, cache["head"], td_hat, X, tm, bins, coverage)
    if state.get("use_for_tg", False):
        return a_tm, a_qtm, a_tg, a_qtg
    return a_tm, a_qtm, tg, q_tg


def evaluate_anchor_tables(sets: dict, thermal: Any, *, n_splits: int = 5, n_repeats: int = 3, seed: int = 0,
                           coverage: float = 0.8, n_jobs: int = 1) -> dict[str, Any]:
    """:func:`evaluate_tm_anchor` from the training sets and the thermal table (featurizes the table: minutes)."""
    from mlglass.featurize import GlassFeaturizer
    from mlglass.models.evaluate import _chemistry

    featurizer = GlassFeaturizer()
    chem = {k: _chemistry(sets[k]) for k in ("tm", "tg")}
    return evaluate_tm_anchor(sets, featurizer.feature_labels(), chem, **_ti.thermal_inputs(thermal, featurizer),
                              glass_keys=_ti.glass_composition_keys(sets), n_splits=n_splits, n_repeats=n_repeats,
                              seed=seed, coverage=coverage, n_jobs=n_jobs)
