"""The curated CP/MOF glass dataset: loading, schema and validation.

The dataset (``datasets/glasses.csv``, documented in ``datasets/README.md``)
holds the values of Ma & Horike, Chem. Rev. 2022, 122, 4163 (Tables 1-2 and
text), one row per compound, each with its literature reference.

Users validate their own measurements against the same schema with
:func:`validate_table` (CLI: ``mlglass dataset validate PATH``).
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlglass._bundled import bundled_dir
from mlglass.errors import RecordError, SchemaError
from mlglass.io.read import read_table
from mlglass.records import record_from_mapping
from mlglass.schema import DATASET_TEXT_COLUMNS, NUMERIC_COLUMNS, REQUIRED_COLUMNS, TEMPERATURE_COLUMNS, is_blank

__all__ = [
    "DATASET_DIR",
    "dataset_path",
    "load_glasses",
    "load_thermal",
    "read_table",
    "coerce_types",
    "validate_table",
    "summarize",
    "CellProblem",
    "TEMPERATURE_COLUMNS",
    "NUMERIC_COLUMNS",
    "REQUIRED_COLUMNS",
    "ROUTES",
    "TARGETS",
]

#: Folder of the bundled data (installed package data or the checkout's ``datasets/``;
#: :func:`dataset_path` lets ``MLGLASS_DATA_DIR`` override it).
DATASET_DIR = bundled_dir("datasets")

ROUTES = ("MQG", "MIG", "direct")
#: Targets the models learn: column -> meaning.
TARGETS = {"tm_c": "melting temperature (degC)", "tg_c": "glass-transition temperature (degC)",
           "melts": "stable liquid before decomposition (bool)"}
_STRING_COLUMNS = DATASET_TEXT_COLUMNS
_ABS_ZERO_C = -273.15
_MAX_T_C = 3000.0


def dataset_path(name: str = "glasses.csv") -> Path:
    """Path of a bundled dataset file (``MLGLASS_DATA_DIR`` overrides the folder)."""
    import os

    base = Path(os.environ.get("MLGLASS_DATA_DIR", DATASET_DIR))
    return base / name


@dataclass(frozen=True)
class CellProblem:
    """One bad cell: row label, column, value and why."""

    row: Any
    column: str
    value: Any
    reason: str

    def __str__(self) -> str:
        return f"row {self.row!r}, column {self.column!r}, value {self.value!r}: {self.reason}"


_blank = is_blank

def _number(v: Any) -> float | None:
    if _blank(v):
        return None
    if isinstance(v, (int, float, np.number)) and not isinstance(v, bool):
        return float(v)
    return float(str(v).strip())


def _bool(v: Any) -> bool | None:
    if _blank(v):
        return None
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    s = str(v).strip().lower()
    if s in ("true", "1", "yes", "y", "t"):
        return True
    if s in ("false", "0", "no", "n", "f"):
        return False
    raise ValueError(s)


def validate_table(frame: pd.DataFrame, *, check_species: bool = True,
                   allow_blank_composition: bool = False) -> list[CellProblem]:
    """Check a measurement table against the dataset schema.

    Checks every cell and returns every problem (nothing is raised for bad
    cells): missing required columns, duplicate ids, compositions that do not
    parse (unknown element, ligand name, bad stoichiometry, dimensionality
    outside 0-3), temperatures that are not numbers, not finite or below
    absolute zero, Tg at or above Tm, low above high, unknown ``route``,
    ``melts`` not true/false.

    Parameters
    ----------
    frame : pandas.DataFrame
    check_species : bool, default=True
        Also resolve every ligand/counter-ion name (ligand library or SMILES).
    allow_blank_composition : bool, default=False
        Accept rows whose ``metal`` and ``ligands`` are blank (the bundled dataset's
        documentation-only rows, whose composition the source does not state as single values;
        their ``formula`` is then descriptive text and is not parsed).

    Returns
    -------
    list of CellProblem
    """
    problems: list[CellProblem] = []
    if frame.columns.has_duplicates:
        for col in sorted({str(c) for c in frame.columns[frame.columns.duplicated()]}):
            problems.append(CellProblem("header", col, None, "column appears more than once"))
        return problems
    for col in REQUIRED_COLUMNS:
        if col not in frame.columns:
            problems.append(CellProblem("header", col, None, "required column is missing"))
    if problems:
        return problems
    ids = frame["id"].tolist()
    seen: dict[Any, int] = {}
    for i, ident in enumerate(ids):
        label = ident if not _blank(ident) else f"#{i + 1}"
        if _blank(ident):
            problems.append(CellProblem(label, "id", ident, "id is empty"))
            continue
        if not isinstance(ident, (str, int, float, np.integer, np.floating)):
            problems.append(CellProblem(f"#{i + 1}", "id", ident, "id must be text"))
            continue
        if ident in seen:
            problems.append(CellProblem(label, "id", ident, f"duplicate id (also on line {seen[ident] + 2})"))
        else:
            seen[ident] = i
    from mlglass.featurize import GlassFeaturizer
    from mlglass.featurize.base import featurize_records

    featurizer = GlassFeaturizer()
    parts = featurizer._parts()
    columns = list(frame.columns)
    for i, row in enumerate(frame.itertuples(index=False, name=None)):
        rec_row = dict(zip(columns, row))
        label = rec_row.get("id") if not _blank(rec_row.get("id")) else f"#{i + 1}"
        if not isinstance(label, (str, int, float, np.integer, np.floating)):
            label = f"#{i + 1}"
        blank = all(_blank(rec_row.get(c)) for c in ("metal", "ligands"))
        try:
            if blank and allow_blank_composition:
                raise _SkipComposition
            rec = record_from_mapping(rec_row)
            if check_species:
                featurize_records(parts, [rec], on_error="raise")
        except _SkipComposition:
            pass
        except RecordError as err:
            problems.append(CellProblem(label, err.field, err.value, err.reason))
        values: dict[str, float] = {}
        for col in NUMERIC_COLUMNS:
            if col not in rec_row:
                continue
            raw = rec_row[col]
            try:
                x = _number(raw)
            except (TypeError, ValueError, OverflowError):
                problems.append(CellProblem(label, col, raw, "not a number"))
                continue
            if x is None:
                continue
            if not math.isfinite(x):
                problems.append(CellProblem(label, col, raw, "not a finite number"))
                continue
            if col in TEMPERATURE_COLUMNS and x < _ABS_ZERO_C:
                problems.append(CellProblem(label, col, raw, "temperature below absolute zero (-273.15 degC)"))
                continue
            if col in TEMPERATURE_COLUMNS and x > _MAX_T_C:
                problems.append(CellProblem(label, col, raw, f"temperature above {_MAX_T_C:g} degC is implausible"))
                continue
            if col == "dh_fus_kj_mol" and x < 0 or col == "ds_fus_j_mol_k" and x < 0:
                problems.append(CellProblem(label, col, raw, "enthalpy/entropy of fusion must be >= 0"))
                continue
            values[col] = x
        if "tg_c" in values and "tm_c" in values and values["tg_c"] >= values["tm_c"]:
            problems.append(CellProblem(label, "tg_c", rec_row.get("tg_c"),
                                        f"Tg ({values['tg_c']:g} degC) is not below Tm ({values['tm_c']:g} degC)"))
        for stem in ("tm", "tg"):
            lo, hi = values.get(f"{stem}_low_c"), values.get(f"{stem}_high_c")
            if lo is not None and hi is not None and lo > hi:
                problems.append(CellProblem(label, f"{stem}_low_c", rec_row.get(f"{stem}_low_c"),
                                            f"low value above {stem}_high_c ({hi:g})"))
        if "route" in rec_row and not _blank(rec_row["route"]) and str(rec_row["route"]).strip() not in ROUTES:
            problems.append(CellProblem(label, "route", rec_row["route"], f"must be one of {', '.join(ROUTES)}"))
        for col in ("melts", "composite"):
            if col in rec_row:
                try:
                    _bool(rec_row[col])
                except ValueError:
                    problems.append(CellProblem(label, col, rec_row[col], "must be true, false or empty"))
    return problems


class _SkipComposition(Exception):
    pass


def coerce_types(frame: pd.DataFrame) -> pd.DataFrame:
    """Typed copy of a text table read by :func:`mlglass.io.read_table`: numbers (degC, kJ/mol, J/mol/K) as
    float, ``dimensionality`` as Int64, ``melts``/``composite`` as boolean, text columns as ``str`` (missing -> "")."""
    out = frame.copy()
    for col in NUMERIC_COLUMNS:
        if col in out.columns:
            out[col] = pd.to_numeric(out[col].replace("", np.nan), errors="coerce").astype("float64")
    if "dimensionality" in out.columns:
        out["dimensionality"] = pd.to_numeric(out["dimensionality"].replace("", np.nan),
                                              errors="coerce").astype("Int64")
    for col in ("melts", "composite"):
        if col in out.columns:
            out[col] = pd.array([_bool(v) for v in out[col]], dtype="boolean")
    for col in _STRING_COLUMNS:
        if col in out.columns:
            out[col] = out[col].fillna("").astype(str)
    return out


_coerce = coerce_types  # former private name (other branches may still import it)


def load_glasses(path: str | Path | None = None, *, validate: bool = True) -> pd.DataFrame:
    """Load the curated glass dataset as a validated DataFrame.

    Dtypes: temperatures and fusion data ``float64`` (degC, kJ/mol, J/(mol K));
    ``dimensionality`` ``Int64``; ``melts`` nullable ``boolean``; text ``str``.

    Parameters
    ----------
    path : path-like, optional
        Another CSV in the same schema (default: the bundled ``datasets/glasses.csv``).
    validate : bool, default=True
        Raise :class:`~mlglass.errors.SchemaError` if any cell is bad.
    """
    path = Path(path) if path is not None else dataset_path()
    if not path.exists():
        raise SchemaError("path", str(path), "dataset file not found; set MLGLASS_DATA_DIR or pass a path")
    frame = read_table(path)
    if validate:
        problems = validate_table(frame, allow_blank_composition=True)
        if problems:
            shown = "\n".join(str(p) for p in problems[:20])
            raise SchemaError("path", str(path), f"{len(problems)} bad cells:\n{shown}")
    return coerce_types(frame)


def dataset_sha256(path: str | Path | None = None) -> str:
    """SHA-256 of a dataset file's bytes."""
    path = Path(path) if path is not None else dataset_path()
    return hashlib.sha256(path.read_bytes()).hexdigest()


