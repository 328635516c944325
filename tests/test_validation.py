"""The dataset validator rejects each kind of bad cell with a clear message."""

import pandas as pd
import pytest

from mlglass.cli import main
from mlglass.datasets import read_table, summarize, validate_table

GOOD = {"id": "x1", "metal": "Zn", "ligands": "Im:2", "tm_c": "400", "tg_c": "300", "dimensionality": "3",
        "melts": "true", "route": "MQG"}


def problems_for(**changes):
    row = dict(GOOD, **changes)
    return validate_table(pd.DataFrame([row], dtype=str))


def test_good_row_passes():
    assert problems_for() == []


@pytest.mark.parametrize("changes,column,fragment", [
    ({"ligands": "Imm:2"}, "ligands", "not a ligand-library name"),
    ({"metal": "Qx"}, "metal", "not a chemical element"),
    ({"tm_c": "hot"}, "tm_c", "not a number"),
    ({"tm_c": "inf"}, "tm_c", "finite"),
    ({"tg_c": "-300"}, "tg_c", "absolute zero"),
    ({"tg_c": "450"}, "tg_c", "not below Tm"),
    ({"dimensionality": "5"}, "dimensionality", "0, 1, 2 or 3"),
    ({"ligands": "Im:-2"}, "ligands", "positive"),
    ({"melts": "maybe"}, "melts", "true, false"),
    ({"route": "baked"}, "route", "MQG"),
    ({"ligands": "c1cc[n-:2"}, "ligands", "SMILES"),
])
def test_each_bad_cell(changes, column, fragment):
    problems = problems_for(**changes)
    assert problems, changes
    p = problems[0]
    assert p.row == "x1" and p.column == column and fragment in p.reason
    assert "x1" in str(p) and column in str(p)


def test_duplicate_ids_and_missing_columns():
    frame = pd.DataFrame([GOOD, GOOD], dtype=str)
    assert any("duplicate" in p.reason for p in validate_table(frame))
    assert validate_table(pd.DataFrame({"id": ["a"]}))[0].column == "metal"


def test_every_bad_cell_listed():
    frame = pd.DataFrame([dict(GOOD, id="a", tm_c="x"), dict(GOOD, id="b"), dict(GOOD, id="c", metal="Qq")], dtype=str)
    rows = {p.row for p in validate_table(frame)}
    assert rows == {"a", "c"}


def test_bundled_dataset_is_valid_and_hash_matches(glasses):
    from mlglass.datasets import check_metadata_hash

    assert len(glasses) >= 60
    assert glasses["tm_c"].dtype == "float64" and str(glasses["melts"].dtype) == "boolean"
    assert check_metadata_hash()
    s = summarize(glasses)
    assert s["total"]["tm_c"] >= 55 and s["total"]["tg_c"] >= 40


def test_read_table_bom_and_bad_bytes(tmp_path):
    from mlglass.errors import SchemaError

    p = tmp_path / "bom.csv"
    p.write_bytes("\ufeffid,metal,ligands\nx,Zn,Im:2\n".encode("utf-8"))
    assert list(read_table(p).columns) == ["id", "metal", "ligands"]
    bad = tmp_path / "latin.csv"
    bad.write_bytes(b"id,metal,ligands\nx\xff,Zn,Im:2\n")
    with pytest.raises(SchemaError, match="UTF-8"):
        read_table(bad)
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(SchemaError, match="empty"):
        read_table(empty)


def test_cli_validate(tmp_path, capsys):
    good = tmp_path / "good.csv"
    pd.DataFrame([GOOD]).to_csv(good, index=False)
    assert main(["dataset", "validate", str(good)]) == 0
    bad = tmp_path / "bad.csv"
    pd.DataFrame([dict(GOOD, tg_c="500")]).to_csv(bad, index=False)
    assert main(["dataset", "validate", str(bad)]) == 1
    out = capsys.readouterr().out
    assert "tg_c" in out and "x1" in out
