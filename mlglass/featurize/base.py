"""Featurizer base class and the batch entry points (the matminer convention).

Every featurizer computes its descriptors for a whole batch with numpy
(:meth:`RecordFeaturizer.featurize_batch` over the slot arrays of a
:class:`~mlglass.featurize.batch.RecordBatch`, the one method a featurizer
implements) and offers :meth:`~RecordFeaturizer.feature_labels` and
:meth:`~RecordFeaturizer.citations`. The single-record
:meth:`~RecordFeaturizer.featurize` is a batch of one, so the two agree by
construction. Tables and lists of records go through
:class:`mlglass.candidates.CandidateBatch`, which parses and featurizes each
*distinct* composition once and broadcasts the result to the rows.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from mlglass.errors import RecordError
from mlglass.featurize.batch import RecordBatch
from mlglass.records import CompoundRecord, record_from_mapping
from mlglass.schema import RECORD_COLUMNS, check_unique_columns

__all__ = ["RecordFeaturizer", "records_from_frame", "featurize_records", "featurize_table", "ON_ERROR"]

ON_ERROR = ("raise", "report")


def records_from_frame(frame: pd.DataFrame, *, on_error: str = "report"
                       ) -> tuple[list[CompoundRecord | None], list[str]]:
    """Parse every row of a candidate table into a :class:`~mlglass.records.CompoundRecord`.

    For code that needs record objects (featurizing goes through
    :class:`mlglass.candidates.CandidateBatch` and never builds them).

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
        Neither ``metal`` nor ``formula`` is a column, or a column name appears twice.
    """
    from mlglass.candidates import cell
    from mlglass.errors import SchemaError

    if on_error not in ON_ERROR:
        raise ValueError(f"on_error must be one of {ON_ERROR}, got {on_error!r}")
    check_unique_columns(frame)
    if "metal" not in frame.columns and "formula" not in frame.columns:
        raise SchemaError("columns", list(frame.columns)[:20],
                          "a candidate table needs a 'metal' column (with 'ligands') or a 'formula' column")
    cols = [c for c in RECORD_COLUMNS if c in frame.columns]
    labels = frame["id"].tolist() if "id" in frame.columns else list(frame.index)
    records: list[CompoundRecord | None] = []
    errors: list[str] = []
    for i, values in enumerate(zip(*[frame[c].tolist() for c in cols])):
        try:
            records.append(record_from_mapping({c: cell(v) for c, v in zip(cols, values)}))
            errors.append("")
        except RecordError as err:
            if on_error == "raise":
                raise err.with_row(cell(labels[i])) if err.row is None else err from None
            records.append(None)
            errors.append(str(err.with_row(cell(labels[i])) if err.row is None else err))
    return records, errors


def featurize_records(featurizers: Sequence[RecordFeaturizer], records: Sequence[CompoundRecord], *,
                      on_error: str = "report", row_labels: Sequence[Any] | None = None
                      ) -> tuple[np.ndarray, list[str]]:
    """Featurize records built in code, computing each distinct record once.

    Returns
    -------
    X : ndarray of shape (n_records, n_features)
        NaN rows for bad records.
    errors : list of str
        Per-row error message, empty for good rows.
    """
    from mlglass.candidates import CandidateBatch

    batch = CandidateBatch.from_records(records)
    if row_labels is None:
        row_labels = [r.id if getattr(r, "id", None) is not None else i for i, r in enumerate(records)]
    table = batch.features(featurizers, on_error=on_error, row_labels=row_labels)
    return table[batch.index], batch.row_errors(row_labels)


class RecordFeaturizer(TransformerMixin, BaseEstimator, ABC):
    """Base class of mlglass featurizers.

    Subclasses implement :meth:`featurize_batch`, :meth:`feature_labels` and
    :meth:`citations`; :meth:`featurize` (one record) is derived from :meth:`featurize_batch`.
    Options are keyword arguments of ``__init__`` stored
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
    def featurize_batch(self, batch: RecordBatch) -> np.ndarray:
        """Descriptors of every record of ``batch``, shape ``(batch.n, len(feature_labels()))``."""

    def featurize(self, record: CompoundRecord) -> list[float]:
        """Descriptors of one record, in the order of :meth:`feature_labels` (a batch of one).

        Raises
        ------
        RecordError
            The record is invalid or names a species or ion that cannot be resolved.
        """
        if not isinstance(record, CompoundRecord):
            raise TypeError(f"expected a CompoundRecord, got {type(record).__name__}")
        X, _ = featurize_records([self], [record], on_error="raise", row_labels=[record.id])
        return [float(v) for v in X[0]]

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

    def fit(self, X: Any = None, y: Any = None) -> RecordFeaturizer:
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
    from mlglass.candidates import CandidateBatch

    if on_error not in ON_ERROR:
        raise ValueError(f"on_error must be one of {ON_ERROR}, got {on_error!r}")
    labels = [lab for f in featurizers for lab in f.feature_labels()]
    if isinstance(X, pd.DataFrame):
        batch = CandidateBatch.from_frame(X)
        index = X.index
        row_labels = X["id"].tolist() if "id" in X.columns else list(X.index)
        table = batch.features(featurizers, on_error=on_error, row_labels=row_labels)
        matrix, errors = table[batch.index], batch.row_errors(row_labels)
    else:
        records = []
        for r in X:
            if not isinstance(r, CompoundRecord):
                raise TypeError(f"expected CompoundRecord objects or a DataFrame, got {type(r).__name__}")
            records.append(r)
        index = pd.RangeIndex(len(records))
        matrix, errors = featurize_records(featurizers, records, on_error=on_error)
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
