"""Enumeration of candidate spaces: streaming, counts, mix grids, ids, spec files."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlglass.errors import RecordError
from mlglass.screen import ScreenOptionError, count_candidates, enumerate_candidates, from_cli, load_spec, mix_grid


def _read(path) -> pd.DataFrame:
    if str(path).endswith(".parquet"):
        return pd.read_parquet(path)
    return pd.read_csv(path, dtype=str, keep_default_na=False)


SPEC = {
    "metals": ["Zn", {"symbol": "Co", "oxidation_state": 2}],
    "metal_mix": [{"metal": "Co", "start": 0, "stop": 0.5, "step": 0.25}],
    "linkers": ["Im", "bIm", "c1cc[n-]c1"],
    "base_amount": 2,
    "mix": [{"ligand": "bIm", "start": 0, "stop": 0.5, "step": 0.05}, {"ligand": "ClbIm", "start": 0, "stop": 1,
                                                                       "step": 0.5}],
    "counter_ions": ["", "TPrA:1"],
    "dimensionality": [3, 2],
}


def test_mix_grid_values():
    assert mix_grid(0, 0.5, 0.05) == pytest.approx([0.05 * i for i in range(11)])
    assert len(mix_grid(0, 0.5, 0.05)) == 11 and mix_grid(0, 0.5, 0.05)[-1] == 0.5
    assert mix_grid(0.1, 0.1, 0) == [0.1]
    assert mix_grid(0, 1, 0.3) == [0, 0.3, 0.6, 0.9]
    with pytest.raises(ScreenOptionError):
        mix_grid(0.6, 0.5, 0.1)
    with pytest.raises(ScreenOptionError):
        mix_grid(0, 1.5, 0.1)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_streamed_rows_equal_count(tmp_path, suffix):
    out = tmp_path / f"space{suffix}"
    n = enumerate_candidates(SPEC, out, chunk_size=37, progress=False)
    frame = _read(out)
    assert n == len(frame) == count_candidates(SPEC)
    # metals: Zn, Co, Zn0.75Co0.25, Zn0.5Co0.5 (Co mixes into Zn only) -> 4
    # ligands: Im 1 + 10 bIm + 2 ClbIm; bIm 1 + 2 ClbIm; pyrrolate 1 + 10 + 2; 'ClbIm:2' thrice -> 29 - 2 = 27
    assert count_candidates(SPEC) == 4 * 27 * 2 * 2
    assert frame["id"].is_unique
    assert not frame.duplicated(["metal", "oxidation_state", "ligands", "counter_ions", "dimensionality"]).any()
    assert list(frame.columns) == ["id", "metal", "oxidation_state", "ligands", "counter_ions", "dimensionality",
                                   "geometry", "formula"]


def test_mix_values_in_the_ligand_field(tmp_path):
    spec = {"metals": ["Zn"], "linkers": ["Im"], "mix": [{"ligand": "bIm", "start": 0, "stop": 0.5, "step": 0.05}],
            "dimensionality": [3]}
    out = tmp_path / "zif62.csv"
    enumerate_candidates(spec, out, progress=False)
    frame = _read(out)
    assert len(frame) == 11
    assert frame["ligands"].iloc[0] == "Im:2"
    lig = frame["ligands"].iloc[1:].str.extract(r"^Im:([\d.]+);bIm:([\d.]+)$").astype(float)
    np.testing.assert_allclose(lig[1], [2 * 0.05 * i for i in range(1, 11)])
    np.testing.assert_allclose(lig[0] + lig[1], 2.0)
    row = frame.set_index("ligands").loc["Im:1.7;bIm:0.3"]
    assert row["id"] == "Zn-Im1.7-bIm0.3-3D" and row["formula"] == "Zn(Im)1.7(bIm)0.3"
    assert row["dimensionality"] == "3"


def test_chunking_does_not_change_output(tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    enumerate_candidates(SPEC, a, chunk_size=5, progress=False)
    enumerate_candidates(SPEC, b, chunk_size=100_000, progress=False)
    assert a.read_bytes() == b.read_bytes()


def test_ids_and_oxidation_states(tmp_path):
    spec = {"metals": ["Cu(I)", "Cu(2)", "Zn"], "linkers": ["SCN:1.5;C2bpy:0.5", "dca"], "base_amount": 3,
            "counter_ions": ["", "TPrA:1"]}
    out = tmp_path / "ids.csv"
    enumerate_candidates(spec, out, progress=False)
    frame = _read(out).set_index("id")
    assert frame["oxidation_state"].to_dict()["Cu(1)-SCN1.5-C2bpy0.5"] == "1"
    assert frame.loc["Cu(2)-dca3+TPrA1", "formula"] == "[Cu(dca)3](TPrA)"
    assert frame.loc["Zn-dca3", "oxidation_state"] == ""
    assert frame.index.is_unique and len(frame) == 3 * 2 * 2


def test_from_cli_and_spec_files(tmp_path):
    spec = from_cli(metals=["Zn", "Co"], linkers=["Im"], mix=["bIm:0:0.5:0.05"], counter_ions=[""],
                    dimensionality=["3"])
    assert spec["mix"] == [{"ligand": "bIm", "start": 0.0, "stop": 0.5, "step": 0.05}]
    assert count_candidates(spec) == 22
    yaml_path = tmp_path / "spec.yaml"
    yaml_path.write_text("metals: [Zn, Co]\nlinkers: [Im]\nmix:\n  - {ligand: bIm, start: 0, stop: 0.5, "
                         "step: 0.05}\ndimensionality: [3]\n", encoding="utf-8")
    toml_path = tmp_path / "spec.toml"
    toml_path.write_text('metals = ["Zn", "Co"]\nlinkers = ["Im"]\ndimensionality = [3]\n'
                         '[[mix]]\nligand = "bIm"\nstart = 0\nstop = 0.5\nstep = 0.05\n', encoding="utf-8")
    assert count_candidates(yaml_path) == count_candidates(toml_path) == 22
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    enumerate_candidates(spec, a, progress=False)
    enumerate_candidates(yaml_path, b, progress=False)
    assert a.read_bytes() == b.read_bytes()
    with pytest.raises(ScreenOptionError):
        from_cli(metals=["Zn"], linkers=["Im"], mix=["bIm:0:0.5"])


def test_bad_specs_are_refused(tmp_path):
    with pytest.raises(ScreenOptionError):
        load_spec({"metals": ["Zn"], "linkers": ["Im"], "colour": "blue"})
    with pytest.raises(ScreenOptionError):
        load_spec({"metals": [], "linkers": ["Im"]})
    with pytest.raises(RecordError):
        count_candidates({"metals": ["Xx"], "linkers": ["Im"]})
    with pytest.raises(RecordError):
        count_candidates({"metals": ["Zn"], "linkers": ["NotALigand"]})
    with pytest.raises(RecordError):
        count_candidates({"metals": ["Zn"], "linkers": ["Im"], "dimensionality": [5]})
    out = tmp_path / "never.csv"
    with pytest.raises(RecordError):
        enumerate_candidates({"metals": ["Zn"], "linkers": ["Im"], "counter_ions": ["Nope:1"]}, out, progress=False)
    assert not out.exists()


def test_enumerated_space_featurizes():
    from mlglass.featurize import GlassFeaturizer
    from mlglass.screen.enumeration import _Space

    space = _Space(SPEC)
    cols = space.columns(0, space.size)
    X = GlassFeaturizer().transform(pd.DataFrame(cols))
    assert (X["error"] == "").all()
