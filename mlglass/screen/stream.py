"""Screen a candidate file of any size: chunked prediction, checkpoints, external merge.

Layout of a run writing ``OUT.csv`` (or ``OUT.parquet``)::

    OUT.csv.parts/                 work folder (removed after success unless keep_parts=True)
      checkpoint.json              input path/size/mtime, options, model fingerprint, completed chunks
      part-000000.parquet ...      one scored chunk each (input order inside a part)
      model/                       saved predictor for worker processes (workers > 1 or dask)
      bucket-0000.parquet ...      rank-range buckets of the merge (large inputs only)

Every file is written atomically (:func:`mlglass._io.atomic_write`); the
checkpoint is rewritten after each completed chunk, so an interrupted run
(``resume=True``) recomputes at most the chunks that were in flight.

Merge, with bounded memory: only the sort keys of all rows (group, score, id)
are read back into one Arrow table and sorted (stable, so ties keep input
order), giving every row its global rank. Inputs of up to ``bucket_rows``
rows are then gathered in memory; larger ones are distributed part by part
into rank-range bucket files of ``bucket_rows`` rows, and each bucket is read,
sorted and appended to the output in turn. Peak memory is about the key table
(~50 bytes per row plus the ids) plus one bucket, well under 2 GB for 10 M rows.

Test hook (documented so crash tests need no timing): the environment variable
``MLGLASS_SCREEN_KILL_AT`` makes the process send itself ``SIGKILL`` at a fixed
point - ``chunk:K`` right after the checkpoint records its K-th completed
chunk, ``merge`` right after the first rows reach the temporary output file.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from mlglass._progress import row_progress
from mlglass.errors import SchemaError
from mlglass.io import (
    MAX_COLUMNS,
    TEXT_DECIMALS,
    OutputLockedError,
    atomic_write,
    atomic_write_text,
    check_csv_fields,
    check_output_path,
    escape_arrow_table,
    escape_header,
    output_lock,
    read_chunks,
    read_header,
    table_format,
)
from mlglass.schema import PLOT_COLUMNS
from mlglass.screen.ranking import sort_keys, with_rank
from mlglass.screen.scoring import ScoreOptions, ScreenOptionError

__all__ = ["ScreenResult", "screen_file", "escape_csv_formulas", "read_chunks", "read_header", "table_format",
           "work_dir_for",
           "CHECKPOINT_NAME"]

CHECKPOINT_NAME = "checkpoint.json"
#: Environment variable of the crash-test hook (see the module docstring).
KILL_AT_ENV = "MLGLASS_SCREEN_KILL_AT"
_CHECKPOINT_FORMAT = "mlglass-screen-checkpoint"
_CHECKPOINT_VERSION = 2  # 2: each completed chunk records the SHA-256 of its part file


@dataclass
class ScreenResult:
    """Outcome of :func:`screen_file`.

    Attributes
    ----------
    top : pandas.DataFrame
        The best ``top_n`` rows (no error rows), in rank order, with
        ``tm_top_features`` and ``p_melt_top_features`` (largest SHAP
        contributions, degC and log-odds) when ``explain_top > 0``.
    n_rows : int
        Input rows (= output rows).
    n_errors : int
        Rows kept with an ``error`` message.
    n_passing : int
        Rows passing the constraints.
    rows_per_second : float
        ``n_rows`` / wall time of the whole run (including the merge).
    output_path : pathlib.Path
    elapsed_seconds : float
    n_chunks : int
    resumed_chunks : int
        Chunks taken from the checkpoint instead of recomputed.
    timings : dict
        Seconds spent predicting (``predict``) and merging (``merge``).
    ranked : pandas.DataFrame
        What :func:`mlglass.screen.plot_screen` draws, in rank order: the
        :data:`~mlglass.schema.PLOT_COLUMNS` (and ``domain`` when predicted) of every
        output row, or, when the screen has more than ``plot_rows`` rows, of the top
        ``top_n`` rows plus a uniform random sample (seed 0) of the other rows without
        an error (at most ``plot_rows`` rows in all). Predictions in degC, typed
        (``rank`` int, predictions and ``score`` float).
    n_plottable : int
        Rows without an error, of which ``ranked`` is all or a sample.
    """

    top: pd.DataFrame
    n_rows: int
    n_errors: int
    rows_per_second: float
    output_path: Path
    n_passing: int = 0
    elapsed_seconds: float = 0.0
    n_chunks: int = 0
    resumed_chunks: int = 0
    timings: dict[str, float] = field(default_factory=dict)
    ranked: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(PLOT_COLUMNS)))
    n_plottable: int = 0


# ------------------------------------------------------------------ reading
def _count_rows(path: Path, fmt: str) -> int | None:
    if fmt == "parquet":
        try:
            return int(pq.ParquetFile(path).metadata.num_rows)
        except (pa.ArrowException, OSError):
            return None
    return None


def _maybe_kill(point: str, n_done: int = 0) -> None:
    """SIGKILL this process if ``MLGLASS_SCREEN_KILL_AT`` names ``point`` (crash tests only).

    ``chunk:K`` matches ``point="chunk"`` once ``n_done >= K`` chunks are recorded.
    """
    want = os.environ.get(KILL_AT_ENV)
    if not want:
        return
    if point == "chunk":
        kind, _, k = want.partition(":")
        hit = kind == "chunk" and k.isdigit() and n_done >= int(k)
    else:
        hit = want == point
    if hit:
        import signal

        os.kill(os.getpid(), getattr(signal, "SIGKILL", signal.SIGTERM))


# ------------------------------------------------------------------ CSV safety
#: The spreadsheet rule for text output (kept under its old name; it is :func:`mlglass.io.escape_arrow_table`).
escape_csv_formulas = escape_arrow_table


class _OutputWriter:
    """Streams Arrow tables to the final CSV/Parquet file through one atomic write."""

    def __init__(self, path: Path, fmt: str, schema: pa.Schema, stack: contextlib.ExitStack):
        self.fmt = fmt
        self.fh = stack.enter_context(atomic_write(path, "wb"))
        if fmt == "parquet":
            self.writer = pq.ParquetWriter(self.fh, schema, compression="zstd")
        else:
            import pyarrow.csv as pacsv

            opts = pacsv.WriteOptions(include_header=True, delimiter="\t" if fmt == "tsv" else ",")
            fields = [f.with_type(pa.float64()) if f.name in TEXT_DECIMALS and pa.types.is_floating(f.type) else f
                      for f in schema]
            self.schema = pa.schema([f.with_name(n) for f, n in zip(fields, escape_header(schema.names))])
            self.writer = pacsv.CSVWriter(self.fh, self.schema, write_options=opts)

    def write(self, table: pa.Table) -> None:
        if self.fmt != "parquet":  # text output: spreadsheet-safe cells and headers, rounded predictions
            table = escape_arrow_table(table)
            for name, nd in TEXT_DECIMALS.items():
                i = table.schema.get_field_index(name)
                if i >= 0 and pa.types.is_floating(table.schema.field(i).type):
                    col = pc.round(pc.cast(table.column(i), pa.float64()), nd)
                    table = table.set_column(i, pa.field(name, pa.float64()), col)
            table = table.rename_columns(self.schema.names)
        self.writer.write_table(table)
        self.fh.flush()
        _maybe_kill("merge")

    def close(self) -> None:
        self.writer.close()


# ------------------------------------------------------------------ checkpoint
def work_dir_for(output_path: str | os.PathLike) -> Path:
    """Work folder of a screen writing ``output_path``: ``OUTPUT.parts`` next to it."""
    output_path = Path(output_path)
    return output_path.with_name(output_path.name + ".parts")


def _part_name(idx: int) -> str:
    return f"part-{idx:06d}.parquet"


def _clear_work_dir(work: Path) -> None:
    """Remove what a screen puts in its work folder (never foreign files)."""
    if not work.exists():
        return
    if not work.is_dir():
        raise ScreenOptionError("output_path", str(work), "the work folder path exists and is not a folder")
    for p in work.iterdir():
        name = p.name
        if p.is_dir() and not p.is_symlink() and name == "model":
            shutil.rmtree(p)
        elif p.is_file() and (name == CHECKPOINT_NAME or (name.startswith(("part-", "bucket-"))
                                                          and name.endswith(".parquet"))
                              or (name.startswith(".") and name.endswith(".part"))):
            p.unlink()
    with contextlib.suppress(OSError):
        work.rmdir()


def _input_signature(path: Path) -> dict[str, Any]:
    st = path.stat()
    return {"path": str(path.resolve()), "size": int(st.st_size), "mtime_ns": int(st.st_mtime_ns)}


def _sha256(path: Path) -> str:
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _valid_entry(key: Any, value: Any) -> bool:
    """A checkpoint entry: ``"<chunk>": [rows, errors, passing, sha256]``."""
    return (isinstance(key, str) and key.isdigit() and len(key) <= 9 and isinstance(value, list) and len(value) == 4
            and all(isinstance(x, int) and not isinstance(x, bool) and x >= 0 for x in value[:3])
            and isinstance(value[3], str) and len(value[3]) == 64)


def _load_checkpoint(work: Path, signature: dict[str, Any], input_path: Path,
                     explain_rows: int = 0) -> dict[int, list]:
    """Completed chunks of a checkpoint whose part files are intact (the others are recomputed).

    With ``explain_rows > 0`` a part must also hold the descriptors of its best ``explain_rows``
    rows (:mod:`mlglass.screen.top_rows`; a run with ``explain_top=0`` or a smaller ``top_n`` kept
    fewer), else its chunk is recomputed.
    """
    from mlglass.screen.top_rows import stored_k

    ck_path = work / CHECKPOINT_NAME
    try:
        ck = json.loads(ck_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise ScreenOptionError("resume", str(ck_path), f"cannot read the checkpoint ({err}); "
                                                        "run without resume to start over") from None
    if not isinstance(ck, dict) or ck.get("format") != _CHECKPOINT_FORMAT:
        raise ScreenOptionError("resume", str(ck_path), "not an mlglass screen checkpoint")
    old = ck.get("signature")
    if not isinstance(old, dict):
        raise ScreenOptionError("resume", str(ck_path), "the checkpoint has no valid signature; "
                                                        "run without resume to start over")
    changed = []
    if old.get("input") != signature["input"]:
        changed.append("the input file (path, size or modification time)")
    for key, label in (("options", "the scoring options"), ("coverage", "the interval coverage"),
                       ("chunk_size", "chunk_size"), ("model", "the model"), ("version", "the checkpoint format")):
        if old.get(key) != signature[key]:
            changed.append(label)
    if changed:
        raise ScreenOptionError("resume", str(input_path),
                                f"cannot resume: {', '.join(changed)} changed since the checkpoint in {work}; "
                                "run without resume to start over")
    entries = ck.get("completed", {})
    if not isinstance(entries, dict):
        raise ScreenOptionError("resume", str(ck_path), "corrupted checkpoint: 'completed' is not a mapping; "
                                                        "run without resume to start over")
    bad = [k for k, v in entries.items() if not _valid_entry(k, v)]
    if bad:
        raise ScreenOptionError("resume", str(ck_path), f"corrupted checkpoint: bad entries for chunk(s) "
                                                        f"{', '.join(repr(b)[:20] for b in bad[:5])}; "
                                                        "run without resume to start over")
    completed: dict[int, list] = {}
    for k, v in entries.items():
        part = work / _part_name(int(k))
        # trust a part only if its bytes are the ones recorded when the chunk finished
        if part.is_file() and not part.is_symlink() and _sha256(part) == v[3] \
                and (explain_rows == 0 or stored_k(part) >= explain_rows):
            completed[int(k)] = list(v)
    return completed


def _save_checkpoint(work: Path, signature: dict[str, Any], completed: dict[int, list],
                     exhausted: bool) -> None:
    doc = {"format": _CHECKPOINT_FORMAT, "signature": signature, "input_exhausted": exhausted,
           "completed": {str(k): v for k, v in sorted(completed.items())}}
    atomic_write_text(work / CHECKPOINT_NAME, json.dumps(doc, indent=1))


# ------------------------------------------------------------------ merge


def _plot_selection(n: int, n_plottable: int, top_n: int, plot_rows: int, seed: int = 0) -> np.ndarray:
    """Which ranks (0-based) :attr:`ScreenResult.ranked` keeps: all of ``n`` rows if at most ``plot_rows``,
    else the first ``top_n`` plus a seeded uniform sample of the ``n_plottable`` rows without an error
    (which rank before the error rows), ``plot_rows`` in all."""
    keep = np.zeros(n, dtype=bool)
    if n <= plot_rows:
        keep[:] = True
        return keep
    head = min(top_n, plot_rows, n_plottable)
    keep[:head] = True
    rest = n_plottable - head
    k = min(rest, plot_rows - head)
    if k > 0:
        keep[head + np.random.default_rng(seed).choice(rest, size=k, replace=False)] = True
    return keep


def _merge(parts: list[Path], work: Path, output_path: Path, out_fmt: str, *, bucket_rows: int,
           write_rows: int, top_n: int, progress: bool, n_plottable: int,
           plot_rows: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rank all rows of the part files and write the output in rank order.

    Returns
    -------
    top : pandas.DataFrame
        The best ``top_n`` rows without an error (all columns).
    ranked : pandas.DataFrame
        The plot columns of the rows :func:`_plot_selection` keeps, in rank order.
    """
    rank_of, counts = sort_keys(parts)
    n = int(counts.sum()) if len(counts) else 0
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    top: list[pd.DataFrame] = []
    need = [top_n]
    plotted = _plot_selection(n, n_plottable, top_n, plot_rows)
    ranked: list[pd.DataFrame] = []

    def keep_plotted(t: pa.Table) -> None:
        mask = plotted[t.column("rank").to_numpy() - 1]
        if mask.any():
            cols = [c for c in (*PLOT_COLUMNS, "domain") if c in t.column_names]
            ranked.append(t.select(cols).filter(pa.array(mask)).to_pandas())

    def keep_top(t: pa.Table) -> None:
        if need[0] <= 0:
            return
        df = t.slice(0, min(t.num_rows, need[0] + 1024)).to_pandas()
        df = df[df["error"].astype(str).str.len() == 0].head(need[0])
        need[0] -= len(df)
        top.append(df)

    with row_progress(progress, "ranking", total=n) as bar, contextlib.ExitStack() as stack:
        schema = pq.read_schema(parts[0]) if parts else None
        if schema is None:
            raise AssertionError("no parts to merge")  # pragma: no cover - caller handles empty input
        schema = schema.remove_metadata()
        out_schema = pa.schema([pa.field("rank", pa.int64())] + [f for f in schema if f.name != "rank"])
        writer = _OutputWriter(output_path, out_fmt, out_schema, stack)
        n_buckets = max(1, math.ceil(n / bucket_rows))
        if n_buckets == 1:
            table = pa.concat_tables([pq.read_table(p).replace_schema_metadata(None) for p in parts])
            order = np.argsort(rank_of, kind="stable")
            table = with_rank(table.take(pa.array(order)), rank_of[order])
            keep_top(table)
            keep_plotted(table)
            for start in range(0, n, write_rows):
                piece = table.slice(start, write_rows)
                writer.write(piece)
                bar.advance(piece.num_rows)
        else:
            bucket_paths = [work / f"bucket-{b:04d}.parquet" for b in range(n_buckets)]
            with contextlib.ExitStack() as bstack:
                bwriters = []
                for bp in bucket_paths:
                    fh = bstack.enter_context(atomic_write(bp, "wb"))
                    bwriters.append(pq.ParquetWriter(fh, out_schema, compression="lz4"))
                for j, path in enumerate(parts):
                    t = pq.read_table(path).replace_schema_metadata(None)
                    ranks = rank_of[offsets[j]:offsets[j + 1]]
                    bucket = ranks // bucket_rows
                    order = np.argsort(bucket, kind="stable")
                    bounds = np.searchsorted(bucket[order], np.arange(n_buckets + 1))
                    for b in range(n_buckets):
                        lo, hi = bounds[b], bounds[b + 1]
                        if hi > lo:
                            idx = order[lo:hi]
                            bwriters[b].write_table(with_rank(t.take(pa.array(idx)), ranks[idx]))
                for w in bwriters:
                    w.close()
            for bp in bucket_paths:
                t = pq.read_table(bp)
                r = t.column("rank").to_numpy()
                t = t.take(pa.array(np.argsort(r, kind="stable")))
                keep_top(t)
                keep_plotted(t)
                for start in range(0, t.num_rows, write_rows):
                    piece = t.slice(start, write_rows)
                    writer.write(piece)
                    bar.advance(piece.num_rows)
                del t
                bp.unlink()
        writer.close()
    return (pd.concat(top, ignore_index=True) if top else pd.DataFrame(),
            pd.concat(ranked, ignore_index=True) if ranked else pd.DataFrame(columns=list(PLOT_COLUMNS)))