def check_metadata_hash(path: str | Path | None = None) -> bool:
    """True if ``datasets/metadata.json`` records the current hash of ``glasses.csv``."""
    meta = json.loads(dataset_path("metadata.json").read_text(encoding="utf-8"))
    return meta["glasses"]["sha256"] == dataset_sha256(path)


def summarize(frame: pd.DataFrame) -> dict[str, Any]:
    """Counts per family and target (rows, single Tm/Tg values, ranges, melts true/false/unknown)."""
    frame = coerce_types(frame)
    out: dict[str, Any] = {"rows": int(len(frame))}

    def counts(sub: pd.DataFrame) -> dict[str, int]:
        d = {"rows": int(len(sub))}
        for col in ("tm_c", "tg_c", "td_c"):
            d[col] = int(sub[col].notna().sum()) if col in sub else 0
        for stem in ("tm", "tg"):
            lo = f"{stem}_low_c"
            d[f"{stem}_range_only"] = int((sub[lo].notna() & sub[f"{stem}_c"].isna()).sum()) if lo in sub else 0
        if "melts" in sub:
            d["melts_true"] = int((sub["melts"] == True).sum())  # noqa: E712
            d["melts_false"] = int((sub["melts"] == False).sum())  # noqa: E712
            d["melts_unknown"] = int(sub["melts"].isna().sum())
        return d

    out["total"] = counts(frame)
    if "family" in frame:
        out["families"] = {fam: counts(sub) for fam, sub in frame.groupby("family", sort=True)}
    return out


