"""Progress bars (rich): items done and items/s, written to stderr (shared by featurize, screen, enumerate)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

__all__ = ["row_progress"]


class _Tracker:
    def __init__(self, progress=None, task=None):
        self._progress = progress
        self._task = task

    def advance(self, n: int) -> None:
        if self._progress is not None:
            self._progress.advance(self._task, n)

    def update_total(self, total: int | None) -> None:
        if self._progress is not None:
            self._progress.update(self._task, total=total)

    def describe(self, text: str) -> None:
        if self._progress is not None:
            self._progress.update(self._task, description=text)


@contextlib.contextmanager
def row_progress(enabled: bool, description: str, total: int | None = None,
                 unit: str = "rows") -> Iterator[_Tracker]:
    """Context manager yielding a tracker with ``advance(n)``; a no-op when ``enabled`` is false."""
    if not enabled:
        yield _Tracker()
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, ProgressColumn, TextColumn, TimeElapsedColumn
    from rich.text import Text

    class _Count(ProgressColumn):
        def render(self, task) -> Text:
            done = int(task.completed)
            if task.total is None:
                return Text(f"{done:,} {unit}")
            return Text(f"{done:,}/{int(task.total):,} {unit}")

    class _Rate(ProgressColumn):
        def render(self, task) -> Text:
            speed = task.finished_speed or task.speed
            return Text("-- rows/s" if speed is None else f"{speed:,.0f} {unit}/s")

    columns: list = [TextColumn("{task.description}"), BarColumn(), _Count(), _Rate(), TimeElapsedColumn()]
    with Progress(*columns, console=Console(stderr=True), transient=False) as prog:
        task = prog.add_task(description, total=total)
        yield _Tracker(prog, task)

