"""The columnar candidate batch: every distinct composition of a table parsed and featurized once.

:class:`CandidateBatch` is the one path from a candidate table to descriptors
(:class:`~mlglass.featurize.GlassFeaturizer`, :meth:`GlassPredictor.predict
<mlglass.models.predictor.GlassPredictor.predict>`, ``mlglass screen`` and
``suggest`` all go through it):

1. each composition column (``metal``, ``oxidation_state``, ``ligands``,
   ``counter_ions``, ``dimensionality``, ``geometry``, ``formula``, plus any
   extra key columns such as ``td_c``) is factorised once; the combined codes
   give the distinct compositions and the *inverse index* from rows to them;
2. each distinct *cell value* is parsed once: ``ligands``/``counter_ions``
   strings are split and their amounts converted with Arrow string kernels
   (vectorised; unusual cells fall back to :func:`mlglass.records.parse_amounts`
   for its exact rules and messages), metals, oxidation states, dimensionality
   and geometry per distinct value;
3. each distinct species and metal ion is resolved once, the oxidation state
   (given / charge balance / default, :mod:`mlglass.chem.oxidation`) is
   settled with numpy per composition, and the compositions are laid out as the
   slot arrays of :class:`~mlglass.featurize.batch.RecordBatch`, on which every
   featurizer computes with numpy.

Errors stay structured (:class:`~mlglass.errors.RecordError`: field, value,
reason) per distinct composition; row labels are added only when a message is
written for a row (:meth:`CandidateBatch.row_errors`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mlglass.candidate_chemistry import chemistry_classes, settle_oxidation_states
from mlglass.candidate_columns import (
    ParsedColumns,
    cell,
    check_unique_columns,
    factorize_column,
    pair_codes,
    parse_amount_column,
    parse_cells,
)
from mlglass.errors import RecordError, SchemaError
from mlglass.featurize.batch import RecordBatch, species_entry
from mlglass.records import (
    CompoundRecord,
    parse_dimensionality,
    parse_geometry,
    parse_metals,
    parse_oxidation_states,
    record_from_mapping,
    validate_record,
)
from mlglass.schema import is_blank

__all__ = ["COMPOSITION_COLUMNS", "DESCRIPTOR_LIMIT", "CandidateBatch", "with_columns"]

#: Columns of the candidate schema that determine a composition's descriptors.
COMPOSITION_COLUMNS = ("metal", "oxidation_state", "ligands", "counter_ions", "dimensionality", "geometry", "formula")
#: Descriptor magnitudes at or above this are refused (float32, used by the boosters, overflows at 3.4e38).
DESCRIPTOR_LIMIT = 1e30


def with_columns(frame: pd.DataFrame, columns: dict[str, Any]) -> pd.DataFrame:
    """A copy of ``frame`` with ``columns`` (name -> values, one per row) set: existing ones replaced
    in place, new ones appended in the dict's order, all in one step.

    Adding columns one by one (``frame[name] = values``) rebuilds the column index each time,
    which costs milliseconds per column with pandas' Arrow-backed string labels.
    """
    out = frame.copy()
    for name in [c for c in columns if c in out.columns]:
        out[name] = columns[name]
    added = {c: v for c, v in columns.items() if c not in frame.columns}
    if not added:
        return out
    return pd.concat([out, pd.DataFrame(added, index=out.index)], axis=1)


def _dimension(value: Any) -> float:
    """A dimensionality cell as a float (NaN when blank)."""
    d = parse_dimensionality(value)
    return np.nan if d is None else float(d)


# ------------------------------------------------------------------ the batch
@dataclass
class CandidateBatch:
    """Distinct compositions of a candidate table, parsed and laid out for the featurizers.

    Attributes
    ----------
    n_rows : int
        Rows of the table.
    inverse : ndarray of int64, shape (n_rows,)
        Distinct composition of each row.
    first_row : ndarray of int64, shape (n_unique,)
        First row of each distinct composition (its representative).
    errors : list of RecordError or None
        Per distinct composition: why it cannot be featurized (field, value, reason), else None.
    batch : RecordBatch
        Slot arrays of the distinct compositions (empty slots for bad ones).
    oxidation_used : ndarray of object
        Per distinct composition, ``"Zn:2;Co:2"`` (blank for bad ones).
    oxidation_method : ndarray of object
        ``given``, ``charge_balance`` or ``default`` (:mod:`mlglass.chem.oxidation`).
    chemistry : ndarray of object
        ``(metals, ligand donor kinds)`` frozensets, for the applicability domain.
    """

    n_rows: int
    inverse: np.ndarray
    first_row: np.ndarray
    errors: list[RecordError | None]
    batch: RecordBatch
    oxidation_used: np.ndarray
    oxidation_method: np.ndarray
    chemistry: np.ndarray

    @property
    def n_unique(self) -> int:
        """Number of distinct compositions."""
        return len(self.first_row)

    # -------------------------------------------------------------- building
    @classmethod
    def from_frame(cls, frame: pd.DataFrame, *, key_columns: Sequence[str] = ()) -> CandidateBatch:
        """Factorise, parse and lay out the compositions of a candidate table.

        Parameters
        ----------
        frame : pandas.DataFrame
            Candidate schema (``metal`` with ``ligands``, or ``formula``); other columns are ignored.
        key_columns : sequence of str
            Further columns that tell compositions apart (e.g. ``td_c`` or structure
            descriptors, so that a row's predictions can be broadcast from its representative).

        Raises
        ------
        SchemaError
            Neither ``metal`` nor ``formula`` is a column, or a column name appears twice.
        """
        check_unique_columns(frame)
        if "metal" not in frame.columns and "formula" not in frame.columns:
            raise SchemaError("columns", list(frame.columns)[:20],
                              "a candidate table needs a 'metal' column (with 'ligands') or a 'formula' column")
        n = len(frame)
        comp_cols = [c for c in COMPOSITION_COLUMNS if c in frame.columns]
        keys = comp_cols + [c for c in key_columns if c in frame.columns and c not in comp_cols]
        col_codes: dict[str, np.ndarray] = {}
        col_values: dict[str, list[Any]] = {}
        combined = np.zeros(n, dtype=np.int64)
        radix = 1
        for c in keys:
            codes, first = factorize_column(frame[c])
            col_codes[c] = codes
            if c in comp_cols:
                values = frame[c].to_numpy(dtype=object)
                col_values[c] = [cell(values[i]) for i in first]
            k = max(1, len(first))
            if radix * k >= 2 ** 62:
                combined, _ = pd.factorize(combined, sort=False)
                combined = combined.astype(np.int64)
                radix = int(combined.max()) + 1 if n else 1
            combined = combined * k + codes
            radix *= k
        inverse, uniques = pd.factorize(combined, sort=False)
        inverse = inverse.astype(np.int64)
        n_u = len(uniques)
        first_row = np.full(n_u, n, dtype=np.int64)
        np.minimum.at(first_row, inverse, np.arange(n, dtype=np.int64))
        u_codes = {c: col_codes[c][first_row] for c in comp_cols}
        return cls._build(n, inverse, first_row, comp_cols, u_codes, col_values)

    @classmethod
    def from_records(cls, records: Sequence[CompoundRecord]) -> CandidateBatch:
        """A batch of records built in code (checked with :func:`~mlglass.records.validate_record`)."""
        n = len(records)
        keys: dict[Any, int] = {}
        inverse = np.zeros(n, dtype=np.int64)
        unique: list[CompoundRecord] = []
        errs: list[RecordError | None] = []
        for i, rec in enumerate(records):
            e: RecordError | None = None
            try:
                validate_record(rec)
                k: Any = rec.key()
                hash(k)
            except RecordError as err:
                k, e = ("__bad__", i), err
            except TypeError:
                k, e = ("__bad__", i), RecordError("record", rec, "fields must be hashable values (str, numbers, "
                                                   "tuples)")
            j = keys.get(k)
            if j is None:
                j = keys[k] = len(unique)
                unique.append(rec)
                errs.append(e)
            inverse[i] = j
        first_row = np.full(len(unique), n, dtype=np.int64)
        np.minimum.at(first_row, inverse, np.arange(n, dtype=np.int64))
        return cls._from_parsed(n, inverse, first_row, unique, errs)

    @classmethod
    def _from_parsed(cls, n: int, inverse: np.ndarray, first_row: np.ndarray,
                     records: Sequence[CompoundRecord | None], errs: list[RecordError | None]) -> CandidateBatch:
        """Lay out already-parsed records (one per distinct composition) through the column tables."""
        n_u = len(records)
        records = [r if e is None else None for r, e in zip(records, errs)]  # fields of invalid records unread
        metal_vals = [r.metals if r is not None else () for r in records]
        lig_extra = [tuple((c.name, c.amount) for c in r.ligands) if r is not None else () for r in records]
        cnt_extra = [tuple((c.name, c.amount) for c in r.counter_ions) if r is not None else () for r in records]
        parsed = ParsedColumns(
            metals=metal_vals, metal_err=[None] * n_u,
            given=[r.oxidation_states if r is not None else () for r in records], given_err=[None] * n_u,
            ligands=parse_amount_column([], "ligands", lig_extra),
            counters=parse_amount_column([], "counter_ions", cnt_extra),
            dim=np.array([np.nan if r is None or r.dimensionality is None else r.dimensionality for r in records],
                         dtype=float),
            geometry=[r.geometry if r is not None else None for r in records],
            m=np.arange(n_u), g=np.arange(n_u), lig=np.arange(n_u), cnt=np.arange(n_u))
        return cls._finish(n, inverse, first_row, parsed, list(errs))

    @classmethod
    def _build(cls, n: int, inverse: np.ndarray, first_row: np.ndarray, comp_cols: list[str],
               u_codes: dict[str, np.ndarray], col_values: dict[str, list[Any]]) -> CandidateBatch:
        n_u = len(first_row)

        def values(c: str) -> list[Any]:
            return col_values.get(c, [None])

        def codes(c: str) -> np.ndarray:
            return u_codes[c] if c in u_codes else np.zeros(n_u, dtype=np.int64)

        blank = {c: np.array([is_blank(v) for v in values(c)], dtype=bool) for c in ("metal", "ligands", "formula")}
        from_formula = blank["metal"][codes("metal")] & blank["ligands"][codes("ligands")] \
            & ~blank["formula"][codes("formula")]
        errs: list[RecordError | None] = [None] * n_u
        # formula rows (metal and ligands blank): parsed as records, appended to the column tables
        f_rows = np.flatnonzero(from_formula)
        f_recs: list[CompoundRecord | None] = []
        for u in f_rows:
            row = {c: values(c)[codes(c)[u]] for c in comp_cols}
            try:
                f_recs.append(record_from_mapping(row))
            except RecordError as err:
                f_recs.append(None)
                errs[u] = err
        # metals and the given oxidation states: per distinct cell / (metal, oxidation_state) pair
        metal_vals, metal_err = parse_cells(values("metal"), parse_metals, ())
        m = codes("metal").copy()
        ox_vals = values("oxidation_state")
        pair_code, pair_first = pair_codes(m, codes("oxidation_state"))
        given: list[tuple[tuple[str, float], ...]] = []
        given_err: list[RecordError | None] = []
        ox_c = codes("oxidation_state")
        for u in pair_first:
            if metal_err[m[u]] is not None:
                given.append(())
                given_err.append(None)
                continue
            try:
                given.append(parse_oxidation_states(ox_vals[ox_c[u]], metal_vals[m[u]]))
                given_err.append(None)
            except RecordError as err:
                given.append(())
                given_err.append(err)
        g = pair_code.copy()
        n_lig = len(values("ligands"))
        n_cnt = len(values("counter_ions"))
        lig = codes("ligands").copy()
        cnt = codes("counter_ions").copy()
        ligands = parse_amount_column(values("ligands"), "ligands",
                                       [tuple((c.name, c.amount) for c in r.ligands) if r else () for r in f_recs])
        counters = parse_amount_column(values("counter_ions"), "counter_ions",
                                        [tuple((c.name, c.amount) for c in r.counter_ions) if r else ()
                                         for r in f_recs])
        dim_vals, dim_err = parse_cells(values("dimensionality"), _dimension, np.nan)
        geo_vals, geo_err = parse_cells(values("geometry"), parse_geometry, None)
        dim = np.asarray(dim_vals, dtype=float)[codes("dimensionality")]
        geometry_code = codes("geometry").copy()
        # the formula rows point at their own appended entries
        geometry_list = list(geo_vals)
        for k, (u, rec) in enumerate(zip(f_rows, f_recs)):
            lig[u], cnt[u] = n_lig + k, n_cnt + k
            if rec is None:
                continue
            m[u] = len(metal_vals)
            metal_vals.append(rec.metals)
            metal_err.append(None)
            g[u] = len(given)
            given.append(rec.oxidation_states)
            given_err.append(None)
            dim[u] = np.nan if rec.dimensionality is None else rec.dimensionality
            geometry_code[u] = len(geometry_list)
            geometry_list.append(rec.geometry)
        # the first parse error of each composition, in the order record_from_mapping checks the fields
        ordered = [(m, metal_err), (g, given_err), (lig, ligands.errors), (cnt, counters.errors),
                   (codes("dimensionality"), dim_err), (codes("geometry"), geo_err)]
        regular = ~from_formula
        for code, err_list in ordered:
            bad_entries = np.array([e is not None for e in err_list], dtype=bool)
            if not bad_entries.any():
                continue
            for u in np.flatnonzero(regular & bad_entries[code]):
                if errs[u] is None:
                    errs[u] = err_list[code[u]]
        parsed = ParsedColumns(metals=metal_vals, metal_err=metal_err, given=given, given_err=given_err,
                         ligands=ligands, counters=counters, dim=dim,
                         geometry=[geometry_list[k] for k in range(len(geometry_list))],
                         m=m, g=g, lig=lig, cnt=cnt, geometry_code=geometry_code)
        return cls._finish(n, inverse, first_row, parsed, errs)

    @classmethod
    def _finish(cls, n: int, inverse: np.ndarray, first_row: np.ndarray, p: ParsedColumns,
                errs: list[RecordError | None]) -> CandidateBatch:
        from mlglass.chem.ligands import resolve_species

        n_u = len(first_row)
        bad = np.array([e is not None for e in errs], dtype=bool)
        # species: resolved once per distinct name (ligands and counter-ions separately, as their errors differ)
        tables = []
        for amounts, field in ((p.ligands, "ligands"), (p.counters, "counter_ions")):
            entries = [species_entry(nm, field) for nm in amounts.names]
            charge = np.array([np.nan if isinstance(e, RecordError) else resolve_species(nm, field).charge
                               for nm, e in zip(amounts.names, entries)] + [0.0], dtype=float)
            ok_name = np.array([not isinstance(e, RecordError) for e in entries] + [True], dtype=bool)
            tables.append((amounts, field, entries, charge, ok_name))
        # charge of the species per composition (NaN when a species is unknown: then the default state)
        q = np.zeros(n_u)
        for (amounts, _field, _entries, charge, _ok_name), code in zip(tables, (p.lig, p.cnt)):
            idx = amounts.idx[code]
            a = amounts.amt[code]
            ch = charge[np.where(idx < 0, len(charge) - 1, idx)]
            for k in range(idx.shape[1]):
                q = q + ch[:, k] * a[:, k]
        # oxidation states: per (metal cell, given states, charge-balance candidate)
        ox = settle_oxidation_states(p, q, bad)
        for u in np.flatnonzero(~bad):
            e = ox.errors[ox.codes[u]]
            if e is not None:
                errs[u] = e
        # species errors: the first unknown ligand, then the first unknown counter-ion
        for (amounts, _field, entries, _charge, ok_name), code in zip(tables, (p.lig, p.cnt)):
            idx = amounts.idx[code]
            bad_slot = ~ok_name[np.where(idx < 0, len(ok_name) - 1, idx)]
            for u in np.flatnonzero(bad_slot.any(axis=1)):
                if errs[u] is None:
                    e = entries[idx[u, int(np.argmax(bad_slot[u]))]]
                    assert isinstance(e, RecordError)
                    errs[u] = e
        bad = np.array([e is not None for e in errs], dtype=bool)
        # the RecordBatch of the distinct compositions
        lig_vecs = [e if not isinstance(e, RecordError) else None for e in tables[0][2]]
        cnt_vecs = [e if not isinstance(e, RecordError) else None for e in tables[1][2]]
        from mlglass.chem.ligands import SpeciesDescriptors

        width = len(SpeciesDescriptors.LABELS)
        vecs = [v[0] if v is not None else np.full(width, np.nan) for v in lig_vecs + cnt_vecs]
        kinds = [v[1] if v is not None else "other" for v in lig_vecs + cnt_vecs]
        species_vec = np.vstack(vecs) if vecs else np.zeros((0, width))
        lig_idx = p.ligands.idx[p.lig].copy()
        lig_amt = p.ligands.amt[p.lig].copy()
        cnt_idx = p.counters.idx[p.cnt].copy()
        cnt_idx = np.where(cnt_idx >= 0, cnt_idx + len(lig_vecs), -1)
        cnt_amt = p.counters.amt[p.cnt].copy()
        metal_idx = ox.slots[ox.codes].copy()
        metal_frac = ox.fracs[ox.codes].copy()
        for arr in (lig_idx, cnt_idx, metal_idx):
            arr[bad] = -1
        for arr in (lig_amt, cnt_amt, metal_frac):
            arr[bad] = 0.0
        geo = np.array([x for x in p.geometry] + [None], dtype=object)
        gcode = p.geometry_code if p.geometry_code is not None else np.arange(n_u)
        geo_u = geo[gcode] if len(p.geometry) else np.full(n_u, None, dtype=object)
        given_geo = np.array([x is not None for x in geo_u], dtype=bool) & ~bad
        tet = (geo_u == "tetrahedral") & given_geo
        dim = np.where(bad, np.nan, p.dim)
        batch = RecordBatch(n=n_u, metals=ox.ions, metal_idx=metal_idx, metal_frac=metal_frac,
                            species_vec=species_vec, species_kind=kinds, lig_idx=lig_idx, lig_amt=lig_amt,
                            cnt_idx=cnt_idx, cnt_amt=cnt_amt, dim=dim, tetrahedral=tet, geometry_given=given_geo,
                            errors=[str(e) if e is not None else "" for e in errs])
        used = ox.used[ox.codes].copy() if len(ox.used) else np.full(n_u, "", dtype=object)
        method = ox.method[ox.codes].copy() if len(ox.used) else np.full(n_u, "", dtype=object)
        used[bad] = ""
        method[bad] = ""
        chemistry = chemistry_classes(p, tables[0][2], n_u)
        return cls(n_rows=n, inverse=inverse, first_row=first_row, errors=errs, batch=batch,
                   oxidation_used=used, oxidation_method=method, chemistry=chemistry)

    # -------------------------------------------------------------- using
    def features(self, featurizers: Sequence[Any], *, on_error: str = "report",
                 row_labels: Sequence[Any] | None = None) -> np.ndarray:
        """Descriptors of the distinct compositions, shape ``(n_unique + 1, n_features)``.

        The last row is all NaN (bad rows point at it through :attr:`index`). A
        composition whose descriptors are not finite (an amount or property out of
        range) gets an error and NaN descriptors. With ``on_error="raise"`` the
        first bad row raises its :class:`~mlglass.errors.RecordError` (naming the row).
        """
        labels = [lab for f in featurizers for lab in f.feature_labels()]
        table = np.full((self.n_unique + 1, len(labels)), np.nan)
        if self.n_unique:
            table[:-1] = np.hstack([f.featurize_batch(self.batch) for f in featurizers])
            body = table[:-1]
            with np.errstate(invalid="ignore"):
                out_of_range = ~np.isnan(body) & ~(np.abs(body) < DESCRIPTOR_LIMIT)
            for j in np.flatnonzero(out_of_range.any(axis=1)):
                if self.errors[j] is None:
                    c = int(np.flatnonzero(out_of_range[j])[0])
                    self.errors[j] = RecordError(labels[c], float(body[j, c]), "descriptor is not a finite number "
                                                                               "(an amount or property out of range)")
            bad = np.array([e is not None for e in self.errors], dtype=bool)
            table[:-1][bad] = np.nan
        if on_error == "raise":
            self.raise_first_error(row_labels)
        return table

    @property
    def bad(self) -> np.ndarray:
        """Per distinct composition: True if it has an error."""
        return np.array([e is not None for e in self.errors], dtype=bool)

    @property
    def index(self) -> np.ndarray:
        """Row of :meth:`features`' table for each input row (bad rows -> the NaN row)."""
        return np.where(self.bad, self.n_unique, np.arange(self.n_unique))[self.inverse]

    def raise_first_error(self, row_labels: Sequence[Any] | None = None) -> None:
        """Raise the error of the first bad row (naming the row), if any."""
        bad_rows = np.flatnonzero(self.bad[self.inverse])
        if len(bad_rows):
            i = int(bad_rows[0])
            err = self.errors[self.inverse[i]]
            assert err is not None
            label = cell(row_labels[i]) if row_labels is not None else i
            raise err.with_row(label) from None

    def broadcast(self, unique_out: pd.DataFrame, frame: pd.DataFrame, columns: Sequence[str] | None = None,
                  *, error_column: str = "error") -> pd.DataFrame:
        """Copy per-composition results back to the rows of ``frame`` through the inverse index.

        Parameters
        ----------
        unique_out : pandas.DataFrame
            One row per distinct composition (in :attr:`first_row` order).
        frame : pandas.DataFrame
            The input rows.
        columns : sequence of str, optional
            Columns of ``unique_out`` to copy (default: those not in ``frame``), in
            ``unique_out``'s order after ``frame``'s columns.
        error_column : str, default="error"
            Its messages (per composition, without a row) get each row's own label,
            ``"row <id>: ..."`` (the ``id`` column, else the index).
        """
        cols = [c for c in unique_out.columns if c not in frame.columns] if columns is None else list(columns)
        new: dict[str, Any] = {}
        for c in cols:
            column = unique_out[c]
            if c != error_column and isinstance(column.array, pd.api.extensions.ExtensionArray) \
                    and not isinstance(column.array, pd.arrays.NumpyExtensionArray):
                new[c] = column.array.take(self.inverse)  # e.g. Arrow-backed text: taken in Arrow, no Python objects
                continue
            values = column.to_numpy()
            if c == error_column:
                text = np.asarray(values, dtype=object)[self.inverse]
                labels = frame["id"].to_numpy(dtype=object) if "id" in frame.columns else frame.index.to_numpy()
                bad = np.flatnonzero(pd.Series(text, dtype=object).str.len().to_numpy() > 0)
                if len(bad):
                    text = text.copy()
                    for i in bad:
                        text[i] = f"row {cell(labels[i])!r}: {text[i]}"
                new[c] = text
            else:
                new[c] = values[self.inverse]
        out = with_columns(frame, new)
        order = list(frame.columns) + [c for c in unique_out.columns if c not in frame.columns]
        return out[[c for c in order if c in out.columns]]

    def row_errors(self, row_labels: Sequence[Any] | None = None) -> list[str]:
        """Per input row: ``"row <label>: field ... = ...: reason"``, or ``""`` for a good row."""
        text = np.array([str(e) if e is not None else "" for e in self.errors] + [""], dtype=object)
        out = text[self.inverse].tolist()
        for i in np.flatnonzero(self.bad[self.inverse]).tolist():
            label = cell(row_labels[i]) if row_labels is not None else i
            out[i] = f"row {label!r}: {out[i]}"
        return out
