"""Tm anchored on the predicted Td (mlglass.models.tm_anchor), issue 11: nested evaluation and the shipped head."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conftest import synthetic_tm_tg_sets

from mlglass.models import td_informed, tm_anchor
from mlglass.models.domain import DOMAIN_DESCRIPTORS
from mlglass.models.tm_anchor import ResidualTm, mondrian_quantiles
from mlglass.models.tm_anchor_evaluation import CANDIDATES, choose_delta, evaluate_tm_anchor

LABELS = list(DOMAIN_DESCRIPTORS)


def _synthetic(n_groups: int = 12, per: int = 5, seed: int = 0):
    """Tm = Td - 80 (group-level Td the trees of a held-out group cannot see), Td learnable from thermal rows."""
    rng = np.random.default_rng(seed)
    n = n_groups * per
    d = len(LABELS)
    groups = np.repeat([f"g{i}" for i in range(n_groups)], per)
    X = rng.normal(size=(n, d))
    X[:, 0] = np.repeat(np.linspace(-2, 2, n_groups), per) + rng.normal(0, 0.05, n)
    td = 400 + 80 * X[:, 0]
    tm = td - 80 + rng.normal(0, 8, n)
    tg = 0.8 * (tm + 273.15) - 273.15 + rng.normal(0, 4, n)
    sets = synthetic_tm_tg_sets(X, tm, tg, groups)
    keys = [("M", f"k{i}") for i in range(n)]
    # thermal rows: each compound's own composition, related frameworks (other compositions), a known melter
    tX = np.vstack([X, X + rng.normal(0, 0.05, X.shape), X + rng.normal(0, 0.05, X.shape)])
    x0 = tX[:, 0]
    ttd = 400 + 80 * x0 + rng.normal(0, 5, len(x0))
    tkeys = keys + [("M", f"rel{i}") for i in range(2 * n)]
    melter = np.zeros(len(tkeys), bool)
    melter[n] = True
    return sets, tX, ttd, tkeys, melter, {"tm": keys, "tg": keys}


def test_residual_head_learns_the_margin_below_td() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 3))
    td = 300 + 50 * rng.normal(size=80)
    y = td - 60 - 20 * (X[:, 1] > 0)
    flat = ResidualTm({"n_estimators": 0}).fit(X, y, td)
    assert flat.booster_ is None and -80 <= flat.offset_ <= -60
    np.testing.assert_allclose(flat.predict(X, td), td + flat.offset_)
    trees = ResidualTm({"max_depth": 1, "n_estimators": 60}).fit(X, y, td)
    assert np.mean(np.abs(trees.predict(X, td) - y)) < np.mean(np.abs(flat.predict(X, td) - y))
    # the prediction follows the anchor one for one (trees see X only)
    np.testing.assert_allclose(trees.predict(X, td + 100) - trees.predict(X, td), 100, atol=1e-3)


def test_delta_and_mondrian_quantiles() -> None:
    y = np.array([100.0, 200.0, 300.0])
    model = np.array([400.0, 400.0, 400.0])
    td = y + 50
    assert choose_delta(model, td, y) == 50.0
    res = np.concatenate([np.full(10, 1.0), np.full(10, 10.0), np.full(3, 100.0)])
    bins = np.array(["in"] * 10 + ["out"] * 10 + ["near"] * 3, dtype=object)
    q = mondrian_quantiles(res, bins, 0.8)
    assert q["in"] == 1.0 and q["out"] == 10.0 and q["near"] == q["all"]  # too few near rows: global


def test_nested_cv_prior_excludes_held_out_compositions(monkeypatch: pytest.MonkeyPatch) -> None:
    sets, tX, ttd, tkeys, melter, gkeys = _synthetic()
    seen: list[np.ndarray] = []
    real = td_informed.fit_td_prior

    def spy(X: np.ndarray, td: np.ndarray, **kw):  # type: ignore[no-untyped-def]
        seen.append(X.copy())
        return real(X, td, **kw)

    monkeypatch.setattr(td_informed, "fit_td_prior", spy)
    res = evaluate_tm_anchor(sets, LABELS, {}, tX, ttd, tkeys, melter, gkeys, n_splits=4, n_repeats=1,
                             td_params={"n_estimators": 30}, targets=("tm",))
    from sklearn.model_selection import GroupKFold

    folds = list(GroupKFold(n_splits=4, shuffle=True, random_state=0).split(sets["tm"].X, sets["tm"].y,
                                                                             sets["tm"].groups))
    assert len(seen) == len(folds)
    n = len(sets["tm"].y)
    for (_, te), Xp in zip(folds, seen):
        # the held-out compounds' own thermal rows are not in the prior; the related frameworks are
        assert not any(np.any(np.all(np.isclose(Xp, tX[i]), axis=1)) for i in te)
        assert all(np.any(np.all(np.isclose(Xp, tX[n + i]), axis=1)) for i in te if i != 0)
        assert not np.any(np.all(np.isclose(Xp, tX[n]), axis=1))  # known melter dropped
    assert {"model", "family_mean", "td_prior_only", *CANDIDATES} == set(res["tm"]["mae"])


def test_anchor_beats_the_trees_on_held_out_chemistry_and_reports_coverage() -> None:
    sets, tX, ttd, tkeys, melter, gkeys = _synthetic(seed=1)
    res = evaluate_tm_anchor(sets, LABELS, {}, tX, ttd, tkeys, melter, gkeys, n_splits=4, n_repeats=1,
                             td_params={"n_estimators": 200})
    tm = res["tm"]["mae"]
    assert tm["residual"] < tm["model"] and tm["residual"] < tm["family_mean"]
    assert tm["residual"] < tm["td_prior_only"]  # the offset (Tm about 80 below Td) is learnt inside the fold
    assert all(-120 <= c["residual_offset_c"] <= -40 for c in res["tm"]["choices"])
    cov = res["tm"]["coverage"]["residual|global"]["all"]
    assert 0.5 <= cov["coverage"] <= 1.0 and cov["width_c"] > 0
    tg = res["tg"]["mae"]
    assert tg["ratio_residual"] < tg["model"]


# ------------------------------------------------------------------ the shipped head
REFERENCE = pd.DataFrame({"id": ["ZIF-4", "ZIF-62", "ZIF-8", "MOF-5"], "metal": ["Zn", "Zn", "Zn", "Zn"],
                          "ligands": ["Im:2", "Im:1.75;bIm:0.25", "MeIm:2", "BDC:0.75;O:0.25"],
                          "counter_ions": ["", "", "", ""], "dimensionality": [3, 3, 3, 3]})


def _thermal_available() -> bool:
    from mlglass.datasets import dataset_path

    return dataset_path("thermal.csv").exists()


@pytest.fixture(scope="module")
def anchored(glasses):  # type: ignore[no-untyped-def]
    """A small bundle trained with 60 thermal train/val rows: its Tm head is Td-anchored."""
    from mlglass.datasets import load_thermal
    from mlglass.models.predictor import GlassPredictor

    t = load_thermal()
    t = t[t["error"] == ""]
    small = pd.concat([t[t["split"] == s].head(n) for s, n in (("train", 45), ("val", 15))])
    tiny = {"n_estimators": 15, "max_depth": 2, "calibration_folds": 3}
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(tm_anchor, "ANCHOR_KIND", "residual")
        return GlassPredictor.train(glasses, params={"tm": tiny, "tg": tiny, "melt": tiny, "td": tiny,
                                                     "tm_aft": {"n_estimators": 20}}, thermal=small)


@pytest.mark.skipif(not _thermal_available(), reason="datasets/thermal.csv not built")
def test_bundle_anchor_follows_td_row_and_survives_save_load(anchored, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from mlglass.models.predictor import GlassPredictor
    from mlglass.models.td_informed import tg_from_tm

    p = anchored
    state = p.metadata["tm_anchor"]
    assert state["kind"] == "residual" and state["td_head"] == "td_row"
    out = p.predict(REFERENCE).set_index("id")
    head = ResidualTm.from_dict(state["residual"], p.heads["tm_anchor"].booster)
    X = p.featurizer.transform(REFERENCE)[p.feature_labels].to_numpy(np.float32)
    td_row = p.heads["td_row"].predict(X)
    np.testing.assert_allclose(out["tm_c"].to_numpy(), head.predict(X, td_row), rtol=1e-5)
    assert (out["tm_lo_c"] < out["tm_c"]).all() and (out["tm_c"] < out["tm_hi_c"]).all()
    if state["use_for_tg"]:
        np.testing.assert_allclose(out["tg_c"].to_numpy(), tg_from_tm(out["tm_c"].to_numpy(), state["tg_tm_ratio"]),
                                   rtol=1e-5)
        assert (out["tg_c"] < out["tm_c"]).all()
    wide = p.predict(REFERENCE, coverage=0.95).set_index("id")
    assert ((wide["tm_hi_c"] - wide["tm_lo_c"]) >= (out["tm_hi_c"] - out["tm_lo_c"]) - 1e-9).all()
    q = GlassPredictor.load(p.save(tmp_path / "m"))
    np.testing.assert_allclose(q.predict(REFERENCE)["tm_c"], out["tm_c"].to_numpy(), rtol=1e-6)


def test_bundled_tm_is_anchored_on_td_outside_the_domain() -> None:
    """The shipped Tm: the boosted model for ZIF-62 (``in``), the Td-anchored head for out-of-domain chemistry.

    ZIF-62 melts (437 degC) below its measured Td (550 degC, ``datasets/glasses.csv``); the shipped Tm
    keeps that order when the measured Td is given. (It is *not* below the ``td_row`` Td_hat of
    ZIF-62, 354 degC: the Td head underestimates this ZIF's decomposition, see models/README.md.)
    Outside the domain the Tm is the anchored head's (``gated_range``: Td_hat + offset + residual trees,
    or Td_hat itself above every training Tm; ``gated_td``: Td_hat).
    """
    from mlglass.models.predictor import GlassPredictor

    p = GlassPredictor.default()
    if "tm_anchor" not in p.metadata:
        pytest.skip("the bundled models carry no Td-anchored Tm head")
    state = p.metadata["tm_anchor"]
    assert state["kind"] == tm_anchor.ANCHOR_KIND
    frame = pd.DataFrame([
        {"id": "zif62", "formula": "Zn(Im)1.75(bIm)0.25", "dimensionality": 3, "td_c": 550.0},
        {"id": "ca_formate", "metal": "Ca", "ligands": "[O-]C=O:2"},
        {"id": "pb_im2", "formula": "Pb(Im)2"},
    ])
    out = p.predict(frame).set_index("id")
    assert (out["error"] == "").all()
    zif = out.loc["zif62"]
    assert zif["tm_domain"] == "in" and zif["td_source"] == "given"
    assert zif["tm_c"] < zif["td_c"]
    assert zif["tm_lo_c"] <= 437.0 <= zif["tm_hi_c"]
    X = p.featurizer.transform(frame.drop(columns="td_c"))[p.feature_labels].to_numpy(np.float32)
    assert zif["tm_c"] == pytest.approx(float(p.heads["tm"].predict(X[:1])[0]), rel=1e-5)
    far = out.loc[["ca_formate", "pb_im2"]]
    assert (far["tm_domain"] == "out").all() and (far["td_source"] == "table row").all()
    td_hat = far["td_c"].to_numpy()
    booster = p.heads["tm_anchor"].booster if "tm_anchor" in p.heads else None
    expected = ResidualTm.from_dict(state["residual"], booster).predict(X[1:], td_hat)
    if state["kind"] == "gated_range":
        expected = tm_anchor.range_anchor(expected, td_hat, state["tm_train_max_c"])
    np.testing.assert_allclose(far["tm_c"], expected, rtol=1e-5)
    assert (out["tg_c"] < out["tm_c"]).all()
    assert ((out["tm_lo_c"] < out["tm_c"]) & (out["tm_c"] < out["tm_hi_c"])).all()


def test_gated_td_uses_the_model_in_the_domain_and_td_hat_outside() -> None:
    rng = np.random.default_rng(3)
    res = np.abs(rng.normal(0, 50, 40))
    bins_cal = np.array(["in"] * 10 + ["out"] * 30, dtype=object)
    state = {"kind": "gated_td", "tg_tm_ratio": 0.8, "min_bin": 8,
             "tm_calibration": {"residuals_c": res.tolist(), "bins": bins_cal.tolist()},
             "tg_calibration": {"residuals_c": (res / 2).tolist(), "bins": bins_cal.tolist()}}
    head = ResidualTm({"n_estimators": 0})  # offset 0: Td_hat itself
    td_hat = np.array([400.0, 400.0, 400.0])
    model = np.array([300.0, 300.0, 300.0])
    bins = np.array(["in", "near", "out"], dtype=object)
    tm, q_tm, tg, q_tg = tm_anchor.predict_anchor(state, head, td_hat, np.zeros((3, 2)), model, bins, 0.8)
    np.testing.assert_allclose(tm, [300.0, 300.0, 400.0])
    assert q_tm[0] == mondrian_quantiles(res[:10], np.array(["in"] * 10, dtype=object), 0.8)["in"]
    assert q_tm[1] == mondrian_quantiles(res, bins_cal, 0.8)["all"]  # no near residuals: global
    assert np.all(tg < tm) and np.all(q_tg < q_tm)
    wide = tm_anchor.predict_anchor(state, head, td_hat, np.zeros((3, 2)), model, bins, 0.95)[1]
    assert np.all(wide >= q_tm)


def test_gated_range_keeps_td_hat_only_above_every_training_tm() -> None:
    """``gated_range``: the model in the domain; outside, Td_hat + offset unless Td_hat tops every training Tm."""
    np.testing.assert_allclose(tm_anchor.range_anchor(np.array([200.0, 390.0]), np.array([300.0, 490.0]), 450.0),
                               [200.0, 490.0])
    np.testing.assert_allclose(  # per-row maxima, as in the inner CV
        tm_anchor.range_anchor(np.array([200.0, 200.0]), np.array([300.0, 300.0]), np.array([250.0, 350.0])),
        [300.0, 200.0])
    res = np.abs(np.random.default_rng(4).normal(0, 50, 40))
    cal = {"residuals_c": res.tolist(), "bins": ["out"] * 40}
    state = {"kind": "gated_range", "tg_tm_ratio": 0.8, "min_bin": 8, "tm_train_max_c": 450.0,
             "tm_calibration": cal, "tg_calibration": cal}
    head = ResidualTm({"n_estimators": 0})
    head.offset_ = -100.0
    td_hat = np.array([400.0, 300.0, 500.0, 500.0])
    model = np.full(4, 250.0)
    bins = np.array(["in", "out", "out", "near"], dtype=object)
    tm = tm_anchor.predict_anchor(state, head, td_hat, np.zeros((4, 2)), model, bins, 0.8)[0]
    np.testing.assert_allclose(tm, [250.0, 200.0, 500.0, 250.0])


def test_nested_gated_range_uses_each_inner_fold_maximum() -> None:
    """The inner out-of-fold Tm of ``gated_range`` (its interval residuals) uses the inner training maximum."""
    sets, tX, ttd, tkeys, melter, gkeys = _synthetic(seed=2)
    res = evaluate_tm_anchor(sets, LABELS, {}, tX, ttd, tkeys, melter, gkeys, n_splits=4, n_repeats=1,
                             td_params={"n_estimators": 50}, targets=("tm",))
    assert "gated_range" in res["tm"]["mae"] and "gated_range|mondrian" in res["tm"]["coverage"]
    s = sets["tm"]
    inner = tm_anchor.inner_cv(s.X, s.y, s.groups, s.y + 80, LABELS, [(frozenset(), frozenset())] * len(s.y),
                               n_splits=4)
    from sklearn.model_selection import GroupKFold

    for tr, te in GroupKFold(n_splits=4, shuffle=True, random_state=0).split(s.X, s.y, s.groups):
        np.testing.assert_allclose(inner.train_max[te], s.y[tr].max())
    assert inner.train_max.min() < s.y.max()  # the fold holding the hottest group sees a lower maximum


def test_evaluate_table_shows_the_anchored_rows() -> None:
    from rich.table import Table

    from mlglass.report import _anchor_rows

    t = Table()
    for c in ("method", "MAE", "RMSE", "R2", "n"):
        t.add_column(c)
    a = {"n": 59, "mae": {"gated_td": 110.8, "td_prior_only": 117.1, "model": 144.1},
         "mae_std": {"gated_td": 0.3, "td_prior_only": 0.0}, "zif_mae": {"gated_td": 103.2, "td_prior_only": 103.2},
         "other_mae": {"gated_td": 115.3, "td_prior_only": 125.3}}
    _anchor_rows(t, a)
    methods = list(t.columns[0].cells)
    assert len(methods) == 2 and methods[1].startswith("gated_td (Td-anchored, nested")
    assert list(t.columns[1].cells)[1] == "110.8 ± 0.3"
    _anchor_rows(t, None)  # evaluation without the thermal table: no rows
    assert len(list(t.columns[0].cells)) == 2
