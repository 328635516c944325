"""Reading and writing candidate tables (CSV or Parquet by extension), atomically.

CSV output is spreadsheet-safe: a text cell that starts with ``=``, ``+``,
``-`` or ``@`` (which Excel/LibreOffice would evaluate as a formula) is
written with a leading apostrophe ``'``. Numbers are never altered (a
negative temperature stays a number). Parquet keeps values as they are.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from mlglass._io import atomic_write
from mlglass.datasets import read_table
from mlglass.errors import SchemaError

__all__ = ["read_table", "write_table", "escape_spreadsheet_formulas", "FORMULA_PREFIXES"]

FORMULA_PREFIXES = ("=", "+", "-", "@")


def escape_spreadsheet_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Copy of ``frame`` whose text cells starting with = + - @ get a leading apostrophe."""
    out = frame.copy()
    for col in out.columns:
        s = out[col]
        if s.dtype == object or pd.api.types.is_string_dtype(s):
            mask = s.map(lambda v: isinstance(v, str) and v.startswith(FORMULA_PREFIXES))
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
