"""Saving and loading model bundles: xgboost JSON plus JSON metadata, never pickle.

A bundle is a folder::

    models/
      tm.json  tg.json  melt.json     xgboost models (JSON)
      metadata.json                   versions, feature labels, SHA-256 of each model file,
                                      training-data hash, interval calibration, CV metrics

Loading checks, before anything is parsed: that every file named in the
metadata is a plain file name inside the bundle folder (no path escapes),
that its SHA-256 matches, that the mlglass major.minor version and the
feature labels match this installation. Any mismatch raises
:class:`~mlglass.errors.ModelFileError`.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import xgboost as xgb

from mlglass._io import atomic_write_bytes, atomic_write_text
from mlglass.errors import ModelFileError

__all__ = ["save_booster", "load_booster", "write_metadata", "read_metadata", "FORMAT_VERSION", "sha256_file"]

FORMAT_VERSION = 1
_MAX_FILE_BYTES = 200 * 1024 * 1024


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
            or file_name in (".", "..") or file_name.startswith("."):
        raise ModelFileError(f"model bundle {folder}: file name {file_name!r} is not a plain file in the bundle "
                             "(paths that leave the bundle folder are refused)")
    path = (folder / file_name).resolve()
    if path.parent != folder.resolve():
        raise ModelFileError(f"model bundle {folder}: {file_name!r} escapes the bundle folder")
    if path.is_symlink() or not path.is_file():
        raise ModelFileError(f"model bundle {folder}: {file_name!r} is missing or not a regular file")
    return path


def load_booster(folder: Path, entry: dict[str, Any]) -> xgb.Booster:
    """Load one booster after checking its name and SHA-256 against the metadata entry."""
    folder = Path(folder)
    path = _safe_member(folder, entry.get("file"))
    data = path.read_bytes()
    if len(data) > _MAX_FILE_BYTES:
        raise ModelFileError(f"{path}: larger than {_MAX_FILE_BYTES} bytes")
    digest = hashlib.sha256(data).hexdigest()
    if digest != entry.get("sha256"):
        raise ModelFileError(f"{path}: SHA-256 {digest[:12]}... does not match the metadata "
                             f"({str(entry.get('sha256'))[:12]}...); the file was altered or truncated")
    booster = xgb.Booster()
    try:
        booster.load_model(bytearray(data))
    except xgb.core.XGBoostError as err:
        raise ModelFileError(f"{path}: not a valid xgboost JSON model ({str(err).splitlines()[0]})") from None
    return booster


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [_jsonable(v) for v in obj.tolist()]
    if isinstance(obj, (np.floating, float)):
        f = float(obj)
        return f if math.isfinite(f) else None
    if isinstance(obj, np.integer):
        return int(obj)
    return obj


def write_metadata(folder: Path, metadata: dict[str, Any]) -> None:
    """Write ``metadata.json`` atomically."""
    atomic_write_text(Path(folder) / "metadata.json", json.dumps(_jsonable(metadata), indent=2, sort_keys=True) + "\n")


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
    if not path.is_file():
        raise ModelFileError(f"{folder}: no metadata.json; not an mlglass model bundle (train one with "
                             "`mlglass train --out DIR`)")
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ModelFileError(f"{path}: not valid JSON ({err})") from None
    if not isinstance(meta, dict) or meta.get("format_version") != FORMAT_VERSION:
        raise ModelFileError(f"{path}: unsupported bundle format {meta.get('format_version') if isinstance(meta, dict) else None!r}"
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
    return meta
