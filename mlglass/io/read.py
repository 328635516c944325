"""Reading tables: whole (:func:`read_table`), in chunks (:func:`read_chunks`) or only the header.

CSV (``.csv``/``.txt``, comma), TSV (``.tsv``) and Parquet (``.parquet``/``.pq``)
are read the same way on every path: every column as Python ``str``, a missing
cell as ``""``, numbers as their text (a Parquet ``1.0`` reads as ``"1"``, as a
CSV cell ``1`` does; :func:`stringify_frame`). Parsing the text into records is
the job of :mod:`mlglass.records`.
"""

from __future__ import annotations

import csv
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlglass.errors import SchemaError
from mlglass.schema import check_unique_columns

__all__ = ["read_table", "read_chunks", "read_header", "table_format", "stringify_frame", "cell_text", "float_text",
           "check_csv_fields",
           "MAX_COLUMNS", "PARQUET_SUFFIXES", "TEXT_SUFFIXES"]

#: Widest candidate table accepted (columns); wider tables are refused before any work.
MAX_COLUMNS = 2000
#: Extensions read as Parquet.
PARQUET_SUFFIXES = (".parquet", ".pq")
#: Extensions read as delimited text (``.tsv``: tab, the others: comma).
TEXT_SUFFIXES = (".csv", ".txt", ".tsv")


def table_format(path: str | os.PathLike, field_name: str = "path") -> str:
    """``"csv"``, ``"tsv"`` or ``"parquet"`` from the file extension.

    Raises
    ------
    mlglass.errors.SchemaError
        Any other extension (named as ``field_name``).
    """
    suffix = Path(path).suffix.lower()
    if suffix in (".csv", ".txt"):
        return "csv"
    if suffix == ".tsv":
        return "tsv"
    if suffix in PARQUET_SUFFIXES:
        return "parquet"
    raise SchemaError(field_name, str(path), "expected a .csv or .parquet file")


def stringify_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Every column as Python ``str`` (missing -> ``""``, ``1.0`` -> ``"1"``), as the CSV reader gives them.

    Raises
    ------
    mlglass.errors.SchemaError
        A column name appears twice.
    """
    check_unique_columns(frame)
    out = {}
    for col in frame.columns:
        s = frame[col]
        if pd.api.types.is_string_dtype(s.dtype) and not s.isna().any() and \
                (s.dtype != object or s.map(lambda v: isinstance(v, str)).all()):
            out[str(col)] = s
            continue
        obj = s.astype(object)
        out[str(col)] = obj.where(s.notna(), "").map(cell_text)
    return pd.DataFrame(out, index=frame.index)


def cell_text(v: Any) -> str:
    """One cell as the CSV reader gives it: bytes decoded, whole floats without ``.0`` (``1.0`` -> ``"1"``)."""
    if isinstance(v, str):
        return v
    if isinstance(v, bytes):
        return v.decode("utf-8", errors="replace")
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    return str(v)


def float_text(values: np.ndarray) -> np.ndarray:
    """:func:`cell_text` of every float of ``values`` (NaN -> ``""``), vectorised; an object array of ``str``."""
    values = np.asarray(values, dtype=float)
    if len(values) > 4096:  # predictions repeat (one value per tree class): format each distinct value once
        codes, uniques = pd.factorize(values)  # NaN -> -1
        if len(uniques) < len(values) // 2:
            texts = np.append(float_text(np.asarray(uniques, dtype=float)), "").astype(object)
            return texts[codes]
    out = np.array([str(v) for v in values.tolist()], dtype=object)
    whole = np.isfinite(values) & (np.floor(values) == values)
    small = whole & (np.abs(values) < 2.0 ** 53)
    if small.any():
        out[small] = np.char.mod("%d", values[small].astype(np.int64)).astype(object)
    for i in np.flatnonzero(whole & ~small):
        out[i] = str(int(values[i]))
    out[np.isnan(values)] = ""
    return out


def _fields_agree_arrow(path: str | os.PathLike, sep: str) -> bool:
    """True if Arrow's multithreaded CSV parser finds every row as wide as the first, at most
    :data:`MAX_COLUMNS` wide (the fast path of :func:`check_csv_fields`; any doubt -> False).

    Same rules as :mod:`csv` for what the check needs: RFC 4180 quoting (quoted delimiters and
    line breaks), blank lines skipped, a UTF-8 byte-order mark ignored.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    bad: list[object] = []

    def invalid(row: object) -> str:
        bad.append(row)
        return "skip"

    try:
        reader = pacsv.open_csv(
            path, read_options=pacsv.ReadOptions(autogenerate_column_names=True, block_size=1 << 24),
            parse_options=pacsv.ParseOptions(delimiter=sep, newlines_in_values=True, invalid_row_handler=invalid),
            convert_options=pacsv.ConvertOptions(include_columns=["f0"], column_types={"f0": pa.string()}))
        for _ in reader:
            if bad:
                return False
        width = len(pacsv.open_csv(path, read_options=pacsv.ReadOptions(autogenerate_column_names=True,
                                                                          block_size=1 << 16),
                                   parse_options=pacsv.ParseOptions(delimiter=sep, newlines_in_values=True)
                                   ).schema)
    except (pa.ArrowException, OSError, ValueError):
        return False
    return not bad and width <= MAX_COLUMNS


