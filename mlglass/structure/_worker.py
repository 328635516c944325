"""Worker process of the isolated CIF pool (``python -m mlglass.structure._worker``).

Protocol (one JSON object per line):

* parent -> worker, on stdin: ``{"task": k, "path": "...", "drop_solvent": true}``;
  end of stdin means "stop".
* worker -> parent, on the original stdout: ``{"ready": pid}`` once the heavy
  imports are done, then per task ``{"task": k, "stage": "ligands"}`` at every
  stage change and ``{"task": k, "row": {...}, "cacheable": bool,
  "stages": {stage: seconds}, "maxrss_kb": int, "cpu_s": float}`` at the end.

Anything the chemistry libraries print goes to stderr (file descriptor 1 is
pointed at stderr), so it cannot corrupt the protocol. The worker ignores
SIGINT (the parent decides what to stop) and, on Linux, dies with its parent.

Test hook
---------
``MLGLASS_TEST_STALL="STAGE"`` or ``"STAGE@STEM"``: when a file (with that
stem) enters ``STAGE``, the worker blocks SIGALRM/SIGTERM/SIGINT and sleeps
inside C (``libc.sleep`` through ``ctypes``) for an hour: what a runaway C++
call looks like. Only the parent's hard limit (SIGKILL) ends it. Used by the
tests; never set it otherwise. ``MLGLASS_TEST_CRASH`` (same syntax) makes the
worker SIGKILL itself instead, as the kernel's out-of-memory killer would.
"""

from __future__ import annotations

import json
import math
import os
import signal
import sys
import time
from collections.abc import Callable
from typing import Any

STALL_ENV = "MLGLASS_TEST_STALL"
CRASH_ENV = "MLGLASS_TEST_CRASH"


def _die_with_parent() -> None:
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, int(signal.SIGKILL), 0, 0, 0)
    except Exception:  # noqa: BLE001 - best effort; stdin EOF also ends the worker
        pass


def _stall_in_c() -> None:
    import ctypes

    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM, signal.SIGTERM, signal.SIGINT})
    ctypes.CDLL(None).sleep(3600)


def _jsonable(row: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in row.items():
        if isinstance(v, float) and not math.isfinite(v):
            v = None  # NaN/inf are not JSON; the parent restores NaN for descriptors
        elif hasattr(v, "item") and not isinstance(v, (str, bytes)):
            v = v.item()  # numpy scalars
        out[k] = v
    return out


class _TaskClock:
    """Stage listener for one task: reports every stage entered and sums wall-clock seconds per stage.

    Parameters
    ----------
    task : int
        The parent's task number, echoed in every message.
    stem : str
        The file's name without extension (matched by the test hooks).
    send : callable
        Writes one message to the parent.
    hooks : list of (stage, stem, action)
        Test hooks: ``action()`` runs when the file (with that stem, if given) enters ``stage``.
    """

    def __init__(self, task: int, stem: str, send: Callable[[dict[str, Any]], None],
                 hooks: list[tuple[str, str, Callable[[], None]]]):
        self.task, self.stem, self.send, self.hooks = task, stem, send, hooks
        self.timings: dict[str, float] = {}  # stage -> seconds
        self.stage = "start"
        self.since = time.perf_counter()

    def enter(self, stage: str) -> None:
        now = time.perf_counter()
        self.timings[self.stage] = self.timings.get(self.stage, 0.0) + now - self.since
        self.stage, self.since = stage, now
        self.send({"task": self.task, "stage": stage})
        for hook_stage, hook_stem, action in self.hooks:
            if stage == hook_stage and (not hook_stem or hook_stem == self.stem):
                action()


def main() -> int:
    out = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)  # stray prints from libraries go to stderr
    sys.stdout = sys.stderr
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent()

    from mlglass.structure import _stages
    from mlglass.structure.batch import _process_one, _warm_up

    _warm_up()
    hooks: list[tuple[str, str, Callable[[], None]]] = []
    for env, action in ((STALL_ENV, _stall_in_c), (CRASH_ENV, lambda: os.kill(os.getpid(), signal.SIGKILL))):
        spec = os.environ.get(env, "")
        if spec:
            stage, _, stem = spec.partition("@")
            hooks.append((stage, stem, action))

    def send(msg: dict[str, Any]) -> None:
        out.write(json.dumps(msg) + "\n")
        out.flush()

    send({"ready": os.getpid()})
    for line in sys.stdin:
        if not line.strip():
            continue
        task = json.loads(line)
        k, path = task["task"], task["path"]
        stem = os.path.splitext(os.path.basename(path))[0]
        clock = _TaskClock(k, stem, send, hooks)
        _stages.set_listener(clock.enter)
        cpu0 = time.process_time()
        try:
            row = _process_one(path, bool(task.get("drop_solvent", True)), None)
        finally:
            _stages.set_listener(None)
        clock.enter("done")
        timings = clock.timings
        timings.pop("start", None)
        cacheable = bool(row.pop("_cacheable", False))
        try:
            import resource

            maxrss = int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
        except Exception:  # noqa: BLE001
            maxrss = 0
        send({"task": k, "row": _jsonable(row), "cacheable": cacheable, "stages": timings, "maxrss_kb": maxrss,
              "cpu_s": time.process_time() - cpu0})
    return 0


if __name__ == "__main__":
    sys.exit(main())
