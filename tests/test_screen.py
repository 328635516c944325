"""Scoring, ranking and the streaming screen (checkpoints, resume, workers, dask, CSV safety, plot)."""

from __future__ import annotations

import collections
import json
import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlglass.errors import SchemaError
from mlglass.screen import (
    OBJECTIVES,
    ScreenOptionError,
    plot_screen,
    rank_candidates,
    score_predictions,
    screen_file,
)
from mlglass.screen import chunks as chunks_mod
from mlglass.screen.stream import CHECKPOINT_NAME, work_dir_for

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "datasets" / "candidates" / "example.csv"
TINY = {"tm": {"n_estimators": 20}, "tg": {"n_estimators": 20}, "melt": {"n_estimators": 20}}


def _load_training():
    from mlglass.datasets import load_glasses

    try:
        return load_glasses()
    except SchemaError:  # dataset being edited elsewhere: train on the parsable rows
        return load_glasses(validate=False)


@pytest.fixture(scope="session")
def predictor():
    from mlglass.models.predictor import GlassPredictor

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return GlassPredictor.train(_load_training(), params=TINY)


@pytest.fixture(scope="session")
def model_dir(predictor, tmp_path_factory):
    return predictor.save(tmp_path_factory.mktemp("model") / "bundle")


@pytest.fixture(scope="session")
def candidates_csv(tmp_path_factory) -> Path:
    """~1.5k rows sharing a few dozen compositions, a few bad rows, formula-looking ids, td_c values."""
    rng = np.random.default_rng(1)
    rows = []
    metals = ["Zn", "Co", "Cd", "Zn:0.8;Co:0.2", "Mn"]
    for i in range(1500):
        x = int(rng.integers(0, 8)) * 0.05
        lig = "Im:2" if x == 0 else f"Im:{2 - 2 * x:.4g};bIm:{2 * x:.4g}"
        rows.append({"id": f"c{i:05d}", "metal": str(rng.choice(metals)), "oxidation_state": "2", "ligands": lig,
                     "counter_ions": "", "dimensionality": "3", "formula": "", "td_c": str(rng.choice(["", "520"]))})
    rows[3]["metal"] = "Xx"                      # unknown element
    rows[700]["ligands"] = "NotALigand:2"        # unknown species
    rows[1499]["ligands"] = "Im:-1"              # bad amount
    rows[10]["id"] = "=HYPERLINK(\"http://x\")"  # spreadsheet formula
    rows[11]["id"] = "@SUM(A1)"
    rows[12]["id"] = "+c12"
    rows[13]["id"] = "-c13"
    rows[14]["id"] = "c00001"                    # duplicate id: both rows must survive
    rows[20]["formula"] = "=1+2"
    path = tmp_path_factory.mktemp("cand") / "cands.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def _read(path: Path) -> pd.DataFrame:
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    return pd.read_csv(path, dtype=str, keep_default_na=False)


# ------------------------------------------------------------------ scoring
def _pred(**cols) -> pd.DataFrame:
    n = len(next(iter(cols.values())))
    base = {"id": [f"r{i}" for i in range(n)], "metal": ["Zn"] * n, "tm_c": [300.0] * n, "tm_lo_c": [250.0] * n,
            "tm_hi_c": [350.0] * n, "tg_c": [200.0] * n, "tg_lo_c": [150.0] * n, "tg_hi_c": [250.0] * n,
            "p_melt": [0.9] * n, "error": [""] * n}
    base.update(cols)
    return pd.DataFrame(base)


def test_meltable_prefers_low_tm_and_high_p_melt():
    pred = _pred(id=["hot", "cool", "unlikely", "cold_sure"], tm_c=[450.0, 150.0, 150.0, 100.0],
                 p_melt=[0.9, 0.9, 0.05, 0.95])
    ranked = rank_candidates(score_predictions(pred, "meltable"))
    assert ranked["id"].tolist() == ["cold_sure", "cool", "hot", "unlikely"]
    assert ranked["rank"].tolist() == [1, 2, 3, 4]
    assert ranked["score"].between(0, 1).all()
    assert "meltable" in OBJECTIVES and "p_melt" in OBJECTIVES["meltable"]


