"""Tg intervals of the Td-anchored head carry the Tm interval and the Tg/Tm ratio's spread (issue 11).

The session-4 Tg interval was the conformal quantile of Tg residuals of the inner CV; in nested
chemistry-grouped CV it covered 59 % at nominal 80 %, because a held-out chemistry's Tm error and
Tg/Tm ratio both shift (the ZIFs melt above their predicted Td *and* have a higher ratio). The
shipped interval is now the Tm interval carried through the central range of the training ratios.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mlglass.models import td_informed, tm_anchor
from mlglass.models.domain import DOMAIN_DESCRIPTORS
from mlglass.models.predictor import cap_tg_interval
from mlglass.models import tm_anchor_evaluation
from mlglass.models.tm_anchor import ResidualTm
from mlglass.models.tm_anchor_evaluation import evaluate_tm_anchor
from mlglass.models.training_sets import TrainingSet

_K = 273.15
LABELS = list(DOMAIN_DESCRIPTORS)


def test_ratio_bounds_and_propagation() -> None:
    ratios = np.linspace(0.66, 0.96, 31)
    lo, hi = td_informed.ratio_bounds(ratios, 0.8)
    assert lo == np.quantile(ratios, 0.1) and hi == np.quantile(ratios, 0.9)
    assert np.isnan(td_informed.ratio_bounds([], 0.8)[0])
    tg_lo, tg_hi = td_informed.tg_interval_from_tm(np.array([100.0, -400.0]), np.array([300.0, 50.0]), 0.7, 0.9)
    np.testing.assert_allclose(tg_lo, [0.7 * (100 + _K) - _K, -_K])  # below 0 K: 0 K
    np.testing.assert_allclose(tg_hi, [0.9 * (300 + _K) - _K, 0.9 * (50 + _K) - _K])
    np.testing.assert_allclose(td_informed.tg_tm_ratios(np.array([100.0, np.nan]), np.array([200.0, 50.0])),
                               [(100 + _K) / (200 + _K)])


def _state(ratios: list[float]) -> dict:
    rng = np.random.default_rng(0)
    res = np.abs(rng.normal(0, 60, 40))
    bins = ["out"] * 40
    return {"kind": "gated_td", "tg_tm_ratio": float(np.median(ratios)), "min_bin": 8, "tg_tm_ratios": ratios,
            "tm_calibration": {"residuals_c": res.tolist(), "bins": bins},
            # small Tg residuals: the session-4 interval, far narrower than Tm's through the ratio range
            "tg_calibration": {"residuals_c": (res / 10).tolist(), "bins": bins}}


def test_shipped_tg_interval_holds_every_tm_and_ratio_of_their_ranges() -> None:
    ratios = np.linspace(0.66, 0.96, 21).tolist()
    state = _state(ratios)
    td_hat = np.array([300.0, 450.0])
    bins = np.array(["out", "out"], dtype=object)
    tm, q_tm, tg, q_tg = tm_anchor.predict_anchor(state, ResidualTm({"n_estimators": 0}), td_hat,
                                                  np.zeros((2, 2)), np.zeros(2), bins, 0.8)
    cap = 0.97
    tg_c, tg_lo, tg_hi = cap_tg_interval(tg, q_tg, tm, tm + q_tm, cap)
    r_lo, r_hi = np.quantile(ratios, [0.1, 0.9])
    for t in (tm - q_tm, tm, tm + q_tm):  # the Tm interval's ends and its centre
        for r in (r_lo, float(np.median(ratios)), r_hi):
            tg_true = r * (t + _K) - _K
            assert np.all(tg_lo - 1e-9 <= tg_true) and np.all(tg_true <= tg_hi + 1e-9), (t, r)
    assert np.all((tg_lo <= tg_c) & (tg_c <= tg_hi))
    assert np.all(tg_hi - tg_c > tg_c - tg_lo)  # asymmetric: the ratio scales the upper end more
    # old states (no ratios stored) keep the residual quantile
    old = {k: v for k, v in state.items() if k != "tg_tm_ratios"}
    q_old = tm_anchor.predict_anchor(old, ResidualTm({"n_estimators": 0}), td_hat, np.zeros((2, 2)),
                                     np.zeros(2), bins, 0.8)[3]
    assert np.ndim(q_old) == 1


def test_capped_interval_brackets_the_estimate_with_asymmetric_halfwidths() -> None:
    tg_raw = np.array([300.0, 100.0])
    tm = np.array([310.0, 400.0])
    tg, lo, hi = cap_tg_interval(tg_raw, (np.array([50.0, 20.0]), np.array([80.0, 30.0])), tm, tm + 100, 0.97)
    assert tg[0] == 0.97 * (310 + _K) - _K and tg[1] == 100.0
    assert np.all((lo <= tg) & (tg <= hi))
    np.testing.assert_allclose(lo, tg - [50.0, 20.0])
    assert hi[1] == 130.0


def _shifted_ratio_set(n_groups: int = 12, per: int = 5, seed: int = 0):
    """Tm = Td - 80; each chemistry has its own Tg/Tm ratio (0.66-0.96), rising with Tm as the ZIFs' does."""
    rng = np.random.default_rng(seed)
    n = n_groups * per
    groups = np.repeat([f"g{i}" for i in range(n_groups)], per)
    X = rng.normal(size=(n, len(LABELS)))
    X[:, 0] = np.repeat(np.linspace(-2, 2, n_groups), per) + rng.normal(0, 0.05, n)
    td = 400 + 80 * X[:, 0]
    tm = td - 80 + rng.normal(0, 25, n)
    ratio = np.repeat(np.linspace(0.66, 0.96, n_groups), per)
    tg = ratio * (tm + _K) - _K + rng.normal(0, 4, n)
    ids = np.array([f"c{i}" for i in range(n)])
    frame = pd.DataFrame({"id": ids, "tm_c": tm, "tg_c": tg})
    fam = np.array(["ZIF" if g in ("g10", "g11") else "other" for g in groups])

    def ts(name: str, y: np.ndarray) -> TrainingSet:
        return TrainingSet(name=name, X=X, y=y, groups=groups, families=fam, ids=ids, frame=frame, excluded={})

    keys = [("M", f"k{i}") for i in range(n)]
    tX = np.vstack([X + rng.normal(0, 0.05, X.shape), X + rng.normal(0, 0.05, X.shape)])
    ttd = 400 + 80 * tX[:, 0] + rng.normal(0, 5, len(tX))
    tkeys = [("M", f"rel{i}") for i in range(2 * n)]
    return {"tm": ts("tm", tm), "tg": ts("tg", tg)}, tX, ttd, tkeys, np.zeros(2 * n, bool), {"tm": keys, "tg": keys}


