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

Time limit and isolation
------------------------
Every file is processed in an isolated worker process (:mod:`mlglass.structure._pool`;
``n_jobs`` of them, each one file at a time). A file still running ``timeout``
seconds (default :data:`DEFAULT_TIMEOUT_S`, CLI ``--cif-timeout``) after it
was handed to its worker is stopped by killing the worker with SIGKILL, which
holds whatever the file does (a long C++ call in RDKit or pymatgen included);
the worker is replaced, the file gets the error row ``timeout: stopped at the
per-file limit of T s in stage S ...`` and the batch goes on. This works from
the main thread, from other threads and inside dask workers. Only with
``timeout=None`` and ``n_jobs=1`` are files processed in the calling process
(no limit). Stages: :data:`mlglass.structure._stages.STAGES`.

Folders
-------
A folder contributes its ``*.cif`` entries (sorted). A symbolic link is
followed only to a file inside the folder; a link pointing outside it, or to
nothing (dangling), gets an error row saying so.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from mlglass.errors import MlglassError
from mlglass.io import atomic_write_text
from mlglass.structure.record import DESCRIPTOR_KEYS

__all__ = ["records_from_cifs", "default_cache_dir", "ROW_COLUMNS", "CODE_VERSION", "DEFAULT_TIMEOUT_S"]

#: Version of the structure rules; part of every cache key.
CODE_VERSION = "mlglass.structure/1.3"
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


def _process_one(path: str, drop_solvent: bool, timeout: float | None = None) -> dict[str, Any]:
    """One file to one row, in this process. The private key ``_cacheable`` says whether the row may be cached.

    ``timeout`` (seconds, ``SIGALRM``) is a soft limit for in-process use only;
    the hard limit is the isolated pool's (:mod:`mlglass.structure._pool`).
    """
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
    from pymatgen.core import Composition

    import mlglass.structure.record  # noqa: F401

    # pymatgen reads its oxidation-state statistics (a YAML file, 1-2 s) at the first guess
    Composition("Fe2O3").oxi_state_guesses(max_sites=-1)


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


def _collect_paths(paths_or_dir) -> tuple[list[Path], dict[int, str]]:
    """The files to process, and errors for entries that must not be read (by position)."""
    if isinstance(paths_or_dir, (str, os.PathLike)):
        p = Path(paths_or_dir)
        if p.is_dir():
            return _folder_entries(p)
        return [p], {}
    return [Path(x) for x in paths_or_dir], {}


def _folder_entries(folder: Path) -> tuple[list[Path], dict[int, str]]:
    root = folder.resolve()
    paths: list[Path] = []
    errors: dict[int, str] = {}
    for q in sorted(folder.iterdir()):
        if q.suffix.lower() != ".cif":
            continue
        if q.is_symlink():
            target = Path(os.path.realpath(q))
            if not target.exists():
                errors[len(paths)] = (f"dangling symbolic link: {q.name} points to {os.readlink(q)}, "
                                      "which does not exist")
            elif not target.is_relative_to(root):
                errors[len(paths)] = (f"symbolic link not followed: {q.name} points outside the folder "
                                      f"({target})")
            elif not target.is_file():
                continue
            paths.append(q)
        elif q.is_file():
            paths.append(q)
    return paths, errors


def _note(stats_out: list | None, k: int, path: Path, row: dict[str, Any], *, cached: bool,
          outcome=None) -> None:
    """Append one file's statistics to ``stats_out`` (see :func:`records_from_cifs`)."""
    if stats_out is None:
        return
    stats_out.append({"index": k, "path": str(path), "error": str(row.get("error", "") or ""), "cached": cached,
                      "seconds": outcome.seconds if outcome is not None else 0.0,
                      "stage": outcome.stage if outcome is not None else "",
                      "stages": dict(outcome.stages) if outcome is not None else {},
                      "maxrss_kb": outcome.maxrss_kb if outcome is not None else 0,
                      "cpu_seconds": outcome.cpu_seconds if outcome is not None else 0.0})


@contextlib.contextmanager
def _cif_progress(enabled: bool, total: int, done: int):
    """A ``rich`` progress bar on stderr with files done and files/min; yields ``advance()``."""
    if not enabled:
        yield lambda: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn, TimeElapsedColumn
    from rich.text import Text

    class _PerMinute(ProgressColumn):
        def render(self, task) -> Text:
            speed = task.finished_speed or task.speed
            return Text("-- files/min" if speed is None else f"{60 * speed:,.1f} files/min")

    columns = [TextColumn("[bold]CIF"), BarColumn(), MofNCompleteColumn(), _PerMinute(), TimeElapsedColumn()]
    with Progress(*columns, console=Console(stderr=True), transient=False) as bar:
        task = bar.add_task("cif", total=total, completed=done)
        # cached files are not counted in the speed: the rate starts from the files actually processed
        yield lambda: bar.advance(task)


