"""CIF input goes through the same records, descriptors and predictor as hand-written rows."""

import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlglass.cli import main
from mlglass.featurize import GlassFeaturizer

CIFS = Path(os.environ.get("MLGLASS_SHARED_DIR", Path(__file__).resolve().parents[2] / "shared" / "cifs"))
pytestmark = pytest.mark.skipif(not (CIFS / "Cu-BTC.cif").exists(), reason="shared CIFs not available")


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MLGLASS_CACHE_DIR", str(tmp_path / "cache"))


def ligand_block(X):
    return X[[c for c in X.columns if c.startswith(("ligand_", "hsab_"))]]


def test_cu_btc_cif_matches_hand_written_record(tmp_path):
    out = tmp_path / "cubtc.csv"
    assert main(["featurize", "--cif", str(CIFS / "Cu-BTC.cif"), "-o", str(out), "--no-progress"]) == 0
    from_cif = pd.read_csv(out, keep_default_na=False)
    assert from_cif.loc[0, "metal"] == "Cu" and int(from_cif.loc[0, "dimensionality"]) == 3
    hand = GlassFeaturizer().transform(pd.DataFrame({"metal": ["Cu"], "ligands": ["BTC:0.666667"]}))
    a = ligand_block(from_cif).astype(float).iloc[0].to_numpy()
    b = ligand_block(hand).astype(float).iloc[0].to_numpy()
    np.testing.assert_allclose(a, b, rtol=1e-6, equal_nan=True)


def test_cif_column_in_candidate_table(tmp_path, tiny_model_dir):
    shutil.copy(CIFS / "ZIF-8.cif", tmp_path / "zif8.cif")
    table = tmp_path / "cands.csv"
    pd.DataFrame({"id": ["zif8", "hand"], "cif": ["zif8.cif", ""], "metal": ["", "Zn"],
                  "ligands": ["", "MeIm:2"], "dimensionality": ["", "3"]}).to_csv(table, index=False)
    out = tmp_path / "feats.csv"
    assert main(["featurize", str(table), "-o", str(out), "--no-progress"]) == 0
    res = pd.read_csv(out, keep_default_na=False)
    assert (res["error"] == "").all()
    # ZIF-8 from its structure equals Zn(MeIm)2, 3D, written by hand
    np.testing.assert_allclose(ligand_block(res).astype(float).iloc[0], ligand_block(res).astype(float).iloc[1],
                               rtol=1e-6)
    assert res.loc[0, "network_dimensionality"] == 3


def test_bad_cif_keeps_its_row_with_reason(tmp_path):
    d = tmp_path / "cifs"
    d.mkdir()
    shutil.copy(CIFS / "ZIF-4.cif", d / "good.cif")
    (d / "broken.cif").write_text("data_x\n_cell_length_a 10\nnot a cif at all\n")
    out = tmp_path / "f.csv"
    assert main(["featurize", "--cif", str(d), "-o", str(out), "--no-progress"]) == 0
    res = pd.read_csv(out, keep_default_na=False).set_index("id")
    assert res.loc["good", "error"] == "" and res.loc["broken", "error"] != ""
    assert "metal is required" not in res.loc["broken", "error"]  # the structure's own reason is kept
