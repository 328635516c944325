"""Background screen jobs: bounded, each in a private temporary folder that expires.

A job is an uploaded candidate table screened by :func:`mlglass.workflows.screen_candidates`
(the chunked screen) in a worker thread. Progress comes from the screen's own
checkpoint (rows of the completed chunks). Job ids are random tokens looked up in
memory: no client-supplied text is ever used as a path.
"""

from __future__ import annotations

import json
import logging
import math
import secrets
import shutil
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlglass.errors import MlglassError
from mlglass.web.convert import frame_to_rows

__all__ = ["Job", "JobManager", "JobLimitError", "EXPLAINED_TOP"]

log = logging.getLogger("mlglass.web")

#: Top rows explained and labelled on the map (the page's table shows ``Job.show`` rows of the ranked file).
EXPLAINED_TOP = 10
RESULT_CSV = "ranked.csv"
PLOT_PNG = "map.png"


class JobLimitError(RuntimeError):
    """Too many screen jobs are queued or running."""


@dataclass
class Job:
    """One screen job (state: ``queued``, ``reading``, ``screening``, ``done`` or ``failed``).

    ``done_event`` is set when the job ends (done or failed); ``rows_total`` is known once the
    upload has been read; ``error`` is the message of a failed job.
    """

    id: str
    folder: Path
    filename: str
    options: dict[str, Any]
    show: int = 50
    state: str = "queued"
    rows_total: int | None = None
    error: str = ""
    summary: dict[str, Any] = field(default_factory=dict)
    created: float = field(default_factory=time.time)
    finished: float | None = None
    done_event: threading.Event = field(default_factory=threading.Event)
    best_done: int = 0

    @property
    def input_path(self) -> Path:
        return self.folder / ("input" + self.suffix)

    @property
    def suffix(self) -> str:
        return ".parquet" if self.filename.lower().endswith((".parquet", ".pq")) else ".csv"

    @property
    def output_path(self) -> Path:
        return self.folder / RESULT_CSV

    @property
    def plot_path(self) -> Path:
        return self.folder / PLOT_PNG

    def rows_done(self) -> int:
        """Rows of the chunks the screen has finished (read from its checkpoint)."""
        if self.state == "done":
            return int(self.summary.get("n_rows", 0))
        if self.state != "screening":
            return 0
        from mlglass.screen.stream import CHECKPOINT_NAME, work_dir_for

        try:
            ck = json.loads((work_dir_for(self.output_path) / CHECKPOINT_NAME).read_text(encoding="utf-8"))
            done = int(sum(v[0] for v in (ck.get("completed") or {}).values()))
        except (OSError, ValueError, TypeError, IndexError, AttributeError):
            done = 0  # not written yet, or already removed while the ranked file is merged
        self.best_done = max(self.best_done, done)
        return self.best_done

    def status(self) -> dict[str, Any]:
        """JSON-ready progress: state, rows done / total, fraction, error message, result links when done."""
        done = self.rows_done()
        total = self.rows_total
        if self.state == "done":
            fraction = 1.0
        elif total:
            fraction = min(0.99, done / total)
        else:
            fraction = 0.0
        out: dict[str, Any] = {"id": self.id, "state": self.state, "filename": self.filename,
                               "rows_done": done, "rows_total": total, "fraction": round(fraction, 4),
                               "error": self.error, "options": self.options}
        if self.state == "done":
            out.update(self.summary)
            out["result_csv"] = f"/api/jobs/{self.id}/result.csv"
            out["plot_png"] = f"/api/jobs/{self.id}/plot.png" if self.plot_path.exists() else None
        return out


