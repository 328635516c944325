"""The thermal-stability (Td) table: 3,132 MOFs run through mlglass's own CIF pipeline.

:func:`build_thermal_table` reads the shared thermal set (``td.csv`` plus one
CoRE MOF 2019 CIF per row, see ``../shared/thermal/README.md``), turns every
structure into a compound record with :func:`mlglass.structure.records_from_cifs`
and writes one row per framework (:data:`THERMAL_COLUMNS`): ``refcode``,
``split`` (the published train/val/test split), ``td_c`` (TGA decomposition
onset, degC), the record (``metal``, ``oxidation_state``, ``ligands`` and
``counter_ions`` as SMILES with moles per metal, ``dimensionality``,
``geometry``), the ``struct_*`` descriptors, ``known_melter`` and ``error``
(empty on success; the reason otherwise, the row is kept), then the ``sg_*``
structure descriptors of :mod:`mlglass.structure.graph_descriptors` (a second,
separately cached pass; they need only the structure, so rows with an
``error`` usually have them) and ``graph_error``.

``known_melter`` is true when the row's composition (network metals and the
set of coordinating ligands, compared as canonical SMILES) equals that of a
compound the curated glass dataset (``datasets/glasses.csv``) says melts, e.g.
the Zn(Im)2 polymorphs: for those the TGA onset is not a decomposition before
melting, so they are not decomposition examples for p_melt.

Sources (cite both when using the table): A. Nandy, G. Terrones,
N. Arunachalam, C. Duan, D. W. Kastner, H. J. Kulik, Sci. Data 2022, 9, 74
(Td values and split; MOFSimplify, MIT licence) and Y. G. Chung et al.,
J. Chem. Eng. Data 2019, 64, 5985 (CoRE MOF 2019 structures, CC-BY-4.0).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlglass.errors import SchemaError
from mlglass.structure.graph_descriptors import GRAPH_COLUMNS

__all__ = ["THERMAL_COLUMNS", "STRUCT_COLUMNS", "GRAPH_COLUMNS", "build_thermal_table", "mark_known_melters",
           "composition_key", "default_shared_thermal_dir", "failure_reasons", "write_thermal_table",
           "thermal_metadata", "build_and_write", "add_graph_descriptors"]

STRUCT_COLUMNS = ("struct_density_g_cm3", "struct_metal_metal_min_distance_a", "struct_porosity_fraction",
                  "struct_coordination_number_mean", "struct_n_atoms")
THERMAL_COLUMNS = ("refcode", "core_name", "split", "td_c", "metal", "oxidation_state", "ligands", "counter_ions",
                   "dimensionality", "geometry") + STRUCT_COLUMNS + ("oxidation_state_method", "known_melter",
                                                                     "error") + GRAPH_COLUMNS + ("graph_error",)


def default_shared_thermal_dir() -> Path:
    """``$MLGLASS_THERMAL_DIR`` if set, else ``../shared/thermal`` next to the repository checkout."""
    env = os.environ.get("MLGLASS_THERMAL_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[1].parent / "shared" / "thermal"


def _canonical(name: str, field: str) -> str:
    from mlglass.chem.ligands import resolve_species

    try:
        return resolve_species(name, field).smiles
    except Exception:  # noqa: BLE001 - an unknown species just does not match
        return name


def composition_key(metal: Any, ligands: Any) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """Network metals and coordinating ligands (canonical SMILES), as sorted tuples; ``None`` if blank."""
    from mlglass.records import parse_amounts, parse_metals

    try:
        metals = tuple(sorted(sym for sym, _ in parse_metals(metal)))
        ligs = tuple(sorted({_canonical(n, "ligands") for n, _ in parse_amounts(ligands, "ligands")}))
    except Exception:  # noqa: BLE001
        return None
    if not metals or not ligs:
        return None
    return metals, ligs


def mark_known_melters(table: pd.DataFrame, glasses: pd.DataFrame | None = None) -> np.ndarray:
    """Boolean per row of ``table``: composition equals a compound that melts in ``glasses``."""
    if glasses is None:
        from mlglass.datasets import load_glasses

        glasses = load_glasses()
    melts = glasses["melts"].fillna(False).astype(bool)
    if "composite" in glasses.columns:  # e.g. an ionic liquid inside ZIF-8: the composite melts, not the framework
        melts &= ~glasses["composite"].fillna(False).astype(bool)
    melters = glasses[melts]
    keys = {composition_key(m, lig) for m, lig in zip(melters["metal"], melters["ligands"])}
    keys.discard(None)
    return np.array([composition_key(m, lig) in keys for m, lig in zip(table["metal"], table["ligands"])],
                    dtype=bool)


def failure_reasons(table: pd.DataFrame) -> dict[str, int]:
    """Failed rows counted by reason (the text of ``error`` before its first ':', '(' or ';', numbers as '#')."""
    errs = table["error"].fillna("").astype(str)
    errs = errs[errs != ""]
    reasons = errs.str.replace(r"^row [^:]*: ", "", regex=True)
    reasons = reasons.str.replace(r"^field 'cif' = '[^']*': ", "", regex=True)
    reasons = reasons.str.split(r"[:(;]", n=1, regex=True).str[0].str.strip()
    reasons = reasons.str.replace(r"\[[^\]]*\]", "[...]", regex=True)  # lists of charges tried
    reasons = reasons.str.replace(r"\b[\w.+-]*\d[\w.+-]*\b", "#", regex=True)  # counts, formulas, times
    return {str(k): int(v) for k, v in reasons.value_counts().items()}


def build_thermal_table(shared_dir: str | os.PathLike | None = None, *, refcodes: Iterable[str] | None = None,
                        n_jobs: int = 1, timeout: float | None = 60.0, cache_dir: str | os.PathLike | None = None,
                        use_cache: bool = True, progress: bool = True,
                        glasses: pd.DataFrame | None = None) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Run the shared thermal set through the CIF pipeline.

    Parameters
    ----------
    shared_dir : path, optional
        Folder with ``td.csv`` and ``cifs/`` (default :func:`default_shared_thermal_dir`).
    refcodes : iterable of str, optional
        Only these rows (default: all 3,132).
    n_jobs, timeout, cache_dir, use_cache, progress
        Passed to :func:`mlglass.structure.records_from_cifs` (timeout in s per file).
    glasses : DataFrame, optional
        Glass dataset used to mark ``known_melter`` (default: the bundled one).

    Returns
    -------
    table : pandas.DataFrame
        Columns :data:`THERMAL_COLUMNS`, rows in ``td.csv`` order.
    report : dict
        ``seconds`` (wall time), ``n_rows``, ``n_failed``, ``failures`` (reason -> count).

    Raises
    ------
    SchemaError
        ``td.csv`` missing or without the documented columns.
    """
    from mlglass.structure import records_from_cifs

    base = Path(shared_dir) if shared_dir is not None else default_shared_thermal_dir()
    td_path = base / "td.csv"
    if not td_path.is_file():
        raise SchemaError("shared_dir", str(base), "no td.csv here; point to the shared thermal folder "
                          "(../shared/thermal or $MLGLASS_THERMAL_DIR)")
    td = pd.read_csv(td_path, dtype={"core_name": str, "refcode": str, "split": str, "cif": str})
    missing = {"core_name", "refcode", "td_c", "split", "cif"} - set(td.columns)
    if missing:
        raise SchemaError("columns", sorted(missing), f"{td_path} lacks these columns")
    if refcodes is not None:
        wanted = set(refcodes)
        td = td[td["refcode"].isin(wanted)]
    td = td.reset_index(drop=True)
    t0 = time.perf_counter()
    kwargs: dict[str, Any] = dict(n_jobs=n_jobs, progress=progress, timeout=timeout, use_cache=use_cache)
    if cache_dir is not None:
        kwargs["cache_dir"] = cache_dir
    rows = records_from_cifs([str(base / c) for c in td["cif"]], **kwargs)
    seconds = time.perf_counter() - t0
    out = pd.DataFrame({"refcode": td["refcode"], "core_name": td["core_name"], "split": td["split"],
                        "td_c": td["td_c"].astype(float)})
    for c in THERMAL_COLUMNS:
        if c in rows.columns and c not in out.columns:
            out[c] = rows[c].to_numpy()
    prefix = str(base) + os.sep
    out["error"] = [e.replace(prefix, "") for e in rows["error"].fillna("").astype(str)]
    ok = out["error"] == ""
    out["known_melter"] = False
    out.loc[ok, "known_melter"] = mark_known_melters(out[ok], glasses)
    for c in GRAPH_COLUMNS + ("graph_error",):
        out[c] = np.nan if c != "graph_error" else ""
    out = out[list(THERMAL_COLUMNS)]
    report = {"seconds": seconds, "n_rows": int(len(out)), "n_failed": int((~ok).sum()),
              "failures": failure_reasons(out), "n_known_melter": int(out["known_melter"].sum()),
              "n_jobs": n_jobs, "timeout_s": timeout}
    out, graph_report = add_graph_descriptors(out, base, n_jobs=n_jobs, timeout=timeout, cache_dir=cache_dir,
                                              use_cache=use_cache, progress=progress)
    report.update(graph_report)
    return out, report