def test_nested_tg_coverage_of_the_shipped_interval_is_near_nominal_and_per_bin() -> None:
    sets, tX, ttd, tkeys, melter, gkeys = _shifted_ratio_set()
    res = evaluate_tm_anchor(sets, LABELS, {}, tX, ttd, tkeys, melter, gkeys, n_splits=4, n_repeats=1,
                             td_params={"n_estimators": 60}, targets=("tg",))["tg"]
    shipped = res["coverage"]["ratio_gated_td|propagated"]
    assert set(shipped) == {"in", "near", "out", "all"}
    assert shipped["all"]["coverage"] >= 0.8 - 0.05
    assert sum(shipped[b]["n"] for b in ("in", "near", "out")) == shipped["all"]["n"] == len(sets["tg"].y)
    assert res["capped_interval_brackets"] is True


def test_evaluate_table_reports_the_shipped_interval_coverage_per_bin() -> None:
    from rich.table import Table

    from mlglass.report import _anchor_rows

    t = Table()
    for c in ("method", "MAE", "RMSE", "R2", "n"):
        t.add_column(c)
    a = {"n": 55, "mae": {"ratio_gated_td": 120.9}, "mae_std": {}, "zif_mae": {}, "other_mae": {},
         "coverage_nominal": 0.8,
         "coverage": {"ratio_gated_td|propagated": {"in": {"n": 3, "coverage": 1.0, "width_c": 352.0},
                                                    "near": {"n": 0, "coverage": 1.0, "width_c": 356.0},
                                                    "out": {"n": 51, "coverage": 0.87, "width_c": 391.0},
                                                    "all": {"n": 55, "coverage": 0.88, "width_c": 388.0}}}}
    _anchor_rows(t, a)
    rows = list(t.columns[0].cells)
    assert rows[-1].startswith("gated_td interval, nested coverage (nominal 80%)")
    assert "out n=51 87% (391 °C)" in rows[-1] and "all n=55 88%" in rows[-1] and "near" not in rows[-1]


def test_ratio_level_is_the_smallest_that_covers_the_inner_rows() -> None:
    ratios = np.linspace(0.66, 0.96, 31)
    tm = np.full(10, 300.0)
    half = np.full(10, 1.0)
    # Tg of the inner rows at ratios spread over the central 60 % of the training ratios
    r = np.quantile(ratios, np.linspace(0.21, 0.79, 10))
    tg = r * (tm + _K) - _K
    assert tm_anchor_evaluation.choose_ratio_level(tm, half, tg, ratios, 0.8) == 0.5  # 8 of 10 inside 0.25-0.75
    level = tm_anchor_evaluation.choose_ratio_level(tm, half, tg, ratios, 0.9)
    assert level == 0.6
    lo, hi = td_informed.tg_interval_from_tm(tm - half, tm + half, *td_informed.ratio_bounds(ratios, level))
    assert np.mean((lo <= tg) & (tg <= hi)) >= 0.9
    assert tm_anchor_evaluation.choose_ratio_level(tm, half, tg + 500, ratios, 0.8) == tm_anchor_evaluation.RATIO_LEVELS[-1]
