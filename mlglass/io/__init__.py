"""Files in and out, in one place.

* :mod:`mlglass.io.read` - read a table whole (:func:`read_table`), in chunks
  (:func:`read_chunks`) or only its header, with the same text values on every path.
* :mod:`mlglass.io.write` - write a table atomically (:func:`write_table`) with the one
  spreadsheet-escaping rule (:func:`escape_text`, vectorised for pandas and Arrow).
* :mod:`mlglass.io.files` - atomic writes of any file, output-path checks, output locks,
  clean termination on SIGTERM.

The column lists and the blank-cell rule are in :mod:`mlglass.schema`.
"""

from mlglass.io.files import (
    TABLE_SUFFIXES,
    OutputLockedError,
    atomic_write,
    atomic_write_bytes,
    atomic_write_text,
    check_output_path,
    output_lock,
    terminate_cleanly,
)
from mlglass.io.read import (
    MAX_COLUMNS,
    PARQUET_SUFFIXES,
    TEXT_SUFFIXES,
    cell_text,
    check_csv_fields,
    float_text,
    read_chunks,
    read_header,
    read_table,
    stringify_frame,
    table_format,
)
from mlglass.io.write import (
    FORMULA_PREFIXES,
    PLAIN_NUMBER,
    TEXT_DECIMALS,
    escape_arrow_table,
    escape_header,
    escape_spreadsheet_formulas,
    escape_text,
    round_for_text,
    write_table,
)

__all__ = [
    "read_table", "read_chunks", "read_header", "table_format", "stringify_frame", "cell_text", "float_text",
    "check_csv_fields",
    "write_table", "escape_text", "escape_header", "escape_spreadsheet_formulas", "escape_arrow_table",
    "round_for_text", "atomic_write", "atomic_write_text", "atomic_write_bytes", "check_output_path",
    "output_lock", "OutputLockedError", "terminate_cleanly", "MAX_COLUMNS", "TABLE_SUFFIXES",
    "PARQUET_SUFFIXES", "TEXT_SUFFIXES", "FORMULA_PREFIXES", "PLAIN_NUMBER", "TEXT_DECIMALS",
]
