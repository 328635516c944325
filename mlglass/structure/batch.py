"""Many CIF files to one candidate table, in parallel, with a per-file cache.

Every file gets a row. A file that fails (unreadable, no metal, refused
disorder, RDKit failure, timeout, crashed worker) keeps its row with the reason
in ``error``; the others go on.

Cache
-----
One JSON file per input, named by SHA-256 of (``CODE_VERSION``, options, the
SHA-256 of the file bytes), in ``cache_dir`` (default ``$MLGLASS_CACHE_DIR`` or
``~/.cache/mlglass/cif``), written atomically. A renamed or moved copy of a
file hits the same entry (``id`` and ``cif`` are refreshed from the current
path). Results are cached unless the failure may be transient (timeout,
crashed worker, unexpected exception). Bump ``CODE_VERSION`` whenever a rule
changes the output.

Timeout
-------
``timeout`` seconds per file via ``SIGALRM`` in the process that does the
work (a worker process, or the main thread when ``n_jobs=1``; without a main
thread or on Windows there is no timeout). Python checks the alarm between
bytecodes, so a single long RDKit call finishes first; RDKit's bond-order
search is bounded separately (``maxIterations``).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any, Iterable

from mlglass._io import atomic_write_text
from mlglass.errors import MlglassError
from mlglass.structure.record import DESCRIPTOR_KEYS

__all__ = ["records_from_cifs", "default_cache_dir", "ROW_COLUMNS", "CODE_VERSION", "DEFAULT_TIMEOUT_S"]

#: Version of the structure rules; part of every cache key.
CODE_VERSION = "mlglass.structure/1.1"
DEFAULT_TIMEOUT_S = 120.0

ROW_COLUMNS = (["id", "cif", "metal", "oxidation_state", "ligands", "counter_ions", "dimensionality", "geometry"]
               + [f"struct_{k}" for k in DESCRIPTOR_KEYS] + ["oxidation_state_method", "warnings", "error"])


def default_cache_dir() -> Path:
    """``$MLGLASS_CACHE_DIR`` if set, else ``~/.cache/mlglass/cif``."""
    env = os.environ.get("MLGLASS_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    return Path.home() / ".cache" / "mlglass" / "cif"


def _empty_row(path: str, error: str) -> dict[str, Any]:
    row: dict[str, Any] = {c: "" for c in ROW_COLUMNS}
    row["id"] = Path(path).stem
    row["cif"] = str(path)
    for k in DESCRIPTOR_KEYS:
        row[f"struct_{k}"] = math.nan
    row["error"] = error
    return row


def _process_one(path: str, drop_solvent: bool, timeout: float | None) -> dict[str, Any]:
    """Worker: one file to one row. The private key ``_cacheable`` says whether the row may be cached."""
    from mlglass.structure._timeout import TimeLimitExceeded, time_limit
    from mlglass.structure.record import record_from_structure

    try:
        with time_limit(timeout):
            row = record_from_structure(path, drop_solvent=drop_solvent).to_row()
        row["cif"] = str(path)
        row["_cacheable"] = True
        return row
    except TimeLimitExceeded:
        row = _empty_row(path, f"timeout: not finished within {timeout:g} s")
        row["_cacheable"] = False
        return row
    except MlglassError as exc:
        row = _empty_row(path, str(exc))
        row["_cacheable"] = True
        return row
    except Exception as exc:  # noqa: BLE001 - one bad file must not stop the batch
        row = _empty_row(path, f"unexpected {type(exc).__name__}: {exc}")
        row["_cacheable"] = False
        return row


def _warm_up() -> None:
    """Import the heavy modules once in the parent, so forked workers inherit them (~2 s per process)."""
    import pymatgen.analysis.bond_valence  # noqa: F401
    import pymatgen.analysis.dimensionality  # noqa: F401
    import pymatgen.io.cif  # noqa: F401
    import rdkit.Chem.rdDetermineBonds  # noqa: F401

    import mlglass.structure.record  # noqa: F401


def _cache_key(file_hash: str, drop_solvent: bool) -> str:
    return hashlib.sha256(f"{CODE_VERSION}|drop_solvent={drop_solvent}|{file_hash}".encode()).hexdigest()


def _read_cache(cache_dir: Path, key: str) -> dict[str, Any] | None:
    f = cache_dir / f"{key}.json"
    try:
        data = json.loads(f.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("version") != CODE_VERSION or not isinstance(data.get("row"), dict):
        return None
    row = data["row"]
    if set(row) != set(ROW_COLUMNS):
        return None
    return row


def _write_cache(cache_dir: Path, key: str, row: dict[str, Any]) -> None:
    payload = {"version": CODE_VERSION, "row": {c: row.get(c, "") for c in ROW_COLUMNS}}
    try:
        atomic_write_text(cache_dir / f"{key}.json", json.dumps(payload, sort_keys=True))
    except OSError:
        pass  # a read-only cache must not fail the batch


def _collect_paths(paths_or_dir) -> list[Path]:
    if isinstance(paths_or_dir, (str, os.PathLike)):
        p = Path(paths_or_dir)
        if p.is_dir():
            return sorted(q for q in p.iterdir() if q.is_file() and q.suffix.lower() == ".cif")
        return [p]
    return [Path(x) for x in paths_or_dir]


def records_from_cifs(paths_or_dir: str | os.PathLike | Iterable[str | os.PathLike], *, n_jobs: int = 1,
                      progress: bool = True, cache_dir: str | os.PathLike | None = None, drop_solvent: bool = True,
                      timeout: float | None = DEFAULT_TIMEOUT_S, use_cache: bool = True):
    """Process CIF files into a candidate table (one row per file).

    Parameters
    ----------
    paths_or_dir : path or iterable of paths
        A directory (its ``*.cif`` files, sorted), one file, or a list of files.
    n_jobs : int, default=1
        Worker processes (``ProcessPoolExecutor``) when > 1.
    progress : bool, default=True
        Show a ``rich`` progress bar.
    cache_dir : path, optional
        Cache folder (default :func:`default_cache_dir`).
    drop_solvent : bool, default=True
        Drop uncoordinated solvent guests.
    timeout : float, optional
        Seconds per file (``None``: no limit).
    use_cache : bool, default=True
        Read and write the cache.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`ROW_COLUMNS`: ``id`` (file stem), ``cif`` (path),
        ``metal``, ``oxidation_state``, ``ligands``, ``counter_ions``
        (``SMILES:amount;...``), ``dimensionality`` (nullable integer),
        ``geometry``, the ``struct_*`` descriptors, ``oxidation_state_method``,
        ``warnings`` (joined with ``"; "``) and ``error`` (empty on success).
    """
    import pandas as pd
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    paths = _collect_paths(paths_or_dir)
    cache = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    rows: list[dict[str, Any] | None] = [None] * len(paths)
    keys: list[str | None] = [None] * len(paths)
    todo: list[int] = []
    for k, p in enumerate(paths):
        if not p.is_file():
            rows[k] = _empty_row(str(p), "no such file")
            continue
        if use_cache:
            try:
                from mlglass.structure.cif import file_sha256

                keys[k] = _cache_key(file_sha256(p), drop_solvent)
            except OSError as exc:
                rows[k] = _empty_row(str(p), f"cannot read the file: {exc}")
                continue
            hit = _read_cache(cache, keys[k])
            if hit is not None:
                hit["id"], hit["cif"] = p.stem, str(p)
                rows[k] = hit
                continue
        todo.append(k)

    def finish(k: int, row: dict[str, Any]) -> None:
        cacheable = row.pop("_cacheable", False)
        row["id"], row["cif"] = paths[k].stem, str(paths[k])
        rows[k] = row
        if use_cache and cacheable and keys[k] is not None:
            _write_cache(cache, keys[k], row)

    columns = [TextColumn("[bold]CIF"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    if n_jobs is not None and n_jobs > 1 and len(todo) > 1:
        _warm_up()
        died = "worker process died (crash or out of memory)"
        # the workers are started (forked) at the first submit, before the progress bar's
        # refresh thread exists: forking a process that runs threads can deadlock
        pool = ProcessPoolExecutor(max_workers=min(n_jobs, len(todo)))
        try:
            futures = {pool.submit(_process_one, str(paths[k]), drop_solvent, timeout): k for k in todo}
            with Progress(*columns, disable=not progress, transient=False) as bar:
                task = bar.add_task("cif", total=len(paths), completed=len(paths) - len(todo))
                try:
                    for fut in as_completed(futures):
                        k = futures[fut]
                        try:
                            row = fut.result()
                        except BrokenProcessPool:
                            row = _empty_row(str(paths[k]), died)
                        except Exception as exc:  # noqa: BLE001
                            row = _empty_row(str(paths[k]), f"unexpected {type(exc).__name__}: {exc}")
                        finish(k, row)
                        bar.advance(task)
                except BrokenProcessPool:
                    pass
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        for k in todo:  # anything a broken pool never returned
            if rows[k] is None:
                finish(k, _empty_row(str(paths[k]), died))
    else:
        with Progress(*columns, disable=not progress, transient=False) as bar:
            task = bar.add_task("cif", total=len(paths), completed=len(paths) - len(todo))
            for k in todo:
                finish(k, _process_one(str(paths[k]), drop_solvent, timeout))
                bar.advance(task)

    df = pd.DataFrame([{c: r.get(c, "") for c in ROW_COLUMNS} for r in rows], columns=list(ROW_COLUMNS))
    df["dimensionality"] = pd.to_numeric(df["dimensionality"].replace("", None), errors="coerce").astype("Int64")
    for k in DESCRIPTOR_KEYS:
        df[f"struct_{k}"] = pd.to_numeric(df[f"struct_{k}"], errors="coerce")
    for c in ("id", "cif", "metal", "oxidation_state", "ligands", "counter_ions", "geometry",
              "oxidation_state_method", "warnings", "error"):
        df[c] = df[c].fillna("").astype(str)
    return df
