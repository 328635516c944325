"""Reading and writing candidate tables (CSV or Parquet by extension), atomically.

CSV output is spreadsheet-safe: a text cell that starts with ``=``, ``+``,
``-``, ``@``, tab or carriage return (which Excel/LibreOffice would evaluate
as a formula) is written with a leading apostrophe ``'``, unless it is a plain
number: a negative temperature, as a number or as text, stays as it is.
Parquet keeps values as they are. The screen's streaming writer applies the
same rule (:data:`FORMULA_PREFIXES`, :data:`PLAIN_NUMBER`).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from mlglass._io import atomic_write
from mlglass.datasets import read_table
from mlglass.errors import SchemaError

__all__ = ["read_table", "write_table", "escape_spreadsheet_formulas", "FORMULA_PREFIXES", "PLAIN_NUMBER"]

#: First characters that make a spreadsheet treat a cell as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
#: Text cells matching this are plain numbers and are never escaped.
PLAIN_NUMBER = r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"
_PLAIN = re.compile(PLAIN_NUMBER)


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


def write_table(frame: pd.DataFrame, path: str | Path, *, escape_formulas: bool = True) -> Path:
    """Write ``frame`` to ``path`` (.csv or .parquet) atomically.

    Raises
    ------
    SchemaError
        Unknown extension.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        with atomic_write(path, "wb") as fh:
            frame.to_parquet(fh, index=False)
    elif suffix in (".csv", ".txt"):
        data = escape_spreadsheet_formulas(frame) if escape_formulas else frame
        with atomic_write(path, "w") as fh:
            data.to_csv(fh, index=False)
    else:
        raise SchemaError("output", str(path), "output must end in .csv or .parquet")
    return path
