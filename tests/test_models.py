import json
import shutil

import numpy as np
import pandas as pd
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from mlglass.errors import ModelFileError
from mlglass.models.boosting import BoostedClassifier, BoostedRegressor, conformal_quantile
from mlglass.models.predictor import OUTPUT_COLUMNS, GlassPredictor

from conftest import TINY


@parametrize_with_checks([BoostedRegressor(n_estimators=40, learning_rate=0.3, calibration_folds=2),
                          BoostedClassifier(n_estimators=10, calibration_folds=2)])
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_conformal_quantile():
    r = np.arange(1, 10, dtype=float)  # 9 residuals
    assert conformal_quantile(r, 0.8) == 8.0  # ceil(10*0.8)=8th smallest
    assert conformal_quantile(r[:2], 0.8) == np.inf


def test_intervals_cover_on_synthetic_data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 3))
    y = 10 * X[:, 0] + rng.normal(scale=2.0, size=400)
    est = BoostedRegressor(n_estimators=100, coverage=0.8).fit(X[:300], y[:300])
    _, lo, hi = est.predict_interval(X[300:])
    cov = np.mean((y[300:] >= lo) & (y[300:] <= hi))
    assert 0.65 < cov < 0.95


class TestPredictor:
    def test_output_contract(self, tiny_predictor):
        frame = pd.DataFrame({"id": ["zif62", "bad"], "metal": ["Zn", "Zn"], "ligands": ["Im:1.75;bIm:0.25", "Im:x"],
                              "note": ["kept", "kept"]})
        out = tiny_predictor.predict(frame)
        for col in OUTPUT_COLUMNS:
            assert col in out.columns
        assert list(out["note"]) == ["kept", "kept"] and len(out) == 2
        assert out.loc[0, "error"] == "" and "ligands" in out.loc[1, "error"]
        assert np.isnan(out.loc[1, "tm_c"])
        r = out.loc[0]
        assert r.tm_lo_c <= r.tm_c <= r.tm_hi_c and r.tg_lo_c <= r.tg_c <= r.tg_hi_c
        assert 0 <= r.p_melt <= 1

    def test_formula_input_and_explain(self, tiny_predictor):
        out = tiny_predictor.predict(["Zn(Im)1.75(bIm)0.25", "Co(bba)3[CoCl4]"], explain=True)
        assert (out["error"] == "").all()
        assert out["tm_top_features"].str.contains("degC").all()
        assert out["p_melt_top_features"].str.len().gt(0).all()

    def test_tg_never_above_tm(self, tiny_predictor, glasses):
        out = tiny_predictor.predict(glasses[glasses["metal"] != ""])
        ok = out["error"] == ""
        assert (out.loc[ok, "tg_c"] < out.loc[ok, "tm_c"]).all()
        # issue 11: after the cap the interval keeps its width (it brackets the capped point);
        # its upper bound is limited by the upper Tm bound
        assert (out.loc[ok, "tg_hi_c"] + 273.15 <= tiny_predictor.metadata["tg_tm_ratio_cap"] *
                (out.loc[ok, "tm_hi_c"] + 273.15) + 1e-6).all()
        assert (out.loc[ok, "tg_lo_c"] < out.loc[ok, "tg_c"]).all() and (out.loc[ok, "tg_c"] <= out.loc[ok, "tg_hi_c"]).all()

    def test_td_limits_p_melt(self, tiny_predictor):
        base = pd.DataFrame({"metal": ["Zn"] * 2, "ligands": ["Im:2"] * 2})
        p0 = tiny_predictor.predict(base)["p_melt"].to_numpy()
        with_td = tiny_predictor.predict(base.assign(td_c=["", "20"]))
        assert with_td.loc[0, "p_melt"] == pytest.approx(p0[0])
        assert with_td.loc[1, "p_melt"] < 0.05  # Td of 20 degC is far below any predicted Tm

    def test_save_load_identical(self, tiny_predictor, tiny_model_dir, glasses):
        loaded = GlassPredictor.load(tiny_model_dir)
        frame = glasses[glasses["metal"] != ""]
        a = tiny_predictor.predict(frame)[list(OUTPUT_COLUMNS)]
        b = loaded.predict(frame)[list(OUTPUT_COLUMNS)]
        pd.testing.assert_frame_equal(a, b)

    def test_same_seed_same_model(self, glasses):
        a = GlassPredictor.train(glasses, params={"tm": TINY, "tg": TINY, "melt": TINY}, seed=3)
        b = GlassPredictor.train(glasses, params={"tm": TINY, "tg": TINY, "melt": TINY}, seed=3)
        for name in ("tm", "tg", "melt"):
            assert a.heads[name].booster.save_raw("json") == b.heads[name].booster.save_raw("json")
        assert a.metadata["training_data_sha256"] == b.metadata["training_data_sha256"]