def test_meltable_liquid_window_term_only_when_td_known():
    pred = _pred(id=["narrow", "wide", "unknown"], tm_c=[300.0, 300.0, 300.0])
    pred["td_c"] = ["320", "600", ""]
    s = score_predictions(pred, "meltable").set_index("id")["score"]
    assert s["wide"] > s["narrow"]
    no_td = score_predictions(pred.drop(columns="td_c"), "meltable").set_index("id")["score"]
    assert s["unknown"] == pytest.approx(no_td["unknown"])  # term omitted when Td unknown


def test_stable_glass_prefers_high_tg_with_high_p_melt():
    pred = _pred(id=["low_tg", "high_tg", "high_tg_no_melt"], tg_c=[50.0, 350.0, 350.0], p_melt=[0.9, 0.9, 0.05])
    ranked = rank_candidates(score_predictions(pred, "stable-glass"))
    assert ranked["id"].tolist() == ["high_tg", "low_tg", "high_tg_no_melt"]


def test_target_window_closeness():
    pred = _pred(id=["inside", "just_out", "far_out"], tm_c=[240.0, 280.0, 450.0], tg_c=[160.0, 160.0, 160.0])
    scored = score_predictions(pred, "target", tm_max=250, tg_min=150)
    ranked = rank_candidates(scored)
    assert ranked["id"].tolist() == ["inside", "just_out", "far_out"]
    assert scored.set_index("id").loc["inside", "score"] == pytest.approx(0.9)  # = p_melt inside the window
    assert scored["passes_constraints"].all()  # a window, not a hard limit, for 'target'
    with pytest.raises(ScreenOptionError):
        score_predictions(pred, "target")


def test_risk_uses_interval_bounds():
    # same point Tm; "narrow" has the tighter interval
    pred = _pred(id=["wide", "narrow"], tm_c=[300.0, 300.0], tm_lo_c=[150.0, 280.0], tm_hi_c=[450.0, 320.0])
    opt = rank_candidates(score_predictions(pred, "meltable", risk="optimistic"))["id"].tolist()
    pes = rank_candidates(score_predictions(pred, "meltable", risk="pessimistic"))["id"].tolist()
    assert opt == ["wide", "narrow"] and pes == ["narrow", "wide"]
    pred = _pred(id=["wide", "narrow"], tg_lo_c=[50.0, 190.0], tg_hi_c=[350.0, 210.0])
    assert rank_candidates(score_predictions(pred, "stable-glass", risk="optimistic"))["id"].tolist()[0] == "wide"
    assert rank_candidates(score_predictions(pred, "stable-glass", risk="pessimistic"))["id"].tolist()[0] == "narrow"


def test_constraints_rank_failing_rows_after_passing():
    pred = _pred(id=["zn_low_p", "co_ok", "cd_best", "zn_ok"], metal=["Zn", "Co", "Cd", "Zn:0.5;Co:0.5"],
                 tm_c=[100.0, 300.0, 50.0, 320.0], p_melt=[0.3, 0.9, 0.99, 0.9])
    scored = score_predictions(pred, "meltable", p_melt_min=0.5, deny_elements=["cd"])
    ranked = rank_candidates(scored)
    assert ranked["id"].tolist()[:2] == ["co_ok", "zn_ok"]
    assert ranked["passes_constraints"].tolist() == [True, True, False, False]
    # failing rows keep their score order among themselves
    assert ranked["id"].tolist()[2:] == ["cd_best", "zn_low_p"]
    allow = score_predictions(pred, "meltable", allow_elements="Zn,Co").set_index("id")["passes_constraints"]
    assert allow.to_dict() == {"zn_low_p": True, "co_ok": True, "cd_best": False, "zn_ok": True}
    only_zn = score_predictions(pred, "meltable", allow_elements=["Zn"]).set_index("id")["passes_constraints"]
    assert not only_zn["zn_ok"]  # every network metal must be allowed
    hard = score_predictions(pred, "meltable", tm_max=200).set_index("id")["passes_constraints"]
    assert hard.to_dict() == {"zn_low_p": True, "co_ok": False, "cd_best": True, "zn_ok": False}
    with pytest.raises(ScreenOptionError):
        score_predictions(pred, deny_elements=["Qq"])
    with pytest.raises(ScreenOptionError):
        score_predictions(pred, objective="tasty")
    with pytest.raises(ScreenOptionError):
        score_predictions(pred, risk="reckless")


