"""The merge of a screen: rank every row of the part files and write the output in rank order.

With bounded memory: only the sort keys of all rows (group, score, id,
:mod:`mlglass.screen.ranking`) are read back into one Arrow table and sorted
(stable, so ties keep input order), giving every row its global rank. Inputs of
up to 1.5 ``bucket_rows`` rows are then gathered in memory; larger ones are
distributed part by part into rank-range bucket files of about ``bucket_rows`` rows,
and each bucket is read, sorted and appended to the output in turn. Peak memory
is about the key table (~50 bytes per row plus the ids) plus one bucket, well
under 2 GB for 10 M rows.
"""

from __future__ import annotations

import collections
import contextlib
import io
import math
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from mlglass._progress import row_progress
from mlglass.io import TEXT_DECIMALS, atomic_write, escape_arrow_table, escape_header
from mlglass.schema import PLOT_COLUMNS
from mlglass.screen.checkpoint import maybe_kill
from mlglass.screen.ranking import sort_keys, with_rank

__all__ = ["KeptParts", "OutputWriter", "write_ranked", "plot_selection", "merge_parts", "write_empty", "part_schema",
           "conform"]


class OutputWriter:
    """Streams Arrow tables to the final CSV/Parquet file through one atomic write.

    :meth:`encode` (escaping, rounding and, for text output, formatting the CSV bytes) is pure
    and runs in worker threads (:func:`write_ranked`); :meth:`put` appends in order.
    """

    def __init__(self, path: Path, fmt: str, schema: pa.Schema, stack: contextlib.ExitStack):
        self.fmt = fmt
        self.fh = stack.enter_context(atomic_write(path, "wb"))
        if fmt == "parquet":
            self.writer = pq.ParquetWriter(self.fh, schema, compression="zstd")
        else:
            import pyarrow.csv as pacsv

            delimiter = "\t" if fmt == "tsv" else ","
            self._options = pacsv.WriteOptions(include_header=False, delimiter=delimiter)
            fields = [f.with_type(pa.float64()) if f.name in TEXT_DECIMALS and pa.types.is_floating(f.type) else f
                      for f in schema]
            self.schema = pa.schema([f.with_name(n) for f, n in zip(fields, escape_header(schema.names))])
            header = io.BytesIO()
            pacsv.write_csv(self.schema.empty_table(), header,
                            write_options=pacsv.WriteOptions(include_header=True, delimiter=delimiter))
            self.fh.write(header.getvalue())

    def encode(self, table: pa.Table) -> pa.Table | bytes:
        """The piece as it goes to the file: a table for Parquet, CSV bytes (no header) for text.

        Text output: spreadsheet-safe cells and headers, rounded predictions. Safe to call from threads.
        """
        if self.fmt == "parquet":
            return table
        import pyarrow.csv as pacsv

        table = escape_arrow_table(table)
        for name, nd in TEXT_DECIMALS.items():
            i = table.schema.get_field_index(name)
            if i >= 0 and pa.types.is_floating(table.schema.field(i).type):
                col = pc.round(pc.cast(table.column(i), pa.float64()), nd)
                table = table.set_column(i, pa.field(name, pa.float64()), col)
        table = table.rename_columns(self.schema.names)
        buf = io.BytesIO()
        pacsv.write_csv(table, buf, write_options=self._options)
        return buf.getvalue()

    def put(self, encoded: pa.Table | bytes) -> None:
        """Append one :meth:`encode` result (pieces in rank order)."""
        if isinstance(encoded, bytes):
            self.fh.write(encoded)
        else:
            self.writer.write_table(encoded)
        self.fh.flush()
        maybe_kill("merge")

    def write(self, table: pa.Table) -> None:
        """Append one table (:meth:`encode` then :meth:`put`)."""
        self.put(self.encode(table))

    def close(self) -> None:
        if self.fmt == "parquet":
            self.writer.close()


#: Threads of :func:`write_ranked` (Arrow's take, compute and CSV formatting release the GIL).
MERGE_THREADS = 2


