"""Column helpers of the candidate batch: cell values, factorisation and vectorised amount parsing.

:func:`parse_amount_column` parses distinct ``ligands``/``counter_ions`` cells
(``"Im:1.75;bIm:0.25"``) with Arrow string kernels into padded species-index
and amount arrays; cells outside the plain ``name:number`` form go through
:func:`mlglass.records.parse_amounts` for its full rules and messages, so both
give the same items and errors (``tests/test_candidates.py``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from mlglass.errors import RecordError, SchemaError
from mlglass.records import MAX_FIELD_LENGTH, MAX_ITEMS, parse_amounts
from mlglass.schema import is_blank

__all__ = ["AmountTable", "ParsedColumns", "cell", "check_unique_columns", "factorize_column", "pair_codes",
           "parse_amount_column", "parse_cells"]

_CLEAN_AMOUNT = r"^(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"


def cell(value: Any) -> Any:
    """A table cell as a plain Python value; missing (None, NaN, NA, NaT) -> ``None``."""
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


@dataclass
class AmountTable:
    """Parsed amount cells: ``idx[v, k]`` species (into ``names``) and ``amt[v, k]`` of the k-th item of value v."""

    names: list[str]
    idx: np.ndarray
    amt: np.ndarray
    errors: list[RecordError | None]


def parse_amount_column(values: Sequence[Any], field: str,
                         extra: Sequence[tuple[tuple[str, float], ...]] = ()) -> AmountTable:
    """Parse distinct ``ligands``/``counter_ions`` cells (plus already-parsed ``extra`` entries appended).

    Cells made of ``name:number`` items (plain positive numbers in [1e-6, 1e4], distinct
    names, ASCII) are split with Arrow kernels; anything else goes through
    :func:`mlglass.records.parse_amounts`, which applies the full rules and raises the messages.
    """
    n = len(values)
    text = [v if isinstance(v, str) and len(v) <= MAX_FIELD_LENGTH else None for v in values]
    arr = pa.array(text, type=pa.string())
    fast = np.asarray(pc.fill_null(pc.string_is_ascii(arr), False), dtype=bool) if n else np.zeros(0, bool)
    parts = pc.split_pattern(arr, ";")
    flat = pc.utf8_trim_whitespace(pc.list_flatten(parts))
    parent = np.asarray(pc.list_parent_indices(parts), dtype=np.int64)
    keep = np.asarray(pc.not_equal(pc.utf8_length(flat), 0), dtype=bool)
    flat = flat.filter(pa.array(keep))
    parent = parent[keep]
    pieces = pc.split_pattern(flat, ":", max_splits=1, reverse=True)
    two = np.asarray(pc.equal(pc.list_value_length(pieces), 2), dtype=bool)
    safe = pc.if_else(pa.array(two), pieces, pa.scalar(["", ""], type=pa.list_(pa.string())))
    name_arr = pc.utf8_trim_whitespace(pc.list_element(safe, 0))
    amount_txt = pc.utf8_trim_whitespace(pc.list_element(safe, 1))
    ok = two & np.asarray(pc.not_equal(pc.utf8_length(name_arr), 0), dtype=bool) \
        & np.asarray(pc.match_substring_regex(amount_txt, _CLEAN_AMOUNT), dtype=bool)
    amounts = np.full(len(ok), np.nan)
    if ok.any():
        amounts[ok] = np.asarray(pc.cast(amount_txt.filter(pa.array(ok)), pa.float64()), dtype=float)
    with np.errstate(invalid="ignore"):
        ok &= (amounts >= 1e-6) & (amounts <= 1e4)
    encoded = pc.dictionary_encode(name_arr)
    codes = np.asarray(encoded.indices, dtype=np.int64)
    names = [str(s) for s in encoded.dictionary.to_pylist()]
    if len(parent):
        bad_parent = np.bincount(parent[~ok], minlength=n) > 0
        count = np.bincount(parent, minlength=n)
        pair = parent * max(1, len(names)) + codes
        uniq_pair, pair_count = np.unique(pair, return_counts=True)
        dup_parent = uniq_pair[pair_count > 1] // max(1, len(names))
        fast &= ~bad_parent & (count <= MAX_ITEMS)
        fast[dup_parent] = False
    errors: list[RecordError | None] = [None] * (n + len(extra))
    name_pos = {nm: j for j, nm in enumerate(names)}
    slow_parent: list[int] = []
    slow_code: list[int] = []
    slow_amt: list[float] = []

    def add(row: int, items: tuple[tuple[str, float], ...]) -> None:
        for nm, a in items:
            j = name_pos.get(nm)
            if j is None:
                j = name_pos[nm] = len(names)
                names.append(nm)
            slow_parent.append(row)
            slow_code.append(j)
            slow_amt.append(a)

    for v in np.flatnonzero(~fast).tolist():
        value = values[v]
        if is_blank(value):
            continue
        try:
            add(int(v), parse_amounts(value, field))
        except RecordError as err:
            errors[v] = err
    for k, items in enumerate(extra):
        add(n + k, items)
    take = fast[parent] if len(parent) else np.zeros(0, bool)
    all_parent = np.concatenate([parent[take], np.asarray(slow_parent, dtype=np.int64)])
    all_code = np.concatenate([codes[take], np.asarray(slow_code, dtype=np.int64)])
    all_amt = np.concatenate([amounts[take], np.asarray(slow_amt, dtype=float)])
    order = np.argsort(all_parent, kind="stable")
    all_parent, all_code, all_amt = all_parent[order], all_code[order], all_amt[order]
    total = n + len(extra)
    count = np.bincount(all_parent, minlength=total) if len(all_parent) else np.zeros(total, np.int64)
    width = max(1, int(count.max()) if total else 1)
    start = np.cumsum(count) - count
    pos = np.arange(len(all_parent)) - start[all_parent]
    idx = np.full((total, width), -1, dtype=np.int64)
    amt = np.zeros((total, width))
    idx[all_parent, pos] = all_code
    amt[all_parent, pos] = all_amt
    return AmountTable(names=names, idx=idx, amt=amt, errors=errors)


def pair_codes(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes of the distinct ``(a, b)`` pairs and the first position of each."""
    n = len(a)
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    key = a.astype(np.int64) * (int(b.max()) + 1) + b.astype(np.int64)
    codes, uniq = pd.factorize(key, sort=False)
    first = np.full(len(uniq), n, dtype=np.int64)
    np.minimum.at(first, codes, np.arange(n, dtype=np.int64))
    return codes.astype(np.int64), first