def test_error_rows_rank_last_with_nan_score_and_ties_by_id():
    pred = _pred(id=["b", "bad", "a", "c"], error=["", "row 'bad': unknown", "", ""])
    ranked = rank_candidates(score_predictions(pred))
    assert ranked["id"].tolist() == ["a", "b", "c", "bad"]
    assert np.isnan(ranked["score"].iloc[-1]) and not ranked["passes_constraints"].iloc[-1]


# ------------------------------------------------------------------ screen_file
def test_repeated_compositions_predicted_once_and_broadcast(predictor, candidates_csv, monkeypatch):
    """Rows sharing a composition get the predictions of one featurized row; errors name each row."""
    from mlglass.candidates import CandidateBatch

    frame = pd.read_csv(candidates_csv, dtype=str, keep_default_na=False)
    doubled = pd.concat([frame, frame.assign(id=frame["id"] + "_b")], ignore_index=True)
    sizes = []
    features = CandidateBatch.features

    def spy(self, *a, **k):
        sizes.append(self.n_unique)
        return features(self, *a, **k)

    monkeypatch.setattr(CandidateBatch, "features", spy)
    direct = predictor.predict(frame)
    both = predictor.predict(doubled)
    assert sizes[1] == sizes[0] <= len(frame)
    cols = ["tm_c", "tm_lo_c", "tm_hi_c", "tg_c", "tg_lo_c", "tg_hi_c", "p_melt"]
    n = len(frame)
    np.testing.assert_allclose(both[cols].to_numpy(float)[n:], direct[cols].to_numpy(float), equal_nan=True)
    assert "'c00700'" in both.loc[700, "error"] and "'c00700_b'" in both.loc[n + 700, "error"]
    assert both["error"].iloc[n:].str.replace("_b'", "'").tolist() == direct["error"].tolist()


def test_screen_file_every_row_once_and_same_ranking_as_in_memory(predictor, candidates_csv, tmp_path):
    out = tmp_path / "ranked.csv"
    res = screen_file(candidates_csv, out, predictor, chunk_size=200, top_n=5, progress=False)
    frame = pd.read_csv(candidates_csv, dtype=str, keep_default_na=False)
    got = _read(out)
    assert res.n_rows == len(frame) == len(got) and res.n_chunks == 8
    assert res.n_errors == 3 and res.rows_per_second > 0
    assert sorted(got["input_row"].astype(int)) == list(range(1, len(frame) + 1))
    unescaped = got["id"].str.replace(r"^'(?=[=+\-@])", "", regex=True)
    assert collections.Counter(unescaped) == collections.Counter(frame["id"])
    assert got["rank"].astype(int).tolist() == list(range(1, len(frame) + 1))
    # same order as ranking everything in memory
    mem = frame.copy()
    mem["input_row"] = np.arange(1, len(frame) + 1)
    expected = rank_candidates(score_predictions(chunks_mod.mask_error_rows(predictor.predict(mem))))
    assert got["input_row"].astype(int).tolist() == expected["input_row"].tolist()
    # error rows kept, last, with an error and no predictions
    tail = got.tail(3)
    assert (tail["error"] != "").all() and (tail["tm_c"] == "").all() and (tail["score"] == "").all()
    assert set(tail["input_row"].astype(int)) == {4, 701, 1500}
    # top rows explained
    assert len(res.top) == 5 and res.top["tm_top_features"].str.contains("degC").all()
    assert res.top["id"].tolist() == got["id"].head(5).str.lstrip("'").tolist()
    assert not work_dir_for(out).exists()


