"""The CLI parses options and calls the library (mofchecker-style tests through main())."""

import json

import pandas as pd
import pytest

from mlglass.cli import main


@pytest.fixture()
def tiny_params(tmp_path):
    p = tmp_path / "params.json"
    small = {"params": {"n_estimators": 10, "max_depth": 2}}
    p.write_text(json.dumps({"tm": small, "tg": small, "melt": small}))
    return p


def test_train_writes_bundle(tmp_path, tiny_params, capsys):
    out = tmp_path / "models"
    assert main(["train", "--out", str(out), "--params", str(tiny_params), "--no-cv"]) == 0
    for name in ("tm.json", "tg.json", "melt.json", "metadata.json"):
        assert (out / name).is_file()
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["models"]["tm"]["params"]["n_estimators"] == 10
    assert "trained on" in capsys.readouterr().out


def test_train_with_measured_data(tmp_path, tiny_params):
    measured = tmp_path / "measured.csv"
    pd.DataFrame({"id": ["new1"], "metal": ["Zn"], "ligands": ["Im:1.9;FbIm:0.1"], "tm_c": ["410"],
                  "tg_c": ["300"], "melts": ["true"]}).to_csv(measured, index=False)
    out = tmp_path / "m2"
    assert main(["train", "--data", str(measured), "--out", str(out), "--params", str(tiny_params), "--no-cv"]) == 0
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["models"]["tm"]["n_train"] >= 60


def test_train_refuses_bad_measurements(tmp_path, tiny_params, capsys):
    bad = tmp_path / "bad.csv"
    pd.DataFrame({"id": ["n1"], "metal": ["Zn"], "ligands": ["Im:2"], "tm_c": ["300"], "tg_c": ["400"]}).to_csv(
        bad, index=False)
    out = tmp_path / "m3"
    assert main(["train", "--data", str(bad), "--out", str(out), "--params", str(tiny_params), "--no-cv"]) == 2
    assert not (out / "metadata.json").exists()
    assert "tg_c" in capsys.readouterr().err


def test_evaluate_json_and_plots(tmp_path, tiny_params):
    js, plots = tmp_path / "eval.json", tmp_path / "plots"
    assert main(["evaluate", "--repeats", "1", "--folds", "3", "--params", str(tiny_params), "--json", str(js),
                 "--plots", str(plots)]) == 0
    res = json.loads(js.read_text())
    for t in ("tm", "tg"):
        assert {"model", "mean", "family_mean", "ridge"} <= set(res[t]["methods"])
        assert "lofo" in res[t] and 0 <= res[t]["coverage"] <= 1
    assert "kauzmann" in res["tg"]["methods"]
    assert {"model", "prior", "logistic"} <= set(res["melt"]["methods"])
    for png in ("parity_tm.png", "parity_tg.png", "roc_melt.png"):
        assert (plots / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_predict_formula_and_file(tmp_path, tiny_model_dir, capsys):
    assert main(["predict", "--formula", "Zn(Im)1.75(bIm)0.25", "--models", str(tiny_model_dir)]) == 0
    assert "tm" in capsys.readouterr().out
    inp = tmp_path / "in.csv"
    pd.DataFrame({"id": ["a", "=cmd()", "bad"], "metal": ["Zn", "Co", "Zn"],
                  "ligands": ["Im:2", "bIm:2", "Im:zero"]}).to_csv(inp, index=False)
    out = tmp_path / "out.csv"
    assert main(["predict", str(inp), "-o", str(out), "--models", str(tiny_model_dir)]) == 0
    res = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert list(res["id"]) == ["a", "'=cmd()", "bad"]
    assert res.loc[2, "error"] != "" and res.loc[0, "error"] == ""
    for col in ("tm_c", "tm_lo_c", "tm_hi_c", "tg_c", "tg_lo_c", "tg_hi_c", "p_melt"):
        assert col in res.columns


def test_featurize_command(tmp_path):
    inp = tmp_path / "in.csv"
    pd.DataFrame({"id": ["a", "b"], "metal": ["Zn", "Xx"], "ligands": ["Im:2", "Im:2"]}).to_csv(inp, index=False)
    out = tmp_path / "f.parquet"
    assert main(["featurize", str(inp), "-o", str(out), "--no-progress"]) == 0
    res = pd.read_parquet(out)
    assert len(res) == 2 and res.loc[0, "metal_d_electrons"] == 10 and "Xx" in res.loc[1, "error"]


def test_dataset_summary(capsys):
    assert main(["dataset", "summary"]) == 0
    assert "ZIF" in capsys.readouterr().out


def test_screen_enumerate_suggest_commands(tmp_path, tiny_model_dir, capsys):
    space = tmp_path / "space.csv"
    assert main(["enumerate", "--metal", "Zn", "--metal", "Co", "--linker", "Im", "--mix", "bIm:0:0.3:0.1",
                 "--dim", "3", "-o", str(space), "--no-progress"]) == 0
    cands = pd.read_csv(space, dtype=str, keep_default_na=False)
    assert len(cands) == 2 * 4 and cands["id"].is_unique
    out, png = tmp_path / "ranked.csv", tmp_path / "map.png"
    assert main(["screen", str(space), "-o", str(out), "--models", str(tiny_model_dir), "--plot", str(png),
                 "--top", "3", "--no-progress"]) == 0
    ranked = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert sorted(ranked["id"]) == sorted(cands["id"]) and list(ranked["rank"].astype(int)) == list(range(1, 9))
    assert png.read_bytes()[:4] == b"\x89PNG"
    assert "top 3" in capsys.readouterr().out
    batch = tmp_path / "batch.csv"
    assert main(["suggest", str(space), "--batch", "3", "--models", str(tiny_model_dir), "-o", str(batch)]) == 0
    assert len(pd.read_csv(batch)) == 3


def test_screen_cif_folder(tmp_path, tiny_model_dir, monkeypatch):
    import os
    import shutil
    from pathlib import Path

    cifs = Path(os.environ.get("MLGLASS_SHARED_DIR", Path(__file__).resolve().parents[2] / "shared" / "cifs"))
    if not (cifs / "ZIF-4.cif").exists():
        pytest.skip("shared CIFs not available")
    monkeypatch.setenv("MLGLASS_CACHE_DIR", str(tmp_path / "cache"))
    d = tmp_path / "cifs"
    d.mkdir()
    for name in ("ZIF-4.cif", "ZIF-8.cif"):
        shutil.copy(cifs / name, d / name)
    out = tmp_path / "cif_screen.csv"
    assert main(["screen", "--cif", str(d), "-o", str(out), "--models", str(tiny_model_dir), "--no-progress"]) == 0
    res = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert sorted(res["id"]) == ["ZIF-4", "ZIF-8"] and (res["error"] == "").all()
