"""The per-chunk work of a screen: predict, score, write one part file.

:func:`_process_chunk` is the one function every execution path (in-process,
local worker processes, dask workers) runs on a chunk of input rows, so all
paths give identical rows. Tests monkeypatch it to simulate interruptions.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from mlglass.io import atomic_write, cell_text, float_text, stringify_frame
from mlglass.schema import PREDICTION_NUMERIC_COLUMNS
from mlglass.screen.scoring import ScoreOptions, score_predictions

__all__ = ["PREDICTION_COLUMNS", "FLOAT_COLUMNS", "process_chunk", "write_part",
           "frame_to_table", "stringify_frame", "mask_error_rows"]

#: Numeric columns added by the predictor (degC, probability); :data:`mlglass.schema.PREDICTION_NUMERIC_COLUMNS`.
PREDICTION_COLUMNS = PREDICTION_NUMERIC_COLUMNS
FLOAT_COLUMNS = PREDICTION_COLUMNS + ("score",)
_BOOL_COLUMNS = ("passes_constraints",)
_INT_COLUMNS = ("input_row", "rank")
#: Row-group size of part files (small, so a reader holds little in memory).
PART_ROW_GROUP = 16_384


def mask_error_rows(pred: pd.DataFrame) -> pd.DataFrame:
    """Set the prediction columns of rows with an ``error`` to NaN (in place) and return the frame."""
    if "error" in pred.columns:
        bad = pred["error"].astype(str).str.len().to_numpy() > 0
        if bad.any():
            for col in PREDICTION_COLUMNS:
                if col in pred.columns:
                    pred.loc[bad, col] = np.nan
    return pred


def _process_chunk(frame: pd.DataFrame, start_row: int, predictor: Any, options: ScoreOptions,
                   coverage: float | None = None, explain_rows: int = 0) -> pd.DataFrame:
    """Predict and score one chunk of input rows.

    Parameters
    ----------
    frame : pandas.DataFrame
        Input rows (all columns text).
    start_row : int
        0-based position of the chunk's first row in the input; ``input_row``
        (1-based) is added from it, and an ``id`` (``row<N>``) when the input has none.
    predictor : GlassPredictor
    options : ScoreOptions
    coverage : float, optional
        Interval coverage passed to the predictor.
    explain_rows : int, default=0
        Keep the descriptors of the chunk's best ``explain_rows`` rows from this pass
        (:func:`mlglass.screen.top_rows.keep_top_descriptors`), to explain the screen's top rows.
    """
    frame = frame.drop(columns=[c for c in ("rank",) if c in frame.columns])
    rows = np.arange(start_row + 1, start_row + len(frame) + 1, dtype=np.int64)
    if "id" not in frame.columns:
        frame.insert(0, "id", [f"row{r}" for r in rows])
    frame["input_row"] = rows
    descriptors: dict[str, Any] = {}
    pred = predictor.predict(frame, coverage=coverage,  # each distinct composition predicted once
                             descriptors=descriptors if explain_rows > 0 else None)
    if "cif_error" in pred.columns:  # a structure that could not be read: its cause, not "metal is required"
        cif_err = pred["cif_error"].fillna("").astype(str)
        pred["error"] = cif_err.where(cif_err != "", pred["error"].astype(str))
    mask_error_rows(pred)
    scored = score_predictions(pred, options=options)
    if explain_rows > 0:
        from mlglass.screen.top_rows import keep_top_descriptors

        keep_top_descriptors(scored, descriptors, explain_rows)
    return scored


def process_chunk(frame: pd.DataFrame, start_row: int, predictor: Any, options: ScoreOptions,
                  coverage: float | None = None, explain_rows: int = 0) -> pd.DataFrame:
    """Public wrapper of the chunk function (looked up at call time, so it can be monkeypatched)."""
    import mlglass.screen.chunks as mod

    return mod._process_chunk(frame, start_row, predictor, options, coverage, explain_rows)


def _arrow_type(col: str, series: pd.Series) -> pa.DataType:
    if col in FLOAT_COLUMNS:
        return pa.float64()
    if col in _BOOL_COLUMNS:
        return pa.bool_()
    if col in _INT_COLUMNS:
        return pa.int64()
    return pa.string()


def frame_to_table(frame: pd.DataFrame) -> pa.Table:
    """A scored chunk as an Arrow table with a fixed schema.

    Prediction and score columns are ``float64`` (NaN -> null), ``passes_constraints``
    ``bool``, ``input_row``/``rank`` ``int64``, everything else ``string`` (null -> "").
    """
    arrays, fields = [], []
    for col in frame.columns:
        s = frame[col]
        typ = _arrow_type(col, s)
        if pa.types.is_floating(typ):
            arr = pa.array(pd.to_numeric(s, errors="coerce").to_numpy(dtype=float), type=typ, from_pandas=True)
        elif pa.types.is_boolean(typ):
            arr = pa.array(s.fillna(False).to_numpy(dtype=bool), type=typ)
        elif pa.types.is_integer(typ):
            arr = pa.array(s.to_numpy(dtype=np.int64), type=typ)
        elif pd.api.types.is_float_dtype(s.dtype):  # a numeric column written as text (e.g. td_c), as cell_text does
            arr = pa.array(float_text(s.to_numpy(dtype=float)), type=typ)
        else:
            try:
                arr = pa.array(s, type=typ, from_pandas=True)
            except (pa.ArrowTypeError, pa.ArrowInvalid):
                values = s.to_numpy(dtype=object)
                arr = pa.array([cell_text(v) if v is not None and v == v else "" for v in values], type=typ)
            if isinstance(arr, pa.ChunkedArray):
                arr = arr.combine_chunks()
            if arr.null_count:
                arr = arr.fill_null("")
        arrays.append(arr)
        fields.append(pa.field(str(col), typ))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def write_part(scored: pd.DataFrame, path: str | os.PathLike,
               keep: Callable[[pa.Table], None] | None = None) -> tuple[int, int, int]:
    """Write a scored chunk to a Parquet part file atomically.

    Descriptors the chunk kept for explaining its best rows (:mod:`mlglass.screen.top_rows`)
    go into the file's Parquet metadata. ``keep``, if given, receives the Arrow table written
    (the merge can use it instead of reading the file back).

    Returns
    -------
    (rows, errors, passing) : tuple of int
    """
    from mlglass.screen.top_rows import part_metadata

    table = frame_to_table(scored)
    kept = part_metadata(scored)
    if kept is not None:
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), **kept})
    with atomic_write(Path(path), "wb") as fh:
        pq.write_table(table, fh, row_group_size=PART_ROW_GROUP, compression="lz4")
    if keep is not None:
        keep(table)
    n_err = int((scored["error"].astype(str).str.len() > 0).sum()) if "error" in scored.columns else 0
    n_pass = int(scored["passes_constraints"].sum()) if "passes_constraints" in scored.columns else 0
    return int(len(scored)), n_err, n_pass