def write_ranked(writer: OutputWriter, table: pa.Table, ranks: np.ndarray, piece_rows: int,
                 on_piece: Callable[[pa.Table], None]) -> None:
    """Append the rows of ``table`` to ``writer`` in the order of their 0-based global ``ranks``.

    Pieces of ``piece_rows`` rows (with their ``rank`` column) are gathered and encoded in
    :data:`MERGE_THREADS` threads, a few at a time, and appended in order; ``on_piece`` sees
    each piece, in order, before it is appended.
    """
    order = np.argsort(ranks, kind="stable")

    def build(start: int) -> tuple[pa.Table, pa.Table | bytes]:
        idx = order[start:start + piece_rows]
        piece = with_rank(table.take(pa.array(idx)), ranks[idx])
        return piece, writer.encode(piece)

    with ThreadPoolExecutor(max_workers=MERGE_THREADS, thread_name_prefix="mlglass-merge") as pool:
        pending: collections.deque[Future] = collections.deque()
        starts = iter(range(0, len(order), piece_rows))
        for start in starts:
            pending.append(pool.submit(build, start))
            if len(pending) > MERGE_THREADS:
                break
        while pending:
            piece, encoded = pending.popleft().result()
            nxt = next(starts, None)
            if nxt is not None:
                pending.append(pool.submit(build, nxt))
            on_piece(piece)
            writer.put(encoded)


class KeptParts:
    """Arrow tables of part files written in this run, kept for a merge in one bucket.

    :meth:`keep` (called from the chunk threads) holds tables until they add up to more
    than ``limit_rows`` rows; then it drops them all and keeps none (the merge reads the
    files, as it does for the parts of a resumed run).
    """

    def __init__(self, limit_rows: int):
        self.limit_rows = limit_rows
        self.tables: dict[int, pa.Table] = {}
        self._rows: int | None = 0
        self._lock = threading.Lock()

    def keep(self, idx: int, table: pa.Table) -> None:
        with self._lock:
            if self._rows is None:
                return
            self._rows += table.num_rows
            if self._rows > self.limit_rows:
                self.tables.clear()
                self._rows = None
            else:
                self.tables[idx] = table


def _read_part(j: int, path: Path, tables: dict[int, pa.Table] | None, columns: list[str] | None = None
               ) -> pa.Table:
    """Part ``j``: the kept table when there is one, else the file."""
    table = (tables or {}).get(j)
    if table is None:
        return pq.read_table(path, columns=columns, use_threads=False)
    return table if columns is None else table.select(columns)


def plot_selection(n: int, n_plottable: int, top_n: int, plot_rows: int, seed: int = 0) -> np.ndarray:
    """Which ranks (0-based) :attr:`ScreenResult.ranked` keeps: all of ``n`` rows if at most ``plot_rows``,
    else the first ``top_n`` plus a seeded uniform sample of the ``n_plottable`` rows without an error
    (which rank before the error rows), ``plot_rows`` in all."""
    keep = np.zeros(n, dtype=bool)
    if n <= plot_rows:
        keep[:] = True
        return keep
    head = min(top_n, plot_rows, n_plottable)
    keep[:head] = True
    rest = n_plottable - head
    k = min(rest, plot_rows - head)
    if k > 0:
        keep[head + np.random.default_rng(seed).choice(rest, size=k, replace=False)] = True
    return keep


def part_schema(schemas: list[pa.Schema]) -> pa.Schema:
    """One schema for part files whose columns differ (e.g. ``struct_*`` only in chunks with a CIF path).

    Columns keep their order; a column missing from earlier parts is placed after the column that
    precedes it in the first part holding it.
    """
    fields: list[pa.Field] = []
    names: list[str] = []
    for schema in schemas:
        pos = -1
        for f in schema.remove_metadata():
            if f.name in names:
                pos = names.index(f.name)
            else:
                pos += 1
                names.insert(pos, f.name)
                fields.insert(pos, f)
    return pa.schema(fields)


def conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """``table`` with the columns of ``schema``, in its order; a missing text column is ``""``, others null."""
    table = table.replace_schema_metadata(None)
    if table.schema.equals(schema):
        return table
    cols = []
    for f in schema:
        if f.name in table.column_names:
            cols.append(table[f.name])
        elif pa.types.is_string(f.type):
            cols.append(pa.array([""] * table.num_rows, type=f.type))
        else:
            cols.append(pa.nulls(table.num_rows, type=f.type))
    return pa.Table.from_arrays(cols, schema=schema)


