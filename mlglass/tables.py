"""Deprecated import path: table reading and writing are in :mod:`mlglass.io` (other branches still import here)."""

from mlglass.io.read import read_table  # noqa: F401
from mlglass.io.write import (  # noqa: F401
    FORMULA_PREFIXES,
    PLAIN_NUMBER,
    TEXT_DECIMALS,
    escape_header,
    escape_spreadsheet_formulas,
    round_for_text,
    write_table,
)
