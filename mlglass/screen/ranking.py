"""The global order of a screen's rows: sort keys, ranks.

Rows passing the constraints rank first, then the other rows without an error,
then error rows; within a group by ``score`` (descending, missing last), then
``id`` (ascending, code-point order), then input order. The merge
(:func:`sort_keys`) and each chunk's choice of its best rows
(:mod:`mlglass.screen.top_rows`) use the same keys (:func:`order_keys`), so a
chunk's best rows contain every row of the global top that comes from it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

__all__ = ["KEY_COLUMNS", "SORT_KEYS", "order_keys", "sort_keys", "with_rank"]

#: Columns of a scored table the order depends on.
KEY_COLUMNS = ("id", "score", "passes_constraints", "error")
#: Sort keys of :func:`order_keys`' table (ties keep input order: sort stably, or add the input row).
SORT_KEYS = [("g", "ascending"), ("s", "descending"), ("id", "ascending")]


def order_keys(table: pa.Table) -> pa.Table:
    """The sort keys of a scored Arrow table (part-file schema).

    Returns
    -------
    pyarrow.Table
        ``g`` (int8: 0 passing, 1 failing the constraints, 2 error row), ``s`` (float64 score,
        -inf when missing) and ``id`` (string, "" when missing), one row per input row.
    """
    err = pc.greater(pc.utf8_length(pc.fill_null(table["error"], "")), 0).to_numpy(zero_copy_only=False)
    passes = pc.fill_null(table["passes_constraints"], False).to_numpy(zero_copy_only=False)
    g = np.where(err, 2, np.where(passes, 0, 1)).astype(np.int8)
    s = pc.fill_null(table["score"], -math.inf).to_numpy(zero_copy_only=False).astype(float)
    s = np.where(np.isfinite(s), s, -math.inf)
    ids = pc.fill_null(table["id"], "")
    return pa.table({"g": g, "s": s, "id": ids.cast(pa.string())})


def sort_keys(parts: list[Path], read: Callable[[int, Path, list[str]], pa.Table] | None = None
              ) -> tuple[np.ndarray, np.ndarray]:
    """Global rank of every row (concatenated part order) and the row counts of the parts.

    ``read(j, path, columns)`` gives those columns of part ``j`` (default: read the file).
    """
    if not parts:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    tables, counts = [], []
    for j, path in enumerate(parts):
        cols = list(KEY_COLUMNS)
        tables.append(order_keys(read(j, path, cols) if read is not None else pq.read_table(path, columns=cols)))
        counts.append(tables[-1].num_rows)
    keys = pa.concat_tables(tables)
    del tables
    perm = pc.sort_indices(keys, sort_keys=SORT_KEYS)  # stable: ties keep input order
    del keys
    perm = perm.to_numpy().astype(np.int64, copy=False)
    rank_of = np.empty(len(perm), dtype=np.int64)
    rank_of[perm] = np.arange(len(perm), dtype=np.int64)
    return rank_of, np.asarray(counts, dtype=np.int64)


def with_rank(table: pa.Table, ranks: np.ndarray) -> pa.Table:
    """``table`` with a 1-based ``rank`` column first (from 0-based ``ranks``)."""
    if "rank" in table.column_names:
        table = table.drop(["rank"])
    return table.add_column(0, pa.field("rank", pa.int64()), pa.array(ranks + 1, type=pa.int64()))
