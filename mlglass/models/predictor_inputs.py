"""Inputs of :class:`~mlglass.models.predictor.GlassPredictor`: where the bundled models are, and checks
of the arguments and columns it reads (coverage, ``td_c``, numbers, the accepted input kinds).
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlglass.records import CompoundRecord

__all__ = ["default_model_dir", "check_coverage", "numeric_column", "checked_td", "as_candidate_frame"]


def default_model_dir() -> Path:
    """Folder of the bundled models (``MLGLASS_MODEL_DIR`` overrides)."""
    env = os.environ.get("MLGLASS_MODEL_DIR")
    if env:
        return Path(env)
    from mlglass._bundled import bundled_dir

    return bundled_dir("models")


def check_coverage(coverage: Any) -> float:
    """Validate a nominal interval coverage (0 < coverage < 1).

    Raises
    ------
    RecordError
    """
    from mlglass.errors import RecordError

    try:
        c = float(coverage)
    except (TypeError, ValueError, OverflowError):
        raise RecordError("coverage", coverage, "must be a number between 0 and 1, e.g. 0.8") from None
    if not 0 < c < 1:
        raise RecordError("coverage", coverage, "must be strictly between 0 and 1, e.g. 0.8")
    return c


def numeric_column(series: pd.Series) -> np.ndarray:
    """A column as float64; cells that are not finite-able numbers (text, huge ints, lists) become NaN."""
    def one(v: Any) -> float:
        if isinstance(v, bool):
            return np.nan
        try:
            return float(v)
        except (TypeError, ValueError, OverflowError):
            return np.nan

    if pd.api.types.is_float_dtype(series.dtype):
        return series.to_numpy(dtype=float)
    return np.array([one(v) for v in series.tolist()], dtype=float)


def checked_td(series: pd.Series, row_labels: list[Any]) -> tuple[np.ndarray, list[str]]:
    """Decomposition temperatures (degC) of a ``td_c`` column and a per-row error message.

    Blank cells mean unknown (NaN, no error). Any other cell must be a finite
    number between -273.15 and 3000 degC; otherwise its row gets an error naming
    the field and the value, and its ``td_c`` is NaN.
    """
    from mlglass.errors import RecordError

    values = np.array(numeric_column(series), dtype=float)  # a copy: never a view of the caller's frame
    errors = [""] * len(values)
    for i, (raw, v) in enumerate(zip(series.tolist(), values)):
        blank = raw is None or (isinstance(raw, float) and math.isnan(raw)) or (isinstance(raw, str)
                                                                                 and not raw.strip())
        if blank:
            values[i] = np.nan
        elif not (math.isfinite(v) and -273.15 <= v <= 3000.0):
            err = RecordError("td_c", raw, "decomposition temperature must be a number of degC between -273.15 "
                                           "and 3000, or blank if unknown", row=row_labels[i])
            errors[i] = str(err)
            values[i] = np.nan
    return values, errors


def as_candidate_frame(X: Any) -> pd.DataFrame:
    """Turn a DataFrame, a list of formulas or a list of records into a candidate table."""
    if isinstance(X, pd.DataFrame):
        return X
    if isinstance(X, (str, CompoundRecord)):
        X = [X]
    items = list(X)
    if all(isinstance(x, str) for x in items):
        return pd.DataFrame({"id": items, "formula": items})
    if all(isinstance(x, CompoundRecord) for x in items):
        return pd.DataFrame([r.to_row() for r in items])
    raise TypeError("predict() takes a DataFrame in the candidate schema, a list of formulas or a list of "
                    "CompoundRecord objects")
