"""Execution back-ends of a screen: in-process, local worker processes, dask.

Every back-end runs :func:`mlglass.screen.chunks.process_chunk` on chunks of
input rows and ends with one Parquet part file per chunk, so the merged
output does not depend on the back-end.

* ``workers=1``: chunks run in this process with the given predictor.
* ``workers=N>1``: a ``concurrent.futures.ProcessPoolExecutor`` (``spawn``
  start method, safe with OpenMP) whose initializer loads the predictor once
  per process from a saved model folder (never a pickled model). Workers
  write their own part files.
* ``dask_address``: ``"local"`` starts a ``distributed.LocalCluster``
  (2 worker processes, 1 thread each); any other value is the address of a
  running scheduler. The model folder's files are scattered once to every
  worker as bytes; each worker writes them to a private temporary folder,
  loads them with :meth:`GlassPredictor.load` (hash-checked, no pickle) and
  keeps the predictor in a module global keyed by the model fingerprint.
  Workers return the scored chunk; the client writes the part file, so remote
  workers need no shared file system (but need mlglass installed).
"""

from __future__ import annotations

import collections
import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any

import numpy as np

from mlglass.io import atomic_write_bytes
from mlglass.screen.chunks import process_chunk, write_part
from mlglass.screen.scoring import ScoreOptions
from mlglass.screen.top_rows import ATTR as TOP_ATTR

__all__ = ["model_fingerprint", "model_bundle", "SequentialRunner", "ThreadRunner", "ProcessRunner", "DaskRunner"]

_WORKER_PREDICTOR: Any = None
_DASK_CACHE: dict[str, Any] = {}


def model_fingerprint(predictor: Any) -> str:
    """SHA-256 of everything that determines the predictions (boosters, calibration, Tg/Tm cap, coverage)."""
    h = hashlib.sha256()
    for name in sorted(predictor.heads):
        head = predictor.heads[name]
        h.update(name.encode())
        h.update(head.content_digest().encode())  # no need to build a lazily loaded booster
        h.update(np.asarray(head.residuals, dtype=float).tobytes())
        h.update(json.dumps([head.platt, head.constant]).encode())
    meta = predictor.metadata or {}
    h.update(json.dumps([meta.get("tg_tm_ratio_cap"), meta.get("coverage")]).encode())
    return h.hexdigest()


def model_bundle(folder: str | os.PathLike) -> dict[str, Any]:
    """The files of a saved model folder as ``{"files": {name: bytes}}`` (metadata.json + model files)."""
    folder = Path(folder)
    meta_bytes = (folder / "metadata.json").read_bytes()
    meta = json.loads(meta_bytes)
    files = {"metadata.json": meta_bytes}
    if (folder / "manifest.json").is_file():  # the bundle's seal travels with it (checked when loaded)
        files["manifest.json"] = (folder / "manifest.json").read_bytes()
    for entry in (meta.get("files") or {}).values():
        name = entry.get("file") if isinstance(entry, dict) else None
        if isinstance(name, str) and "/" not in name and "\\" not in name and not name.startswith("."):
            files[name] = (folder / name).read_bytes()
    digest = hashlib.sha256(b"".join(k.encode() + v for k, v in sorted(files.items()))).hexdigest()
    return {"files": files, "digest": digest}


def _single_thread(predictor: Any) -> Any:
    for head in predictor.heads.values():
        if getattr(head, "booster", None) is not None:
            head.booster.set_param({"nthread": 1})
    return predictor


# ---------------------------------------------------------------- worker side
def _init_pool_worker(model_dir: str) -> None:
    """ProcessPoolExecutor initializer: load the predictor once per worker process."""
    global _WORKER_PREDICTOR
    from mlglass.models.predictor import GlassPredictor

    _WORKER_PREDICTOR = _single_thread(GlassPredictor.load(model_dir))
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1)  # one thread per worker process (BLAS and OpenMP), as the boosters


def _pool_task(frame: Any, start_row: int, options: dict, coverage: float | None,
               part_path: str, explain_rows: int = 0) -> tuple[int, int, int]:
    scored = process_chunk(frame, start_row, _WORKER_PREDICTOR, ScoreOptions(**options), coverage, explain_rows)
    return write_part(scored, part_path)