def test_csv_output_escapes_formulas(predictor, candidates_csv, tmp_path):
    out = tmp_path / "ranked.csv"
    screen_file(candidates_csv, out, predictor, chunk_size=500, explain_top=0, progress=False)
    got = _read(out).set_index("input_row")
    assert got.loc["11", "id"] == "'=HYPERLINK(\"http://x\")"
    assert got.loc["12", "id"] == "'@SUM(A1)"
    assert got.loc["13", "id"] == "'+c12"
    assert got.loc["14", "id"] == "'-c13"
    assert got.loc["21", "formula"] == "'=1+2"
    # numbers are not touched (text or numeric columns)
    assert not got["tm_c"].str.startswith("'").any()
    pq_out = tmp_path / "ranked.parquet"
    screen_file(candidates_csv, pq_out, predictor, chunk_size=500, explain_top=0, progress=False)
    raw = pd.read_parquet(pq_out).set_index("input_row")
    assert raw.loc[11, "id"] == "=HYPERLINK(\"http://x\")"  # Parquet keeps values verbatim


def test_parquet_input_and_bucketed_merge_match(predictor, candidates_csv, tmp_path):
    frame = pd.read_csv(candidates_csv, dtype=str, keep_default_na=False)
    pq_in = tmp_path / "cands.parquet"
    frame.to_parquet(pq_in, row_group_size=333)
    a = tmp_path / "a.parquet"
    b = tmp_path / "b.parquet"
    screen_file(candidates_csv, a, predictor, chunk_size=300, explain_top=0, progress=False)
    screen_file(pq_in, b, predictor, chunk_size=300, explain_top=0, bucket_rows=128, progress=False)
    pd.testing.assert_frame_equal(pd.read_parquet(a), pd.read_parquet(b))


def test_resume_after_interruption(predictor, candidates_csv, tmp_path, monkeypatch):
    full = tmp_path / "full.csv"
    screen_file(candidates_csv, full, predictor, chunk_size=200, progress=False)
    out = tmp_path / "resumed.csv"
    real = chunks_mod._process_chunk
    calls = {"n": 0}

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] > 3:
            raise KeyboardInterrupt("simulated interruption")
        return real(*args, **kwargs)

    monkeypatch.setattr(chunks_mod, "_process_chunk", flaky)
    with pytest.raises(KeyboardInterrupt):
        screen_file(candidates_csv, out, predictor, chunk_size=200, progress=False)
    work = work_dir_for(out)
    ck = json.loads((work / CHECKPOINT_NAME).read_text())
    assert sorted(ck["completed"]) == ["0", "1", "2"] and not out.exists()
    monkeypatch.setattr(chunks_mod, "_process_chunk", real)
    res = screen_file(candidates_csv, out, predictor, chunk_size=200, resume=True, progress=False)
    assert res.resumed_chunks == 3 and res.n_rows == 1500
    assert out.read_bytes() == full.read_bytes()


