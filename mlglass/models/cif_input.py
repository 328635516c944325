"""Candidate tables with a ``cif`` column: compositions and structure descriptors from the structures.

A row whose ``cif`` cell holds a path takes, from that structure
(:func:`mlglass.structure.records_from_cifs`, cached), every record field it
leaves blank (``metal``, ``oxidation_state``, ``ligands``, ``counter_ions``,
``dimensionality``, ``geometry``), the ``struct_*`` descriptors the Td
model's CIF view uses and the ``sg_*`` graph descriptors
(:mod:`mlglass.structure.graph_descriptors`, cached separately) that the CIF
view and the structure-only view use. The graph descriptors need only the
structure: a row whose record cannot be extracted still gets them (and so a
Td from the structure-only view). Relative paths are resolved against ``base_dir``: the
folder of the table file on the command line, the working directory in the
library. A structure that cannot be read gives the row an error naming the
``cif`` field, the path and the reason; the other rows go on.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from mlglass.thermal import GRAPH_COLUMNS, STRUCT_COLUMNS

__all__ = ["has_cif_paths", "resolve_cif_paths", "complete_from_cifs", "RECORD_FIELDS", "round_oxidation_states"]

RECORD_FIELDS = ("metal", "oxidation_state", "ligands", "counter_ions", "dimensionality", "geometry")


def round_oxidation_states(text: str) -> str:
    """Round averaged (mixed-valence) oxidation states from a structure to the nearest integer.

    The CIF pipeline reports e.g. ``1.33333`` for a Cu(I)/Cu(II) framework; the metal-ion
    descriptors need an integer state, so ``"1.33333"`` becomes ``"1"`` and
    ``"Mo:3.58333"`` becomes ``"Mo:4"``. Text that is not a number is returned unchanged.
    """
    def one(part: str) -> str:
        head, sep, num = part.rpartition(":")
        try:
            value = float(num)
        except ValueError:
            return part
        return f"{head}{sep}{int(np.floor(value + 0.5))}"

    text = str(text)
    if not text.strip():
        return text
    return ";".join(one(p.strip()) for p in text.split(";"))


def _blank(series: pd.Series) -> np.ndarray:
    return series.isna().to_numpy() | (series.astype(str).str.strip().isin(("", "nan", "None", "<NA>"))).to_numpy()


def has_cif_paths(frame: pd.DataFrame) -> bool:
    """True if ``frame`` has a ``cif`` column with at least one non-blank cell."""
    return "cif" in frame.columns and not _blank(frame["cif"]).all()


def resolve_cif_paths(frame: pd.DataFrame, base_dir: str | os.PathLike | None = None) -> pd.DataFrame:
    """A copy of ``frame`` whose relative ``cif`` paths are made absolute against ``base_dir`` (default: cwd)."""
    if "cif" not in frame.columns:
        return frame
    base = Path(base_dir) if base_dir is not None else Path.cwd()
    out = frame.copy()
    blank = _blank(out["cif"])
    out["cif"] = [v if b or Path(str(v)).is_absolute() else str((base / str(v)).resolve())
                  for v, b in zip(out["cif"].tolist(), blank)]
    return out


def complete_from_cifs(frame: pd.DataFrame, base_dir: str | os.PathLike | None = None, *,
                       progress: bool = False) -> tuple[pd.DataFrame, list[str]]:
    """Fill blank record fields, the ``struct_*`` and the ``sg_*`` columns of rows that name a CIF.

    Returns
    -------
    frame : DataFrame
        A copy with the record fields, :data:`~mlglass.thermal.STRUCT_COLUMNS` and
        :data:`~mlglass.thermal.GRAPH_COLUMNS` (floats) completed.
    errors : list of str
        Per row: empty, or why its structure could not be used.
    """
    from mlglass.structure import records_from_cifs

    frame = resolve_cif_paths(frame, base_dir)
    errors = [""] * len(frame)
    if not has_cif_paths(frame):
        return frame, errors
    has = ~_blank(frame["cif"])
    frame = _complete_graph(frame, has)
    if "metal" in frame.columns and all(c in frame.columns for c in STRUCT_COLUMNS):
        # rows already completed (e.g. by the CLI) need no second pass over their structure
        struct = np.column_stack([pd.to_numeric(frame[c], errors="coerce").to_numpy(dtype=float)
                                  for c in STRUCT_COLUMNS])
        has &= _blank(frame["metal"]) | ~np.isfinite(struct).any(axis=1)
    pos = np.flatnonzero(has)
    if len(pos) == 0:
        return frame, errors
    paths = [str(v) for v in frame["cif"].to_numpy()[pos]]
    unique = list(dict.fromkeys(paths))
    derived = records_from_cifs(unique, progress=progress).set_index("cif", drop=False)
    derived = derived[~derived.index.duplicated()]
    got = derived.loc[paths].reset_index(drop=True)
    out = frame.copy()
    for col in RECORD_FIELDS:
        if col not in out.columns:
            out[col] = ""
        out[col] = out[col].astype(object)
        cur = _blank(out[col].iloc[pos])
        vals = got[col].astype(object).where(got[col].notna(), "").astype(str).to_numpy()
        if col == "oxidation_state":
            vals = np.array([round_oxidation_states(v) for v in vals], dtype=object)
        take = pos[cur]
        out.iloc[take, list(out.columns).index(col)] = vals[cur]
    for col in STRUCT_COLUMNS:
        given = out[col] if col in out.columns else pd.Series(np.nan, index=out.index)
        values = pd.to_numeric(given, errors="coerce").to_numpy(dtype=float).copy()
        missing = ~np.isfinite(values[pos])
        values[pos[missing]] = got[col].to_numpy(dtype=float)[missing]
        out[col] = values
    ids = out["id"].tolist() if "id" in out.columns else list(range(len(out)))
    for k, i in enumerate(pos):
        err = str(got["error"].iloc[k])
        if err:
            if err.startswith("field 'cif'"):
                errors[i] = f"row {ids[i]!r}: {err}"
            else:
                errors[i] = f"row {ids[i]!r}: field 'cif' = {paths[k]!r}: {err}"
    return out, errors


def _complete_graph(frame: pd.DataFrame, has: np.ndarray) -> pd.DataFrame:
    """Fill the ``sg_*`` columns of the rows in ``has`` that have none yet (a failure leaves them NaN)."""
    from mlglass.structure.graph_descriptors import graph_descriptors_for_cifs

    values = np.column_stack([pd.to_numeric(frame[c], errors="coerce").to_numpy(dtype=float)
                              if c in frame.columns else np.full(len(frame), np.nan) for c in GRAPH_COLUMNS])
    pos = np.flatnonzero(has & ~np.isfinite(values).any(axis=1))
    out = frame.copy()
    if len(pos):
        paths = [str(v) for v in out["cif"].to_numpy()[pos]]
        unique = list(dict.fromkeys(paths))
        got = graph_descriptors_for_cifs(unique).set_index("cif")
        values[pos] = got.loc[paths, list(GRAPH_COLUMNS)].to_numpy(dtype=float)
    new = pd.DataFrame(values, columns=list(GRAPH_COLUMNS), index=out.index)
    out = out.drop(columns=[c for c in GRAPH_COLUMNS if c in out.columns])
    return pd.concat([out, new], axis=1)
