"""``featurize --cif`` / ``screen --cif`` with isolated workers: options, real causes in ``error``, symlinks."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from mlglass.cli import main
from test_cif_isolation import _write_cif


def _folder(tmp_path: Path) -> Path:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    _write_cif(outside / "secret.cif")
    d = tmp_path / "cifs"
    d.mkdir()
    _write_cif(d / "good.cif")
    (d / "broken.cif").write_text("data_x\n_cell_length_a 10\nnot a cif at all\n", encoding="utf-8")
    (d / "dangling.cif").symlink_to(d / "gone.cif")
    (d / "escape.cif").symlink_to(outside / "secret.cif")
    return d


def test_screen_cif_reports_the_structure_cause(tmp_path, tiny_model_dir, monkeypatch):
    monkeypatch.setenv("MLGLASS_CACHE_DIR", str(tmp_path / "cache"))
    d = _folder(tmp_path)
    out = tmp_path / "ranked.csv"
    code = main(["screen", "--cif", str(d), "-o", str(out), "--models", str(tiny_model_dir), "--workers", "2",
                 "--cif-timeout", "60", "--no-progress"])
    assert code == 0
    res = pd.read_csv(out, keep_default_na=False, dtype={"id": str}).set_index("id")
    assert sorted(res.index) == ["broken", "dangling", "escape", "good"]
    assert res.loc["good", "error"] == "" and res.loc["good", "tm_c"] != ""
    for bad in ("broken", "dangling", "escape"):
        assert "metal is required" not in res.loc[bad, "error"], res.loc[bad, "error"]
        assert res.loc[bad, "tm_c"] == ""
    assert res.loc["dangling", "error"].startswith("dangling symbolic link")
    assert "points outside the folder" in res.loc["escape", "error"]


def test_featurize_cif_options(tmp_path, monkeypatch):
    monkeypatch.setenv("MLGLASS_CACHE_DIR", str(tmp_path / "cache"))
    d = _folder(tmp_path)
    out = tmp_path / "f.csv"
    assert main(["featurize", "--cif", str(d), "-o", str(out), "--workers", "2", "--cif-timeout", "60",
                 "--no-progress"]) == 0
    res = pd.read_csv(out, keep_default_na=False).set_index("id")
    assert res.loc["good", "error"] == "" and "metal is required" not in res.loc["broken", "error"]
    assert res.loc["dangling", "error"].startswith("dangling symbolic link")
    # a limit that is not a positive number is refused before any work, naming the option
    assert main(["featurize", "--cif", str(d), "-o", str(tmp_path / "g.csv"), "--cif-timeout", "0",
                 "--no-progress"]) != 0
    assert not (tmp_path / "g.csv").exists()