def test_resume_refused_when_input_or_options_change(predictor, candidates_csv, tmp_path, monkeypatch):
    src = tmp_path / "in.csv"
    src.write_bytes(candidates_csv.read_bytes())
    out = tmp_path / "out.csv"
    real = chunks_mod._process_chunk
    calls = {"n": 0}

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] > 1:
            raise RuntimeError("boom")
        return real(*args, **kwargs)

    monkeypatch.setattr(chunks_mod, "_process_chunk", flaky)
    with pytest.raises(RuntimeError):
        screen_file(src, out, predictor, chunk_size=400, progress=False)
    monkeypatch.setattr(chunks_mod, "_process_chunk", real)
    with pytest.raises(ScreenOptionError, match="options"):
        screen_file(src, out, predictor, chunk_size=400, objective="stable-glass", resume=True, progress=False)
    with pytest.raises(ScreenOptionError, match="chunk_size"):
        screen_file(src, out, predictor, chunk_size=300, resume=True, progress=False)
    with open(src, "a", encoding="utf-8") as fh:
        fh.write("extra,Zn,2,Im:2,,3,,\n")
    with pytest.raises(ScreenOptionError, match="input file"):
        screen_file(src, out, predictor, chunk_size=400, resume=True, progress=False)
    # without resume the stale work folder is cleared and the run starts over
    res = screen_file(src, out, predictor, chunk_size=400, progress=False)
    assert res.resumed_chunks == 0 and res.n_rows == 1501


def test_workers_match_single_process(model_dir, candidates_csv, tmp_path):
    one = tmp_path / "one.csv"
    two = tmp_path / "two.csv"
    screen_file(candidates_csv, one, model_dir, chunk_size=250, explain_top=0, progress=False)
    screen_file(candidates_csv, two, model_dir, chunk_size=250, workers=2, explain_top=0, progress=False)
    assert one.read_bytes() == two.read_bytes()


def test_dask_local_cluster_matches_local(predictor, candidates_csv, tmp_path):
    pytest.importorskip("distributed")
    local = tmp_path / "local.csv"
    dask = tmp_path / "dask.csv"
    screen_file(candidates_csv, local, predictor, chunk_size=500, explain_top=0, progress=False)
    screen_file(candidates_csv, dask, predictor, chunk_size=500, dask_address="local", explain_top=0,
                progress=False)
    assert local.read_bytes() == dask.read_bytes()


def test_screen_rejects_bad_inputs(predictor, tmp_path):
    bad = tmp_path / "nometal.csv"
    pd.DataFrame({"id": ["a"], "ligands": ["Im:2"]}).to_csv(bad, index=False)
    with pytest.raises(SchemaError):
        screen_file(bad, tmp_path / "o.csv", predictor, progress=False)
    with pytest.raises(SchemaError):
        screen_file(bad, tmp_path / "o.xlsx", predictor, progress=False)
    with pytest.raises(ScreenOptionError):
        screen_file(bad, tmp_path / "o.csv", predictor, chunk_size=0, progress=False)
    empty = tmp_path / "empty.csv"
    empty.write_text("id,metal,ligands\n", encoding="utf-8")
    res = screen_file(empty, tmp_path / "e.csv", predictor, progress=False)
    assert res.n_rows == 0 and _read(tmp_path / "e.csv").columns[0] == "rank"


def test_example_candidates_are_valid_and_new():
    from mlglass.featurize import GlassFeaturizer
    from mlglass.records import parse_amounts, parse_metals

    frame = pd.read_csv(EXAMPLE, dtype=str, keep_default_na=False)
    assert list(frame.columns) == ["id", "metal", "oxidation_state", "ligands", "counter_ions", "dimensionality",
                                   "formula", "notes"]
    assert len(frame) >= 200 and frame["id"].is_unique
    X = GlassFeaturizer().transform(frame)
    assert (X["error"] == "").all(), X.loc[X["error"] != "", "error"].tolist()[:5]

    def key(m, lig, ctr):
        return (tuple(sorted((s, round(f, 4)) for s, f in parse_metals(m))),
                tuple(sorted((n, round(a, 4)) for n, a in parse_amounts(lig, "ligands"))),
                tuple(sorted((n, round(a, 4)) for n, a in parse_amounts(ctr, "counter_ions"))))

    train = pd.read_csv(ROOT / "datasets" / "glasses.csv", dtype=str, keep_default_na=False)
    seen = set()
    for r in train.itertuples():
        if r.metal and r.ligands and not (";" in r.metal and ":" not in r.metal):
            seen.add(key(r.metal, r.ligands, r.counter_ions))
    clash = [r.id for r in frame.itertuples() if key(r.metal, r.ligands, r.counter_ions) in seen]
    assert not clash


