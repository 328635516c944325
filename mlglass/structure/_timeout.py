"""Nestable wall-clock limits with ``SIGALRM`` (Unix, main thread only).

:class:`TimeLimitExceeded` derives from ``BaseException`` so that the generic
``except Exception`` of fallback code (e.g. around pymatgen's ``BVAnalyzer``)
cannot swallow an *outer* limit. Each limit yields a token; the exception
carries the token of the limit that fired.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time

__all__ = ["TimeLimitExceeded", "time_limit"]


class TimeLimitExceeded(BaseException):
    """A :func:`time_limit` ran out (``token`` identifies which)."""

    def __init__(self, seconds: float, token: object):
        super().__init__(f"not finished within {seconds:g} s")
        self.seconds = seconds
        self.token = token


def _usable() -> bool:
    return hasattr(signal, "SIGALRM") and threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def time_limit(seconds: float | None):
    """Raise :class:`TimeLimitExceeded` in the block after ``seconds``; yields the limit's token.

    Without ``SIGALRM`` or outside the main thread the block runs unlimited.
    If an enclosing limit expires first, the enclosing limit's exception is
    raised (with the enclosing token).
    """
    token = object()
    if seconds is None or seconds <= 0 or not _usable():
        yield token
        return
    outer_remaining, _ = signal.getitimer(signal.ITIMER_REAL)
    if outer_remaining and outer_remaining <= seconds:
        yield token  # the enclosing limit fires first anyway
        return

    def handler(signum, frame):
        raise TimeLimitExceeded(seconds, token)

    start = time.monotonic()
    old_handler = signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, float(seconds))
    try:
        yield token
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old_handler)
        if outer_remaining:
            left = outer_remaining - (time.monotonic() - start)
            signal.setitimer(signal.ITIMER_REAL, max(left, 1e-3))