def records_from_cifs(paths_or_dir: str | os.PathLike | Iterable[str | os.PathLike], *, n_jobs: int = 1,
                      progress: bool = True, cache_dir: str | os.PathLike | None = None, drop_solvent: bool = True,
                      timeout: float | None = DEFAULT_TIMEOUT_S, use_cache: bool = True,
                      stats_out: list | None = None):
    """Process CIF files into a candidate table (one row per file).

    Parameters
    ----------
    paths_or_dir : path or iterable of paths
        A directory (its ``*.cif`` files, sorted), one file, or a list of files.
    n_jobs : int, default=1
        Isolated worker processes (see "Time limit and isolation" above).
    progress : bool, default=True
        Show a ``rich`` progress bar.
    cache_dir : path, optional
        Cache folder (default :func:`default_cache_dir`).
    drop_solvent : bool, default=True
        Drop uncoordinated solvent guests.
    timeout : float, optional
        Hard limit in seconds per file, default :data:`DEFAULT_TIMEOUT_S` (``None``: no limit).
    use_cache : bool, default=True
        Read and write the cache.
    stats_out : list, optional
        If given, one dict per file is appended: ``index``, ``path``, ``error``,
        ``cached``, ``seconds`` (wall clock in the worker's hands), ``stage``
        (last stage entered), ``stages`` (seconds per stage), ``maxrss_kb``
        (the worker's peak resident memory so far, KiB), ``cpu_seconds`` (the
        worker's CPU time for the file).

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

    from mlglass.structure._pool import FileOutcome, run_isolated

    paths, refused = _collect_paths(paths_or_dir)
    cache = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    rows: list[dict[str, Any] | None] = [None] * len(paths)
    keys: list[str | None] = [None] * len(paths)
    todo: list[int] = []
    for k, p in enumerate(paths):
        if k in refused:
            rows[k] = bad = _empty_row(str(p), refused[k])
            _note(stats_out, k, p, bad, cached=False)
            continue
        if not p.is_file():
            rows[k] = bad = _empty_row(str(p), "no such file")
            _note(stats_out, k, p, bad, cached=False)
            continue
        if use_cache:
            try:
                from mlglass.structure.cif import file_sha256

                keys[k] = key = _cache_key(file_sha256(p), drop_solvent)
            except OSError as exc:
                rows[k] = bad = _empty_row(str(p), f"cannot read the file: {exc}")
                _note(stats_out, k, p, bad, cached=False)
                continue
            hit = _read_cache(cache, key)
            if hit is not None:
                hit["id"], hit["cif"] = p.stem, str(p)
                rows[k] = hit
                _note(stats_out, k, p, hit, cached=True)
                continue
        todo.append(k)

    def finish(k: int, row: dict[str, Any], cacheable: bool) -> None:
        row.pop("_cacheable", None)
        row["id"], row["cif"] = paths[k].stem, str(paths[k])
        rows[k] = row
        key = keys[k]
        if use_cache and cacheable and key is not None:
            _write_cache(cache, key, row)

    with _cif_progress(progress, total=len(paths), done=len(paths) - len(todo)) as advance:
        if timeout is None and (n_jobs is None or n_jobs <= 1):
            for k in todo:  # no limit asked for: in this process
                row = _process_one(str(paths[k]), drop_solvent)
                cacheable = bool(row.get("_cacheable"))
                finish(k, row, cacheable)
                _note(stats_out, k, paths[k], row, cached=False)
                advance()
        elif todo:
            def on_done(out: FileOutcome) -> None:
                row = out.row if out.row is not None else _empty_row(str(paths[out.index]), out.error)
                finish(out.index, row, out.cacheable and out.row is not None)
                _note(stats_out, out.index, paths[out.index], row, cached=False, outcome=out)
                advance()

            run_isolated([str(p) for p in paths], todo, n_workers=max(1, int(n_jobs or 1)), timeout=timeout,
                         drop_solvent=drop_solvent, on_done=on_done)

    done: list[dict[str, Any]] = []
    for k, r in enumerate(rows):
        if r is None:  # not reached: every file gets a row above or from the pool
            raise RuntimeError(f"no row for {paths[k]}")
        done.append(r)
    df = pd.DataFrame([{c: r.get(c, "") for c in ROW_COLUMNS} for r in done], columns=list(ROW_COLUMNS))
    df["dimensionality"] = pd.to_numeric(df["dimensionality"].replace("", None), errors="coerce").astype("Int64")
    for name in DESCRIPTOR_KEYS:
        df[f"struct_{name}"] = pd.to_numeric(df[f"struct_{name}"], errors="coerce")
    for c in ("id", "cif", "metal", "oxidation_state", "ligands", "counter_ions", "geometry",
              "oxidation_state_method", "warnings", "error"):
        df[c] = df[c].fillna("").astype(str)
    return df
