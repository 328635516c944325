"""Issue 13: one ``mlglass.io`` - a table read as CSV, TSV or Parquet, whole or in chunks, gives the same
text values on every path; writes are atomic and follow one spreadsheet-escaping rule; one blank-cell rule."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from mlglass import io
from mlglass.errors import SchemaError
from mlglass.schema import blank_mask, is_blank

# a typed table with the awkward cases: whole floats, missing values, negative numbers, text that
# looks like a formula, unicode, white space, a Python bool
TYPED = pd.DataFrame({
    "id": ["a", "b", "c", "d", "e"],
    "metal": ["Zn", "Co", None, "Cu", "Zn"],
    "ligands": ["Im:2", "bIm:1;Im:1", "", "=cmd()", " Im : 2 "],
    "oxidation_state": [2.0, 2.0, np.nan, 1.0, 2.0],
    "dimensionality": [3, 3, 2, 1, 0],
    "td_c": [550.5, -12.25, np.nan, 1e-3, 400.0],
    "notes": ["μ-bridged", "-", "x,y", "line\nbreak", '"quoted"'],
})


def _writers(tmp_path):
    csv = tmp_path / "t.csv"
    TYPED.to_csv(csv, index=False)
    tsv = tmp_path / "t.tsv"
    TYPED.to_csv(tsv, index=False, sep="\t")
    parquet = tmp_path / "t.parquet"
    TYPED.to_parquet(parquet, index=False)
    return {"csv": csv, "tsv": tsv, "parquet": parquet}


def _readers():
    out = {
        "io.read_table": io.read_table,
        "io.read_chunks(2)": lambda p: pd.concat(list(io.read_chunks(p, 2)), ignore_index=True),
        "io.read_chunks(100)": lambda p: pd.concat(list(io.read_chunks(p, 100)), ignore_index=True),
    }
    from mlglass.datasets import read_table as dataset_read_table
    from mlglass.tables import read_table as tables_read_table

    out["datasets.read_table"] = dataset_read_table
    out["tables.read_table"] = tables_read_table
    try:  # the screen's own chunk reader (another branch may route it through mlglass.io)
        from mlglass.screen.stream import read_chunks as stream_chunks

        out["stream.read_chunks(2)"] = lambda p: pd.concat(list(stream_chunks(p, 2)), ignore_index=True)
    except ImportError:
        pass
    return out


def test_every_reader_gives_the_same_values(tmp_path):
    files = _writers(tmp_path)
    for fmt, path in files.items():
        reference = io.read_table(path)
        assert all(reference[c].map(type).eq(str).all() for c in reference.columns), fmt
        for name, read in _readers().items():
            got = read(path)
            assert list(got.columns) == list(TYPED.columns), (fmt, name)
            assert got.to_dict("list") == reference.to_dict("list"), (fmt, name)


def test_csv_tsv_and_parquet_give_the_same_values(tmp_path):
    tables = {fmt: io.read_table(path) for fmt, path in _writers(tmp_path).items()}
    csv = tables["csv"]
    assert csv.loc[1, "td_c"] == "-12.25" and csv.loc[2, "metal"] == "" and csv.loc[2, "oxidation_state"] == ""
    assert csv.loc[4, "ligands"] == " Im : 2 " and csv.loc[0, "notes"] == "μ-bridged"
    text = ["id", "metal", "ligands", "dimensionality", "notes"]
    for fmt, table in tables.items():
        assert table[text].to_dict("list") == csv[text].to_dict("list"), fmt
        for col in ("oxidation_state", "td_c"):  # a whole float is "2" from Parquet, "2.0" from pandas' CSV
            as_num = pd.to_numeric(table[col].replace("", np.nan))
            np.testing.assert_array_equal(as_num.to_numpy(), TYPED[col].to_numpy(), err_msg=f"{fmt} {col}")
    assert tables["parquet"].loc[0, "oxidation_state"] == "2"


def test_read_header_and_format(tmp_path):
    files = _writers(tmp_path)
    for fmt, path in files.items():
        assert io.read_header(path) == list(TYPED.columns)
        assert io.table_format(path) == fmt
    with pytest.raises(SchemaError, match="expected a .csv or .parquet"):
        io.table_format(tmp_path / "t.xlsx")


def test_unreadable_tables_name_the_file(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(SchemaError, match="empty") as info:
        io.read_table(empty)
    assert info.value.field == "path" and info.value.value == str(empty)
    assert list(io.read_chunks(empty, 10)) == []
    shifted = tmp_path / "shifted.csv"
    shifted.write_text("a,b\n1,2\n3,4,5\n")
    with pytest.raises(SchemaError, match="data row 2"):
        io.read_table(shifted)
    with pytest.raises(SchemaError, match="after row 0"):
        list(io.read_chunks(shifted, 10))
    latin = tmp_path / "latin.csv"
    latin.write_bytes("a\nZn\xe9\n".encode("latin-1"))
    with pytest.raises(SchemaError, match="UTF-8"):
        io.read_table(latin)
    with pytest.raises(SchemaError, match="not found"):
        io.read_table(tmp_path / "missing.csv", field="input")


def test_write_then_read_round_trips_and_escapes_once(tmp_path):
    frame = pd.DataFrame({"id": ["=1+1", "-5", "+x", "@a", "ok"], "tm_c": [301.26, -5.04, 1.0, 2.0, 3.0]})
    io.write_table(frame, tmp_path / "o.csv")
    back = io.read_table(tmp_path / "o.csv")
    assert back["id"].tolist() == ["'=1+1", "-5", "'+x", "'@a", "ok"]  # plain numbers stay as they are
    assert back["tm_c"].tolist() == ["301.3", "-5.0", "1.0", "2.0", "3.0"]  # degC to 0.1 in text
    io.write_table(frame, tmp_path / "o.parquet")
    assert pd.read_parquet(tmp_path / "o.parquet").equals(frame)  # Parquet keeps values as they are
    assert [io.escape_text(v) for v in frame["id"]] == back["id"].tolist()


def test_arrow_and_pandas_escapes_are_one_rule():
    cells = ["=SUM(A1)", "-5", "-5e3", "-x", "+", "@", "\tx", "\rx", "plain", "", "1-2"]
    table = io.escape_arrow_table(pa.table({"c": cells, "n": list(range(len(cells)))}))
    frame = io.escape_spreadsheet_formulas(pd.DataFrame({"c": cells}))
    expected = [io.escape_text(c) for c in cells]
    assert table.column("c").to_pylist() == expected == frame["c"].tolist()
    assert expected[:4] == ["'=SUM(A1)", "-5", "-5e3", "'-x"]
    assert io.escape_header(["=h", "ok"]) == ["'=h", "ok"]


def test_atomic_write_leaves_the_old_file_on_failure(tmp_path):
    target = tmp_path / "keep.txt"
    io.atomic_write_text(target, "old")
    with pytest.raises(RuntimeError):
        with io.atomic_write(target, "w") as fh:
            fh.write("half")
            raise RuntimeError("killed")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]  # no temporary file left


def test_blank_cell_rule():
    blanks = [None, float("nan"), np.float32("nan"), pd.NA, pd.NaT, "", "   ", "\t"]
    filled = ["x", " Zn ", 0, 0.0, False, "nan"]
    assert all(is_blank(v) for v in blanks)
    assert not any(is_blank(v) for v in filled)
    series = pd.Series(blanks + filled, dtype=object)
    assert blank_mask(series).tolist() == [True] * len(blanks) + [False] * len(filled)
    assert blank_mask(pd.Series([1.0, math.nan])).tolist() == [False, True]
    assert blank_mask(pd.Series(["a", None, " "], dtype="string")).tolist() == [False, True, True]


def test_float_text_of_repeated_values_equals_cell_text():
    import numpy as np

    from mlglass.io.read import cell_text, float_text

    rng = np.random.default_rng(0)
    pool = np.r_[rng.normal(300, 100, 500), np.nan, 3.0, 1e17, -0.0, 2.0 ** 60, 0.1]
    values = np.concatenate([rng.choice(pool, 20_000), rng.normal(size=50)])  # the distinct-value path
    expected = [cell_text(v) if v == v else "" for v in values.tolist()]
    assert float_text(values).tolist() == expected
    assert float_text(values[:100]).tolist() == expected[:100]  # the direct path