def _write_empty(output_path: Path, out_fmt: str, columns: list[str]) -> None:
    from mlglass.schema import SCREEN_COLUMNS
    from mlglass.screen.chunks import frame_to_table

    cols = ["id"] if "id" not in columns else []
    cols += [c for c in columns if c != "rank"] + list(SCREEN_COLUMNS)
    seen: list[str] = []
    for c in cols:
        if c not in seen:
            seen.append(c)
    frame = pd.DataFrame({c: pd.Series([], dtype=object) for c in seen})
    table = frame_to_table(frame)
    schema = pa.schema([pa.field("rank", pa.int64())] + list(table.schema))
    with contextlib.ExitStack() as stack:
        w = _OutputWriter(output_path, out_fmt, schema, stack)
        w.write(with_rank(table, np.zeros(0, dtype=np.int64)))
        w.close()


# ------------------------------------------------------------------ main entry
def _check_dask_address(address: Any) -> None:
    """``"local"`` or ``scheme://host:port`` (tcp, tls, ucx, ws, wss, inproc)."""
    from urllib.parse import urlsplit

    ok = isinstance(address, str) and (address == "local" or address.startswith("inproc://"))
    if isinstance(address, str) and not ok:
        try:
            parts = urlsplit(address)
            ok = parts.scheme in ("tcp", "tls", "ucx", "ws", "wss") and bool(parts.hostname) and parts.port is not None
        except ValueError:
            ok = False
    if not ok:
        raise ScreenOptionError("dask_address", address, "expected 'local' or a scheduler address like "
                                                         "'tcp://host:8786'")