def merge_parts(parts: list[Path], work: Path, output_path: Path, out_fmt: str, *, bucket_rows: int,
           write_rows: int, top_n: int, progress: bool, n_plottable: int,
           plot_rows: int, tables: dict[int, pa.Table] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rank all rows of the part files and write the output in rank order.

    ``tables`` maps part numbers (positions in ``parts``) to their tables, already in memory
    (:class:`KeptParts`); the other parts are read from their files.

    Returns
    -------
    top : pandas.DataFrame
        The best ``top_n`` rows without an error (all columns).
    ranked : pandas.DataFrame
        The plot columns of the rows :func:`plot_selection` keeps, in rank order.
    """
    rank_of, counts = sort_keys(parts, read=lambda j, p, cols: _read_part(j, p, tables, cols))
    n = int(counts.sum()) if len(counts) else 0
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    top: list[pd.DataFrame] = []
    need = [top_n]
    plotted = plot_selection(n, n_plottable, top_n, plot_rows)
    ranked: list[pd.DataFrame] = []

    def keep_plotted(t: pa.Table) -> None:
        mask = plotted[t.column("rank").to_numpy() - 1]
        if mask.any():
            cols = [c for c in (*PLOT_COLUMNS, "domain") if c in t.column_names]
            ranked.append(t.select(cols).filter(pa.array(mask)).to_pandas())

    def keep_top(t: pa.Table) -> None:
        if need[0] <= 0:
            return
        df = t.slice(0, min(t.num_rows, need[0] + 1024)).to_pandas()
        df = df[df["error"].astype(str).str.len() == 0].head(need[0])
        need[0] -= len(df)
        top.append(df)

    with row_progress(progress, "ranking", total=n) as bar, contextlib.ExitStack() as stack:
        if not parts:
            raise AssertionError("no parts to merge")  # pragma: no cover - caller handles empty input
        schema = part_schema([pq.read_schema(p) for p in parts])
        out_schema = pa.schema([pa.field("rank", pa.int64())] + [f for f in schema if f.name != "rank"])
        writer = OutputWriter(output_path, out_fmt, out_schema, stack)
        # about bucket_rows rows per bucket (at most 1.5 times as many): 1,000,010 rows are one bucket, not two
        n_buckets = max(1, round(n / bucket_rows))
        bucket_size = math.ceil(n / n_buckets)
        def on_piece(piece: pa.Table) -> None:
            keep_top(piece)
            keep_plotted(piece)
            bar.advance(piece.num_rows)

        if n_buckets == 1:
            table = pa.concat_tables([conform(_read_part(j, p, tables), schema) for j, p in enumerate(parts)])
            write_ranked(writer, table, rank_of, write_rows, on_piece)
            del table
        else:
            bucket_paths = [work / f"bucket-{b:04d}.parquet" for b in range(n_buckets)]
            with contextlib.ExitStack() as bstack:
                bwriters = []
                for bp in bucket_paths:
                    fh = bstack.enter_context(atomic_write(bp, "wb"))
                    bwriters.append(pq.ParquetWriter(fh, out_schema, compression="lz4"))
                for j, path in enumerate(parts):
                    t = conform(pq.read_table(path, use_threads=False), schema)
                    ranks = rank_of[offsets[j]:offsets[j + 1]]
                    bucket = ranks // bucket_size
                    order = np.argsort(bucket, kind="stable")
                    bounds = np.searchsorted(bucket[order], np.arange(n_buckets + 1))
                    for b in range(n_buckets):
                        lo, hi = bounds[b], bounds[b + 1]
                        if hi > lo:
                            idx = order[lo:hi]
                            bwriters[b].write_table(with_rank(t.take(pa.array(idx)), ranks[idx]))
                for w in bwriters:
                    w.close()
            for bp in bucket_paths:
                t = pq.read_table(bp, use_threads=False)
                write_ranked(writer, t, t.column("rank").to_numpy() - 1, write_rows, on_piece)
                del t
                bp.unlink()
        writer.close()
    return (pd.concat(top, ignore_index=True) if top else pd.DataFrame(),
            pd.concat(ranked, ignore_index=True) if ranked else pd.DataFrame(columns=list(PLOT_COLUMNS)))


def write_empty(output_path: Path, out_fmt: str, columns: list[str]) -> None:
    from mlglass.schema import SCREEN_COLUMNS
    from mlglass.screen.chunks import frame_to_table

    cols = ["id"] if "id" not in columns else []
    cols += [c for c in columns if c != "rank"] + list(SCREEN_COLUMNS)
    seen: list[str] = []
    for c in cols:
        if c not in seen:
            seen.append(c)
    frame = pd.DataFrame({c: pd.Series([], dtype=object) for c in seen})
    table = frame_to_table(frame)
    schema = pa.schema([pa.field("rank", pa.int64())] + list(table.schema))
    with contextlib.ExitStack() as stack:
        w = OutputWriter(output_path, out_fmt, schema, stack)
        w.write(with_rank(table, np.zeros(0, dtype=np.int64)))
        w.close()