def test_plot_screen_writes_png(predictor, tmp_path):
    frame = pd.read_csv(EXAMPLE, dtype=str, keep_default_na=False).head(60)
    ranked = rank_candidates(score_predictions(predictor.predict(frame)))
    path = plot_screen(ranked, tmp_path / "plots" / "screen.png", top_n=5)
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
    assert not [p for p in os.listdir(path.parent) if p.endswith(".part")]


def test_screen_result_carries_the_ranked_rows_it_plots(predictor, candidates_csv, tmp_path):
    """ScreenResult.ranked is the output's plot columns in rank order (all rows of a small screen)."""
    from mlglass.schema import PLOT_COLUMNS

    out = tmp_path / "ranked.parquet"
    res = screen_file(candidates_csv, out, predictor, chunk_size=300, top_n=5, explain_top=0, progress=False)
    written = pd.read_parquet(out, columns=list(PLOT_COLUMNS))
    assert res.n_plottable == res.n_rows - res.n_errors == len(written) - 3
    pd.testing.assert_frame_equal(res.ranked[list(PLOT_COLUMNS)].reset_index(drop=True), written,
                                  check_dtype=False)
    assert res.ranked["rank"].dtype.kind == "i" and res.ranked["tm_c"].dtype.kind == "f"


@pytest.mark.parametrize("bucket_rows", [500_000, 400])
def test_screen_result_samples_ranked_rows_above_plot_rows(predictor, candidates_csv, tmp_path, bucket_rows):
    """Above ``plot_rows`` rows: the top rows plus a seeded sample of error-free rows, in rank order."""
    out = tmp_path / "ranked.parquet"
    kw = dict(chunk_size=500, top_n=7, explain_top=0, progress=False, plot_rows=100, bucket_rows=bucket_rows)
    res = screen_file(candidates_csv, out, predictor, **kw)
    ranks = res.ranked["rank"].to_numpy()
    assert len(res.ranked) == 100 and (np.diff(ranks) > 0).all()
    assert ranks[:7].tolist() == list(range(1, 8))  # the top rows are always kept
    assert (res.ranked["error"] == "").all() and ranks.max() <= res.n_plottable
    written = pd.read_parquet(out).set_index("rank")
    np.testing.assert_allclose(res.ranked["tm_c"].to_numpy(), written.loc[ranks, "tm_c"].to_numpy())
    again = screen_file(candidates_csv, tmp_path / "again.parquet", predictor, **kw)
    assert again.ranked["rank"].tolist() == ranks.tolist()  # seeded
    with pytest.raises(ScreenOptionError, match="plot_rows"):
        screen_file(candidates_csv, tmp_path / "bad.csv", predictor, plot_rows=-1, progress=False)


def test_threads_give_the_same_output_and_checkpoint_order(predictor, candidates_csv, tmp_path):
    """Chunks in flight in several threads (the default is 2) write the file one thread writes, byte for byte."""
    one = tmp_path / "one.csv"
    screen_file(candidates_csv, one, predictor, chunk_size=100, threads=1, progress=False)
    for threads in (2, 3):
        many = tmp_path / f"threads{threads}.csv"
        res = screen_file(candidates_csv, many, predictor, chunk_size=100, threads=threads, progress=False)
        assert res.n_chunks == 15
        assert many.read_bytes() == one.read_bytes()


@pytest.mark.parametrize("threads", [0, -1, 1.5, True])
def test_threads_option_is_checked(predictor, candidates_csv, tmp_path, threads):
    with pytest.raises(ScreenOptionError, match="threads"):
        screen_file(candidates_csv, tmp_path / "o.csv", predictor, threads=threads, progress=False)