def _resolve_predictor(predictor: Any) -> tuple[Any, Path | None]:
    from mlglass.models.predictor import GlassPredictor

    if predictor is None:
        from mlglass.models.predictor import default_model_dir

        return GlassPredictor.default(), default_model_dir()
    if isinstance(predictor, (str, os.PathLike)):
        return GlassPredictor.load(predictor), Path(predictor)
    return predictor, None


def screen_file(input_path: str | os.PathLike, output_path: str | os.PathLike, predictor: Any = None, *,
                objective: str = "meltable", risk: str = "expected", tm_max: float | None = None,
                tg_min: float | None = None, p_melt_min: float | None = None,
                allow_elements: Iterable[str] | str | None = None, deny_elements: Iterable[str] | str | None = None,
                coverage: float | None = None, chunk_size: int = 50_000, workers: int = 1,
                dask_address: str | None = None, resume: bool = False, explain_top: int = 3, top_n: int = 10,
                keep_parts: bool = False, bucket_rows: int = 500_000, progress: bool = True,
                out_of_domain: str = "keep", plot_rows: int = 50_000) -> ScreenResult:
    """Predict, score and rank every row of a candidate file, streaming it in chunks.

    Parameters
    ----------
    input_path : path-like
        Candidate table, ``.csv``/``.tsv`` or ``.parquet`` (candidate schema: ``id``,
        ``metal``, ``oxidation_state``, ``ligands``, ``counter_ions``,
        ``dimensionality``, ``geometry``, ``formula``; optional ``td_c`` in degC).
        Any other columns are carried through as text.
    output_path : path-like
        ``.csv`` or ``.parquet``; written atomically, one row per input row, in
        rank order: ``rank`` (1 = best), the input columns, ``input_row``
        (1-based position in the input; an ``id`` ``row<N>`` is added when the
        input has no ``id``), ``tm_c``, ``tm_lo_c``, ``tm_hi_c``, ``tg_c``,
        ``tg_lo_c``, ``tg_hi_c`` (degC), ``p_melt``, ``error``, ``score``,
        ``passes_constraints``. Output columns overwrite input columns of the
        same name. In CSV output, text cells starting with ``=``, ``+``, ``-``,
        ``@`` (or tab/CR) that are not plain numbers get a leading ``'`` so
        spreadsheets do not run them (:func:`mlglass.io.escape_arrow_table`).
    predictor : GlassPredictor or path-like, optional
        A predictor, or a saved model folder; default: the bundled models.
    objective, risk, tm_max, tg_min, p_melt_min, allow_elements, deny_elements, out_of_domain
        Scoring options, see :func:`mlglass.screen.score_predictions` (degC, probability).
    coverage : float, optional
        Nominal coverage of the Tm/Tg intervals (default: the model's, 0.8).
    chunk_size : int, default=50_000
        Rows per chunk (and per part file / checkpoint step).
    workers : int, default=1
        Local worker processes; ``> 1`` uses a process pool (same output as 1).
    dask_address : str, optional
        ``"local"`` for a 2-process ``distributed.LocalCluster``, or a scheduler
        address (``tcp://host:8786``). Same output as the local path.
    resume : bool, default=False
        Continue an interrupted run from ``OUTPUT.parts/checkpoint.json``
        (a missing checkpoint starts from scratch). Refused, with
        :class:`ScreenOptionError`, if the input file (size or modification
        time), the options, ``chunk_size`` or the model changed. Without
        ``resume`` an existing work folder is cleared.
    explain_top : int, default=3
        Descriptors listed per explained top row (0: no explanation).
    top_n : int, default=10
        Rows returned in :attr:`ScreenResult.top`.
    plot_rows : int, default=50_000
        At most this many rows in :attr:`ScreenResult.ranked` (the rows a plot draws).
    keep_parts : bool, default=False
        Keep the work folder after success.
    bucket_rows : int, default=500_000
        Rows per merge bucket (bounds the merge's memory).
    progress : bool, default=True
        Show rich progress bars (rows, rows/s) on stderr.

    Returns
    -------
    ScreenResult

    Raises
    ------
    SchemaError
        Unreadable input, unknown extension, no ``metal``/``formula`` column.
    ScreenOptionError
        Bad options, a refused resume, or another screen writing the same
        output (an OS lock on ``.OUTPUT.lock`` next to the output; released
        when that process ends, even if killed).

    Notes
    -----
    On ``resume`` each part file is checked against the SHA-256 recorded in
    the checkpoint when its chunk finished; a part that differs (copied over,
    truncated, edited) is recomputed.
    """
    input_path, output_path = Path(input_path), Path(output_path)
    table_format(input_path, "input_path")
    table_format(output_path, "output_path")
    if not input_path.is_file():
        raise SchemaError("input_path", str(input_path), "file not found")
    if output_path.exists() and output_path.resolve() == input_path.resolve():
        raise ScreenOptionError("output_path", str(output_path), "must differ from the input file")
    check_output_path(output_path, inputs=[input_path], field="output_path", suffixes=None)
    lock = output_path.with_name(f".{output_path.name}.lock")
    try:
        with output_lock(lock):
            return _screen_locked(input_path, output_path, predictor, objective=objective, risk=risk, tm_max=tm_max,
                                  tg_min=tg_min, p_melt_min=p_melt_min, allow_elements=allow_elements,
                                  deny_elements=deny_elements, coverage=coverage, chunk_size=chunk_size,
                                  workers=workers, dask_address=dask_address, resume=resume,
                                  explain_top=explain_top, top_n=top_n, keep_parts=keep_parts,
                                  bucket_rows=bucket_rows, progress=progress, out_of_domain=out_of_domain,
                                  plot_rows=plot_rows)
    except OutputLockedError:
        raise ScreenOptionError("output_path", str(output_path),
                                f"another screen is writing this output (lock {lock}); wait for it to finish "
                                "or choose another output") from None