def factorize_column(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Codes of a column's values (missing cells one value) and the first row of each code."""
    try:
        codes, uniq = pd.factorize(series, sort=False, use_na_sentinel=False)
    except TypeError:  # unhashable cells (lists): told apart by their text
        codes, uniq = pd.factorize(series.map(repr), sort=False, use_na_sentinel=False)
    codes = np.asarray(codes, dtype=np.int64)
    first = np.full(len(uniq), len(series), dtype=np.int64)
    np.minimum.at(first, codes, np.arange(len(series), dtype=np.int64))
    return codes, first


def check_unique_columns(frame: pd.DataFrame) -> None:
    """Raise :class:`~mlglass.errors.SchemaError` if a column name appears twice."""
    if frame.columns.has_duplicates:
        dups = sorted({str(c) for c in frame.columns[frame.columns.duplicated()]})
        raise SchemaError("columns", dups, "column names must be unique; these appear more than once")


@dataclass
class ParsedColumns:
    """Column tables of a batch and, per distinct composition, its entry in each."""

    metals: list[tuple[tuple[str, float], ...]]
    metal_err: list[RecordError | None]
    given: list[tuple[tuple[str, float], ...]]
    given_err: list[RecordError | None]
    ligands: AmountTable
    counters: AmountTable
    dim: np.ndarray
    geometry: list[str | None]
    m: np.ndarray
    g: np.ndarray
    lig: np.ndarray
    cnt: np.ndarray
    geometry_code: np.ndarray | None = None


def parse_cells(values: Sequence[Any], parse: Callable[[Any], Any], fallback: Any
                ) -> tuple[list[Any], list[RecordError | None]]:
    """``parse`` each distinct cell; a cell whose parse raises :class:`RecordError` gets ``fallback`` and the error.

    Returns
    -------
    (parsed values, errors) : tuple of lists, one entry per cell (error ``None`` for a good cell)
    """
    out: list[Any] = []
    errs: list[RecordError | None] = []
    for v in values:
        try:
            out.append(parse(v))
            errs.append(None)
        except RecordError as err:
            out.append(fallback)
            errs.append(err)
    return out, errs
