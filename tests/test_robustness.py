"""Robustness: the hostile-input harness over every entry point, plus regression tests for the nasties.

The harness (:mod:`fuzz.harness`) runs once for ~20 s. Escapes that
match a *known issue* (:data:`fuzz.harness.KNOWN_ISSUES`, bugs found by
the harness in other modules and reported) are set aside; each known issue
has a strict-xfail reproducer below, so fixing the bug flips its test to
XPASS (a failure under ``strict=True``) and the entry must then be removed
from ``KNOWN_ISSUES``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from mlglass.errors import (
    FormulaError,
    InvalidSmilesError,
    MlglassError,
    RecordError,
    SchemaError,
    StoichiometryError,
    UnknownElementError,
    UnknownSpeciesError,
)
from fuzz.harness import (
    ENTRY_POINTS,
    KNOWN_ISSUES,
    InputGenerator,
    check_exception,
    run_harness,
    train_tiny_predictor,
)

HARNESS_SECONDS = 20
#: No speed rule in the test suite (machine load must not fail it): the per-call bound is
#: checked by ``benchmarks/robustness.py`` (default 5 s); here only behaviour is asserted.
BOUND = float("inf")


@pytest.fixture(scope="module")
def predictor():
    return train_tiny_predictor(n_estimators=10)


@pytest.fixture(scope="module")
def report(predictor):
    # hard_limit only catches hangs (10 min), not slowness
    return run_harness(seconds=HARNESS_SECONDS, seed=0, predictor=predictor, bound=BOUND, hard_limit=600,
                       ignore_known=True)


def _documented(fn):
    """Call ``fn``; only a documented mlglass error with a proper message may escape. Returns the result or error."""
    try:
        return fn()
    except MlglassError as err:
        assert check_exception(err) is None, check_exception(err)
        return err


# --------------------------------------------------------------------------- the harness


class TestHarness:
    def test_every_entry_point_driven(self, report):
        for entry in ENTRY_POINTS:
            if entry in ("screen", "suggest") and entry in report.skipped:
                continue  # mlglass.screen does not provide it (yet)
            assert report.tried.get(entry, 0) > 0, (entry, report.summary())
        assert sum(report.tried.values()) > 200

    def test_no_undocumented_exception_escapes(self, report):
        assert not report.escaped, report.summary(reproducers=10)

    def test_no_rule_violations(self, report):
        assert not report.violations, report.summary(reproducers=10)

    def test_no_row_lost_or_duplicated(self, report):
        assert report.lost_rows == 0 and report.duplicated_rows == 0, report.summary()

    def test_slowest_input_recorded(self, report):
        entry, seconds, shown = report.slowest
        assert entry in report.tried and seconds > 0 and shown  # the bound itself: benchmarks/robustness.py

    def test_budget_used(self, report):
        assert report.seconds >= HARNESS_SECONDS  # runs until the deadline (an upper bound is speed: benchmark)

    def test_summary_table(self, report):
        text = report.summary()
        for entry in report.tried:
            assert entry in text
        assert "rows lost" in text and "slowest input" in text

    def test_generators_are_deterministic(self):
        a, b = InputGenerator("7:formula"), InputGenerator("7:formula")
        assert [repr(a.formula()) for _ in range(200)] == [repr(b.formula()) for _ in range(200)]
        fa, _ = InputGenerator(3).frame()
        fb, _ = InputGenerator(3).frame()
        assert list(fa.columns) == list(fb.columns)
        assert repr(fa.to_numpy().tolist()) == repr(fb.to_numpy().tolist())

    def test_unknown_entry_point_rejected(self):
        with pytest.raises(ValueError, match="unknown entry points"):
            run_harness(seconds=0.1, entry_points=["nope"])


class TestCheckException:
    def test_documented_error_passes(self):
        assert check_exception(StoichiometryError("ligands", "Im:0", "must be positive")) is None

    def test_undocumented_error_fails(self):
        assert "undocumented" in check_exception(KeyError("metal"))

    def test_message_must_name_field_and_value(self):
        class Quiet(RecordError):
            def _compose(self) -> str:
                return "something went wrong"

        assert "field" in check_exception(Quiet("ligands", "Im:0", "bad"))


# --------------------------------------------------------------------------- regression: formulas


class TestFormulaNasties:
    def test_deep_nesting_fails_fast(self):
        from mlglass.formula import parse_formula

        text = "(" * 5000 + "Im" + ")" * 5000
        with pytest.raises(FormulaError) as info:  # speed: benchmarks/speed_checks.py
            parse_formula(text)
        assert check_exception(info.value) is None

    def test_nesting_within_length_limit(self):
        from mlglass.formula import MAX_NESTING, parse_formula

        depth = 900
        with pytest.raises(FormulaError, match=f"deeper than {MAX_NESTING}"):
            parse_formula("Zn" + "(" * depth + "Im" + ")" * depth)

    @pytest.mark.parametrize("text", ["Сu(Im)2", "Zn(Іm)2", "Ｚｎ(Im)2", "Zn(Im)\u200b2", "Zn(Im)2\u0301",
                                      "Zn(Im)２", "\ufeffZn(Im)2"])
    def test_lookalikes_rejected_with_position(self, text):
        from mlglass.formula import parse_formula

        with pytest.raises(FormulaError, match="U\\+") as info:
            parse_formula(text)
        assert check_exception(info.value) is None

    @pytest.mark.parametrize("text", [None, 5, math.nan, b"Zn(Im)2", ["Zn(Im)2"]])
    def test_non_text(self, text):
        from mlglass.formula import parse_formula

        with pytest.raises(FormulaError):
            parse_formula(text)


# --------------------------------------------------------------------------- regression: species


class TestSpeciesNasties:
    def test_5000_char_smiles(self):
        from mlglass.chem.ligands import resolve_species

        with pytest.raises(InvalidSmilesError, match="longer than 600") as info:
            resolve_species("C(=O)" * 1000)
        assert check_exception(info.value) is None

    def test_5000_char_aliphatic_smiles(self):
        # All-uppercase chains do not "look like" SMILES to the name/SMILES heuristic, so this is reported
        # as an unknown species whose message still gives the SMILES reason.
        from mlglass.chem.ligands import resolve_species

        with pytest.raises((InvalidSmilesError, UnknownSpeciesError), match="longer than 600"):
            resolve_species("C" * 5000)

    def test_deep_branches_and_many_rings(self):
        from mlglass.chem.ligands import resolve_species
        from fuzz.harness import _ring_smiles

        with pytest.raises(RecordError, match="nested more than 50"):
            resolve_species("C" + "(C" * 60 + ")" * 60)
        with pytest.raises(RecordError, match="more than 20 rings"):
            resolve_species(_ring_smiles(30))

    @pytest.mark.parametrize("cell", ["Im:1e308", "Im:nan", "Im:inf", "Im:0", "Im:-1", "Im"])
    def test_bad_amounts(self, cell):
        from mlglass.featurize import GlassFeaturizer
        from mlglass.records import parse_amounts

        with pytest.raises(StoichiometryError) as info:
            parse_amounts(cell, "ligands")
        assert check_exception(info.value) is None
        out = GlassFeaturizer().transform(pd.DataFrame({"id": ["a", "b"], "metal": ["Zn", "Zn"],
                                                        "ligands": [cell, "Im:2"]}))
        assert len(out) == 2
        assert "ligands" in out.loc[0, "error"] and out.loc[1, "error"] == ""
        assert np.isnan(out.drop(columns="error").iloc[0].to_numpy(dtype=float)).all()

    @pytest.mark.parametrize("metal", ["Сu", "Ζn", "Ｚｎ", "Zn\u200b"])
    def test_lookalike_metal(self, metal):
        from mlglass.featurize import GlassFeaturizer
        from mlglass.records import parse_metals

        with pytest.raises(UnknownElementError):
            parse_metals(metal)
        out = GlassFeaturizer().transform(pd.DataFrame({"id": ["x"], "metal": [metal], "ligands": ["Im:2"]}))
        assert "field 'metal'" in out.loc[0, "error"]


# --------------------------------------------------------------------------- regression: files


class TestFileNasties:
    def test_bom_csv_reads(self, tmp_path):
        from mlglass.datasets import read_table
        from mlglass.featurize import GlassFeaturizer

        path = tmp_path / "bom.csv"
        path.write_bytes(b"\xef\xbb\xbfid,metal,ligands\nzif4,Zn,Im:2\n")
        frame = read_table(path)
        assert list(frame.columns) == ["id", "metal", "ligands"]
        assert GlassFeaturizer().transform(frame).loc[0, "error"] == ""

    def test_latin1_raises_schema_error_naming_utf8(self, tmp_path):
        from mlglass.datasets import read_table

        path = tmp_path / "latin1.csv"
        path.write_bytes("id,metal,ligands\nzif4,Zn,Im:2 é\n".encode("latin-1"))
        with pytest.raises(SchemaError, match="UTF-8") as info:
            read_table(path)
        assert check_exception(info.value) is None

    def test_header_only_csv_featurizes_to_zero_rows(self, tmp_path, predictor):
        from mlglass.datasets import read_table
        from mlglass.featurize import GlassFeaturizer

        path = tmp_path / "header.csv"
        path.write_bytes(b"id,metal,oxidation_state,ligands,counter_ions,dimensionality,formula\n")
        frame = read_table(path)
        out = GlassFeaturizer().transform(frame)
        assert len(out) == 0 and "error" in out.columns
        assert len(predictor.predict(frame)) == 0

    @pytest.mark.parametrize("data", [b"", b"\n\n", b"\xef\xbb\xbf"])
    def test_empty_file(self, tmp_path, data):
        from mlglass.datasets import read_table

        path = tmp_path / "empty.csv"
        path.write_bytes(data)
        with pytest.raises(SchemaError, match="empty"):
            read_table(path)

    def test_semicolon_delimiter(self, tmp_path):
        from mlglass.datasets import read_table
        from mlglass.featurize import GlassFeaturizer

        path = tmp_path / "semi.csv"
        path.write_bytes(b"id;metal;ligands\nzif4;Zn;Im:2\n")
        frame = read_table(path)
        with pytest.raises(SchemaError, match="metal"):
            GlassFeaturizer().transform(frame)

    def test_corrupt_parquet(self, tmp_path):
        from mlglass.datasets import read_table

        path = tmp_path / "bad.parquet"
        path.write_bytes(b"PAR1" + bytes(range(200)))
        with pytest.raises(SchemaError):
            read_table(path)


# --------------------------------------------------------------------------- regression: rows and values


class TestRowsAndValues:
    def test_duplicate_ids_all_kept_in_predict(self, predictor):
        frame = pd.DataFrame({"id": ["x", "x", "x", "x"], "metal": ["Zn", "Xx", "Zn", "Co"],
                              "ligands": ["Im:2", "Im:2", "Im:nan", "Im:1.75;bIm:0.25"]})
        out = predictor.predict(frame)
        assert out["id"].tolist() == ["x"] * 4
        assert [bool(e) for e in out["error"]] == [False, True, True, False]
        assert np.isfinite(out["tm_c"].to_numpy()[[0, 3]]).all()
        assert np.isnan(out["tm_c"].to_numpy()[[1, 2]]).all()

    def test_temperatures_below_absolute_zero_and_tg_above_tm(self):
        from mlglass.datasets import validate_table

        frame = pd.DataFrame({"id": ["a", "b", "c"], "metal": ["Zn"] * 3, "ligands": ["Im:2"] * 3,
                              "tm_c": ["-300", "200", "1e308"], "tg_c": ["", "250", "nan"]})
        problems = {(p.row, p.column) for p in validate_table(frame)}
        assert ("a", "tm_c") in problems and ("b", "tg_c") in problems
        assert ("c", "tm_c") in problems and ("c", "tg_c") in problems

    def test_nan_inf_huge_in_text_columns(self, predictor):
        frame = pd.DataFrame({"id": ["a", "b", "c", "d"], "metal": ["Zn", "nan", "inf", "1e308"],
                              "ligands": ["Im:2", "Im:2", "Im:2", "Im:2"],
                              "dimensionality": ["1e308", "3", "3", "3"]})
        out = predictor.predict(frame)
        assert len(out) == 4 and all(out["error"].str.len() > 0)

    def test_screen_keeps_every_row(self, tmp_path, predictor):
        screen = pytest.importorskip("mlglass.screen")
        frame = pd.DataFrame({"id": ["x", "x", "=1+1", ""], "metal": ["Zn", "Сu", "Co", "Zn"],
                              "ligands": ["Im:2", "Im:2", "Im:1e308", "Im:1.75;bIm:0.25"]})
        src = tmp_path / "in.csv"
        src.write_bytes(b"\xef\xbb\xbf" + frame.to_csv(index=False).encode())
        res = screen.screen_file(src, tmp_path / "out.csv", predictor, chunk_size=1, progress=False)
        out = pd.read_csv(tmp_path / "out.csv", dtype=str, keep_default_na=False)
        assert res.n_rows == 4 and sorted(out["input_row"].astype(int)) == [1, 2, 3, 4]
        bad = out.set_index(out["input_row"].astype(int))["error"]
        assert bad[2] and bad[3] and not bad[1] and not bad[4]


# --------------------------------------------------------------------------- fixed escapes (regressions)


def _dup_frame():
    return pd.DataFrame([["a", "Zn", "Im:2", "Zn"]], columns=["id", "metal", "ligands", "metal"])


def _big(col):
    return pd.DataFrame({"id": ["a"], "metal": ["Zn"], "ligands": ["Im:2"], col: pd.Series([10**400], dtype=object)})


def _parquet(tmp_path, table, name="x.parquet"):
    import pyarrow.parquet as pq

    path = tmp_path / name
    pq.write_table(table, path)
    return path


def _repro_dup_columns_records(p, tmp_path):
    from mlglass.featurize import GlassFeaturizer

    _documented(lambda: GlassFeaturizer().transform(_dup_frame()))
    _documented(lambda: p.predict(_dup_frame()))


def _repro_dup_columns_validate(p, tmp_path):
    from mlglass.datasets import validate_table

    _documented(lambda: validate_table(pd.DataFrame([["a", "b", "Zn", "Im:2"]],
                                                    columns=["id", "id", "metal", "ligands"])))


def _repro_dup_columns_td(p, tmp_path):
    frame = pd.DataFrame([["a", "Zn", "Im:2", "300", "400"]], columns=["id", "metal", "ligands", "td_c", "td_c"])
    _documented(lambda: p.predict(frame))


def _repro_bigint_dimensionality(p, tmp_path):
    from mlglass.featurize import GlassFeaturizer

    _documented(lambda: GlassFeaturizer().transform(_big("dimensionality")))


def _repro_bigint_oxidation(p, tmp_path):
    from mlglass.featurize import GlassFeaturizer

    _documented(lambda: GlassFeaturizer().transform(_big("oxidation_state")))


def _repro_bigint_temperature(p, tmp_path):
    from mlglass.datasets import validate_table

    _documented(lambda: validate_table(_big("tm_c")))


def _repro_bigint_td(p, tmp_path):
    _documented(lambda: p.predict(_big("td_c")))


def _repro_bigint_td_score(p, tmp_path):
    from mlglass.screen import score_predictions

    pred = p.predict(pd.DataFrame({"id": ["a"], "metal": ["Zn"], "ligands": ["Im:2"]}))
    pred["td_c"] = pd.Series([10**400], dtype=object)
    _documented(lambda: score_predictions(pred))


def _repro_unhashable_id(p, tmp_path):
    import pyarrow as pa

    from mlglass.datasets import read_table, validate_table

    path = _parquet(tmp_path, pa.table({"id": pa.array([[1, 2], [3]]), "metal": ["Zn", "Co"],
                                        "ligands": ["Im:2", "Im:2"]}))
    _documented(lambda: validate_table(read_table(path)))


def _coverage(value):
    def repro(p, tmp_path):
        _documented(lambda: p.predict(pd.DataFrame({"id": ["a"], "metal": ["Zn"], "ligands": ["Im:2"]}),
                                      coverage=value))
    return repro


def _repro_suggest_unhashable(p, tmp_path):
    from mlglass.screen import suggest_batch

    pred = p.predict(pd.DataFrame({"id": ["a", "b"], "metal": ["Zn", "Co"], "ligands": ["Im:2", "Im:2"],
                                   "formula": pd.Series([["x"], "Co(Im)2"], dtype=object)}))
    _documented(lambda: suggest_batch(pred, batch=2))


def _repro_suggest_negative_seed(p, tmp_path):
    from mlglass.screen import suggest_batch

    pred = p.predict(pd.DataFrame({"id": ["a"], "metal": ["Zn"], "ligands": ["Im:2"]}))
    _documented(lambda: suggest_batch(pred, acquisition="random", seed=-1))


def _repro_suggest_binary_id(p, tmp_path):
    import pyarrow as pa

    from mlglass.screen import suggest_file

    path = _parquet(tmp_path, pa.table({"id": pa.array([b"\xff\xfe", b"b"], type=pa.binary()),
                                        "metal": ["Zn", "Co"], "ligands": ["Im:2", "Im:2"]}))
    _documented(lambda: suggest_file(path, p, batch=2))


def _repro_screen_parquet_dup_columns(p, tmp_path):
    import pyarrow as pa

    from mlglass.screen import screen_file

    path = _parquet(tmp_path, pa.table([pa.array(["a"]), pa.array(["Zn"]), pa.array(["Im:2"]), pa.array(["x"])],
                                       names=["id", "metal", "ligands", "id"]))
    _documented(lambda: screen_file(path, tmp_path / "out.csv", p, progress=False))


def _record(**changes):
    import dataclasses

    from mlglass.records import record_from_mapping

    return dataclasses.replace(record_from_mapping({"metal": "Zn", "ligands": "Im:2"}), **changes)


def _repro_record_dimensionality(p, tmp_path):
    from mlglass.featurize import GlassFeaturizer

    _documented(lambda: GlassFeaturizer().transform([_record(dimensionality=7)]))


def _repro_record_bigint_dimensionality(p, tmp_path):
    from mlglass.featurize import GlassFeaturizer

    _documented(lambda: GlassFeaturizer().transform([_record(dimensionality=10**400)]))


REPRODUCERS = {
    "record-dimensionality": _repro_record_dimensionality,
    "record-bigint-dimensionality": _repro_record_bigint_dimensionality,
    "dup-columns-records": _repro_dup_columns_records,
    "dup-columns-validate": _repro_dup_columns_validate,
    "dup-columns-td": _repro_dup_columns_td,
    "bigint-dimensionality": _repro_bigint_dimensionality,
    "bigint-oxidation": _repro_bigint_oxidation,
    "bigint-temperature": _repro_bigint_temperature,
    "bigint-td": _repro_bigint_td,
    "bigint-td-score": _repro_bigint_td_score,
    "unhashable-id": _repro_unhashable_id,
    "coverage-nan": _coverage(math.nan),
    "coverage-inf": _coverage(math.inf),
    "coverage-negative": _coverage(-5),
    "suggest-unhashable": _repro_suggest_unhashable,
    "suggest-negative-seed": _repro_suggest_negative_seed,
    "suggest-binary-id": _repro_suggest_binary_id,
    "screen-parquet-dup-columns": _repro_screen_parquet_dup_columns,
}


def test_no_open_known_issues():
    """Every escape the harness found has been fixed; a new one must get a reproducer here."""
    assert KNOWN_ISSUES == ()


@pytest.mark.parametrize("issue_id", sorted(REPRODUCERS))
def test_fixed_escape_stays_fixed(issue_id, predictor, tmp_path):
    """Regression: each input that once let an undocumented exception escape now gets a documented error
    (or a valid result)."""
    REPRODUCERS[issue_id](predictor, tmp_path)


def test_score_predictions_huge_int_prediction_cell():
    """Found by a 10-minute harness run: a Python int beyond float range in a prediction column."""
    from mlglass.screen import score_predictions

    pred = pd.DataFrame({"id": ["a"], "tm_c": pd.Series([10**400], dtype=object), "tm_lo_c": [1.0],
                         "tm_hi_c": [2.0], "tg_c": [1.0], "tg_lo_c": [1.0], "tg_hi_c": [1.0], "p_melt": [0.5],
                         "error": [""]})
    assert np.isnan(_documented(lambda: score_predictions(pred))["score"].iloc[0])
