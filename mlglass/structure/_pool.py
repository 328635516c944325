"""A pool of isolated worker processes with a hard per-file time limit.

Each worker is a separate Python process (``python -m mlglass.structure._worker``,
started with :mod:`subprocess`, so it works from the main thread, from any
other thread, and inside daemonic processes such as dask's workers, where
:mod:`multiprocessing` may not start children). The parent hands one file at a
time to an idle worker and watches the clock: when a file is still running
``timeout`` seconds after it was handed over, the worker is killed with
SIGKILL (which no C extension can ignore) and replaced, and the file gets an
error row naming the stage it was in and the limit. A worker that dies on its
own (crash, out of memory) costs only its current file. Worker start-up (the
imports, ~2 s) is not counted against the limit.
"""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, cast

__all__ = ["run_isolated", "FileOutcome"]

#: A worker that cannot start this many times in a row fails the remaining files.
MAX_START_FAILURES = 3


@dataclass
class FileOutcome:
    """What happened to one file in the pool."""

    index: int
    row: dict[str, Any] | None = None  # the worker's row, or None when the pool made an error row
    error: str = ""  # set when ``row`` is None
    cacheable: bool = False
    stage: str = ""  # last stage entered
    seconds: float = 0.0  # wall-clock seconds from hand-over to answer (or kill)
    stages: dict[str, float] = field(default_factory=dict)
    maxrss_kb: int = 0
    cpu_seconds: float = 0.0  # CPU time the worker spent on the file (independent of other load)


