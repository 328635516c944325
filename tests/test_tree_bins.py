"""Tree-equivalence classes: predicting one row per class must give exactly the per-row predictions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xgboost as xgb

from mlglass.models.censored import prob_tm_below_td
from mlglass.models.tree_bins import SplitBins, factorize_rows


def _booster(seed: int, n_features: int = 6, depth: int = 4) -> xgb.Booster:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(400, n_features))
    X[rng.random(X.shape) < 0.1] = np.nan
    y = np.nansum(X[:, :3], axis=1) + rng.normal(scale=0.1, size=400)
    return xgb.train({"max_depth": depth, "eta": 0.3, "seed": seed},
                     xgb.DMatrix(X, label=y, missing=np.nan), num_boost_round=40)


def test_classes_reproduce_every_booster_prediction_bit_for_bit():
    boosters = [_booster(0), _booster(1, depth=6)]
    bins = SplitBins.from_boosters(boosters, 6)
    rng = np.random.default_rng(7)
    # a fine grid along one direction (many distinct rows, few classes) plus random rows and NaNs
    t = np.linspace(-2, 2, 5000)
    grid = np.column_stack([t, 0.5 * t, np.full_like(t, 0.3), -t, np.zeros_like(t), np.full_like(t, np.nan)])
    X = np.vstack([grid, rng.normal(size=(2000, 6))]).astype(np.float32)
    X[rng.random(X.shape) < 0.05] = np.nan
    classes = bins.classes(X)
    assert len(classes.rep) < len(X)  # the grid collapses
    assert classes.inverse.shape == (len(X),)
    for b in boosters:
        full = b.inplace_predict(X, missing=np.nan)
        np.testing.assert_array_equal(classes.broadcast(b.inplace_predict(classes.rep, missing=np.nan)), full)
        contrib = b.predict(xgb.DMatrix(X[:300], missing=np.nan), pred_contribs=True)
        sub = bins.classes(X[:300])
        rep_contrib = b.predict(xgb.DMatrix(sub.rep, missing=np.nan), pred_contribs=True)
        np.testing.assert_array_equal(sub.broadcast(rep_contrib), contrib)


def test_values_on_a_threshold_go_to_the_right_branch():
    b = _booster(3)
    bins = SplitBins.from_boosters([b], 6)
    j, th = next(iter(bins.thresholds.items()))
    X = np.zeros((3 * len(th), 6), dtype=np.float32)
    # exactly on, just below and just above every threshold of feature j (xgboost: x < t goes left)
    X[:, j] = np.concatenate([th, np.nextafter(th, -np.inf), np.nextafter(th, np.inf)])
    classes = bins.classes(X)
    np.testing.assert_array_equal(classes.broadcast(b.inplace_predict(classes.rep, missing=np.nan)),
                                  b.inplace_predict(X, missing=np.nan))


def test_take_follows_row_selection():
    b = _booster(4)
    bins = SplitBins.from_boosters([b], 6)
    X = np.random.default_rng(0).normal(size=(500, 6)).astype(np.float32)
    idx = np.array([5, 5, 0, 499, 17])
    sub = bins.classes(X).take(idx)
    np.testing.assert_array_equal(sub.broadcast(b.inplace_predict(sub.rep)), b.inplace_predict(X[idx]))


def test_wrong_width_is_refused():
    bins = SplitBins.from_boosters([_booster(0)], 6)
    with pytest.raises(ValueError, match="6 columns"):
        bins.classes(np.zeros((3, 5)))


def test_factorize_rows_treats_nan_as_a_value():
    a = np.array([1.0, 1.0, np.nan, np.nan, 2.0, 1.0])
    b = np.array([0.0, 0.0, 3.0, 3.0, 0.0, 1.0])
    codes, first = factorize_rows(a, b)
    assert codes.tolist() == [0, 0, 1, 1, 2, 3]
    assert first.tolist() == [0, 2, 4, 5]


def test_prob_tm_below_td_deduplicated_equals_direct():
    rng = np.random.default_rng(1)
    n = 5000
    margin = rng.choice(np.log(np.array([500.0, 600.0, 700.0, np.nan])), size=n)
    td = rng.choice(np.array([250.0, 300.0, 400.0, np.nan]), size=n)
    sd = rng.choice(np.array([0.0, 30.0]), size=n)
    fast = prob_tm_below_td(margin, 0.12, td, sd)
    slow = np.concatenate([prob_tm_below_td(margin[i:i + 1000], 0.12, td[i:i + 1000], sd[i:i + 1000])
                           for i in range(0, n, 1000)])  # 1000-row calls take the direct path
    np.testing.assert_array_equal(fast, slow)


def test_predictor_tree_classes_do_not_change_predictions(monkeypatch):
    import mlglass.models.predictor as predictor_module
    from mlglass.datasets import dataset_path
    from mlglass.io import read_table
    from mlglass.models.predictor import GlassPredictor

    p = GlassPredictor.default()
    frame = read_table(dataset_path("candidates/example.csv"))
    grid = pd.DataFrame({"id": [f"g{i}" for i in range(1500)], "metal": "Zn", "oxidation_state": 2,
                         "ligands": [f"Im:{2 - x:.4f};bIm:{x:.4f}" for x in np.linspace(0, 0.5, 1500)],
                         "dimensionality": 3})
    frame = pd.concat([frame, grid], ignore_index=True)
    monkeypatch.setattr(predictor_module, "TREE_CLASS_MIN_ROWS", 10**12)
    plain = p.predict(frame)
    monkeypatch.setattr(predictor_module, "TREE_CLASS_MIN_ROWS", 0)
    binned = p.predict(frame)
    pd.testing.assert_frame_equal(binned, plain)
    classes = p.row_classes(p.featurizer.transform(grid)[p.feature_labels].to_numpy(dtype=float))
    assert len(classes.rep) < len(grid)