def _dask_predictor(bundle: dict[str, Any]) -> Any:
    pred = _DASK_CACHE.get(bundle["digest"])
    if pred is None:
        from mlglass.models.predictor import GlassPredictor

        folder = Path(tempfile.mkdtemp(prefix="mlglass-model-"))
        for name, data in bundle["files"].items():
            atomic_write_bytes(folder / name, data)
        pred = _DASK_CACHE[bundle["digest"]] = _single_thread(GlassPredictor.load(folder))
    return pred


def _dask_task(bundle: dict[str, Any], frame: Any, start_row: int, options: dict,
               coverage: float | None, explain_rows: int = 0) -> Any:
    scored = process_chunk(frame, start_row, _dask_predictor(bundle), ScoreOptions(**options), coverage,
                           explain_rows)
    return scored, scored.attrs.get(TOP_ATTR)  # attrs are not guaranteed to travel with a frame


# ---------------------------------------------------------------- client side
Done = tuple[int, tuple[int, int, int]]


class SequentialRunner:
    """Run chunks one by one in this process.

    ``keep(idx, table)``, if given, receives each part's Arrow table as written
    (:func:`mlglass.screen.chunks.write_part`).
    """

    capacity = 1

    def __init__(self, predictor: Any, options: ScoreOptions, coverage: float | None,
                 part_path: Callable[[int], Path], explain_rows: int = 0,
                 keep: Callable[[int, Any], None] | None = None):
        self.predictor, self.options, self.coverage, self.part_path = predictor, options, coverage, part_path
        self.explain_rows = explain_rows
        self.keep = keep
        self._done: list[Done] = []

    @property
    def pending(self) -> int:
        """Chunks submitted and not yet collected (none: :meth:`submit` runs the chunk)."""
        return 0

    def _run(self, idx: int, start_row: int, frame: Any) -> tuple[int, int, int]:
        scored = process_chunk(frame, start_row, self.predictor, self.options, self.coverage, self.explain_rows)
        keep = self.keep
        return write_part(scored, self.part_path(idx), None if keep is None else lambda t: keep(idx, t))

    def submit(self, idx: int, start_row: int, frame: Any) -> None:
        self._done.append((idx, self._run(idx, start_row, frame)))

    def collect(self, block: bool) -> list[Done]:
        out, self._done = self._done, []
        return out

    def close(self) -> None:
        pass


class ThreadRunner(SequentialRunner):
    """Run chunks in ``threads`` threads of this process, sharing the one predictor.

    Much of a chunk's work runs outside the GIL (xgboost's prediction, numpy's array
    operations, Arrow's Parquet writer), so two chunks in flight keep two cores busy
    without a second copy of the models. Chunks share no state, so every chunk's rows are
    those :class:`SequentialRunner` gives; and chunks are reported in input order
    (:meth:`collect` returns the finished chunks that have no unfinished chunk before them),
    so the checkpoint always records a prefix of the input, as with one thread.
    """

    def __init__(self, threads: int, predictor: Any, options: ScoreOptions, coverage: float | None,
                 part_path: Callable[[int], Path], explain_rows: int = 0,
                 keep: Callable[[int, Any], None] | None = None):
        from concurrent.futures import ThreadPoolExecutor

        super().__init__(predictor, options, coverage, part_path, explain_rows, keep)
        self.capacity = threads
        self._ex = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="mlglass-screen")
        self._futures: collections.OrderedDict[int, Future] = collections.OrderedDict()

    @property
    def pending(self) -> int:
        return len(self._futures)

    def submit(self, idx: int, start_row: int, frame: Any) -> None:
        self._futures[idx] = self._ex.submit(self._run, idx, start_row, frame)

    def collect(self, block: bool) -> list[Done]:
        out: list[Done] = []
        while self._futures:
            idx, fut = next(iter(self._futures.items()))
            if out and (not fut.done() or fut.exception() is not None):
                break  # report the finished chunks first; a failed chunk raises on the next call
            if not out and not block and not fut.done():
                break
            stats = fut.result()  # waits for the oldest chunk when blocking; re-raises its exception
            del self._futures[idx]
            out.append((idx, stats))
        return out

    def close(self) -> None:
        self._ex.shutdown(wait=True, cancel_futures=True)