class _Worker:
    def __init__(self, env: dict[str, str]):
        self.stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen([sys.executable, "-m", "mlglass.structure._worker"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self.stderr, env=env, close_fds=True)
        if self.proc.stdin is None or self.proc.stdout is None:  # not reached: both are PIPE
            raise RuntimeError("worker process started without pipes")
        self.stdin: IO[bytes] = self.proc.stdin
        self.stdout: IO[bytes] = self.proc.stdout
        os.set_blocking(self.stdout.fileno(), False)
        self.buffer = b""
        self.ready = False
        self.task: int | None = None
        self.started = 0.0
        self.stage = ""

    def send(self, msg: dict[str, Any]) -> None:
        self.stdin.write((json.dumps(msg) + "\n").encode())
        self.stdin.flush()

    def read_messages(self) -> tuple[list[dict[str, Any]], bool]:
        """Messages available now, and whether the worker closed its end (exited)."""
        eof = False
        chunks = []
        while True:
            try:
                data = os.read(self.stdout.fileno(), 1 << 16)
            except BlockingIOError:
                break
            if not data:
                eof = True
                break
            chunks.append(data)
        self.buffer += b"".join(chunks)
        *lines, self.buffer = self.buffer.split(b"\n")
        msgs = []
        for line in lines:
            if line.strip():
                try:
                    msgs.append(json.loads(line))
                except ValueError:
                    pass
        return msgs, eof

    def stderr_tail(self, n: int = 2000) -> str:
        """The last line the worker wrote to stderr (for a worker that could not start)."""
        try:
            self.stderr.seek(0, os.SEEK_END)
            size = self.stderr.tell()
            self.stderr.seek(max(0, size - n))
            lines = self.stderr.read().decode("utf-8", "replace").strip().splitlines()
        except OSError:
            return ""
        return lines[-1] if lines else ""

    def kill(self) -> None:
        try:
            self.proc.kill()
        except OSError:
            pass
        self.close()

    def close(self) -> None:
        for f in (self.stdin, self.stdout):
            try:
                f.close()
            except OSError:
                pass
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.stderr.close()

    def exit_description(self) -> str:
        code = self.proc.poll()
        if code is None:
            return "exit status unknown"
        if code < 0:
            import signal

            try:
                return f"killed by {signal.Signals(-code).name}"
            except ValueError:
                return f"killed by signal {-code}"
        return f"exit code {code}"


def _package_import_root() -> str:
    """The folder this process imported ``mlglass`` from (a site-packages folder, a source checkout, a wheel).

    Taken from the installed package's own location (``mlglass/__init__.py`` -> its parent folder), so a
    worker imports the same ``mlglass`` as the parent however it was installed; no repository layout is assumed.
    """
    import mlglass

    package_dir = Path(os.path.abspath(mlglass.__file__)).parent  # .../mlglass
    return str(package_dir.parent)


def _worker_env() -> dict[str, str]:
    """The parent's environment with the package's import root first on ``PYTHONPATH``."""
    env = dict(os.environ)
    root = _package_import_root()
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.setdefault("PYTHONHASHSEED", "0")
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


def run_isolated(paths: Sequence[str], indices: Sequence[int], *, n_workers: int, timeout: float | None,
                 drop_solvent: bool, on_done: Callable[[FileOutcome], None]) -> None:
    """Process ``paths[i]`` for every ``i`` in ``indices`` in isolated workers; call ``on_done`` per file.

    Parameters
    ----------
    paths : sequence of str
        File paths.
    indices : sequence of int
        Which of ``paths`` to process (in this order).
    n_workers : int
        Worker processes (at least 1, at most ``len(indices)``).
    timeout : float or None
        Hard limit in seconds per file (``None``: no limit).
    drop_solvent : bool
        Passed to the pipeline.
    on_done : callable
        Called in the calling thread with a :class:`FileOutcome` for every file, in completion order.
    """
    pending = list(indices)[::-1]  # pop() from the end keeps the given order
    if not pending:
        return
    n_workers = max(1, min(int(n_workers), len(pending)))
    env = _worker_env()
    sel = selectors.DefaultSelector()
    workers: list[_Worker] = []
    start_failures = 0
    last_start_error = ""

    def spawn() -> None:
        w = _Worker(env)
        workers.append(w)
        sel.register(w.stdout, selectors.EVENT_READ, w)

    def retire(w: _Worker, kill: bool) -> None:
        try:
            sel.unregister(w.stdout)
        except (KeyError, ValueError):
            pass
        workers.remove(w)
        if kill:
            w.kill()
        else:
            w.close()

    def fail(w: _Worker, error: str) -> None:
        k = w.task
        if k is None:  # an idle worker has no file to fail
            return
        elapsed = time.monotonic() - w.started
        w.task = None
        on_done(FileOutcome(index=k, error=error, stage=w.stage, seconds=elapsed))

    try:
        while pending or any(w.task is not None for w in workers):
            while len(workers) < min(n_workers, len(pending) + sum(w.task is not None for w in workers)):
                spawn()
            for w in workers:
                if w.ready and w.task is None and pending:
                    k = pending.pop()
                    w.task, w.started, w.stage = k, time.monotonic(), "start"
                    try:
                        w.send({"task": k, "path": str(paths[k]), "drop_solvent": bool(drop_solvent)})
                    except OSError:
                        pass  # the worker died; its EOF is handled below
            busy = [w for w in workers if w.task is not None]
            wait = None
            if timeout is not None and busy:
                wait = max(0.0, min(w.started + timeout for w in busy) - time.monotonic())
            for key, _ in sel.select(wait):
                w = cast(_Worker, key.data)  # registered with its worker as data in spawn()
                if w not in workers:
                    continue
                msgs, eof = w.read_messages()
                for msg in msgs:
                    if "ready" in msg:
                        w.ready = True
                        start_failures = 0
                    elif msg.get("task") == w.task and "stage" in msg:
                        w.stage = msg["stage"]
                    elif w.task is not None and msg.get("task") == w.task and "row" in msg:
                        k = w.task
                        w.task = None
                        on_done(FileOutcome(index=k, row=msg["row"], cacheable=bool(msg.get("cacheable")),
                                            stage=w.stage, seconds=time.monotonic() - w.started,
                                            stages=dict(msg.get("stages") or {}),
                                            maxrss_kb=int(msg.get("maxrss_kb") or 0),
                                            cpu_seconds=float(msg.get("cpu_s") or 0.0)))
                if eof:
                    w.proc.wait()
                    if w.task is not None:
                        fail(w, f"worker process died in stage {w.stage} ({w.exit_description()}; crash or out of "
                                f"memory)")
                    elif not w.ready:
                        start_failures += 1
                        last_start_error = f"{w.exit_description()}: {w.stderr_tail()}"
                    retire(w, kill=False)
            if timeout is not None:
                now = time.monotonic()
                for w in [w for w in workers if w.task is not None and now - w.started >= timeout]:
                    fail(w, f"timeout: stopped at the per-file limit of {timeout:g} s in stage {w.stage} "
                            "(raise --cif-timeout to allow more)")
                    retire(w, kill=True)
            if start_failures >= MAX_START_FAILURES:
                for w in list(workers):
                    if w.task is not None:
                        fail(w, f"worker process could not start ({last_start_error})")
                while pending:
                    on_done(FileOutcome(index=pending.pop(), error=f"worker process could not start "
                                                                   f"({last_start_error})"))
                break
    finally:
        for w in list(workers):  # idle workers end at the end of their input; the others are killed
            graceful = w.ready and w.task is None
            if graceful:
                try:
                    w.stdin.close()
                except OSError:
                    pass
            retire(w, kill=not graceful)
        sel.close()
