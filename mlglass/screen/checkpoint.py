"""The work folder and checkpoint of a screen: what ``resume`` continues from.

Layout of a run writing ``OUT.csv`` (or ``OUT.parquet``)::

    OUT.csv.parts/                 work folder (removed after success unless keep_parts=True)
      checkpoint.json              input path/size/mtime, options, model fingerprint, completed chunks
      part-000000.parquet ...      one scored chunk each (input order inside a part; the Parquet metadata
                                   holds the descriptors of the chunk's best rows, :mod:`mlglass.screen.top_rows`)
      model/                       saved predictor for worker processes (workers > 1 or dask)
      bucket-0000.parquet ...      rank-range buckets of the merge (large inputs only)

Every file is written atomically (:func:`mlglass.io.atomic_write`); the
checkpoint is rewritten after each completed chunk, so an interrupted run
(``resume=True``) recomputes at most the chunks that were in flight.

Test hook (documented so crash tests need no timing): the environment variable
``MLGLASS_SCREEN_KILL_AT`` makes the process send itself ``SIGKILL`` at a fixed
point - ``chunk:K`` right after the checkpoint records its K-th completed
chunk, ``merge`` right after the first rows reach the temporary output file
(:func:`maybe_kill`).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from pathlib import Path
from typing import Any

from mlglass.io import atomic_write_text
from mlglass.screen.scoring import ScreenOptionError

__all__ = ["CHECKPOINT_NAME", "CHECKPOINT_VERSION", "KILL_AT_ENV", "maybe_kill", "work_dir_for", "part_name",
           "clear_work_dir", "input_signature", "file_sha256", "load_checkpoint", "save_checkpoint"]

CHECKPOINT_NAME = "checkpoint.json"
#: Environment variable of the crash-test hook (see the module docstring).
KILL_AT_ENV = "MLGLASS_SCREEN_KILL_AT"
_CHECKPOINT_FORMAT = "mlglass-screen-checkpoint"
CHECKPOINT_VERSION = 2  # 2: each completed chunk records the SHA-256 of its part file


def maybe_kill(point: str, n_done: int = 0) -> None:
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



def work_dir_for(output_path: str | os.PathLike) -> Path:
    """Work folder of a screen writing ``output_path``: ``OUTPUT.parts`` next to it."""
    output_path = Path(output_path)
    return output_path.with_name(output_path.name + ".parts")


def part_name(idx: int) -> str:
    return f"part-{idx:06d}.parquet"


def clear_work_dir(work: Path) -> None:
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


def input_signature(path: Path) -> dict[str, Any]:
    st = path.stat()
    return {"path": str(path.resolve()), "size": int(st.st_size), "mtime_ns": int(st.st_mtime_ns)}


def file_sha256(path: Path) -> str:
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


def load_checkpoint(work: Path, signature: dict[str, Any], input_path: Path,
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
        part = work / part_name(int(k))
        # trust a part only if its bytes are the ones recorded when the chunk finished
        if part.is_file() and not part.is_symlink() and file_sha256(part) == v[3] \
                and (explain_rows == 0 or stored_k(part) >= explain_rows):
            completed[int(k)] = list(v)
    return completed


def save_checkpoint(work: Path, signature: dict[str, Any], completed: dict[int, list],
                     exhausted: bool) -> None:
    doc = {"format": _CHECKPOINT_FORMAT, "signature": signature, "input_exhausted": exhausted,
           "completed": {str(k): v for k, v in sorted(completed.items())}}
    atomic_write_text(work / CHECKPOINT_NAME, json.dumps(doc, indent=1))
