"""Nested evaluation of the Td-anchored Tm candidates (:mod:`mlglass.models.tm_anchor`, issue 11).

Per outer chemistry-grouped fold: the Td prior is fitted on thermal rows that are neither known
melters nor of a held-out composition, every candidate's settings are chosen by the inner CV on
the training compounds only, and the candidates, the family mean and Td_hat alone are scored on
the held-out compounds with the same folds (MAE, ZIF / other split, interval coverage per domain bin).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np
from sklearn.model_selection import GroupKFold

from mlglass.models import td_informed as _ti
from mlglass.models.boosting import make_estimator
from mlglass.models.domain import DOMAIN_BINS, ApplicabilityDomain
from mlglass.models.tm_anchor import (
    RESIDUAL_GRID,
    InnerCV,
    ResidualTm,
    _bins,
    _splitter,
    inner_cv,
    mondrian_quantiles,
    range_anchor,
)
from mlglass.models.tm_knn import KNN_K_GRID, KNN_KINDS, KNN_W_GRID, knn_combine, knn_mean
from mlglass.models.tm_linear import LINEAR_ALPHA_GRID, LINEAR_W_GRID, SignedLinearTm

__all__ = ["CANDIDATES", "DELTA_GRID", "RATIO_LEVELS", "choose_delta", "choose_knn", "choose_linear",
           "choose_ratio_level", "evaluate_tm_anchor", "evaluate_anchor_tables"]

#: Inner-CV grid of the margin (degC) below Td_hat of the ``capped`` candidate.
DELTA_GRID = tuple(float(d) for d in range(0, 201, 25))


#: Candidates scored by :func:`evaluate_tm_anchor` besides the baselines.
CANDIDATES = ("residual", "gated", "gated_td", "gated_range", "capped", *KNN_KINDS, "linear")


def _mae(p: np.ndarray, y: np.ndarray) -> float:
    """MAE (degC) over the rows where ``p`` is finite (inf when none is)."""
    ok = np.isfinite(p)
    return float(np.mean(np.abs(p[ok] - y[ok]))) if ok.any() else math.inf


def choose_knn(kind: str, inner: InnerCV, near_in: np.ndarray, td_hat: np.ndarray, y: np.ndarray
               ) -> tuple[int, float]:
    """``(k, w)`` minimising the inner MAE of the gated kNN candidate ``kind`` (model in ``in``/``near``).

    Ties keep the first grid point (``KNN_K_GRID`` then ``KNN_W_GRID`` order).
    """
    best, best_mae = (KNN_K_GRID[0], KNN_W_GRID[0]), math.inf
    for k in KNN_K_GRID:
        knn = inner.knn_tm[k] if kind == "knn_blend" else inner.knn_margin[k]
        for w in KNN_W_GRID:
            mae = _mae(np.where(near_in, inner.model, knn_combine(kind, td_hat, knn, w)), y)
            if mae < best_mae - 1e-9:
                best, best_mae = (k, w), mae
    return best


def choose_linear(X: np.ndarray, y: np.ndarray, groups: np.ndarray, td_hat: np.ndarray, labels: Sequence[str],
                  model_oof: np.ndarray, near_in: np.ndarray, *, n_splits: int, seed: int
                  ) -> tuple[float, float, np.ndarray]:
    """``(alpha, w, oof)`` of the gated linear candidate chosen by the inner grouped CV.

    Outside ``in``/``near`` the candidate is ``w * linear + (1 - w) * Td_hat``
    (:class:`mlglass.models.tm_linear.SignedLinearTm`); ``oof`` is its inner out-of-fold Tm
    (degC) at the chosen setting. The splitter is the one of :func:`mlglass.models.tm_anchor.inner_cv`.
    Ties keep the first grid point (``LINEAR_ALPHA_GRID`` then ``LINEAR_W_GRID`` order).
    """
    lin = {a: np.full(len(y), np.nan) for a in LINEAR_ALPHA_GRID}
    split = _splitter(groups, n_splits, seed)
    for tr, te in split.split(X, y, groups) if split is not None else ():
        for a in LINEAR_ALPHA_GRID:
            lin[a][te] = SignedLinearTm(labels, a).fit(X[tr], y[tr], td_hat[tr]).predict(X[te], td_hat[te])
    best, best_mae, best_oof = (LINEAR_ALPHA_GRID[0], 0.0), math.inf, np.where(near_in, model_oof, td_hat)
    for a in LINEAR_ALPHA_GRID:
        for w in LINEAR_W_GRID:
            p = np.where(near_in, model_oof, np.where(np.isfinite(lin[a]), w * lin[a] + (1 - w) * td_hat, td_hat))
            mae = _mae(p, y)
            if mae < best_mae - 1e-9:
                best, best_mae, best_oof = (a, w), mae, p
    return best[0], best[1], best_oof


def choose_delta(model_oof: np.ndarray, td_hat: np.ndarray, y: np.ndarray,
                 grid: Sequence[float] = DELTA_GRID) -> float:
    """Margin below Td_hat minimising the inner MAE of ``min(model, Td_hat - delta)``."""
    ok = np.isfinite(model_oof)
    if not ok.any():
        return float(grid[0])
    maes = [float(np.mean(np.abs(np.minimum(model_oof[ok], td_hat[ok] - d) - y[ok]))) for d in grid]
    return float(grid[int(np.argmin(maes))])


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
          "gated_td": np.where(near_te, m_te, td_te), "capped": np.minimum(m_te, td_te - delta),
          "gated_range": np.where(near_te, m_te, range_anchor(r_te, td_te, float(np.max(y))))}
    oof = {"model": inner.model, "td_prior_only": td_tr, "residual": r_in,
           "gated": np.where(near_in, inner.model, r_in), "gated_td": np.where(near_in, inner.model, td_tr),
           "capped": np.minimum(inner.model, td_tr - delta),
           "gated_range": np.where(near_in, inner.model, range_anchor(r_in, td_tr, inner.train_max))}
    knn_choice: dict[str, tuple[int, float]] = {}
    for kind in KNN_KINDS:  # (k, w) from the inner CV; the kNN of the test rows uses every training compound
        k, w = knn_choice[kind] = choose_knn(kind, inner, near_in, td_tr, y)
        tgt = y if kind == "knn_blend" else y - td_tr
        te[kind] = np.where(near_te, m_te, knn_combine(kind, td_te, knn_mean(X, tgt, X_te, labels, k), w))
        knn_in = inner.knn_tm[k] if kind == "knn_blend" else inner.knn_margin[k]
        oof[kind] = np.where(near_in, inner.model, knn_combine(kind, td_tr, knn_in, w))
    alpha, w, oof["linear"] = choose_linear(X, y, g, td_tr, labels, inner.model, near_in, n_splits=n_splits,
                                            seed=seed)
    linear = SignedLinearTm(labels, alpha).fit(X, y, td_tr)
    te["linear"] = np.where(near_te, m_te, w * linear.predict(X_te, td_te) + (1 - w) * td_te)
    return {"te": te, "oof": oof, "bins_te": bins_te, "bins_in": bins_in, "residual_params": RESIDUAL_GRID[k_best],
            "residual_offset_c": resid.offset_, "delta_c": delta, "knn": knn_choice,
            "linear": {"alpha": alpha, "w": w, "effects_c": linear.effects()}}


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
                                "knn": fold["knn"], "linear": fold["linear"]})
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