class TestBundleSafety:
    def copy(self, src, tmp_path):
        dst = tmp_path / "bundle"
        shutil.copytree(src, dst)
        return dst

    def test_tampered_body_refused(self, tiny_model_dir, tmp_path):
        d = self.copy(tiny_model_dir, tmp_path)
        body = (d / "tm.json").read_bytes()
        (d / "tm.json").write_bytes(body.replace(b'"base_score"', b'"base_scorf"', 1))
        with pytest.raises(ModelFileError, match="SHA-256"):
            GlassPredictor.load(d)

    def test_truncated_refused(self, tiny_model_dir, tmp_path):
        d = self.copy(tiny_model_dir, tmp_path)
        body = (d / "tg.json").read_bytes()
        (d / "tg.json").write_bytes(body[: len(body) // 2])
        with pytest.raises(ModelFileError):
            GlassPredictor.load(d)

    def test_other_version_refused(self, tiny_model_dir, tmp_path):
        d = self.copy(tiny_model_dir, tmp_path)
        meta = json.loads((d / "metadata.json").read_text())
        meta["mlglass_version"] = "9.9.0"
        (d / "metadata.json").write_text(json.dumps(meta))
        _reseal(d)  # a deliberate edit, re-sealed: the deeper check must still refuse it
        with pytest.raises(ModelFileError, match="9.9.0"):
            GlassPredictor.load(d)

    def test_feature_list_mismatch_refused(self, tiny_model_dir, tmp_path):
        d = self.copy(tiny_model_dir, tmp_path)
        meta = json.loads((d / "metadata.json").read_text())
        meta["feature_labels"] = meta["feature_labels"][:-1] + ["something_else"]
        (d / "metadata.json").write_text(json.dumps(meta))
        _reseal(d)  # a deliberate edit, re-sealed: the deeper check must still refuse it
        with pytest.raises(ModelFileError, match="feature list"):
            GlassPredictor.load(d)

    @pytest.mark.parametrize("name", ["../tm.json", "/etc/passwd", "sub/tm.json", ".hidden"])
    def test_path_escape_refused(self, tiny_model_dir, tmp_path, name):
        d = self.copy(tiny_model_dir, tmp_path)
        meta = json.loads((d / "metadata.json").read_text())
        meta["files"]["tm"]["file"] = name
        (d / "metadata.json").write_text(json.dumps(meta))
        _reseal(d)  # a deliberate edit, re-sealed: the deeper check must still refuse it
        with pytest.raises(ModelFileError, match="bundle"):
            GlassPredictor.load(d)

    def test_pickle_never_loaded(self, tiny_model_dir, tmp_path, monkeypatch):
        import pickle

        def boom(*a, **k):
            raise AssertionError("pickle used")

        monkeypatch.setattr(pickle, "load", boom)
        monkeypatch.setattr(pickle, "loads", boom)
        GlassPredictor.load(self.copy(tiny_model_dir, tmp_path))

    def test_not_json_refused(self, tiny_model_dir, tmp_path):
        d = self.copy(tiny_model_dir, tmp_path)
        (d / "metadata.json").write_bytes(b"\x80\x04not json")
        with pytest.raises(ModelFileError):
            GlassPredictor.load(d)


def _reseal(d):
    """Re-seal ``d``'s manifest after an edit of metadata.json (what an attacker with write access could do)."""
    import hashlib

    from mlglass.models.persistence import MANIFEST_NAME, _seal

    man = json.loads((d / MANIFEST_NAME).read_text())
    data = (d / "metadata.json").read_bytes()
    man["files"]["metadata.json"] = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    man["seal"] = _seal(man["files"])
    (d / MANIFEST_NAME).write_text(json.dumps(man))


def test_bundled_models_load():
    p = GlassPredictor.default()
    out = p.predict(["Zn(Im)1.75(bIm)0.25"])
    assert out.loc[0, "error"] == "" and np.isfinite(out.loc[0, "tm_c"])
