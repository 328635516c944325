"""Featurizer base class and batch machinery (the matminer convention).

Every featurizer turns one :class:`~mlglass.records.CompoundRecord` into a
fixed-length list of floats (:meth:`RecordFeaturizer.featurize`) and offers
:meth:`~RecordFeaturizer.feature_labels` and :meth:`~RecordFeaturizer.citations`.
Batches (DataFrames in the candidate schema, or lists of records) go through
:func:`featurize_records`, which computes each *distinct* record once and
broadcasts the result, so a screen of millions of rows that share a few
thousand compositions costs a few thousand featurizations.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from mlglass.errors import MlglassError, RecordError, SchemaError
from mlglass.records import CompoundRecord, record_from_mapping, validate_record

__all__ = ["RecordFeaturizer", "records_from_frame", "featurize_records", "featurize_unique", "featurize_table", "ON_ERROR"]

ON_ERROR = ("raise", "report")
_RECORD_FIELDS = ("id", "metal", "oxidation_state", "ligands", "counter_ions", "dimensionality", "formula",
                  "geometry")


def _cell(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def records_from_frame(frame: pd.DataFrame, *, on_error: str = "report"
                       ) -> tuple[list[CompoundRecord | None], list[str]]:
    """Parse every row of a candidate table into a record.

    Rows with identical composition fields are parsed once.

    Parameters
    ----------
    frame : pandas.DataFrame
        Needs ``metal`` and ``ligands`` columns, or ``formula``.
    on_error : {"report", "raise"}
        ``"report"``: a bad row gives ``None`` and its message; ``"raise"``:
        the first bad row raises.

    Returns
    -------
    records : list of CompoundRecord or None
    errors : list of str
        Empty string for good rows.

    Raises
    ------
    SchemaError
        Neither ``metal`` nor ``formula`` is a column.
    """
    if on_error not in ON_ERROR:
        raise ValueError(f"on_error must be one of {ON_ERROR}, got {on_error!r}")
    check_unique_columns(frame)
    cols = [c for c in _RECORD_FIELDS if c in frame.columns]
    if "metal" not in frame.columns and "formula" not in frame.columns:
        raise SchemaError("columns", list(frame.columns)[:20],
                          "a candidate table needs a 'metal' column (with 'ligands') or a 'formula' column")
    n = len(frame)
    columns = [frame[c].tolist() for c in cols]
    id_pos = cols.index("id") if "id" in cols else None
    labels = frame["id"].tolist() if "id" in frame.columns else list(frame.index)
    cache: dict[tuple, tuple[CompoundRecord | None, str]] = {}
    records: list[CompoundRecord | None] = [None] * n
    errors: list[str] = [""] * n
    for i, values in enumerate(zip(*columns)):
        values = tuple(_cell(v) for v in values)
        key = tuple(v for j, v in enumerate(values) if j != id_pos)
        try:
            hit = cache.get(key)
        except TypeError:  # unhashable cell (a list in an object column)
            hit, key = None, None
        if hit is None:
            row = dict(zip(cols, values))
            row.pop("id", None)
            try:
                hit = (record_from_mapping(row), "")
            except RecordError as err:
                if on_error == "raise":
                    raise err.with_row(_cell(labels[i])) from None
                hit = (None, str(err))
            if key is not None:
                cache[key] = hit
        rec, msg = hit
        if rec is not None and id_pos is not None and values[id_pos] is not None:
            rec = CompoundRecord(metals=rec.metals, ligands=rec.ligands, counter_ions=rec.counter_ions,
                                 oxidation_states=rec.oxidation_states, dimensionality=rec.dimensionality,
                                 geometry=rec.geometry, id=str(values[id_pos]), formula=rec.formula)
        records[i] = rec
        if msg:
            errors[i] = f"row {_cell(labels[i])!r}: {msg}"
    return records, errors


def check_unique_columns(frame: pd.DataFrame) -> None:
    """Raise :class:`~mlglass.errors.SchemaError` if a column name appears twice."""
    if frame.columns.has_duplicates:
        dups = sorted({str(c) for c in frame.columns[frame.columns.duplicated()]})
        raise SchemaError("columns", dups, "column names must be unique; these appear more than once")


#: Descriptor magnitudes at or above this are refused (float32, used by the boosters, overflows at 3.4e38).
_DESCRIPTOR_LIMIT = 1e30


def featurize_unique(featurizers: Sequence["RecordFeaturizer"], records: Sequence[CompoundRecord | None],
                     errors: Sequence[str] | None = None, *, on_error: str = "report",
                     row_labels: Sequence[Any] | None = None) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Featurize the distinct records of a batch.

    Returns
    -------
    table : ndarray of shape (n_unique + 1, n_features)
        One row per distinct good record; the last row is all NaN.
    index : ndarray of int, shape (n_records,)
        Row of ``table`` for each input record (bad records point at the NaN row).
    errors : list of str
        Per-record error message, empty for good records.
    """
    n = len(records)
    errors = list(errors) if errors is not None else [""] * n
    width = sum(len(f.feature_labels()) for f in featurizers)
    keys: dict[tuple, int] = {}
    index = np.full(n, -1, dtype=np.int64)
    unique: list[CompoundRecord] = []
    for i, rec in enumerate(records):
        if rec is None:
            if not errors[i]:
                errors[i] = "no record"
            continue
        try:
            validate_record(rec)
            k = rec.key()
            hash(k)
        except RecordError as err:
            if on_error == "raise":
                raise
            label = row_labels[i] if row_labels is not None else (rec.id or i)
            errors[i] = f"row {label!r}: {err}"
            continue
        except TypeError:
            err = RecordError("record", rec, "fields must be hashable values (str, numbers, tuples)")
            if on_error == "raise":
                raise err from None
            errors[i] = f"row {i!r}: {err}"
            continue
        j = keys.get(k)
        if j is None:
            j = keys[k] = len(unique)
            unique.append(rec)
        index[i] = j
    table = np.full((len(unique) + 1, width), np.nan)
    unique_errors: dict[int, str] = {}
    vectorised = all(hasattr(f, "featurize_batch") for f in featurizers)
    if vectorised and unique:
        from mlglass.featurize.batch import build_batch

        batch = build_batch(unique)
        if on_error == "raise":
            for j, msg in enumerate(batch.errors):
                if msg:  # re-raise the typed error through the per-record path
                    _featurize_one(featurizers, unique[j], on_error)
        table[:-1] = np.hstack([f.featurize_batch(batch) for f in featurizers])
        for j, msg in enumerate(batch.errors):
            if msg:
                unique_errors[j] = msg
                table[j] = np.nan
    else:
        for j, rec in enumerate(unique):
            try:
                table[j] = _featurize_one(featurizers, rec, on_error)
            except RecordError as err:
                unique_errors[j] = str(err)
    if len(unique):  # every descriptor finite (NaN = unknown is allowed) and within float32 range
        body = table[:-1]
        with np.errstate(invalid="ignore"):
            bad = ~np.isnan(body) & ~(np.abs(body) < _DESCRIPTOR_LIMIT)
        if bad.any():
            labels = [lab for f in featurizers for lab in f.feature_labels()]
            for j in np.flatnonzero(bad.any(axis=1)):
                if j not in unique_errors:
                    c = int(np.flatnonzero(bad[j])[0])
                    err = RecordError(labels[c], float(body[j, c]), "descriptor is not a finite number (an amount "
                                                                    "or property out of range)")
                    if on_error == "raise":
                        raise err
                    unique_errors[j] = str(err)
                table[j] = np.nan
    if unique_errors:
        for i in range(n):
            j = index[i]
            if j >= 0 and j in unique_errors:
                label = row_labels[i] if row_labels is not None else (records[i].id or i)
                errors[i] = f"row {label!r}: {unique_errors[j]}"
                index[i] = -1
    index[index < 0] = len(unique)
    return table, index, errors