def check_csv_fields(path: str | os.PathLike, *, sep: str = ",", encoding: str = "utf-8-sig",
                     field: str = "path") -> None:
    """Refuse a CSV whose data rows do not have as many fields as its header.

    pandas silently turns extra leading fields of the first data row into an
    index (every column shifts) and pads short rows; this check reads the file
    once with :mod:`csv` (same quoting rules, blank lines skipped) first.
    Files the csv module cannot read are left to the table reader's own errors. Arrow's
    multithreaded parser checks first; only a file it finds fault with (or cannot read) is read
    again with :mod:`csv`, which names the row.

    Raises
    ------
    mlglass.errors.SchemaError
        Naming the first bad data row (1-based, and its line), its field
        count and the header's, plus how many rows are bad.
    """
    if _fields_agree_arrow(path, sep):
        return
    old_limit = csv.field_size_limit()
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    try:
        with open(path, newline="", encoding=encoding) as fh:
            reader = csv.reader(fh, delimiter=sep)
            header = next(reader, None)
            if header is None:
                return
            if len(header) > MAX_COLUMNS:
                raise SchemaError(field, str(path), f"the header has {len(header):,} columns; at most "
                                                    f"{MAX_COLUMNS:,} are accepted")
            width, row, first, n_bad = len(header), 0, None, 0
            for fields in reader:
                if not fields:
                    continue  # blank line: skipped by the readers too
                row += 1
                if len(fields) != width:
                    n_bad += 1
                    if first is None:
                        first = (row, reader.line_num, len(fields))
    except (csv.Error, UnicodeDecodeError, OSError):
        return
    finally:
        csv.field_size_limit(old_limit)
    if first is not None:
        row, line, n = first
        more = f"; {n_bad} rows in all have the wrong number of fields" if n_bad > 1 else ""
        raise SchemaError(field, str(path), f"data row {row} (line {line}) has {n} fields but the header has "
                                            f"{width}{more}; quote cells that contain the delimiter")


