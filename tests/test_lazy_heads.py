"""Boosters used only for rows with a structure are built on first use; their files are still checked at load."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from mlglass.errors import ModelFileError
from mlglass.models.boosting import BoostedRegressor, FittedBooster
from mlglass.models.predictor import GlassPredictor, default_model_dir


def test_structure_heads_are_not_built_for_table_rows():
    p = GlassPredictor.load(default_model_dir())
    lazy = [name for name in ("td_cif", "td_struct") if name in p.heads]
    assert lazy, "the bundled models have CIF-view Td heads"
    assert not any(p.heads[name].loaded for name in lazy)
    out = p.predict(pd.DataFrame({"id": ["zif4"], "metal": ["Zn"], "ligands": ["Im:2"], "dimensionality": [3]}))
    assert out.loc[0, "td_source"] == "table row" and np.isfinite(out.loc[0, "td_c"])
    assert not any(p.heads[name].loaded for name in lazy)
    assert p.heads["td_cif"].booster is not None and p.heads["td_cif"].loaded


def test_a_damaged_lazy_model_file_is_refused_at_load(tmp_path):
    folder = tmp_path / "models"
    shutil.copytree(default_model_dir(), folder)
    path = folder / "td_cif.json"
    data = bytearray(path.read_bytes())
    data[100] = ord("0") if data[100] != ord("0") else ord("1")
    path.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="td_cif.json"):
        GlassPredictor.load(folder)


def test_estimators_predict_through_their_fitted_booster():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4))
    y = X[:, 0] * 3 + rng.normal(size=60)
    est = BoostedRegressor(n_estimators=20, random_state=0).fit(X, y)
    assert isinstance(est.fitted_, FittedBooster)
    np.testing.assert_array_equal(est.predict(X), est.fitted_.predict(X))
    assert est.interval_halfwidth(0.8) == est.fitted_.halfwidth(0.8)


def test_a_screen_without_structures_never_builds_the_structure_heads(tmp_path):
    from mlglass.screen.backends import model_fingerprint
    from mlglass.screen.stream import screen_file

    p = GlassPredictor.load(default_model_dir())
    inp = tmp_path / "c.csv"
    pd.DataFrame({"id": ["a", "b"], "metal": ["Zn", "Co"], "ligands": ["Im:2", "Im:1.8;bIm:0.2"]}).to_csv(inp,
                                                                                                         index=False)
    screen_file(inp, tmp_path / "out.csv", p, progress=False)
    assert not p.heads["td_cif"].loaded
    fingerprint = model_fingerprint(p)
    assert not p.heads["td_cif"].loaded
    assert model_fingerprint(GlassPredictor.load(default_model_dir())) == fingerprint
    assert p.heads["td_cif"].content_digest() != p.heads["td_row"].content_digest()
