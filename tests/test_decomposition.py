"""Td models, censored Tm, p_melt = P(Tm < Td), monotone calibration, the thermal table and CIF input."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlglass.models.censored import CensoredTmRegressor, MonotoneCalibrator, aft_cdf, prob_tm_below_td

REPO = Path(__file__).resolve().parents[1]
SHARED_THERMAL = Path(os.environ.get("MLGLASS_THERMAL_DIR", REPO.parent / "shared" / "thermal"))
SHARED_CIFS = Path(os.environ.get("MLGLASS_SHARED_DIR", REPO.parent / "shared" / "cifs"))
THERMAL_CSV = REPO / "datasets" / "thermal.csv"

#: The review's reference frameworks as table rows (library ligand names).
REFERENCE = pd.DataFrame({
    "id": ["ZIF-4", "ZIF-62", "ZIF-8", "MOF-5", "HKUST-1", "UiO-66"],
    "metal": ["Zn", "Zn", "Zn", "Zn", "Cu", "Zr"],
    "ligands": ["Im:2", "Im:1.75;bIm:0.25", "MeIm:2", "BDC:0.75;O:0.25", "BTC:0.6667", "BDC:1;O:0.6667;OH:0.6667"],
    "counter_ions": ["", "", "", "", "", ""],
    "dimensionality": [3, 3, 3, 3, 3, 3],
})
MELTERS, NON_MELTERS = ("ZIF-4", "ZIF-62"), ("ZIF-8", "MOF-5", "HKUST-1", "UiO-66")


class TestProbability:
    def test_monotone_in_td_and_tm(self):
        td = np.array([200.0, 300.0, 400.0])
        margin = np.full(3, np.log(300 + 273.15))
        p = prob_tm_below_td(margin, 0.1, td, 40.0)
        assert np.all(np.diff(p) > 0)  # a higher Td makes melting first more likely
        p_hot = prob_tm_below_td(margin + 0.2, 0.1, td, 40.0)
        assert np.all(p_hot < p)  # a higher Tm makes it less likely

    def test_known_td_is_the_aft_cdf(self):
        margin = np.log(np.array([500.0, 700.0, 900.0]))
        td = np.array([250.0, 300.0, 350.0])
        np.testing.assert_allclose(prob_tm_below_td(margin, 0.15, td, 0.0), aft_cdf(margin, 0.15, td), atol=1e-12)

    def test_nan_in_nan_out(self):
        p = prob_tm_below_td(np.array([np.nan, 6.5]), 0.1, np.array([300.0, np.nan]), 30.0)
        assert np.isnan(p).all()


class TestCensoredTm:
    def test_learns_from_right_censored_rows(self):
        """Rows known only to be above Td must push Tm up for their chemistry."""
        rng = np.random.default_rng(0)
        x = rng.uniform(0, 1, (400, 2))
        tm = 200 + 300 * x[:, 0]
        td = np.full(400, 330.0)
        exact = tm < td  # melts first: Tm measured
        lower = np.where(exact, tm, td)
        upper = np.where(exact, tm, np.inf)
        model = CensoredTmRegressor(n_estimators=200, sigma=0.1).fit(x, lower, upper)
        low, high = model.predict(np.array([[0.1, 0.5]])), model.predict(np.array([[0.9, 0.5]]))
        assert abs(low[0] - 230) < 40
        assert high[0] > 330  # only censored rows there: the model puts Tm above their Td
        assert model.cdf(np.array([[0.9, 0.5]]), [330.0])[0] < 0.5 < model.cdf(np.array([[0.1, 0.5]]), [330.0])[0]

    def test_rejects_bad_bounds(self):
        with pytest.raises(ValueError, match="upper >= lower"):
            CensoredTmRegressor().fit(np.zeros((2, 1)), [300.0, 300.0], [200.0, 400.0])


class TestMonotoneCalibration:
    def test_inverted_fixture_cannot_reverse_the_ranking(self):
        """Labels that say the opposite of the scores: the calibration may flatten, never invert."""
        p = np.linspace(0.01, 0.99, 200)
        y = (p < 0.5).astype(int)  # deliberately inverted
        cal = MonotoneCalibrator().fit(p, y)
        q = cal.transform(p)
        assert np.all(np.diff(q) > 0)
        assert np.array_equal(np.argsort(q), np.argsort(p))

    def test_decreasing_table_is_refused(self):
        with pytest.raises(ValueError, match="invert"):
            MonotoneCalibrator.from_thresholds([0.0, 0.5, 1.0], [0.9, 0.5, 0.1])


def _bundled():
    from mlglass.models.predictor import GlassPredictor

    p = GlassPredictor.default()
    if not p.has_decomposition:
        pytest.skip("bundled models were trained without the thermal table")
    return p


class TestBundledDecomposition:
    def test_melters_rank_above_non_melters_for_the_window(self):
        out = _bundled().predict(REFERENCE, explain=True).set_index("id")
        assert (out["error"] == "").all()
        for m in MELTERS:
            for n in NON_MELTERS:
                assert out.loc[m, "p_melt"] > out.loc[n, "p_melt"], (m, n, out["p_melt"].to_dict())
        assert (out["td_source"] == "table row").all()
        # the window is that of the Tm behind p_melt, so it gives the same reason: melters have the wider window
        np.testing.assert_allclose(out["window_c"], out["td_c"] - out["tm_censored_c"])
        for m in MELTERS:
            for n in NON_MELTERS:
                assert out.loc[m, "window_c"] > out.loc[n, "window_c"], (m, n, out["window_c"].to_dict())
        assert out["p_melt_top_features"].str.contains("ln\\(Tm/K\\)").all()
        assert (out["td_lo_c"] < out["td_c"]).all() and (out["td_c"] < out["td_hi_c"]).all()
        assert out["td_top_features"].str.len().gt(0).all()
        assert out["tm_top_features"].str.contains("degC").all()

    def test_inverted_calibration_keeps_the_order(self):
        p = _bundled()
        before = p.predict(REFERENCE).set_index("id")["p_melt"]
        grid = np.linspace(0, 1, 50)
        cal = MonotoneCalibrator().fit(grid, (grid < 0.5).astype(int))  # reversed labels
        p.metadata.setdefault("decomposition", {})
        old = p.metadata["decomposition"].get("calibration")
        p.metadata["decomposition"]["calibration"] = {"x": cal.x_.tolist(), "y": cal.y_.tolist(), "eps": cal.eps}
        try:
            after = p.predict(REFERENCE).set_index("id")["p_melt"]
        finally:
            p.metadata["decomposition"]["calibration"] = old
        assert np.array_equal(np.argsort(before.to_numpy()), np.argsort(after.to_numpy()))
        for m in MELTERS:
            for n in NON_MELTERS:
                assert after[m] > after[n]

    def test_given_td_takes_precedence(self):
        frame = REFERENCE.iloc[:2].assign(td_c=["650", ""])
        out = _bundled().predict(frame)
        assert out["td_source"].tolist() == ["given", "table row"]
        assert out["td_c"].iloc[0] == 650.0 and out["td_lo_c"].iloc[0] == 650.0
        low = _bundled().predict(REFERENCE.iloc[:1].assign(td_c=[100.0]))
        assert low["p_melt"].iloc[0] < out["p_melt"].iloc[0]  # decomposing at 100 degC: cannot melt first


@pytest.mark.skipif(not (SHARED_CIFS / "IRMOF-1.cif").exists(), reason="shared CIFs not available")
class TestCifColumn:
    def test_table_of_id_and_cif_only(self, tmp_path, monkeypatch):
        monkeypatch.setenv("MLGLASS_CACHE_DIR", str(tmp_path / "cache"))
        p = _bundled()
        frame = pd.DataFrame({"id": ["mof5", "missing"], "cif": [str(SHARED_CIFS / "IRMOF-1.cif"),
                                                                 str(tmp_path / "nope.cif")]})
        out = p.predict(frame)
        assert out.loc[0, "error"] == "" and out.loc[0, "metal"] == "Zn"
        assert out.loc[0, "td_source"] == "cif" and np.isfinite(out.loc[0, "td_c"])
        assert "field 'cif'" in out.loc[1, "error"] and "nope.cif" in out.loc[1, "error"]
        assert np.isnan(out.loc[1, "p_melt"])

    def test_cli_predict_resolves_paths_against_the_table(self, tmp_path, monkeypatch):
        import shutil

        from mlglass.cli import main

        _bundled()
        monkeypatch.setenv("MLGLASS_CACHE_DIR", str(tmp_path / "cache"))
        (tmp_path / "structures").mkdir()
        shutil.copy(SHARED_CIFS / "IRMOF-1.cif", tmp_path / "structures" / "x.cif")
        (tmp_path / "cands.csv").write_text("id,cif\nmof5,structures/x.cif\n", encoding="utf-8")
        monkeypatch.chdir(REPO)  # not the table's folder
        out = tmp_path / "out.csv"
        assert main(["predict", str(tmp_path / "cands.csv"), "-o", str(out)]) == 0
        res = pd.read_csv(out, keep_default_na=False)
        assert res.loc[0, "error"] == "" and res.loc[0, "td_source"] == "cif"


class TestTrainingContract:
    def test_test_split_is_refused_for_fitting(self):
        from mlglass.models.decomposition import ThermalSet, fit_td_regressors

        ts = ThermalSet(np.zeros((4, 1)), np.zeros((4, 5)), np.zeros(4), np.array(["train"] * 4),
                        np.array(list("abcd")), np.array(["Zn"] * 4), np.zeros(4, bool), {})
        with pytest.raises(ValueError, match="held out"):
            fit_td_regressors(ts, splits=("train", "test"))

    def test_censored_labels(self, glasses):
        from mlglass.models.decomposition import tm_censored_labels

        X = np.ones((len(glasses), 3))
        lab = tm_censored_labels(glasses, X, None, td_row_pred_glasses=np.full(len(glasses), 400.0))
        kinds = pd.Series(lab["kind"]).value_counts()
        composite = glasses["composite"].fillna(False).astype(bool)
        assert composite.any()  # [EMIM][TFSI]@ZIF-8: its melting is not the framework's
        assert kinds["measured Tm"] == int((glasses["tm_c"].notna() & ~composite).sum())
        assert kinds["does not melt (Tm > Td)"] == int((glasses["melts"] == False).sum())  # noqa: E712
        non = lab["kind"] == "does not melt (Tm > Td)"
        assert np.isinf(lab["upper"][non]).all() and (lab["lower"][non] == 400.0).all()


@pytest.mark.skipif(not THERMAL_CSV.exists(), reason="datasets/thermal.csv not built")
class TestThermalTable:
    def test_hash_and_columns(self):
        import hashlib

        from mlglass.datasets import load_thermal
        from mlglass.thermal import THERMAL_COLUMNS

        meta = json.loads((REPO / "datasets" / "metadata.json").read_text(encoding="utf-8"))["thermal"]
        assert hashlib.sha256(THERMAL_CSV.read_bytes()).hexdigest() == meta["sha256"]
        assert "CC-BY-4.0" in meta["licence"] and "MIT" in meta["licence"]
        t = load_thermal()
        assert list(t.columns) == list(THERMAL_COLUMNS)
        assert len(t) == meta["num_entries"]
        assert set(t["split"]) <= {"train", "val", "test"}
        ok = t["error"] == ""
        assert t.loc[ok, "metal"].str.len().gt(0).all()
        assert t["known_melter"].dtype == bool

    @pytest.mark.skipif(not (SHARED_THERMAL / "td.csv").exists(), reason="../shared/thermal not available")
    def test_rebuilding_a_sample_gives_the_committed_rows(self, tmp_path):
        from mlglass.datasets import load_thermal
        from mlglass.thermal import build_thermal_table

        committed = load_thermal()
        done = committed[committed["error"] == ""]  # rebuilt without cache: compare successful rows
        sample = pd.concat([done[done["split"] == s].sort_values("refcode").head(10) for s in ("train", "val", "test")])
        rebuilt, report = build_thermal_table(SHARED_THERMAL, refcodes=sample["refcode"], use_cache=False,
                                              progress=False, timeout=120)
        assert report["n_rows"] == len(sample) == 30
        path = tmp_path / "t.csv"
        from mlglass.thermal import write_thermal_table

        write_thermal_table(rebuilt, path)
        again = load_thermal(path).set_index("refcode").sort_index()
        want = sample.set_index("refcode").sort_index()
        pd.testing.assert_frame_equal(again, want, check_exact=False, rtol=1e-8)


def test_known_melter_marking(glasses):
    from mlglass.thermal import mark_known_melters

    table = pd.DataFrame({"metal": ["Zn", "Zn", "Cu"], "ligands": ["c1c[n-]cn1:2", "Cc1ncc[n-]1:2", "c1c[n-]cn1:2"]})
    assert mark_known_melters(table, glasses).tolist() == [True, False, False]  # Zn(Im)2 melts; ZIF-8 does not


@pytest.fixture(scope="module")
def small():
    """200 usable rows of the committed thermal table (120 train, 40 val, 40 test)."""
    from mlglass.datasets import load_thermal

    t = load_thermal()
    t = t[t["error"] == ""]
    return pd.concat([t[t["split"] == s].head(n) for s, n in (("train", 120), ("val", 40), ("test", 40))])


@pytest.fixture(scope="module")
def tiny_predictor(glasses, small):
    """A small bundle trained on ``small`` (all heads, including the structure-only Td view)."""
    from mlglass.models.predictor import GlassPredictor

    tiny = {"n_estimators": 15, "max_depth": 2, "calibration_folds": 3}
    return GlassPredictor.train(glasses, params={"tm": tiny, "tg": tiny, "melt": tiny, "td": tiny,
                                                 "tm_aft": {"n_estimators": 20}}, thermal=small)


@pytest.mark.skipif(not THERMAL_CSV.exists(), reason="datasets/thermal.csv not built")
class TestSmallThermalTraining:

    def test_train_save_load_predict(self, tiny_predictor, small, tmp_path):
        from mlglass.models.predictor import GlassPredictor

        p = tiny_predictor
        assert p.has_decomposition and "td_struct" in p.heads
        assert p.metadata["decomposition"]["n_td_train"] == int(small["split"].isin(["train", "val"]).sum())
        q = GlassPredictor.load(p.save(tmp_path / "m"))
        out = q.predict(REFERENCE)
        assert out["td_c"].notna().all() and out["p_melt"].between(0, 1).all()
        np.testing.assert_allclose(out["p_melt"], p.predict(REFERENCE)["p_melt"])

    @pytest.mark.skipif(not (SHARED_CIFS / "ni_2d_flake.cif").exists(), reason="shared CIFs not available")
    def test_cif_without_record_gets_a_structure_only_td(self, tiny_predictor, tmp_path, monkeypatch):
        monkeypatch.setenv("MLGLASS_CACHE_DIR", str(tmp_path / "cache"))
        frame = pd.DataFrame({"id": ["flake", "zif8", "gone"],
                              "cif": [str(SHARED_CIFS / "ni_2d_flake.cif"), str(SHARED_CIFS / "ZIF-8.cif"),
                                      str(tmp_path / "gone.cif")]})
        out = tiny_predictor.predict(frame, explain=True).set_index("id")
        # ni_2d_flake.cif has no H atoms: no compound record, but a structure and so a Td
        assert "field 'cif'" in out.loc["flake", "error"] and "hydrogen" in out.loc["flake", "error"]
        assert out.loc["flake", "td_source"] == "structure"
        assert out.loc["flake", "td_lo_c"] < out.loc["flake", "td_c"] < out.loc["flake", "td_hi_c"]
        half = tiny_predictor.heads["td_struct"].halfwidth(0.8)
        assert out.loc["flake", "td_hi_c"] - out.loc["flake", "td_c"] == pytest.approx(half, rel=1e-5)
        assert np.isnan(out.loc["flake", "tm_c"]) and np.isnan(out.loc["flake", "p_melt"])
        assert out.loc["flake", "td_top_features"].startswith("sg_")
        assert out.loc["zif8", "error"] == "" and out.loc["zif8", "td_source"] == "cif"
        assert out.loc["gone", "td_source"] == "" and np.isnan(out.loc["gone", "td_c"])

    def test_evaluate_without_shared_folder(self, glasses, small, tmp_path):
        from mlglass.models.evaluate_thermal import evaluate_thermal

        res = evaluate_thermal(glasses, small, shared_dir=tmp_path / "absent", n_splits=3)
        assert "rf_skipped" in res["td"] and "shared_note" in res
        assert set(res["td"]["methods"]) == {"mean", "mlglass_cif", "mlglass_row", "mlglass_structure"}
        assert res["td"]["predictor"]["n_predicted"] >= 40
        assert res["td"]["n_test_predicted"] == 40
        assert set(res["p_melt"]["methods"]) == {"mlglass", "prior", "metal_rate", "logistic"}
        # fold-matched scoring: a constant (the prior) cannot rank, so its AUC is 0.5 in every fold
        # (pooling fold models' held-out rows with one full model's frameworks gave it 0.00)
        pm = res["p_melt"]
        assert len(pm["methods_per_fold"]["prior"]) == pm["n_folds"]
        assert all(f["auc"] == 0.5 for f in pm["methods_per_fold"]["prior"])
        assert pm["methods"]["prior"]["auc"] == 0.5