def read_table(path: str | os.PathLike, *, field: str = "path", columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Read a whole CSV (comma; the delimiter is not guessed), TSV or Parquet table as text.

    Parameters
    ----------
    path : path-like
        The table.
    field : str
        Name of the path in error messages.
    columns : sequence of str, optional
        Read only these columns (those the file lacks are left out).

    Returns
    -------
    pandas.DataFrame
        Every column ``str``; missing cells ``""``.

    Raises
    ------
    mlglass.errors.SchemaError
        Unreadable file, unknown extension, not UTF-8, or rows whose field count differs from the header's.
    """
    path = Path(path)
    fmt = table_format(path, field)
    try:
        if fmt == "parquet":
            if columns is not None:
                import pyarrow.parquet as pq

                present = set(pq.ParquetFile(path).schema_arrow.names)
                return stringify_frame(pd.read_parquet(path, columns=[c for c in columns if c in present]))
            return stringify_frame(pd.read_parquet(path))
        sep = "\t" if fmt == "tsv" else ","
        check_csv_fields(path, sep=sep, field=field)  # a row with extra fields would silently shift every column
        wanted = None if columns is None else set(columns)
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, sep=sep, encoding="utf-8-sig", index_col=False,
                            usecols=None if wanted is None else (lambda c: c in wanted))
        check_unique_columns(frame)
        return frame
    except SchemaError:
        raise
    except FileNotFoundError:
        raise SchemaError(field, str(path), "file not found") from None
    except UnicodeDecodeError as err:
        raise SchemaError(field, str(path), f"file is not UTF-8 text ({err.reason} at byte {err.start})") from None
    except pd.errors.EmptyDataError:
        raise SchemaError(field, str(path), "file is empty (no header row)") from None
    except (pd.errors.ParserError, ValueError, OSError) as err:
        raise SchemaError(field, str(path), f"cannot read table: {err}") from None
    except Exception as err:  # noqa: BLE001 - pyarrow errors (ArrowException) on a corrupt Parquet file
        raise SchemaError(field, str(path), f"cannot read table: {err}") from None


def read_header(path: str | os.PathLike, *, field: str = "input_path") -> list[str]:
    """Column names of a CSV/TSV/Parquet table, reading only its header.

    Raises
    ------
    mlglass.errors.SchemaError
        Unknown extension, missing, empty or unreadable file (not UTF-8, bad quoting), or wider than
        :data:`MAX_COLUMNS`.
    """
    import pyarrow.parquet as pq

    path = Path(path)
    fmt = table_format(path, field)
    try:
        if fmt == "parquet":
            return [str(c) for c in pq.ParquetFile(path).schema_arrow.names]
        sep = "\t" if fmt == "tsv" else ","
        with open(path, newline="", encoding="utf-8-sig") as fh:  # width first: pandas is slow on 100k columns
            first = next(csv.reader(fh, delimiter=sep), None)
        if first is not None and len(first) > MAX_COLUMNS:
            raise SchemaError(field, str(path), f"the table has {len(first):,} columns; at most "
                                                f"{MAX_COLUMNS:,} are accepted")
        return [str(c) for c in pd.read_csv(path, nrows=0, dtype=str, sep=sep, encoding="utf-8-sig").columns]
    except FileNotFoundError:
        raise SchemaError(field, str(path), "file not found") from None
    except pd.errors.EmptyDataError:
        raise SchemaError(field, str(path), "file is empty (no header row)") from None
    except SchemaError:
        raise
    except Exception as err:  # noqa: BLE001 - UnicodeDecodeError, ParserError, ArrowException, csv.Error
        raise SchemaError(field, str(path), f"cannot read table: {err}") from None


def read_chunks(path: str | os.PathLike, chunk_size: int, *, field: str = "input_path") -> Iterator[pd.DataFrame]:
    """Yield the rows of a CSV/TSV/Parquet file in chunks of exactly ``chunk_size`` rows (the last may be short).

    Every column is text (``str``; missing cells ``""``), as :func:`read_table` gives. An empty
    CSV file yields nothing. Unlike :func:`read_table`, short CSV rows are padded with ``""``
    rather than refused (the file is read once, in one pass).

    Raises
    ------
    mlglass.errors.SchemaError
        Unreadable file (reported with the number of rows read before the failure).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    fmt = table_format(path, field)
    n_done = 0
    try:
        if fmt == "parquet":
            pf = pq.ParquetFile(path)
            buf: list[pa.RecordBatch] = []
            buffered = 0
            for batch in pf.iter_batches(batch_size=chunk_size):
                buf.append(batch)
                buffered += batch.num_rows
                while buffered >= chunk_size:
                    table = pa.Table.from_batches(buf)
                    head, rest = table.slice(0, chunk_size), table.slice(chunk_size)
                    yield stringify_frame(head.to_pandas())
                    n_done += chunk_size
                    buf, buffered = rest.to_batches(), rest.num_rows
            if buffered:
                yield stringify_frame(pa.Table.from_batches(buf).to_pandas())
        else:
            sep = "\t" if fmt == "tsv" else ","
            reader = pd.read_csv(path, chunksize=chunk_size, dtype=str, keep_default_na=False, sep=sep,
                                 encoding="utf-8-sig", index_col=False)
            with reader:
                for chunk in reader:
                    yield chunk
                    n_done += len(chunk)
    except FileNotFoundError:
        raise SchemaError(field, str(path), "file not found") from None
    except UnicodeDecodeError as err:
        raise SchemaError(field, str(path), f"file is not UTF-8 text after row {n_done} ({err.reason})") from None
    except pd.errors.EmptyDataError:
        return
    except (pd.errors.ParserError, pa.ArrowException, ValueError, OSError) as err:
        raise SchemaError(field, str(path), f"cannot read the table after row {n_done}: {err}") from None