class JobManager:
    """Runs screen jobs in background threads, at most ``limits.max_jobs`` queued or running.

    Parameters
    ----------
    model_dir : path, optional
        Model folder for the screen (default: the bundled models).
    limits : WebLimits
    root : path, optional
        Parent folder of the job folders (default: a new private temporary folder).
    """

    def __init__(self, limits, *, model_dir: Path | None = None, root: Path | None = None):
        self.limits = limits
        self.model_dir = model_dir
        self.root = Path(tempfile.mkdtemp(prefix="mlglass-web-", dir=root))
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=max(1, int(limits.max_jobs)), thread_name_prefix="mlglass-job")
        self._stop = threading.Event()
        self._sweeper = threading.Thread(target=self._sweep_loop, name="mlglass-job-sweeper", daemon=True)
        self._sweeper.start()

    # ------------------------------------------------------------------ public
    def new_folder(self) -> tuple[str, Path]:
        """A fresh job id and its private folder (mode 0700)."""
        job_id = secrets.token_hex(16)
        folder = Path(tempfile.mkdtemp(prefix=f"job-{job_id[:8]}-", dir=self.root))
        return job_id, folder

    def submit(self, job_id: str, folder: Path, filename: str, options: dict[str, Any], show: int = 50) -> Job:
        """Queue a job whose upload is already at ``Job.input_path``.

        Raises
        ------
        JobLimitError
            ``limits.max_jobs`` jobs are already queued or running.
        """
        self.sweep()
        with self._lock:
            active = sum(1 for j in self._jobs.values() if j.finished is None)
            if active >= self.limits.max_jobs:
                raise JobLimitError(f"{active} screen jobs are already running (limit {self.limits.max_jobs}); "
                                    "try again when one has finished")
            job = Job(id=job_id, folder=folder, filename=filename, options=options, show=show)
            self._jobs[job_id] = job
        self._pool.submit(self._run, job)
        return job

    def get(self, job_id: str) -> Job | None:
        """The job with this id, or ``None`` (unknown or expired)."""
        self.sweep()
        with self._lock:
            return self._jobs.get(job_id)

    def sweep(self, now: float | None = None) -> int:
        """Delete jobs that finished more than ``limits.job_ttl_s`` ago; returns how many."""
        now = time.time() if now is None else now
        with self._lock:
            expired = [j for j in self._jobs.values()
                       if j.finished is not None and now - j.finished > self.limits.job_ttl_s]
            for j in expired:
                del self._jobs[j.id]
        for j in expired:
            shutil.rmtree(j.folder, ignore_errors=True)
        return len(expired)

    def close(self) -> None:
        """Stop the sweeper, wait for running jobs and delete every job folder."""
        self._stop.set()
        self._pool.shutdown(wait=True, cancel_futures=True)
        shutil.rmtree(self.root, ignore_errors=True)

    # ------------------------------------------------------------------ worker
    def _sweep_loop(self) -> None:
        while not self._stop.wait(self.limits.sweep_interval_s):
            try:
                self.sweep()
            except Exception:  # noqa: BLE001 - the sweeper must keep going
                log.exception("job sweep failed")

    def _run(self, job: Job) -> None:
        state, error = "failed", "interrupted"
        try:
            self._screen(job)
            state, error = "done", ""
        except MlglassError as err:
            error = str(err)
        except Exception as err:  # noqa: BLE001 - reported as a message, logged with its traceback
            log.exception("screen job %s failed", job.id)
            error = f"internal error ({type(err).__name__}): {err}"
        finally:
            # finished and error before state: a client that sees the final state also sees both
            job.finished = time.time()
            job.error = error
            job.state = state
            job.done_event.set()

    def _screen(self, job: Job) -> None:
        from mlglass.errors import SchemaError
        from mlglass.io import read_chunks
        from mlglass.workflows import screen_candidates

        job.state = "reading"
        total = 0
        header: list[str] = []
        for chunk in read_chunks(job.input_path, 100_000):
            if not header:
                header = [str(c) for c in chunk.columns]
            total += len(chunk)
        if "cif" in header:
            raise SchemaError("cif", "column", "uploaded tables cannot name structure files (the 'cif' column); "
                                               "drop the CIF files on the CIF zone instead")
        job.rows_total = total
        # about 20 progress steps, but chunks of at least 500 rows
        chunk_size = int(min(50_000, max(500, math.ceil(total / 20))))
        job.state = "screening"
        res = screen_candidates(job.input_path, job.output_path, model_dir=self.model_dir, plot_path=job.plot_path,
                                progress=False, chunk_size=chunk_size, workers=1, **job.options)
        top = _head(job.output_path, job.show)
        job.summary = {"n_rows": int(res.n_rows), "n_errors": int(res.n_errors), "n_passing": int(res.n_passing),
                       "seconds": round(float(res.elapsed_seconds), 3), "top": frame_to_rows(top),
                       "columns": [str(c) for c in top.columns]}


def _head(ranked_csv: Path, n: int):
    """The first ``n`` rows of a ranked CSV; columns whose every non-empty cell is a number become numbers."""
    import pandas as pd

    from mlglass.io import read_chunks

    top = next(read_chunks(ranked_csv, n, field="output"), None)
    if top is None:
        return pd.DataFrame()
    top = top.reset_index(drop=True)
    for col in top.columns:
        values = top[col]
        filled = values != ""
        as_num = pd.to_numeric(values.where(filled), errors="coerce")
        if filled.any() and as_num[filled].notna().all():
            top[col] = as_num
    return top
