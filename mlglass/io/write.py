"""Writing tables (CSV or Parquet by extension) atomically, with the one spreadsheet-escaping rule.

CSV output is spreadsheet-safe: a text cell that starts with ``=``, ``+``,
``-``, ``@``, tab or carriage return (which Excel/LibreOffice would evaluate
as a formula) is written with a leading apostrophe ``'``, unless it is a plain
number: a negative temperature, as a number or as text, stays as it is.
Column headers follow the same rule. A cell holding a bare carriage return
(which Python's csv module would leave unquoted, splitting the row for most
readers) makes the whole file quoted. Text outputs round the predicted
temperatures to 0.1 degC and probabilities to 3 decimals
(:data:`TEXT_DECIMALS`); Parquet keeps values as they are. The screen's
streaming writer applies the same rules to Arrow tables
(:func:`escape_arrow_table`, :data:`TEXT_DECIMALS`).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import pandas as pd

from mlglass.errors import SchemaError
from mlglass.io.files import atomic_write

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["write_table", "escape_text", "escape_spreadsheet_formulas", "escape_header", "escape_arrow_table",
           "round_for_text", "FORMULA_PREFIXES", "PLAIN_NUMBER", "TEXT_DECIMALS"]

#: First characters that make a spreadsheet treat a cell as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
#: Text cells matching this are plain numbers and are never escaped.
PLAIN_NUMBER = r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"
_PLAIN = re.compile(PLAIN_NUMBER)
#: Decimals kept in text (CSV) outputs: temperatures (degC) to 0.1, probabilities to 0.001.
TEXT_DECIMALS = {**{c: 1 for c in ("tm_c", "tm_lo_c", "tm_hi_c", "tg_c", "tg_lo_c", "tg_hi_c")}, "p_melt": 3}


def escape_text(v: str) -> str:
    """The spreadsheet rule for one text cell: ``'`` before a leading = + - @ tab CR, unless a plain number.

    >>> escape_text("=HYPERLINK(1)"), escape_text("-5.2"), escape_text("-x")
    ("'=HYPERLINK(1)", '-5.2', "'-x")
    """
    return "'" + v if v.startswith(FORMULA_PREFIXES) and not _PLAIN.match(v) else v


def escape_header(names: Iterable[object]) -> list[str]:
    """Column names with the spreadsheet-formula rule applied (``=x`` -> ``'=x``)."""
    return [escape_text(str(n)) for n in names]


def escape_arrow_table(table: pa.Table) -> pa.Table:
    """:func:`escape_text` on every cell of the string columns of an Arrow table (vectorised).

    Numeric columns (predictions, ``score``, ``rank``) are never touched; nulls become ``""``
    only in columns that needed an escape.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    prefixes = pa.array(list(FORMULA_PREFIXES), type=pa.string())
    for i, fld in enumerate(table.schema):
        if not (pa.types.is_string(fld.type) or pa.types.is_large_string(fld.type)):
            continue
        col = pc.fill_null(table.column(i), "")
        danger = pc.is_in(pc.utf8_slice_codeunits(col, 0, 1), value_set=prefixes)
        if not pc.any(danger).as_py():
            continue
        danger = pc.and_(danger, pc.invert(pc.match_substring_regex(col, PLAIN_NUMBER)))
        if pc.any(danger).as_py():
            fixed = pc.if_else(danger, pc.binary_join_element_wise(pa.scalar("'"), col, ""), col)
            table = table.set_column(i, fld, fixed)
    return table


def round_for_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Copy of ``frame`` with the numeric columns of :data:`TEXT_DECIMALS` rounded."""
    out = frame
    for col, nd in TEXT_DECIMALS.items():
        if col in frame.columns and pd.api.types.is_float_dtype(frame[col]):
            if out is frame:
                out = frame.copy()
            out[col] = frame[col].astype(float).round(nd)
    return out


def escape_spreadsheet_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Copy of ``frame`` whose text cells starting with = + - @ tab CR (and not plain numbers) get a ``'``."""
    out = frame.copy()
    for col in out.columns:
        s = out[col]
        if s.dtype == object or pd.api.types.is_string_dtype(s):
            mask = s.map(lambda v: isinstance(v, str) and v.startswith(FORMULA_PREFIXES) and not _PLAIN.match(v))
            if mask.any():
                out.loc[mask, col] = "'" + s[mask]
    return out


def _has_cr(frame: pd.DataFrame) -> bool:
    if any("\r" in str(c) for c in frame.columns):
        return True
    for col in frame.columns:
        s = frame[col]
        if s.dtype == object or pd.api.types.is_string_dtype(s):
            if s.map(lambda v: isinstance(v, str) and "\r" in v).any():
                return True
    return False


def write_table(frame: pd.DataFrame, path: str | Path, *, escape_formulas: bool = True) -> Path:
    """Write ``frame`` to ``path`` (.csv or .parquet) atomically.

    CSV: formula-like cells and headers escaped (unless ``escape_formulas=False``),
    every field quoted if any cell holds a carriage return, :data:`TEXT_DECIMALS`
    rounding. Replacing an existing file keeps its permission bits.

    Raises
    ------
    SchemaError
        Unknown extension, or the file cannot be written (the reason from the OS).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            with atomic_write(path, "wb") as fh:
                frame.to_parquet(fh, index=False)
        elif suffix in (".csv", ".txt"):
            data = round_for_text(frame)
            if escape_formulas:
                data = escape_spreadsheet_formulas(data)
                data.columns = escape_header(data.columns)
            quoting: Literal[0, 1] = csv.QUOTE_ALL if _has_cr(data) else csv.QUOTE_MINIMAL
            with atomic_write(path, "w") as fh:
                data.to_csv(fh, index=False, quoting=quoting)
        else:
            raise SchemaError("output", str(path), "output must end in .csv or .parquet")
    except OSError as err:
        raise SchemaError("output", str(path), f"cannot write the file ({err.strerror or err})") from None
    return path
