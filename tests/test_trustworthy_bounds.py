"""Issue 11: what a held-out chemistry outside the training labels' range costs, and a model that can reach it.

* ``label_range_bound``: the least error of any prediction confined to the training labels'
  range; ``mlglass evaluate`` reports it beside the baselines, and the range-confined
  baselines (mean, family mean) can never beat it.
* ``SignedLinearTm``: a linear Tm whose coefficients keep the review's signs and which, unlike
  the trees, carries a compound with a higher Td_hat above the training range.
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import synthetic_tm_tg_sets

from mlglass.models.evaluate import evaluate_regression, label_range_bound
from mlglass.models.tm_linear import TM_DIRECTIONS, SignedLinearTm

LABELS = list(TM_DIRECTIONS)


def test_label_range_bound_is_the_distance_to_the_training_range() -> None:
    got = label_range_bound(np.array([100.0, 150.0, 200.0]), np.array([50.0, 150.0, 260.0, 200.0]))
    np.testing.assert_allclose(got, [50.0, 0.0, 60.0, 0.0])
    assert np.isnan(label_range_bound(np.zeros(0), np.array([1.0]))).all()


def _high_group_sets():
    """Ten groups; g0 (one chemistry) melts 250 degC above everything else."""
    rng = np.random.default_rng(3)
    groups = np.repeat([f"g{i}" for i in range(10)], 5)
    X = rng.normal(size=(len(groups), 4))
    tm = np.where(groups == "g0", 450.0, 200.0) + rng.normal(0, 10, len(groups))
    return synthetic_tm_tg_sets(X, tm, 0.8 * tm, groups)


def test_evaluate_reports_the_bound_and_confined_baselines_never_beat_it() -> None:
    ts = _high_group_sets()["tm"]
    res = evaluate_regression(ts, params={"n_estimators": 20, "max_depth": 2, "calibration_folds": 3}, n_splits=5,
                              n_repeats=2)
    bound = res["label_range_bound"]
    # g0 held out: its 5 rows sit about 220 degC above the training range, about 22 degC per row of 50
    assert 15 < bound["mae"] < 30 and bound["n_outside_range"] >= 5
    for m in ("mean", "family_mean"):
        assert res["methods"][m]["mae"] >= bound["mae"] - 1e-9


def test_evaluation_table_shows_the_bound() -> None:
    from rich.console import Console

    from mlglass.report import evaluation_table

    ts = _high_group_sets()["tm"]
    r = evaluate_regression(ts, params={"n_estimators": 10, "max_depth": 2, "calibration_folds": 3}, n_splits=5,
                            n_repeats=1)
    melt = {"n": 4, "n_positive": 2, "n_negative": 2, "methods": {}}
    res = {"tm": r, "tg": r, "melt": melt, "protocol": {"n_repeats": 1, "n_splits": 5}}
    console = Console(record=True, width=250)
    for t in evaluation_table(res):
        console.print(t)
    text = console.export_text()
    assert "bound: least MAE of any model predicting inside the training labels' range" in text
    assert f"{r['label_range_bound']['mae']:.1f}" in text


def _linear_data(n: int = 60, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, len(LABELS)))
    X[:, LABELS.index("network_dimensionality")] = rng.integers(1, 4, n)
    td = rng.uniform(250, 400, n)
    return X, td, rng


def test_signed_linear_tm_keeps_the_review_signs() -> None:
    X, td, rng = _linear_data()
    rot = LABELS.index("ligand_rotatable_bonds_mean")
    # data where flexibility *raises* Tm, against the review: the model may not learn that sign
    y = td - 100 + 40 * X[:, rot] + rng.normal(0, 5, len(td))
    eff = SignedLinearTm(LABELS, alpha=0.3).fit(X, y, td).effects()
    assert eff["ligand_rotatable_bonds_mean"] == pytest.approx(0.0, abs=1e-9)
    assert eff["td_hat"] > 0
    # and where it lowers Tm, as the review says, the effect is learnt with its sign
    y2 = td - 100 - 40 * X[:, rot] + rng.normal(0, 5, len(td))
    assert SignedLinearTm(LABELS, alpha=0.3).fit(X, y2, td).effects()["ligand_rotatable_bonds_mean"] < -20


def test_signed_linear_tm_extrapolates_beyond_the_training_range() -> None:
    from mlglass.models.boosting import make_estimator

    X, td, rng = _linear_data()
    y = td - 80 + rng.normal(0, 5, len(td))
    lin = SignedLinearTm(LABELS, alpha=0.3).fit(X, y, td)
    Xq, td_q = X[:3], np.full(3, 600.0)  # Td_hat 200 degC above any training compound
    p = lin.predict(Xq, td_q)
    assert np.all(p > y.max() + 100)
    np.testing.assert_allclose(p, 520.0, atol=40)
    trees = make_estimator("regressor", n_estimators=50, max_depth=2, calibration_folds=0).fit(
        np.column_stack([X, td]), y)
    assert np.all(trees.predict(np.column_stack([Xq, td_q])) <= y.max() + 1)  # the trees stop at the range


def test_signed_linear_tm_uses_only_the_descriptors_it_is_given() -> None:
    X, td, rng = _linear_data()
    keep = ["network_dimensionality", "hsab_mismatch"]
    Xs = X[:, [LABELS.index(k) for k in keep]]
    lin = SignedLinearTm(["other", *keep][1:], alpha=3.0).fit(Xs, td - 50, td)
    assert lin.used == keep and set(lin.effects()) == {"td_hat", *keep}
    Xs_nan = Xs.copy()
    Xs_nan[0, 0] = np.nan  # a missing descriptor takes the training median
    assert np.isfinite(lin.predict(Xs_nan, td)).all()