class ProcessRunner:
    """Run chunks in ``workers`` local processes (spawned; model loaded from ``model_dir``)."""

    def __init__(self, workers: int, model_dir: Path, options: ScoreOptions, coverage: float | None,
                 part_path: Callable[[int], Path], explain_rows: int = 0):
        import multiprocessing

        self.capacity = 2 * workers
        self.options, self.coverage, self.part_path = options.to_dict(), coverage, part_path
        self.explain_rows = explain_rows
        self._ex = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                       initializer=_init_pool_worker, initargs=(str(model_dir),))
        self._futures: dict[Future, int] = {}

    @property
    def pending(self) -> int:
        return len(self._futures)

    def submit(self, idx: int, start_row: int, frame: Any) -> None:
        fut = self._ex.submit(_pool_task, frame, start_row, self.options, self.coverage, str(self.part_path(idx)),
                              self.explain_rows)
        self._futures[fut] = idx

    def collect(self, block: bool) -> list[Done]:
        if not self._futures:
            return []
        done, _ = wait(list(self._futures), timeout=None if block else 0, return_when=FIRST_COMPLETED)
        out = []
        for fut in sorted(done, key=lambda f: self._futures[f]):
            idx = self._futures.pop(fut)
            out.append((idx, fut.result()))  # re-raises a worker's exception
        return out

    def close(self) -> None:
        self._ex.shutdown(wait=True, cancel_futures=True)


#: Seconds to wait for a dask scheduler before giving up with a clear error.
CONNECT_TIMEOUT_S = 10


class DaskRunner:
    """Run chunks on a dask.distributed cluster (``"local"`` or a scheduler address)."""

    def __init__(self, address: str, model_dir: Path, options: ScoreOptions, coverage: float | None,
                 part_path: Callable[[int], Path], explain_rows: int = 0):
        from distributed import Client, LocalCluster

        self.explain_rows = explain_rows
        self._cluster = None
        if address == "local":
            self._cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                         dashboard_address=None, silence_logs=logging.ERROR)
            self._client = Client(self._cluster)
        else:
            try:
                self._client = Client(address, timeout=CONNECT_TIMEOUT_S)
            except (OSError, TimeoutError, ValueError) as err:
                from mlglass.screen.scoring import ScreenOptionError

                raise ScreenOptionError("dask_address", address, f"cannot connect to the dask scheduler within "
                                                                 f"{CONNECT_TIMEOUT_S} s ({type(err).__name__}: "
                                                                 f"{str(err)[:200]})") from None
        try:
            n = max(1, len(self._client.scheduler_info().get("workers", {})))
            self.capacity = 2 * n
            self.options, self.coverage, self.part_path = options.to_dict(), coverage, part_path
            self._bundle = self._client.scatter(model_bundle(model_dir), broadcast=True)
        except BaseException:
            self.close()
            raise
        self._futures: dict[Any, int] = {}

    @property
    def pending(self) -> int:
        return len(self._futures)

    def submit(self, idx: int, start_row: int, frame: Any) -> None:
        fut = self._client.submit(_dask_task, self._bundle, frame, start_row, self.options, self.coverage,
                                  self.explain_rows, pure=False)
        self._futures[fut] = idx

    def collect(self, block: bool) -> list[Done]:
        from distributed import wait as dwait

        if not self._futures:
            return []
        if block:
            dwait(list(self._futures), return_when="FIRST_COMPLETED")
        done = [f for f in self._futures if f.done()]
        out = []
        for fut in sorted(done, key=lambda f: self._futures[f]):
            idx = self._futures.pop(fut)
            scored, kept = fut.result()
            if kept is not None:
                scored.attrs[TOP_ATTR] = kept
            out.append((idx, write_part(scored, self.part_path(idx))))
        return out

    def close(self) -> None:
        for fut in list(getattr(self, "_futures", {})):
            fut.cancel()
        client = getattr(self, "_client", None)
        if client is not None:
            client.close()
        if self._cluster is not None:
            self._cluster.close()
