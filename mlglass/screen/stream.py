"""Screen a candidate file of any size: chunked prediction, checkpoints, external merge.

The streaming driver (:func:`screen_file`): the input is read in chunks
(:func:`mlglass.io.read_chunks`); each chunk is predicted and scored once by an
execution back-end (:mod:`mlglass.screen.backends`, running
:func:`mlglass.screen.chunks.process_chunk`) into a Parquet part file recorded in
the checkpoint (:mod:`mlglass.screen.checkpoint`: work folder layout, ``resume``,
the ``MLGLASS_SCREEN_KILL_AT`` crash-test hook); the parts are then ranked and
written in rank order with bounded memory (:mod:`mlglass.screen.merge`,
:mod:`mlglass.screen.ranking`), and the top rows are explained from the
descriptors their chunk kept (:mod:`mlglass.screen.top_rows`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from mlglass._progress import row_progress
from mlglass.errors import SchemaError
from mlglass.io import (
    MAX_COLUMNS,
    OutputLockedError,
    check_csv_fields,
    check_output_path,
    escape_arrow_table,
    output_lock,
    read_chunks,
    read_header,
    table_format,
)
from mlglass.schema import PLOT_COLUMNS
from mlglass.screen.checkpoint import (
    CHECKPOINT_NAME,
    CHECKPOINT_VERSION,
    KILL_AT_ENV,
    clear_work_dir,
    file_sha256,
    input_signature,
    load_checkpoint,
    maybe_kill,
    part_name,
    save_checkpoint,
    work_dir_for,
)
from mlglass.screen.merge import KeptParts, merge_parts, write_empty
from mlglass.screen.scoring import ScoreOptions, ScreenOptionError

__all__ = ["ScreenResult", "screen_file", "escape_csv_formulas", "read_chunks", "read_header", "table_format",
           "work_dir_for", "resolve_predictor", "CHECKPOINT_NAME", "KILL_AT_ENV"]

#: The spreadsheet rule for text output (kept under its old name; it is :func:`mlglass.io.escape_arrow_table`).
escape_csv_formulas = escape_arrow_table


@dataclass
class ScreenResult:
    """Outcome of :func:`screen_file`.

    Attributes
    ----------
    top : pandas.DataFrame
        The best ``top_n`` rows (no error rows), in rank order, with
        ``tm_top_features`` and ``p_melt_top_features`` (largest SHAP
        contributions, degC and log-odds; ``td_top_features`` with the Td models)
        when ``explain_top > 0``, computed from the descriptors of the screen's own
        prediction pass (:mod:`mlglass.screen.top_rows`), not a second parse.
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


def resolve_predictor(predictor: Any) -> tuple[Any, Path | None]:
    """A predictor and its model folder (None for one given as an object).

    ``None`` gives the bundled models, a path-like a saved model folder, anything else is returned as is.
    """
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
                coverage: float | None = None, chunk_size: int = 50_000, workers: int = 1, threads: int = 2,
                dask_address: str | None = None, resume: bool = False, explain_top: int = 3, top_n: int = 10,
                keep_parts: bool = False, bucket_rows: int = 1_000_000, progress: bool = True,
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
    threads : int, default=2
        With ``workers=1`` and no dask: chunks in flight at once in this process, one per
        thread, sharing the predictor (same output as 1; 1 runs chunks one after another).
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
    bucket_rows : int, default=1_000_000
        Rows per merge bucket, about (at most 1.5 times as many; bounds the merge's memory).
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
    truncated, edited) is recomputed, and so is a part that kept the descriptors of
    fewer than ``top_n`` rows while ``explain_top > 0`` (written with ``explain_top=0``
    or a smaller ``top_n``).
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
    from threadpoolctl import threadpool_limits

    try:
        # One BLAS thread: the screen's matrix products are small (chunk x ~60 training compounds), and
        # OpenBLAS's idle threads spin on the second core that xgboost and the Arrow writers need.
        with output_lock(lock), threadpool_limits(limits=1, user_api="blas"):
            return _screen_locked(input_path, output_path, predictor, objective=objective, risk=risk, tm_max=tm_max,
                                  tg_min=tg_min, p_melt_min=p_melt_min, allow_elements=allow_elements,
                                  deny_elements=deny_elements, coverage=coverage, chunk_size=chunk_size,
                                  workers=workers, threads=threads, dask_address=dask_address, resume=resume,
                                  explain_top=explain_top, top_n=top_n, keep_parts=keep_parts,
                                  bucket_rows=bucket_rows, progress=progress, out_of_domain=out_of_domain,
                                  plot_rows=plot_rows)
    except OutputLockedError:
        raise ScreenOptionError("output_path", str(output_path),
                                f"another screen is writing this output (lock {lock}); wait for it to finish "
                                "or choose another output") from None


