"""Tm anchored on the predicted decomposition temperature (issue 11): the candidates, the shipped head.

The nested evaluation of the candidates is :mod:`mlglass.models.tm_anchor_evaluation`.

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
``gated_range`` (session 6, shipped)
    ``gated`` except where ``Td_hat`` exceeds every training Tm: there ``Td_hat`` itself
    (:func:`range_anchor`). The residual offset is learnt on compounds that all melt below
    the training maximum, and no model confined to the training labels can reach beyond it
    (:func:`mlglass.models.evaluate.label_range_bound`); in the inner CV the maximum is the
    inner training fold's. Designed after the session-4/5 results, so it was also scored on
    fresh outer folds (seeds 100-102) before shipping (models/README.md).
``capped``
    ``Tm_hat = min(model, Td_hat - delta)`` with ``delta``
    (:data:`mlglass.models.tm_anchor_evaluation.DELTA_GRID`) chosen by the inner CV (a melter melts below Td).

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

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import xgboost as xgb
from sklearn.model_selection import GroupKFold

from mlglass.models import td_informed as _ti
from mlglass.models.boosting import conformal_quantile, make_estimator
from mlglass.models.domain import DOMAIN_BINS, ApplicabilityDomain
from mlglass.models.tm_knn import KNN_K_GRID, knn_mean

__all__ = ["ANCHOR_KIND", "HEAD_KINDS", "MIN_BIN", "RESIDUAL_COMMON", "RESIDUAL_GRID", "ResidualTm", "InnerCV",
           "inner_cv", "mondrian_quantiles", "range_anchor", "fit_anchor_head", "predict_anchor",
           "train_bundle_anchor", "bundle_anchor"]

#: Shared, strongly regularising settings of the residual trees.
RESIDUAL_COMMON: dict[str, Any] = {"learning_rate": 0.1, "min_child_weight": 8.0, "reg_lambda": 10.0,
                                   "subsample": 0.8, "colsample_bytree": 0.6}
#: Inner-CV grid of the residual model (``n_estimators = 0``: Td_hat + constant offset).
RESIDUAL_GRID: tuple[dict[str, int], ...] = (
    {"n_estimators": 0}, {"max_depth": 1, "n_estimators": 20}, {"max_depth": 1, "n_estimators": 60},
    {"max_depth": 2, "n_estimators": 20}, {"max_depth": 2, "n_estimators": 60})
#: Fewest inner residuals of a domain bin for its own conformal quantile.
MIN_BIN = 8
#: Kind of anchored head :meth:`GlassPredictor.train` adds (None: none). ``gated_range`` won the nested
#: CV (Tm 88.7 degC, seeds 0-2, and 77.1 on fresh seeds 100-102, against 110.8 / 105.8 for ``gated_td``
#: and 133.5 / 140.9 for the family mean; models/README.md).
ANCHOR_KIND: str | None = "gated_range"


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
    train_max : ndarray
        Highest measured Tm of each row's inner training fold (degC; for ``gated_range``).
    """

    def __init__(self, n: int, n_grid: int):
        self.model = np.full(n, np.nan)
        self.residual = [np.full(n, np.nan) for _ in range(n_grid)]
        self.distance = np.full(n, np.nan)
        self.novel = np.zeros(n, bool)
        self.knn_tm = {k: np.full(n, np.nan) for k in KNN_K_GRID}
        self.knn_margin = {k: np.full(n, np.nan) for k in KNN_K_GRID}
        self.train_max = np.full(n, np.nan)


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
        out.train_max[te] = float(np.max(y[tr]))
        for k in KNN_K_GRID:
            out.knn_tm[k][te] = knn_mean(X[tr], y[tr], X[te], labels, k)
            out.knn_margin[k][te] = knn_mean(X[tr], y[tr] - td_hat[tr], X[te], labels, k)
    return out


def range_anchor(residual_tm: np.ndarray, td_hat: np.ndarray, train_max: float | np.ndarray) -> np.ndarray:
    """Out-of-domain Tm of ``gated_range`` (degC): Td_hat where it exceeds every training Tm, else the residual head.

    The residual head's offset (how far below Td the training compounds melt) is learnt from
    compounds that all melt below ``train_max``; a compound whose predicted Td is above every
    measured Tm lies outside the range those compounds span, where no model confined to the
    training labels can follow it (:func:`mlglass.models.evaluate.label_range_bound`), so its
    Td_hat itself is the anchor, as in ``gated_td``.
    """
    td_hat = np.asarray(td_hat, float)
    return np.where(td_hat > np.asarray(train_max, float), td_hat, np.asarray(residual_tm, float))


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


# --------------------------------------------------------------------------- shipped head
#: Kinds of anchored Tm head a bundle can hold: outside the domain's ``in``/``near`` bins the
#: residual head (``residual`` everywhere, ``gated``), Td_hat itself (``gated_td``), or the residual
#: head unless Td_hat exceeds every training Tm (``gated_range``, :func:`range_anchor`).
HEAD_KINDS = ("residual", "gated", "gated_td", "gated_range")
#: Kinds that use the boosted Tm model in the ``in``/``near`` bins.
GATED_KINDS = ("gated", "gated_td", "gated_range")


def fit_anchor_head(tm: Any, tg: Any, labels: Sequence[str], chem_tm: Sequence[tuple], thermal_X: np.ndarray,
                    thermal_td: np.ndarray, known_melter: np.ndarray, *, kind: str = "residual", seed: int = 0,
                    coverage: float = 0.8, n_splits: int = 5, td_params: dict[str, Any] | None = None,
                    n_jobs: int = 1, nested: Mapping[str, Any] | None = None) -> tuple[ResidualTm, dict[str, Any]]:
    """Fit the anchored Tm head of a bundle on all Tm compounds.

    ``Td_hat`` of the training compounds comes from a prior fitted on the thermal rows that are
    not known melters (as in every fold of
    :func:`mlglass.models.tm_anchor_evaluation.evaluate_tm_anchor`, so the offset is learnt
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
    if kind == "gated_range":
        oof = range_anchor(oof, td_tr, inner.train_max)
    if kind in GATED_KINDS:
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
             "min_bin": MIN_BIN, "use_for_tg": True, "tm_train_max_c": float(np.max(tm.y)),
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
    if state.get("kind") == "gated_range":
        tm = range_anchor(tm, td_hat, float(state["tm_train_max_c"]))
    if state.get("kind") in GATED_KINDS and bins is not None:
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
        if state.get("kind") in ("gated_td", "gated_range") and bins is not None:
            need = ~np.isin(bins, ["in", "near"])
        td_hat = np.full(len(X), np.nan)
        if need.any():
            td_hat[need] = predictor.heads["td_row"].predict(np.asarray(X, np.float32)[need])
    a_tm, a_qtm, a_tg, a_qtg = predict_anchor(state, cache["head"], td_hat, X, tm, bins, coverage)
    if state.get("use_for_tg", False):
        return a_tm, a_qtm, a_tg, a_qtg
    return a_tm, a_qtm, tg, q_tg