def _featurize_one(featurizers: Sequence["RecordFeaturizer"], rec: CompoundRecord, on_error: str) -> list[float]:
    try:
        vec: list[float] = []
        for f in featurizers:
            vec.extend(f.featurize(rec))
        return vec
    except RecordError as err:
        if on_error == "raise":
            label = rec.id if rec.id is not None else None
            raise err.with_row(label) if label is not None and err.row is None else err
        raise


def featurize_records(featurizers: Sequence["RecordFeaturizer"], records: Sequence[CompoundRecord | None],
                      errors: Sequence[str] | None = None, *, on_error: str = "report",
                      row_labels: Sequence[Any] | None = None) -> tuple[np.ndarray, list[str]]:
    """Featurize many records, computing each distinct record once.

    Returns
    -------
    X : ndarray of shape (n_records, n_features)
        NaN rows for bad records.
    errors : list of str
        Per-row error message, empty for good rows.
    """
    table, index, errors = featurize_unique(featurizers, records, errors, on_error=on_error, row_labels=row_labels)
    return table[index], errors


class RecordFeaturizer(TransformerMixin, BaseEstimator, ABC):
    """Base class of mlglass featurizers.

    Subclasses implement :meth:`featurize`, :meth:`feature_labels` and
    :meth:`citations`. Options are keyword arguments of ``__init__`` stored
    under the same name; featurizers are stateless (``fit`` only checks options).

    ``transform`` accepts a DataFrame in the candidate schema or a list of
    records and returns a DataFrame with :meth:`feature_labels` as columns
    (plus ``error`` when ``on_error="report"``).

    Parameters
    ----------
    on_error : {"report", "raise"}, default="report"
        ``"report"``: a bad row gets NaN descriptors and its message in ``error``;
        ``"raise"``: the first bad row raises its :class:`~mlglass.errors.RecordError`.
    """

    def __init__(self, *, on_error: str = "report"):
        self.on_error = on_error

    @abstractmethod
    def featurize(self, record: CompoundRecord) -> list[float]:
        """Descriptors of one record, in the order of :meth:`feature_labels`."""

    @abstractmethod
    def feature_labels(self) -> list[str]:
        """Column names of the descriptors (snake_case, units in the name where relevant)."""

    def citations(self) -> list[str]:
        """BibTeX entries of the works behind the descriptors."""
        return [REVIEW_BIBTEX]

    def implementors(self) -> list[str]:
        """Who wrote this featurizer."""
        return ["mlglass developers"]

    def precheck(self, record: CompoundRecord) -> bool:
        """Cheap check that ``record`` is in scope: it has at least one metal."""
        return bool(record.metals)

    def fit(self, X: Any = None, y: Any = None) -> "RecordFeaturizer":
        """Check options; featurizers learn nothing from data."""
        if getattr(self, "on_error", "report") not in ON_ERROR:
            raise ValueError(f"on_error must be one of {ON_ERROR}")
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.input_tags.two_d_array = False
        tags.input_tags.dataframe = True
        return tags

    def transform(self, X: pd.DataFrame | Iterable[CompoundRecord]) -> pd.DataFrame:
        """Featurize a candidate table or a list of records."""
        return featurize_table([self], X, on_error=getattr(self, "on_error", "report"))

    def featurize_many(self, records: Iterable[CompoundRecord]) -> list[list[float]]:
        """Featurize a list of records (errors raise)."""
        X, _ = featurize_records([self], list(records), on_error="raise")
        return X.tolist()