#: Dtypes of the thermal-stability table (``datasets/thermal.csv``), see :mod:`mlglass.thermal`.
_THERMAL_TEXT = ("refcode", "core_name", "split", "metal", "oxidation_state", "ligands", "counter_ions", "geometry",
                 "oxidation_state_method", "error", "graph_error")


def load_thermal(path: str | Path | None = None) -> pd.DataFrame:
    """Load the thermal-stability table: TGA decomposition onsets of 3,132 MOFs with their CIF-derived records.

    Built from ``../shared/thermal`` by ``datasets/build_thermal.py`` (see :mod:`mlglass.thermal`;
    sources and licences in ``datasets/metadata.json``, entry ``thermal``).

    Dtypes: ``td_c`` and ``struct_*`` ``float64`` (degC, g/cm3, Angstrom, ...); ``dimensionality``
    ``Int64``; ``known_melter`` ``bool``; text ``str`` (empty when absent).

    Parameters
    ----------
    path : path-like, optional
        Another file in the same schema (default: the bundled ``datasets/thermal.csv``).

    Raises
    ------
    SchemaError
        The file is missing.
    """
    path = Path(path) if path is not None else dataset_path("thermal.csv")
    if not path.exists():
        raise SchemaError("path", str(path), "thermal table not found; build it with datasets/build_thermal.py")
    frame = pd.read_csv(path, dtype={c: str for c in _THERMAL_TEXT}, keep_default_na=False,
                        na_values={c: [""] for c in ("td_c", "dimensionality")})
    for col in _THERMAL_TEXT:
        if col in frame.columns:
            frame[col] = frame[col].fillna("").astype(str)
    for col in frame.columns:
        if col == "td_c" or col.startswith(("struct_", "sg_")):
            frame[col] = pd.to_numeric(frame[col], errors="coerce").astype(float)
    if "dimensionality" in frame.columns:
        frame["dimensionality"] = pd.to_numeric(frame["dimensionality"], errors="coerce").astype("Int64")
    if "known_melter" in frame.columns:
        frame["known_melter"] = frame["known_melter"].astype(str).str.lower().isin(("true", "1"))
    return frame
