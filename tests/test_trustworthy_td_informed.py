"""Td-informed Tm and Tg through the Tg/Tm ratio (mlglass.models.td_informed), issue 11."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import synthetic_tm_tg_sets

from mlglass.models import td_informed
from mlglass.models.td_informed import (
    choose_blend_weight,
    evaluate_td_informed,
    tg_from_tm,
    tg_tm_ratio,
    thermal_training_mask,
)


def test_mask_drops_known_melters_and_held_out_compositions() -> None:
    keys = [("Zn", "a"), ("Zn", "b"), ("Co", "a"), None, ("Zn", "b")]
    melter = np.array([False, False, True, False, False])
    keep = thermal_training_mask(keys, melter, {("Zn", "b"), None})
    assert keep.tolist() == [True, False, False, True, False]


def test_blend_weight_follows_the_inner_cv() -> None:
    rng = np.random.default_rng(0)
    n = 60
    X = rng.normal(size=(n, 3))
    groups = np.repeat(np.arange(12), 5)
    y = 300 + 150 * groups / 11 + rng.normal(0, 5, n)  # the level is a group property: trees cannot see it
    w_good, oof = choose_blend_weight(X, y, groups, y + rng.normal(0, 5, n))
    assert w_good >= 0.8 and np.isfinite(oof).all()
    w_bad, _ = choose_blend_weight(X, y, groups, rng.normal(0, 1000, n))
    assert w_bad <= 0.2


def test_ratio_keeps_tg_below_tm() -> None:
    tm = np.array([100.0, 250.0, 590.0, -50.0])
    r = tg_tm_ratio(np.array([50.0, 150.0, 292.0, np.nan]), tm)
    assert 0.66 < r < 0.96
    tg = tg_from_tm(tm, r)
    assert np.all(tg < tm)
    with pytest.raises(ValueError, match="ratio"):
        tg_from_tm(tm, 1.0)


def _synthetic(n_groups: int = 10, per: int = 4, seed: int = 0):
    rng = np.random.default_rng(seed)
    n = n_groups * per
    groups = np.repeat([f"g{i}" for i in range(n_groups)], per)
    X = rng.normal(size=(n, 4))
    X[:, 0] = np.repeat(rng.normal(size=n_groups), per)
    tm = 350 + 80 * X[:, 0] + rng.normal(0, 10, n)
    tg = 0.75 * (tm + 273.15) - 273.15 + rng.normal(0, 5, n)
    sets = synthetic_tm_tg_sets(X, tm, tg, groups)
    keys = [("M", f"k{i}") for i in range(n)]
    # thermal rows: one per compound composition and two related frameworks per compound
    # (other compositions), Td tracking Tm, plus unrelated rows
    related = np.vstack([X + rng.normal(0, 0.05, X.shape), X + rng.normal(0, 0.05, X.shape)])
    tX = np.vstack([X, related, rng.normal(size=(40, 4))])
    ttd = np.concatenate([tm + 60, np.tile(tm + 60, 2) + rng.normal(0, 10, 2 * n), 300 + rng.normal(0, 30, 40)])
    tkeys = keys + [("M", f"rel{i}") for i in range(2 * n)] + [("M", f"other{i}") for i in range(40)]
    melter = np.zeros(len(tkeys), bool)
    melter[-1] = True
    return sets, tX, ttd, tkeys, melter, {"tm": keys, "tg": keys}


def test_cv_never_fits_the_td_prior_on_held_out_compositions(monkeypatch: pytest.MonkeyPatch) -> None:
    sets, tX, ttd, tkeys, melter, gkeys = _synthetic()
    seen: list[np.ndarray] = []
    real = td_informed.fit_td_prior

    def spy(X: np.ndarray, td: np.ndarray, **kw):  # type: ignore[no-untyped-def]
        seen.append(X.copy())
        return real(X, td, **kw)

    monkeypatch.setattr(td_informed, "fit_td_prior", spy)
    res = evaluate_td_informed(sets, [], tX, ttd, tkeys, melter, gkeys, n_splits=5, n_repeats=1,
                               td_params={"n_estimators": 30})
    assert len(seen) == 10  # one prior per outer fold, per target
    from sklearn.model_selection import GroupKFold

    folds = list(GroupKFold(n_splits=5, shuffle=True, random_state=0).split(sets["tm"].X, sets["tm"].y,
                                                                             sets["tm"].groups))
    for (_, te), Xp in zip(folds, seen[:5]):
        held_rows = tX[te]
        # no held-out compound's thermal row (identical descriptors) is in that fold's prior
        assert not any(np.any(np.all(np.isclose(Xp, row), axis=1)) for row in held_rows)
        assert not np.any(np.all(np.isclose(Xp, tX[-1]), axis=1))  # known melter dropped
    assert set(res["tm"]["mae"]) == {"model", "td_informed", "td_prior_only"}
    assert set(res["tg"]["mae"]) == {"model", "ratio_td_informed", "ratio_td_prior_only"}
    assert all(0.0 <= w <= 1.0 for w in res["tm"]["weights"])


def test_td_prior_helps_a_held_out_chemistry_and_intervals_cover() -> None:
    sets, tX, ttd, tkeys, melter, gkeys = _synthetic(n_groups=12, per=5, seed=1)
    res = evaluate_td_informed(sets, [], tX, ttd, tkeys, melter, gkeys, n_splits=4, n_repeats=2,
                               td_params={"n_estimators": 100})
    tm = res["tm"]
    assert tm["mae"]["td_informed"] <= tm["mae"]["model"] + 1e-9
    assert 0.6 <= tm["coverage"] <= 1.0
    assert np.isfinite(tm["width_c"]) and tm["width_c"] > 0
    assert np.isfinite(res["tg"]["mae"]["ratio_td_informed"])


def test_evaluate_reports_tg_through_the_ratio() -> None:
    from mlglass.models.evaluate import tg_cap_check

    sets, *_ = _synthetic(n_groups=10, per=4, seed=2)
    res = tg_cap_check(sets["tm"], sets["tg"], n_splits=5, n_repeats=1)
    ratio = res["ratio"]
    assert 0.7 < ratio["ratio_median"] < 0.8  # the synthetic Tg/Tm is 0.75 (kelvin)
    assert np.isfinite(ratio["mae"]) and 0.0 <= ratio["coverage"] <= 1.0 and ratio["width_c"] > 0
