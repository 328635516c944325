"""Saving and loading model bundles: xgboost JSON plus JSON metadata, never pickle.

A bundle is a folder::

    models/
      tm.json  tg.json  melt.json     xgboost models (JSON)
      metadata.json                   versions, feature labels, SHA-256 of each model file,
                                      training-data hash, interval calibration, CV metrics
      manifest.json                   size and SHA-256 of metadata.json and of every model file,
                                      and one SHA-256 over that list (the bundle's seal)

Loading checks, before anything is parsed: the manifest (a regular file of
at most 1 MB, consistent with its own seal), then for ``metadata.json`` and
each model file: a plain file name inside the folder (no path escapes), not a
symlink (checked with ``lstat``, before resolving), a regular file whose size
matches the manifest and is at most 200 MB (checked *before* reading), and
whose SHA-256 matches. Then the metadata's types (numbers are finite numbers,
calibration lists are lists of numbers), the mlglass major.minor version and
the feature labels. Any failure raises :class:`~mlglass.errors.ModelFileError`.

The seal detects edited, truncated, swapped or replaced files; it is not a
cryptographic signature (anyone who can write the folder can re-seal it).
Other files in the folder (``README.md``, ``tuned_params.json``) are not part
of the bundle. After editing a bundle on purpose, re-seal it with
``python -m mlglass.models.persistence seal FOLDER``.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import stat
import sys
from pathlib import Path
from typing import Any

import numpy as np
import xgboost as xgb

from mlglass.errors import ModelFileError
from mlglass.io import atomic_write_bytes, atomic_write_text

__all__ = ["save_booster", "load_booster", "write_metadata", "read_metadata", "read_manifest", "seal_bundle",
           "FORMAT_VERSION", "MANIFEST_NAME", "sha256_file", "jsonable"]

FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"
_MANIFEST_FORMAT = "mlglass-model-manifest"
_MAX_FILE_BYTES = 200 * 1024 * 1024
_MAX_MANIFEST_BYTES = 1024 * 1024


def sha256_file(path: Path) -> str:
    """SHA-256 hex digest of a file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def save_booster(booster: xgb.Booster, folder: Path, name: str) -> str:
    """Write ``booster`` as ``folder/name.json`` atomically; return its SHA-256."""
    raw = booster.save_raw(raw_format="json")
    atomic_write_bytes(Path(folder) / f"{name}.json", bytes(raw))
    return hashlib.sha256(bytes(raw)).hexdigest()


def _safe_member(folder: Path, file_name: Any) -> Path:
    if not isinstance(file_name, str) or not file_name or "/" in file_name or "\\" in file_name \
            or file_name in (".", "..") or file_name.startswith(".") or "\x00" in file_name:
        raise ModelFileError(f"model bundle {folder}: file name {file_name!r} is not a plain file in the bundle "
                             "(paths that leave the bundle folder are refused)")
    path = folder / file_name
    try:
        st = os.lstat(path)  # the link itself: a symlink is refused, never followed
    except OSError:
        raise ModelFileError(f"model bundle {folder}: {file_name!r} is missing") from None
    if stat.S_ISLNK(st.st_mode):
        raise ModelFileError(f"model bundle {folder}: {file_name!r} is a symlink; bundle files must be regular files")
    if not stat.S_ISREG(st.st_mode):
        raise ModelFileError(f"model bundle {folder}: {file_name!r} is not a regular file")
    return path


def _read_limited(path: Path, limit: int, expected_size: int | None = None) -> bytes:
    """Read a regular file after checking its size (never reads more than ``limit`` bytes)."""
    size = os.lstat(path).st_size
    if size > limit:
        raise ModelFileError(f"{path}: {size} bytes, larger than the limit of {limit} bytes; not read")
    if expected_size is not None and size != expected_size:
        raise ModelFileError(f"{path}: {size} bytes but the manifest records {expected_size}; the file was altered "
                             "or truncated")
    with open(path, "rb") as fh:
        data = fh.read(limit + 1)
    if len(data) > limit or (expected_size is not None and len(data) != expected_size):
        raise ModelFileError(f"{path}: the file changed while it was read")
    return data


