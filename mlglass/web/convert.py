"""DataFrames to JSON-safe rows (NaN and infinities become ``null``, numpy scalars plain Python)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["frame_to_rows", "json_value"]


def json_value(v: Any) -> Any:
    """One cell as a JSON value."""
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        f = float(v)
        return f if math.isfinite(f) else None
    if isinstance(v, str):
        return v
    if isinstance(v, dict):
        return {str(k): json_value(x) for k, x in v.items()}
    if isinstance(v, (list, tuple, np.ndarray)):
        return [json_value(x) for x in v]
    return str(v)


def frame_to_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Every row of ``frame`` as a dict over every column, in column order."""
    cols = [str(c) for c in frame.columns]
    return [{c: json_value(v) for c, v in zip(cols, row)} for row in frame.itertuples(index=False, name=None)]