def _screen_locked(input_path: Path, output_path: Path, predictor: Any, *, objective: str, risk: str,
                   tm_max: float | None, tg_min: float | None, p_melt_min: float | None, allow_elements: Any,
                   deny_elements: Any, coverage: float | None, chunk_size: int, workers: int,
                   dask_address: str | None, resume: bool, explain_top: int, top_n: int, keep_parts: bool,
                   bucket_rows: int, progress: bool, out_of_domain: str = "keep",
                   plot_rows: int = 50_000) -> ScreenResult:
    """:func:`screen_file` while holding the output's lock."""
    t0 = time.perf_counter()
    in_fmt = table_format(input_path, "input_path")
    out_fmt = table_format(output_path, "output_path")
    for name, value, lo in (("chunk_size", chunk_size, 1), ("workers", workers, 1), ("top_n", top_n, 0),
                            ("explain_top", explain_top, 0), ("bucket_rows", bucket_rows, 1),
                            ("plot_rows", plot_rows, 0)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < lo:
            raise ScreenOptionError(name, value, f"must be a whole number >= {lo}")
    if dask_address is not None:
        _check_dask_address(dask_address)
    if coverage is not None and not (isinstance(coverage, (int, float)) and 0 < coverage < 1):
        raise ScreenOptionError("coverage", coverage, "must be a number between 0 and 1 (e.g. 0.8)")
    options = ScoreOptions(objective, risk, tm_max=tm_max, tg_min=tg_min, p_melt_min=p_melt_min,
                           allow_elements=allow_elements, deny_elements=deny_elements, out_of_domain=out_of_domain)
    columns = read_header(input_path)
    if len(columns) > MAX_COLUMNS:
        raise SchemaError("input_path", str(input_path), f"the table has {len(columns):,} columns; at most "
                                                         f"{MAX_COLUMNS:,} are accepted")
    if in_fmt != "parquet":
        check_csv_fields(input_path, sep="\t" if in_fmt == "tsv" else ",", field="input_path")
    if "metal" not in columns and "formula" not in columns:
        raise SchemaError("columns", columns[:20], "a candidate table needs a 'metal' column (with 'ligands') "
                                                   "or a 'formula' column")
    predictor, model_dir = _resolve_predictor(predictor)
    from mlglass.screen.backends import DaskRunner, ProcessRunner, SequentialRunner, model_fingerprint

    signature = {"version": _CHECKPOINT_VERSION, "input": _input_signature(input_path),
                 "options": options.to_dict(), "coverage": coverage, "chunk_size": int(chunk_size),
                 "model": model_fingerprint(predictor)}
    work = work_dir_for(output_path)
    explain_rows = int(top_n) if explain_top > 0 else 0  # rows per chunk whose descriptors are kept
    if resume and (work / CHECKPOINT_NAME).exists():
        completed = _load_checkpoint(work, signature, input_path, explain_rows)
    else:
        _clear_work_dir(work)
        completed = {}
    work.mkdir(parents=True, exist_ok=True)
    resumed = len(completed)
    _save_checkpoint(work, signature, completed, False)

    def part_path(idx: int) -> Path:
        return work / _part_name(idx)

    runner: Any
    if dask_address is not None or workers > 1:
        shared_model = Path(model_dir) if model_dir is not None else Path(predictor.save(work / "model"))
        if dask_address is not None:
            runner = DaskRunner(str(dask_address), shared_model, options, coverage, part_path, explain_rows)
        else:
            runner = ProcessRunner(int(workers), shared_model, options, coverage, part_path, explain_rows)
    else:
        runner = SequentialRunner(predictor, options, coverage, part_path, explain_rows)

    t_pred = time.perf_counter()
    n_chunks = 0
    total = _count_rows(input_path, in_fmt)
    try:
        with row_progress(progress, "screening", total=total) as bar:
            def record(done: list) -> None:
                for idx, stats in done:
                    completed[idx] = [int(x) for x in stats][:3] + [_sha256(part_path(idx))]
                    bar.advance(stats[0])
                if done:
                    _save_checkpoint(work, signature, completed, False)
                    _maybe_kill("chunk", len(completed))

            start = 0
            for idx, frame in enumerate(read_chunks(input_path, chunk_size)):
                n_chunks = idx + 1
                if idx in completed:
                    if completed[idx][0] != len(frame):
                        raise ScreenOptionError("resume", str(input_path),
                                                f"chunk {idx} has {len(frame)} rows but the checkpoint recorded "
                                                f"{completed[idx][0]}; run without resume to start over")
                    bar.advance(len(frame))
                    start += len(frame)
                    continue
                while runner.pending >= runner.capacity:
                    record(runner.collect(block=True))
                runner.submit(idx, start, frame)
                record(runner.collect(block=False))
                start += len(frame)
            while runner.pending:
                record(runner.collect(block=True))
        stale = [k for k in completed if k >= n_chunks]
        for k in stale:
            completed.pop(k)
        _save_checkpoint(work, signature, completed, True)
    finally:
        runner.close()
    t_merge = time.perf_counter()
    parts = [part_path(i) for i in range(n_chunks)]
    n_rows = sum(v[0] for v in completed.values())
    n_errors = sum(v[1] for v in completed.values())
    n_passing = sum(v[2] for v in completed.values())
    if n_chunks == 0:
        _write_empty(output_path, out_fmt, columns)
        top, ranked = pd.DataFrame(), pd.DataFrame(columns=list(PLOT_COLUMNS))
    else:
        top, ranked = _merge(parts, work, output_path, out_fmt, bucket_rows=int(bucket_rows), write_rows=65_536,
                             top_n=int(top_n), progress=progress, n_plottable=n_rows - n_errors,
                             plot_rows=int(plot_rows))
    if explain_top > 0 and len(top):  # from the descriptors the chunks kept: no second parse
        from mlglass.screen.top_rows import explain_top_rows

        top = explain_top_rows(predictor, top, parts, int(explain_top))
    if not keep_parts:
        _clear_work_dir(work)
    t_end = time.perf_counter()
    elapsed = t_end - t0
    return ScreenResult(top=top, n_rows=n_rows, n_errors=n_errors, n_passing=n_passing,
                        rows_per_second=n_rows / elapsed if elapsed > 0 else float("nan"),
                        output_path=output_path, elapsed_seconds=elapsed, n_chunks=n_chunks,
                        resumed_chunks=resumed,
                        timings={"predict": t_merge - t_pred, "merge": t_end - t_merge},
                        ranked=ranked, n_plottable=n_rows - n_errors)