def _screen_locked(input_path: Path, output_path: Path, predictor: Any, *, objective: str, risk: str,
                   tm_max: float | None, tg_min: float | None, p_melt_min: float | None, allow_elements: Any,
                   deny_elements: Any, coverage: float | None, chunk_size: int, workers: int, threads: int,
                   dask_address: str | None, resume: bool, explain_top: int, top_n: int, keep_parts: bool,
                   bucket_rows: int, progress: bool, out_of_domain: str = "keep",
                   plot_rows: int = 50_000) -> ScreenResult:
    """:func:`screen_file` while holding the output's lock."""
    t0 = time.perf_counter()
    in_fmt = table_format(input_path, "input_path")
    out_fmt = table_format(output_path, "output_path")
    for name, value, lo in (("chunk_size", chunk_size, 1), ("workers", workers, 1), ("threads", threads, 1),
                            ("top_n", top_n, 0),
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
    predictor, model_dir = resolve_predictor(predictor)
    from mlglass.screen.backends import DaskRunner, ProcessRunner, SequentialRunner, ThreadRunner, model_fingerprint

    signature = {"version": CHECKPOINT_VERSION, "input": input_signature(input_path),
                 "options": options.to_dict(), "coverage": coverage, "chunk_size": int(chunk_size),
                 "model": model_fingerprint(predictor)}
    work = work_dir_for(output_path)
    explain_rows = int(top_n) if explain_top > 0 else 0  # rows per chunk whose descriptors are kept
    if resume and (work / CHECKPOINT_NAME).exists():
        completed = load_checkpoint(work, signature, input_path, explain_rows)
    else:
        clear_work_dir(work)
        completed = {}
    work.mkdir(parents=True, exist_ok=True)
    resumed = len(completed)
    save_checkpoint(work, signature, completed, False)

    def part_path(idx: int) -> Path:
        return work / part_name(idx)

    # the tables of this run's parts, kept in memory for a merge in one bucket (instead of reading the files back)
    kept = KeptParts(limit_rows=int(1.5 * bucket_rows))
    runner: Any
    if dask_address is not None or workers > 1:
        shared_model = Path(model_dir) if model_dir is not None else Path(predictor.save(work / "model"))
        if dask_address is not None:
            runner = DaskRunner(str(dask_address), shared_model, options, coverage, part_path, explain_rows)
        else:
            runner = ProcessRunner(int(workers), shared_model, options, coverage, part_path, explain_rows)
    elif threads > 1:
        runner = ThreadRunner(int(threads), predictor, options, coverage, part_path, explain_rows, kept.keep)
    else:
        runner = SequentialRunner(predictor, options, coverage, part_path, explain_rows, kept.keep)

    t_pred = time.perf_counter()
    n_chunks = 0
    total = _count_rows(input_path, in_fmt)
    try:
        with row_progress(progress, "screening", total=total) as bar:
            def record(done: list) -> None:
                for idx, stats in done:  # one checkpoint per chunk, in input order
                    completed[idx] = [int(x) for x in stats][:3] + [file_sha256(part_path(idx))]
                    bar.advance(stats[0])
                    save_checkpoint(work, signature, completed, False)
                    maybe_kill("chunk", len(completed))

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
        save_checkpoint(work, signature, completed, True)
    finally:
        runner.close()
    t_merge = time.perf_counter()
    parts = [part_path(i) for i in range(n_chunks)]
    n_rows = sum(v[0] for v in completed.values())
    n_errors = sum(v[1] for v in completed.values())
    n_passing = sum(v[2] for v in completed.values())
    if n_chunks == 0:
        write_empty(output_path, out_fmt, columns)
        top, ranked = pd.DataFrame(), pd.DataFrame(columns=list(PLOT_COLUMNS))
    else:
        top, ranked = merge_parts(parts, work, output_path, out_fmt, bucket_rows=int(bucket_rows), write_rows=65_536,
                             top_n=int(top_n), progress=progress, n_plottable=n_rows - n_errors,
                             plot_rows=int(plot_rows), tables=kept.tables)
    if explain_top > 0 and len(top):  # from the descriptors the chunks kept: no second parse
        from mlglass.screen.top_rows import explain_top_rows

        top = explain_top_rows(predictor, top, parts, int(explain_top))
    if not keep_parts:
        clear_work_dir(work)
    t_end = time.perf_counter()
    elapsed = t_end - t0
    return ScreenResult(top=top, n_rows=n_rows, n_errors=n_errors, n_passing=n_passing,
                        rows_per_second=n_rows / elapsed if elapsed > 0 else float("nan"),
                        output_path=output_path, elapsed_seconds=elapsed, n_chunks=n_chunks,
                        resumed_chunks=resumed,
                        timings={"predict": t_merge - t_pred, "merge": t_end - t_merge},
                        ranked=ranked, n_plottable=n_rows - n_errors)
