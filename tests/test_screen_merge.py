"""The merge of part files whose columns differ (structure descriptors only in chunks with a CIF path)."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from mlglass.screen import screen_file
from mlglass.screen.merge import conform, part_schema

REPO = Path(__file__).resolve().parents[1]
SHARED_CIFS = Path(os.environ.get("MLGLASS_SHARED_DIR", REPO.parent / "shared" / "cifs"))


def test_part_schema_keeps_each_column_next_to_its_neighbours():
    a = pa.schema([("id", pa.string()), ("input_row", pa.int64()), ("tm_c", pa.float64())])
    b = pa.schema([("id", pa.string()), ("input_row", pa.int64()), ("struct_x", pa.string()),
                   ("sg_y", pa.string()), ("tm_c", pa.float64())])
    want = ["id", "input_row", "struct_x", "sg_y", "tm_c"]
    assert part_schema([a, b]).names == want and part_schema([b, a]).names == want
    t = conform(pa.table({"id": ["r1"], "input_row": [1], "tm_c": [None]},
                         schema=a), part_schema([a, b]))
    assert t.schema.names == want and t["struct_x"].to_pylist() == [""] and t["tm_c"].to_pylist() == [None]


@pytest.mark.skipif(not (SHARED_CIFS / "ZIF-8.cif").exists(), reason="shared CIFs not available")
@pytest.mark.parametrize("out_name, bucket_rows", [("out.csv", 500_000), ("out.parquet", 2)])
def test_cif_rows_in_some_chunks_only(tiny_predictor, tmp_path, monkeypatch, out_name, bucket_rows):
    monkeypatch.setenv("MLGLASS_CACHE_DIR", str(tmp_path / "cache"))
    rows = [{"id": "zif8", "metal": "", "ligands": "", "cif": str(SHARED_CIFS / "ZIF-8.cif")},
            {"id": "a", "metal": "Zn", "ligands": "Im:2", "cif": ""},
            {"id": "b", "metal": "Co", "ligands": "Im:2", "cif": ""},
            {"id": "c", "metal": "Zn", "ligands": "Im:1.5;bIm:0.5", "cif": ""}]
    src = tmp_path / "in.csv"
    pd.DataFrame(rows).to_csv(src, index=False)
    res = screen_file(src, tmp_path / out_name, tiny_predictor, chunk_size=2, top_n=4, bucket_rows=bucket_rows,
                      progress=False)
    out = pd.read_csv(tmp_path / out_name, dtype=str, keep_default_na=False) if out_name.endswith(".csv") \
        else pd.read_parquet(tmp_path / out_name)
    assert res.n_chunks == 2 and len(out) == 4 and sorted(out["id"]) == ["a", "b", "c", "zif8"]
    cols = list(out.columns)
    struct = [c for c in cols if c.startswith(("struct_", "sg_"))]
    assert any(c.startswith("struct_") for c in struct) and any(c.startswith("sg_") for c in struct)
    assert cols.index("input_row") < cols.index(struct[0]) < cols.index("tm_c")  # beside the input, as in a part
    rows_without = out[out["id"] != "zif8"]
    assert (rows_without[struct] == "").all().all()  # no structure: blank, as text columns are
    assert (out.loc[out["id"] == "zif8", struct] != "").any(axis=1).all()


def test_kept_parts_drop_everything_past_the_limit():
    """The merge reuses this run's part tables only while they fit one bucket; past the limit it reads every file."""
    import pyarrow as pa

    from mlglass.screen.merge import KeptParts

    kept = KeptParts(limit_rows=5)
    kept.keep(0, pa.table({"x": [1, 2, 3]}))
    kept.keep(1, pa.table({"x": [4, 5]}))
    assert sorted(kept.tables) == [0, 1]
    kept.keep(2, pa.table({"x": [6]}))
    assert kept.tables == {}
    kept.keep(3, pa.table({"x": [7]}))  # stays off: a partial set would be as good as none
    assert kept.tables == {}