def add_graph_descriptors(table: pd.DataFrame, shared_dir: str | os.PathLike | None = None, *, n_jobs: int = 1,
                          timeout: float | None = 60.0, cache_dir: str | os.PathLike | None = None,
                          use_cache: bool = True, progress: bool = False) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The second pass of the build: :data:`GRAPH_COLUMNS` of every row's CIF (cached separately).

    These descriptors (:mod:`mlglass.structure.graph_descriptors`) need only the structure, so
    rows whose record extraction failed get them too; ``graph_error`` holds the reason when
    even they fail. ``cache_dir`` is the record cache folder; the descriptors are cached in
    its ``graph_descriptors`` subfolder (default :func:`~mlglass.structure.graph_descriptors.default_graph_cache_dir`).

    Returns
    -------
    table : DataFrame
        A copy with the columns filled, in :data:`THERMAL_COLUMNS` order.
    report : dict
        ``graph_seconds`` (wall time), ``graph_n_failed``, ``graph_failures`` (reason -> count).
    """
    from mlglass.structure.graph_descriptors import graph_descriptors_for_cifs

    base = Path(shared_dir) if shared_dir is not None else default_shared_thermal_dir()
    td = pd.read_csv(base / "td.csv", dtype={"core_name": str, "refcode": str, "cif": str})
    cif_of = dict(zip(td["core_name"], td["cif"]))
    paths = [str(base / cif_of.get(c, f"cifs/{c}.cif")) for c in table["core_name"]]
    t0 = time.perf_counter()
    gdir = Path(cache_dir) / "graph_descriptors" if cache_dir is not None else None
    got = graph_descriptors_for_cifs(paths, n_jobs=n_jobs, timeout=timeout, cache_dir=gdir, use_cache=use_cache,
                                     progress=progress)
    seconds = time.perf_counter() - t0
    out = table.copy()
    for c in GRAPH_COLUMNS:
        out[c] = got[c].to_numpy(dtype=float)
    prefix = str(base) + os.sep
    out["graph_error"] = [e.replace(prefix, "") for e in got["graph_error"].fillna("").astype(str)]
    out = out[[c for c in THERMAL_COLUMNS if c in out.columns]]
    failed = out["graph_error"] != ""
    return out, {"graph_seconds": seconds, "graph_n_failed": int(failed.sum()),
                 "graph_failures": failure_reasons(out.assign(error=out["graph_error"]))}


def write_thermal_table(table: pd.DataFrame, path: str | os.PathLike) -> str:
    """Write the table as CSV atomically (floats with 10 significant digits); return its SHA-256."""
    import hashlib

    from mlglass.io import atomic_write_text

    text = table.to_csv(index=False, float_format="%.10g", lineterminator="\n")
    atomic_write_text(Path(path), text)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


THERMAL_CITATIONS = [
    "A. Nandy, G. Terrones, N. Arunachalam, C. Duan, D. W. Kastner, H. J. Kulik, MOFSimplify, machine learning "
    "models with extracted stability data of three thousand metal-organic frameworks, Sci. Data 2022, 9, 74, "
    "DOI 10.1038/s41597-022-01181-0",
    "A. Nandy, C. Duan, H. J. Kulik, J. Am. Chem. Soc. 2021, 143, 17535",
    "Y. G. Chung et al., Advances, updates, and analytics for the computation-ready, experimental metal-organic "
    "framework database: CoRE MOF 2019, J. Chem. Eng. Data 2019, 64, 5985",
]


def thermal_metadata(sha256: str, report: dict[str, Any]) -> dict[str, Any]:
    """The ``thermal`` entry of ``datasets/metadata.json`` (matminer-style, with licence and citations)."""
    return {
        "description": "TGA decomposition onsets (Td) of 3,132 MOFs (the MOFSimplify thermal-stability set) with "
                       "the published train/val/test split, each CoRE MOF 2019 structure run through mlglass's "
                       "CIF pipeline (mlglass.structure) into a compound record and structure descriptors. Rows "
                       "whose structure failed keep the reason in 'error'. 'known_melter': composition of a "
                       "compound that melts in glasses.csv (its onset is not decomposition before melting).",
        "file": "thermal.csv",
        "columns": {
            "refcode": {"description": "CSD refcode", "unit": None},
            "core_name": {"description": "CoRE MOF 2019 name (CIF file stem)", "unit": None},
            "split": {"description": "published split: train (2005) / val (501) / test (626)", "unit": None},
            "td_c": {"description": "TGA decomposition onset", "unit": "degC"},
            "metal": {"description": "network metal(s) with site fractions", "unit": None},
            "oxidation_state": {"description": "oxidation state(s) assigned by the CIF pipeline (averaged for "
                                                "mixed valence)", "unit": None},
            "ligands": {"description": "coordinating species as SMILES with moles per metal",
                        "unit": "mol per mol metal"},
            "counter_ions": {"description": "non-coordinating ions and guests, same notation",
                             "unit": "mol per mol metal"},
            "dimensionality": {"description": "dimensionality of the metal-containing network (0-3)", "unit": None},
            "geometry": {"description": "majority metal coordination geometry", "unit": None},
            "struct_density_g_cm3": {"description": "density of the kept atoms", "unit": "g/cm3"},
            "struct_metal_metal_min_distance_a": {"description": "closest metal-metal distance", "unit": "Angstrom"},
            "struct_porosity_fraction": {"description": "geometric void fraction", "unit": None},
            "struct_coordination_number_mean": {"description": "mean metal coordination number", "unit": None},
            "struct_n_atoms": {"description": "atoms in the cell", "unit": None},
            "oxidation_state_method": {"description": "how oxidation states were assigned", "unit": None},
            "known_melter": {"description": "composition melts according to glasses.csv", "unit": None},
            "error": {"description": "why the structure could not be used (empty on success)", "unit": None},
            "sg_*": {"description": "structure descriptors of mlglass.structure.graph_descriptors (composition "
                                    "fractions, packing and pore grid, metal-donor bonds, revised autocorrelations "
                                    "of electronegativity, Z, covalent radius and bond count); need only the "
                                    "structure, so rows with an 'error' may have them", "unit": "see module"},
            "graph_error": {"description": "why the sg_* descriptors could not be computed (empty on success)",
                            "unit": None},
        },
        "num_entries": int(report.get("n_rows", 0)),
        "reference": "; ".join(THERMAL_CITATIONS),
        "licence": "Td values and split: MOFSimplify (hjkgrp/MOFSimplify, MIT licence), via XYLiu9357/optimof "
                   "data/thermal/thermal_all_data.csv (MIT); structures: CoRE MOF 2019 (CC-BY-4.0) as matched in "
                   "zhangshd/MOFSNN (CGCNN_MT/data/TSD/cifs/). Cite both (see reference).",
        "build": {k: report[k] for k in ("seconds", "n_rows", "n_failed", "failures", "n_known_melter", "n_jobs",
                                          "timeout_s", "graph_seconds", "graph_n_failed", "graph_failures")
                  if k in report},
        "sha256": sha256,
    }


def build_and_write(out_dir: str | os.PathLike, shared_dir: str | os.PathLike | None = None, *,
                    descriptors_only: bool = False, **kwargs: Any) -> dict[str, Any]:
    """Build the full table, write ``thermal.csv`` and its ``metadata.json`` entry into ``out_dir``.

    With ``descriptors_only`` the existing ``out_dir/thermal.csv`` keeps its records and only the
    second pass (:func:`add_graph_descriptors`) is run; the build report of the first pass is kept.
    """
    import json

    from mlglass.io import atomic_write_text

    out_dir = Path(out_dir)
    meta_path = out_dir / "metadata.json"
    if descriptors_only:
        from mlglass.datasets import load_thermal

        old = json.loads(meta_path.read_text(encoding="utf-8")).get("thermal", {}) if meta_path.exists() else {}
        table, report = add_graph_descriptors(load_thermal(out_dir / "thermal.csv"), shared_dir,
                                              **{k: v for k, v in kwargs.items()
                                                 if k in ("n_jobs", "timeout", "cache_dir", "use_cache", "progress")})
        report = {**old.get("build", {}), **report, "n_rows": int(len(table)), "failures": failure_reasons(table)}
    else:
        table, report = build_thermal_table(shared_dir, **kwargs)
    sha = write_thermal_table(table, out_dir / "thermal.csv")
    meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.exists() else {}
    meta["thermal"] = thermal_metadata(sha, report)
    atomic_write_text(meta_path, json.dumps(meta, indent=2, ensure_ascii=False) + "\n")
    report["sha256"] = sha
    return report
