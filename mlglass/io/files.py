"""Writing files safely: atomic writes, output-path checks, output locks, clean termination.

Every file mlglass writes goes through :func:`atomic_write` (temporary file in
the same folder, ``fsync``, then ``os.replace``), so a killed process never
leaves a half-written file in place of a good one. Replacing an existing file
keeps its permission bits (a 0600 file stays 0600).

:func:`check_output_path` checks an output path before any computation (known
extension, not a folder, not one of the inputs, a writable folder), and
:func:`output_lock` keeps two processes from writing the same output at once.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

from mlglass.errors import SchemaError

__all__ = ["atomic_write", "atomic_write_text", "atomic_write_bytes", "check_output_path", "output_lock",
           "OutputLockedError", "TABLE_SUFFIXES", "terminate_cleanly"]

#: Extensions of the table outputs (CSV text or Parquet; ``screen`` also writes ``.tsv``).
TABLE_SUFFIXES = (".csv", ".txt", ".parquet", ".pq")

_UMASK = os.umask(0)
os.umask(_UMASK)


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "w", encoding: str | None = "utf-8") -> Iterator[IO]:
    """Open a temporary file next to ``path``; on success rename it over ``path``.

    Parameters
    ----------
    path : path-like
        Final destination.
    mode : {"w", "wb"}
        Text or binary.
    encoding : str, optional
        Text encoding (ignored for binary mode).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        try:
            perms = stat.S_IMODE(os.stat(path).st_mode)  # keep the mode of the file being replaced
        except OSError:
            perms = 0o666 & ~_UMASK
        os.chmod(tmp, perms)
        if "b" in mode:
            fh = os.fdopen(fd, mode)
        else:
            fh = os.fdopen(fd, mode, encoding=encoding, newline="")
        with fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``path`` atomically (UTF-8)."""
    with atomic_write(path, "w") as fh:
        fh.write(text)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_write(path, "wb") as fh:
        fh.write(data)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return a.resolve() == b.resolve()


def check_output_path(path: str | os.PathLike, *, inputs: Iterable[str | os.PathLike | None] = (),
                      field: str = "output", suffixes: tuple[str, ...] | None = TABLE_SUFFIXES) -> Path:
    """Check, before computing anything, that ``path`` can be written as an output.

    Parameters
    ----------
    path : path-like
        The output file.
    inputs : iterable of path-like
        Files the command reads; the output must be none of them.
    field : str
        Option name used in the error (``"output"``, ``"plot"``, ...).
    suffixes : tuple of str, optional
        Accepted extensions (lower case); ``None`` accepts any.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    mlglass.errors.SchemaError
        Unknown extension, a folder, one of the inputs, or a folder that does
        not exist as a folder or cannot be written.
    """
    path = Path(path)
    if suffixes is not None and path.suffix.lower() not in suffixes:
        shown = ", ".join(sorted({s for s in suffixes if s not in (".txt", ".pq")}))
        raise SchemaError(field, str(path), f"output must end in one of {shown}")
    if path.is_dir():
        raise SchemaError(field, str(path), "is a folder; give a file name")
    for inp in inputs:
        if inp is not None and Path(inp).exists() and path.exists() and _same_file(path, Path(inp)):
            raise SchemaError(field, str(path), f"is the input file {str(inp)!r}; write to a different path "
                                                "(the input would be overwritten)")
    parent = path.parent if str(path.parent) else Path(".")
    ancestor = parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise SchemaError(field, str(path), f"{str(ancestor)!r} is not a folder")
    if ancestor == parent:
        try:  # the only reliable test (read-only mounts, ACLs, root)
            fd, probe = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".probe", dir=parent)
            os.close(fd)
            os.unlink(probe)
        except OSError as err:
            raise SchemaError(field, str(path), f"cannot write in folder {str(parent)!r} "
                                                f"({err.strerror or err})") from None
    elif not os.access(ancestor, os.W_OK | os.X_OK):
        raise SchemaError(field, str(path), f"cannot create folder {str(parent)!r} (no write permission in "
                                            f"{str(ancestor)!r})")
    return path


class OutputLockedError(OSError):
    """Another process holds the lock of an output (see :func:`output_lock`)."""


@contextlib.contextmanager
def output_lock(lock_path: str | os.PathLike) -> Iterator[Path]:
    """Hold an exclusive, non-blocking lock on ``lock_path`` (created if missing) for the block.

    The lock is an OS file lock (``fcntl.flock``), so it is released when the
    process dies, even by SIGKILL; a stale lock file never blocks a new run.
    The lock file is removed on exit. Without ``fcntl`` (Windows) no lock is taken.

    Raises
    ------
    OutputLockedError
        Another process holds the lock.
    """
    lock_path = Path(lock_path)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield lock_path
        return
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            os.close(fd)
            if err.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                raise OutputLockedError(errno.EAGAIN, "locked by another process", str(lock_path)) from None
            raise
        try:  # the holder before us may have removed the file after we opened it: lock the current one
            same = os.path.samestat(os.fstat(fd), os.stat(lock_path))
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        os.write(fd, f"{os.getpid()}\n".encode())
        yield lock_path
    finally:
        with contextlib.suppress(OSError):
            os.unlink(lock_path)
        os.close(fd)


@contextlib.contextmanager
def terminate_cleanly() -> Iterator[None]:
    """Turn SIGTERM into ``SystemExit(143)`` for the block, so ``finally``/``except`` clean-up runs.

    Temporary files of :func:`atomic_write` are then removed instead of being
    left behind. Only in the main thread (elsewhere signals cannot be set); the
    previous handler is restored afterwards.
    """
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "SIGTERM"):
        yield
        return

    def handler(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