def featurize_table(featurizers: Sequence[RecordFeaturizer], X: pd.DataFrame | Iterable[CompoundRecord], *,
                    on_error: str = "report") -> pd.DataFrame:
    """Featurize a DataFrame or list of records with several featurizers into one DataFrame.

    The result has one row per input row (same index for DataFrames), the
    featurizers' labels as columns and, with ``on_error="report"``, an ``error``
    column (empty string for good rows).
    """
    if on_error not in ON_ERROR:
        raise ValueError(f"on_error must be one of {ON_ERROR}, got {on_error!r}")
    labels = [lab for f in featurizers for lab in f.feature_labels()]
    if isinstance(X, pd.DataFrame):
        records, errors = records_from_frame(X, on_error=on_error)
        index = X.index
        row_labels = X["id"].tolist() if "id" in X.columns else list(X.index)
    else:
        records = []
        for r in X:
            if not isinstance(r, CompoundRecord):
                raise TypeError(f"expected CompoundRecord objects or a DataFrame, got {type(r).__name__}")
            records.append(r)
        errors = [""] * len(records)
        index = pd.RangeIndex(len(records))
        row_labels = [r.id if r.id is not None else i for i, r in enumerate(records)]
    try:
        matrix, errors = featurize_records(featurizers, records, errors, on_error=on_error, row_labels=row_labels)
    except MlglassError:
        raise
    out = pd.DataFrame(matrix, columns=labels, index=index)
    if on_error == "report":
        out["error"] = errors
    return out


REVIEW_BIBTEX = (
    "@article{ma2022metal,\n"
    "  author = {Ma, Nattapol and Horike, Satoshi},\n"
    "  title = {Metal-Organic Network-Forming Glasses},\n"
    "  journal = {Chemical Reviews}, volume = {122}, number = {3}, pages = {4163--4203}, year = {2022},\n"
    "  doi = {10.1021/acs.chemrev.1c00826}\n}"
)
