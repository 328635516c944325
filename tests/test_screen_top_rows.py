"""The screen explains its top rows from the descriptors of its one prediction pass (no second parse)."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlglass.candidates import CandidateBatch
from mlglass.screen import chunks as chunks_mod
from mlglass.screen import screen_file
from mlglass.screen.stream import work_dir_for
from mlglass.screen.top_rows import EXPLAIN_COLUMNS, stored_k

REPO = Path(__file__).resolve().parents[1]
SHARED_CIFS = Path(os.environ.get("MLGLASS_SHARED_DIR", REPO.parent / "shared" / "cifs"))
TINY = {"n_estimators": 15, "max_depth": 2, "calibration_folds": 3}


@pytest.fixture(scope="module")
def predictor(glasses):
    from mlglass.models.predictor import GlassPredictor

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return GlassPredictor.train(glasses, params={"tm": TINY, "tg": TINY, "melt": TINY})


@pytest.fixture(scope="module")
def bundled():
    from mlglass.models.predictor import GlassPredictor

    p = GlassPredictor.default()
    if not p.has_decomposition:
        pytest.skip("bundled models were trained without the thermal table")
    return p


@pytest.fixture(scope="module")
def cands(tmp_path_factory) -> Path:
    """600 rows, many distinct compositions, some bad rows and td_c values, ties in score (repeated rows)."""
    rng = np.random.default_rng(7)
    rows = []
    for i in range(600):
        x = int(rng.integers(0, 20)) * 0.05
        lig = "Im:2" if x == 0 else f"Im:{2 - 2 * x:.4g};{rng.choice(['bIm', 'mbIm'])}:{2 * x:.4g}"
        rows.append({"id": f"c{i:04d}", "metal": str(rng.choice(["Zn", "Co", "Cd", "Zn:0.5;Co:0.5", "Mn"])),
                     "ligands": lig, "dimensionality": "3", "td_c": str(rng.choice(["", "", "480"]))})
    rows[5]["metal"] = "Xx"
    rows[77]["ligands"] = "Im:-2"
    path = tmp_path_factory.mktemp("top") / "cands.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


@pytest.fixture
def count_parses(monkeypatch):
    """Counts CandidateBatch.from_frame calls (the parse and featurization of a table)."""
    calls = {"n": 0}
    real = CandidateBatch.from_frame.__func__

    def spy(cls, *args, **kwargs):
        calls["n"] += 1
        return real(cls, *args, **kwargs)

    monkeypatch.setattr(CandidateBatch, "from_frame", classmethod(spy))
    return calls


def _reference(predictor, source: Path, top: pd.DataFrame, explain: int) -> pd.DataFrame:
    """What ``predict(..., explain=True)`` says for the same input rows (the old second pass)."""
    frame = pd.read_csv(source, dtype=str, keep_default_na=False)
    rows = frame.iloc[top["input_row"].to_numpy() - 1].reset_index(drop=True)
    return predictor.predict(rows, explain=True, top=explain)


def _check_texts(res, ref: pd.DataFrame) -> None:
    cols = [c for c in EXPLAIN_COLUMNS if c in ref.columns]
    assert cols and len(res.top) == len(ref)
    for c in cols:
        assert res.top[c].tolist() == ref[c].tolist(), c
    assert res.top["tm_top_features"].str.contains("degC").all()


def test_one_parse_per_chunk_and_same_texts_as_predict(predictor, cands, tmp_path, count_parses):
    res = screen_file(cands, tmp_path / "out.csv", predictor, chunk_size=100, top_n=12, explain_top=4,
                      progress=False)
    assert res.n_chunks == 6 and count_parses["n"] == 6  # one per chunk, none to explain the top rows
    assert len(res.top) == 12 and res.top["rank"].tolist() == list(range(1, 13))
    _check_texts(res, _reference(predictor, cands, res.top, 4))
    # the top rows are the output's best rows, and they come from several chunks
    out = pd.read_csv(tmp_path / "out.csv", dtype=str, keep_default_na=False)
    assert out["id"].head(12).tolist() == res.top["id"].tolist()
    assert len(set((res.top["input_row"] - 1) // 100)) > 1


def test_decomposition_bundle_with_cif_rows(bundled, tmp_path, count_parses, monkeypatch):
    if not (SHARED_CIFS / "ZIF-8.cif").exists():
        pytest.skip("shared CIFs not available")
    monkeypatch.setenv("MLGLASS_CACHE_DIR", str(tmp_path / "cache"))
    rows = [{"id": f"r{i}", "metal": m, "ligands": lig, "dimensionality": "3", "cif": ""}
            for i, (m, lig) in enumerate([("Zn", "Im:2"), ("Co", "Im:1.8;bIm:0.2"), ("Zn", "Im:1.5;bIm:0.5"),
                                          ("Cd", "Im:2"), ("Zn", "mbIm:2"), ("Co", "Im:2")])]
    for k, name in enumerate(("ZIF-8.cif", "ZIF-4.cif", "ZIF-62.cif")):  # one CIF row in every chunk of 3
        cif = SHARED_CIFS / name if (SHARED_CIFS / name).exists() else SHARED_CIFS / "ZIF-8.cif"
        rows.insert(3 * k + 2, {"id": name, "metal": "", "ligands": "", "dimensionality": "", "cif": str(cif)})
    src = tmp_path / "mixed.csv"
    pd.DataFrame(rows).to_csv(src, index=False)
    res = screen_file(src, tmp_path / "out.parquet", bundled, chunk_size=3, top_n=len(rows), explain_top=3,
                      progress=False)
    assert count_parses["n"] == res.n_chunks
    ref = _reference(bundled, src, res.top, 3)
    assert "td_top_features" in ref.columns
    _check_texts(res, ref)
    from_cif = res.top["id"].str.endswith(".cif")
    assert from_cif.any() and res.top.loc[from_cif, "td_top_features"].str.contains("struct_|sg_").any()


def test_process_pool_gives_the_same_top(predictor, cands, tmp_path):
    local = screen_file(cands, tmp_path / "a.csv", predictor, chunk_size=150, top_n=8, explain_top=3,
                        progress=False)
    pool = screen_file(cands, tmp_path / "b.csv", predictor.save(tmp_path / "m"), chunk_size=150, top_n=8,
                       explain_top=3, workers=2, progress=False)
    pd.testing.assert_frame_equal(local.top, pool.top)


def test_dask_gives_the_same_top(predictor, cands, tmp_path):
    pytest.importorskip("distributed")
    local = screen_file(cands, tmp_path / "a.csv", predictor, chunk_size=200, top_n=6, explain_top=3,
                        progress=False)
    dask = screen_file(cands, tmp_path / "b.csv", predictor, chunk_size=200, top_n=6, explain_top=3,
                       dask_address="local", progress=False)
    pd.testing.assert_frame_equal(local.top, dask.top)


def _interrupt_after(monkeypatch, n_ok: int):
    real = chunks_mod._process_chunk
    calls = {"n": 0}

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] > n_ok:
            raise KeyboardInterrupt("simulated interruption")
        return real(*args, **kwargs)

    monkeypatch.setattr(chunks_mod, "_process_chunk", flaky)
    return real


def test_resume_explains_from_the_kept_descriptors(predictor, cands, tmp_path, monkeypatch, count_parses):
    full = screen_file(cands, tmp_path / "full.csv", predictor, chunk_size=100, top_n=10, progress=False)
    out = tmp_path / "resumed.csv"
    real = _interrupt_after(monkeypatch, 4)
    with pytest.raises(KeyboardInterrupt):
        screen_file(cands, out, predictor, chunk_size=100, top_n=10, progress=False)
    parts = sorted(work_dir_for(out).glob("part-*.parquet"))
    assert len(parts) == 4 and all(stored_k(p) == 10 for p in parts)
    monkeypatch.setattr(chunks_mod, "_process_chunk", real)
    count_parses["n"] = 0
    res = screen_file(cands, out, predictor, chunk_size=100, top_n=10, resume=True, progress=False)
    assert res.resumed_chunks == 4 and count_parses["n"] == 2  # only the two missing chunks are parsed
    pd.testing.assert_frame_equal(res.top, full.top)
    assert out.read_bytes() == (tmp_path / "full.csv").read_bytes()


def test_resume_recomputes_parts_that_kept_too_few_rows(predictor, cands, tmp_path, monkeypatch, count_parses):
    out = tmp_path / "out.csv"
    real = _interrupt_after(monkeypatch, 3)
    with pytest.raises(KeyboardInterrupt):  # no explanation asked: the parts keep no descriptors
        screen_file(cands, out, predictor, chunk_size=100, top_n=10, explain_top=0, progress=False)
    assert all(stored_k(p) == 0 for p in work_dir_for(out).glob("part-*.parquet"))
    monkeypatch.setattr(chunks_mod, "_process_chunk", real)
    count_parses["n"] = 0
    res = screen_file(cands, out, predictor, chunk_size=100, top_n=10, explain_top=3, resume=True, progress=False)
    assert res.resumed_chunks == 0 and count_parses["n"] == 6
    _check_texts(res, _reference(predictor, cands, res.top, 3))


def test_explain_features_matches_predict(predictor):
    frame = pd.DataFrame({"id": ["a", "b", "c"], "metal": ["Zn", "Co", "Xx"],
                          "ligands": ["Im:2", "Im:1.5;bIm:0.5", "Im:2"]})
    kept: dict = {}
    ref = predictor.predict(frame, explain=True, top=2, descriptors=kept)
    got = predictor.explain_features(kept["features"][kept["row"]], top=2)
    for c in ("tm_top_features", "p_melt_top_features"):
        assert got[c].tolist() == ref[c].tolist()
    assert got.loc[2, "tm_top_features"] == ""  # the bad row has no descriptors
    with pytest.raises(ValueError, match="structure has"):
        predictor.explain_features(kept["features"][:2], pd.DataFrame(index=range(3)))


def test_best_rows_follow_the_merge_order():
    """A chunk's best rows are the first rows without an error in the merge's order (ties: input order)."""
    import pyarrow.compute as pc

    from mlglass.screen.chunks import frame_to_table
    from mlglass.screen.ranking import SORT_KEYS, order_keys
    from mlglass.screen.top_rows import best_rows

    rng = np.random.default_rng(3)
    for _ in range(200):
        n, k = int(rng.integers(0, 50)), int(rng.integers(0, 12))
        df = pd.DataFrame({"id": [f"c{int(rng.integers(0, 4))}" for _ in range(n)],
                           "score": rng.choice([0.1, 0.2, 0.5, np.nan], n),
                           "passes_constraints": rng.random(n) > 0.6, "error": rng.choice(["", "", "bad"], n),
                           "input_row": np.arange(1, n + 1)})
        keys = order_keys(frame_to_table(df[["id", "score", "passes_constraints", "error"]]))
        order = pc.sort_indices(keys, sort_keys=SORT_KEYS).to_numpy()  # stable, as the merge
        expected = [i for i in order if keys["g"][int(i)].as_py() < 2][:k]
        assert best_rows(df, k).tolist() == [int(i) for i in expected]


def test_a_predictor_that_reports_no_descriptors_gets_a_clear_error(predictor, cands, tmp_path):
    class Plain:  # predicts like the wrapped one but does not fill `descriptors`
        heads, metadata, feature_labels = predictor.heads, predictor.metadata, predictor.feature_labels

        def predict(self, X, **kwargs):
            kwargs.pop("descriptors", None)
            return predictor.predict(X, **kwargs)

    res = screen_file(cands, tmp_path / "a.csv", Plain(), chunk_size=300, explain_top=0, progress=False)
    assert res.n_rows == 600 and "tm_top_features" not in res.top.columns
    with pytest.raises(RuntimeError, match="descriptors"):
        screen_file(cands, tmp_path / "b.csv", Plain(), chunk_size=300, explain_top=3, progress=False)