def _seal(files: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(files, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def read_manifest(folder: Path) -> dict[str, dict[str, Any]]:
    """The checked ``files`` table of a bundle's ``manifest.json``: name -> ``{"sha256", "bytes"}``.

    Raises
    ------
    ModelFileError
        Missing, a symlink, too large, not JSON, wrong types, or a seal that does not match.
    """
    folder = Path(folder)
    if not (folder / MANIFEST_NAME).exists() and not (folder / MANIFEST_NAME).is_symlink():
        raise ModelFileError(f"{folder}: no {MANIFEST_NAME}; not a sealed mlglass model bundle (train one with "
                             "`mlglass train --out DIR`, or seal a bundle you trust with "
                             "`python -m mlglass.models.persistence seal DIR`)")
    path = _safe_member(folder, MANIFEST_NAME)
    raw = _read_limited(path, _MAX_MANIFEST_BYTES)
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as err:
        raise ModelFileError(f"{path}: not valid JSON ({err})") from None
    files = doc.get("files") if isinstance(doc, dict) else None
    if not isinstance(doc, dict) or doc.get("format") != _MANIFEST_FORMAT or not isinstance(files, dict):
        raise ModelFileError(f"{path}: not an mlglass model manifest")
    for name, entry in files.items():
        if not (isinstance(entry, dict) and isinstance(entry.get("sha256"), str) and len(entry["sha256"]) == 64
                and isinstance(entry.get("bytes"), int) and not isinstance(entry.get("bytes"), bool)
                and entry["bytes"] >= 0):
            raise ModelFileError(f"{path}: entry {name!r} must be {{'sha256': <64 hex>, 'bytes': <int>}}")
    if "metadata.json" not in files:
        raise ModelFileError(f"{path}: metadata.json is not covered by the manifest")
    if doc.get("seal") != _seal(files):
        raise ModelFileError(f"{path}: the seal does not match the file list; the manifest was edited")
    return files


def _read_sealed(folder: Path, name: str, files: dict[str, dict[str, Any]]) -> bytes:
    """Bytes of bundle member ``name`` after the manifest's symlink, size and SHA-256 checks."""
    path = _safe_member(folder, name)
    entry = files.get(name)
    if entry is None:
        raise ModelFileError(f"{folder}: {name!r} is not covered by {MANIFEST_NAME}; the bundle was altered")
    data = _read_limited(path, _MAX_FILE_BYTES, entry["bytes"])
    digest = hashlib.sha256(data).hexdigest()
    if digest != entry["sha256"]:
        raise ModelFileError(f"{path}: SHA-256 {digest[:12]}... does not match the manifest "
                             f"({entry['sha256'][:12]}...); the file was altered or replaced")
    return data


def read_booster_bytes(folder: Path, entry: dict[str, Any], manifest: dict[str, dict[str, Any]] | None = None
                       ) -> bytes:
    """Bytes of one booster file after checking its name, the manifest (size, SHA-256) and the metadata's SHA-256."""
    folder = Path(folder)
    path = _safe_member(folder, entry.get("file"))
    data = _read_sealed(folder, entry["file"], manifest if manifest is not None else read_manifest(folder))
    digest = hashlib.sha256(data).hexdigest()
    if digest != entry.get("sha256"):
        raise ModelFileError(f"{path}: SHA-256 {digest[:12]}... does not match the metadata "
                             f"({str(entry.get('sha256'))[:12]}...); the file was altered or truncated")
    return data


def booster_from_bytes(data: bytes, path: str | os.PathLike) -> xgb.Booster:
    """An xgboost booster from checked JSON bytes (``path`` names the file in errors)."""
    booster = xgb.Booster()
    try:
        booster.load_model(bytearray(data))
    except xgb.core.XGBoostError as err:
        raise ModelFileError(f"{path}: not a valid xgboost JSON model ({str(err).splitlines()[0]})") from None
    return booster


def load_booster(folder: Path, entry: dict[str, Any], manifest: dict[str, dict[str, Any]] | None = None
                 ) -> xgb.Booster:
    """Load one booster after checking its name, the manifest (size, SHA-256) and the metadata's SHA-256."""
    return booster_from_bytes(read_booster_bytes(folder, entry, manifest), Path(folder) / str(entry.get("file")))


def jsonable(obj: Any) -> Any:
    """``obj`` with numpy scalars and arrays, tuples and non-text keys as JSON types (non-finite floats: None)."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [jsonable(v) for v in obj.tolist()]
    if isinstance(obj, (np.floating, float)):
        f = float(obj)
        return f if math.isfinite(f) else None
    if isinstance(obj, np.integer):
        return int(obj)
    return obj


def write_metadata(folder: Path, metadata: dict[str, Any]) -> None:
    """Write ``metadata.json`` atomically, then seal the bundle (``manifest.json``).

    The model files named in ``metadata["files"]`` must already be written.
    """
    atomic_write_text(Path(folder) / "metadata.json", json.dumps(jsonable(metadata), indent=2, sort_keys=True) + "\n")
    seal_bundle(folder)


def seal_bundle(folder: Path) -> Path:
    """Write ``manifest.json``: size and SHA-256 of ``metadata.json`` and of every model file it names.

    Refuses to seal model files whose SHA-256 differs from the one in the
    metadata (so a damaged bundle is not blessed).

    Raises
    ------
    ModelFileError
    """
    folder = Path(folder)
    meta_path = _safe_member(folder, "metadata.json")
    try:
        meta = json.loads(_read_limited(meta_path, _MAX_FILE_BYTES).decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as err:
        raise ModelFileError(f"{meta_path}: not valid JSON ({err})") from None
    names = ["metadata.json"]
    entries = meta.get("files") if isinstance(meta, dict) else None
    for entry in (entries or {}).values() if isinstance(entries, dict) else ():
        if isinstance(entry, dict) and entry.get("file") is not None:
            path = _safe_member(folder, entry["file"])
            if sha256_file(path) != entry.get("sha256"):
                raise ModelFileError(f"{path}: SHA-256 differs from metadata.json; not sealing a damaged bundle")
            names.append(entry["file"])
    files = {}
    for name in sorted(set(names)):
        data = _read_limited(_safe_member(folder, name), _MAX_FILE_BYTES)
        files[name] = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    doc = {"format": _MANIFEST_FORMAT, "version": 1, "files": files, "seal": _seal(files)}
    atomic_write_text(folder / MANIFEST_NAME, json.dumps(doc, indent=2, sort_keys=True) + "\n")
    return folder / MANIFEST_NAME


def _number(value: Any, lo: float = -math.inf, hi: float = math.inf) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
            and lo <= value <= hi)


def _check_types(meta: dict[str, Any], path: Path) -> None:
    """Refuse metadata whose fields have the wrong types (instead of failing later with a traceback)."""
    problems = []
    if not _number(meta.get("coverage", 0.8), 0, 1) or meta.get("coverage", 0.8) in (0, 1):
        problems.append("'coverage' must be a number between 0 and 1")
    if not _number(meta.get("tg_tm_ratio_cap", 0.9), 0, 1) or meta.get("tg_tm_ratio_cap", 0.9) == 0:
        problems.append("'tg_tm_ratio_cap' must be a number in (0, 1]")
    if not isinstance(meta.get("feature_labels", []), list):
        problems.append("'feature_labels' must be a list")
    files = meta.get("files")
    if not isinstance(files, dict):
        problems.append("'files' must be an object")
    else:
        for name, entry in files.items():
            if not isinstance(entry, dict):
                problems.append(f"files.{name} must be an object")
                continue
            res = entry.get("residuals", [])
            if not isinstance(res, list) or not all(_number(r, 0) for r in res):
                problems.append(f"files.{name}.residuals must be a list of non-negative numbers")
            platt = entry.get("platt")
            if platt is not None and not (isinstance(platt, list) and len(platt) == 2 and all(map(_number, platt))):
                problems.append(f"files.{name}.platt must be null or two numbers")
            if entry.get("constant") is not None and not _number(entry["constant"]):
                problems.append(f"files.{name}.constant must be null or a number")
            if entry.get("file") is not None and not isinstance(entry.get("sha256"), str):
                problems.append(f"files.{name}.sha256 must be text")
    if problems:
        raise ModelFileError(f"{path}: wrong types in the metadata: {'; '.join(problems[:5])}")


def read_metadata(folder: Path, *, expected_labels: list[str] | None = None) -> dict[str, Any]:
    """Read and check ``metadata.json`` of a bundle.

    Raises
    ------
    ModelFileError
        Missing, not JSON, wrong format or mlglass version, or feature labels
        that differ from ``expected_labels``.
    """
    from mlglass import __version__

    folder = Path(folder)
    path = folder / "metadata.json"
    if not path.exists() and not path.is_symlink():
        raise ModelFileError(f"{folder}: no metadata.json; not an mlglass model bundle (train one with "
                             "`mlglass train --out DIR`)")
    manifest = read_manifest(folder)
    try:
        meta = json.loads(_read_sealed(folder, "metadata.json", manifest).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ModelFileError(f"{path}: not valid JSON ({err})") from None
    if not isinstance(meta, dict) or meta.get("format_version") != FORMAT_VERSION:
        found = meta.get("format_version") if isinstance(meta, dict) else None
        raise ModelFileError(f"{path}: unsupported bundle format {found!r}"
                             f" (this mlglass reads format {FORMAT_VERSION})")
    version = str(meta.get("mlglass_version", ""))
    if version.split(".")[:2] != __version__.split(".")[:2]:
        raise ModelFileError(f"{path}: made by mlglass {version!r}, this is {__version__}; retrain with "
                             "`mlglass train` (models are only read by the same major.minor version)")
    if expected_labels is not None and meta.get("feature_labels") != list(expected_labels):
        theirs = meta.get("feature_labels") or []
        diff = sorted(set(theirs) ^ set(expected_labels))[:5]
        raise ModelFileError(f"{path}: feature list does not match this mlglass ({len(theirs)} vs "
                             f"{len(expected_labels)} features; differing: {diff}); retrain with `mlglass train`")
    _check_types(meta, path)
    return meta


def _main(argv: list[str]) -> int:
    """``python -m mlglass.models.persistence seal FOLDER``: (re)write a bundle's manifest."""
    if len(argv) != 2 or argv[0] != "seal":
        print("usage: python -m mlglass.models.persistence seal FOLDER", file=sys.stderr)
        return 2
    try:
        print(seal_bundle(Path(argv[1])))
    except ModelFileError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
