"""Deprecated import path: the file helpers are in :mod:`mlglass.io` (kept while other branches still import here)."""

from mlglass.io.files import (  # noqa: F401
    TABLE_SUFFIXES,
    OutputLockedError,
    atomic_write,
    atomic_write_bytes,
    atomic_write_text,
    check_output_path,
    output_lock,
    terminate_cleanly,
)
from mlglass.io.read import MAX_COLUMNS, check_csv_fields  # noqa: F401
