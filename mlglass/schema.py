"""The table schema in one place: the column lists of candidate and dataset tables, and the blank-cell rule.

A *candidate table* (input of ``predict``, ``featurize``, ``screen``, ``suggest``)
describes one compound per row with the :data:`RECORD_COLUMNS`; the curated
*dataset* (``datasets/glasses.csv``, see ``datasets/README.md``) adds the
measured temperatures (:data:`TEMPERATURE_COLUMNS`, degC) and references.

A cell is *blank* when it holds nothing: ``None``, ``NaN``, ``pd.NA``/``pd.NaT``
or text that is empty after stripping white space (:func:`is_blank`,
vectorised as :func:`blank_mask`). Every reader and validator uses this rule.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from mlglass.errors import SchemaError

__all__ = [
    "RECORD_COLUMNS",
    "COMPOSITION_COLUMNS",
    "REQUIRED_COLUMNS",
    "CANDIDATE_REQUIRED_COLUMNS",
    "TEMPERATURE_COLUMNS",
    "NUMERIC_COLUMNS",
    "DATASET_TEXT_COLUMNS",
    "PREDICTION_COLUMNS",
    "PREDICTION_NUMERIC_COLUMNS",
    "SCREEN_COLUMNS",
    "PLOT_COLUMNS",
    "is_blank",
    "blank_mask",
    "text_column",
    "check_unique_columns",
]

#: Columns of the candidate schema that describe a compound (public contract).
RECORD_COLUMNS = ("id", "metal", "oxidation_state", "ligands", "counter_ions", "dimensionality", "formula", "geometry")
#: The record columns that determine the chemistry (everything but ``id``): rows equal on these are one compound.
COMPOSITION_COLUMNS = ("metal", "oxidation_state", "ligands", "counter_ions", "dimensionality", "geometry", "formula")
#: Columns a candidate table must have unless it gives ``formula`` (or ``cif``) instead.
CANDIDATE_REQUIRED_COLUMNS = ("metal", "ligands")
#: Columns a measurement (dataset) table must have; the others are optional.
REQUIRED_COLUMNS = ("id", "metal", "ligands")
#: Measured temperatures of the dataset (degC).
TEMPERATURE_COLUMNS = ("tm_c", "tm_low_c", "tm_high_c", "tg_c", "tg_low_c", "tg_high_c", "td_c", "tc_c")
#: Numeric dataset columns: the temperatures (degC), enthalpy (kJ/mol) and entropy of fusion (J/mol/K).
NUMERIC_COLUMNS = TEMPERATURE_COLUMNS + ("dh_fus_kj_mol", "ds_fus_j_mol_k")
#: Text columns of the dataset.
DATASET_TEXT_COLUMNS = ("id", "name", "formula", "family", "series", "metal", "oxidation_state", "ligands",
                        "counter_ions", "route", "ref", "source", "notes")
#: Prediction columns of :class:`~mlglass.models.predictor.GlassPredictor` (degC and a probability).
PREDICTION_COLUMNS = ("tm_c", "tm_lo_c", "tm_hi_c", "tg_c", "tg_lo_c", "tg_hi_c", "p_melt")
#: Every numeric column the predictor adds to a candidate row: :data:`PREDICTION_COLUMNS`, the decomposition
#: interval (``td_lo_c``, ``td_hi_c``), the processing window and the censored Tm (degC).
PREDICTION_NUMERIC_COLUMNS = PREDICTION_COLUMNS + ("td_lo_c", "td_hi_c", "window_c", "tm_censored_c")
#: Columns ``screen`` adds after the input's own: position in the input (1-based), the predictions,
#: the row's error, its score and whether it passes the constraints (``rank`` comes first).
SCREEN_COLUMNS = ("input_row", *PREDICTION_NUMERIC_COLUMNS, "error", "score", "passes_constraints")
#: Columns of a ranked screen that :func:`mlglass.screen.plot_screen` draws (predictions in degC).
PLOT_COLUMNS = ("rank", "id", "tm_c", "tg_c", "p_melt", "score", "error")


def is_blank(value: Any) -> bool:
    """True if a cell holds nothing: ``None``, NaN, ``pd.NA``/``pd.NaT`` or white space only.

    Parameters
    ----------
    value : object
        One cell.

    Returns
    -------
    bool
    """
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, (float, np.floating)):
        return math.isnan(value)
    if isinstance(value, str):
        return value.strip() == ""
    return False


def blank_mask(series: pd.Series) -> np.ndarray:
    """:func:`is_blank` for each cell of ``series`` (vectorised for text columns).

    Returns
    -------
    numpy.ndarray of bool
    """
    missing = series.isna().to_numpy(dtype=bool)
    if pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_bool_dtype(series.dtype):
        return missing
    text = series.where(~missing, "")
    is_str = text.map(lambda v: isinstance(v, str)).to_numpy(dtype=bool)
    stripped = text[is_str].astype(str).str.strip().eq("").to_numpy(dtype=bool)
    out = missing.copy()
    out[is_str] |= stripped
    return out


def text_column(series: pd.Series) -> pd.Series:
    """``series`` as text with blank (missing) cells as ``""``; other cells as ``str(value)``."""
    return series.where(series.notna(), "").astype(str)


def check_unique_columns(frame: pd.DataFrame) -> None:
    """Refuse a table whose column names are not unique.

    Raises
    ------
    mlglass.errors.SchemaError
        Naming the repeated columns.
    """
    if frame.columns.has_duplicates:
        dups = sorted({str(c) for c in frame.columns[frame.columns.duplicated()]})
        raise SchemaError("columns", dups, "column names must be unique; these appear more than once")
