"""The best rows' descriptors, kept from the screen's one prediction pass to explain its top rows.

Each chunk (:func:`mlglass.screen.chunks.process_chunk`) asks the predictor for the
descriptor matrix of its pass (``GlassPredictor.predict(..., descriptors=...)``),
picks its best ``k`` rows without an error in the global order
(:mod:`mlglass.screen.ranking`; ``k`` = the screen's ``top_n``) and keeps their
descriptor vectors and structure descriptors (``struct_*``, ``sg_*``) with the scored
chunk (:data:`ATTR` in ``DataFrame.attrs``). :func:`mlglass.screen.chunks.write_part`
stores them in the part file's Parquet metadata (:data:`METADATA_KEY`, so the part's
SHA-256 in the checkpoint covers them and ``resume`` keeps them). Every row of the
global top comes from the best ``k`` rows of its chunk, so after the merge the top
rows are explained from the stored vectors
(:meth:`~mlglass.models.predictor.GlassPredictor.explain_features`) without parsing or
featurizing anything again.

Stored layout (JSON): ``{"k": k, "input_row": [...], "features": base64 float64
(rows x n_features, little-endian), "n_features": n, "structure_columns": [...],
"structure": base64 float64}``. Float64 bytes, so the vectors are exact.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from mlglass.screen.ranking import KEY_COLUMNS, SORT_KEYS, order_keys
from mlglass.thermal import GRAPH_COLUMNS, STRUCT_COLUMNS

__all__ = ["ATTR", "METADATA_KEY", "EXPLAIN_COLUMNS", "best_rows", "keep_top_descriptors", "part_metadata",
           "stored_k", "explain_top_rows"]

#: Key of the kept descriptors in a scored chunk's ``DataFrame.attrs``.
ATTR = "mlglass_top_descriptors"
#: Key of the kept descriptors in a part file's Parquet (schema) metadata.
METADATA_KEY = b"mlglass.top_descriptors"
#: Columns the explanation adds to the top rows (``td_top_features`` only with the decomposition models).
EXPLAIN_COLUMNS = ("tm_top_features", "tg_top_features", "p_melt_top_features", "td_top_features")
_STRUCTURE_COLUMNS = (*STRUCT_COLUMNS, *GRAPH_COLUMNS)


def _encode(a: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(a, dtype="<f8").tobytes()).decode("ascii")


def _decode(text: str, n_cols: int) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype="<f8").reshape(-1, n_cols).astype(float)


def best_rows(scored: pd.DataFrame, k: int) -> np.ndarray:
    """Positions of the best ``k`` rows without an error of a scored chunk, in rank order.

    Same order as the merge (:func:`mlglass.screen.ranking.sort_keys`): the keys are
    computed on the part-file form of the columns, ties broken by ``input_row``.
    """
    from mlglass.screen.chunks import frame_to_table

    if k <= 0 or not len(scored):
        return np.zeros(0, dtype=np.int64)
    t = frame_to_table(scored[[c for c in KEY_COLUMNS]].reset_index(drop=True))
    keys = order_keys(t)
    g = keys["g"].to_numpy()
    s = keys["s"].to_numpy()
    # candidates: the rows whose (group, score) is at least the k-th best's (ties kept), then the exact order
    n_pass = int((g == 0).sum())
    grp = 0 if n_pass >= k else 1
    in_grp = np.flatnonzero(g == grp)
    need = k if grp == 0 else k - n_pass
    if len(in_grp) > need > 0:
        threshold = np.partition(s[in_grp], len(in_grp) - need)[len(in_grp) - need]
        cand = (g < grp) | ((g == grp) & (s >= threshold))
    else:
        cand = g <= grp
    pos = np.flatnonzero(cand)
    if not len(pos):
        return np.zeros(0, dtype=np.int64)
    sub = keys.take(pa.array(pos)).append_column("pos", pa.array(pos))
    order = pc.sort_indices(sub, sort_keys=[*SORT_KEYS, ("pos", "ascending")]).to_numpy()[:k]
    return pos[order].astype(np.int64)


def keep_top_descriptors(scored: pd.DataFrame, descriptors: dict[str, Any], k: int) -> pd.DataFrame:
    """Record in ``scored.attrs[ATTR]`` the descriptors of the chunk's best ``k`` rows (returns ``scored``).

    Parameters
    ----------
    scored : pandas.DataFrame
        The scored chunk (with ``input_row``), rows in the order the predictor saw them.
    descriptors : dict
        What ``GlassPredictor.predict(..., descriptors=d)`` put in ``d``: ``features`` and ``row``.
    k : int
        Rows to keep (the screen's ``top_n``).
    """
    if "features" not in descriptors or "row" not in descriptors:  # a predictor that does not report them
        return scored
    pos = best_rows(scored, k)
    features = np.asarray(descriptors["features"], dtype=float)
    rows = np.asarray(descriptors["row"], dtype=np.int64)[pos]
    chosen = scored.iloc[pos]
    from mlglass.models.decomposition import graph_matrix, struct_matrix

    structure = np.hstack([struct_matrix(chosen), graph_matrix(chosen)])
    scored.attrs[ATTR] = {"k": int(k), "input_row": [int(r) for r in chosen["input_row"].to_numpy()],
                          "n_features": int(features.shape[1]), "features": _encode(features[rows]),
                          "structure_columns": list(_STRUCTURE_COLUMNS), "structure": _encode(structure)}
    return scored


def part_metadata(scored: pd.DataFrame) -> dict[bytes, bytes] | None:
    """Parquet metadata entry for a part file holding the chunk's kept descriptors (None if none kept)."""
    kept = scored.attrs.get(ATTR)
    return None if kept is None else {METADATA_KEY: json.dumps(kept).encode("utf-8")}


def _read_kept(path: Path) -> dict[str, Any] | None:
    meta = pq.read_schema(path).metadata or {}
    raw = meta.get(METADATA_KEY)
    if raw is None:
        return None
    try:
        kept = json.loads(raw)
    except ValueError:
        return None
    return kept if isinstance(kept, dict) else None


def stored_k(path: Path) -> int:
    """How many best rows a part file kept the descriptors of (0: none, or unreadable)."""
    try:
        kept = _read_kept(path)
    except (OSError, pa.ArrowException):
        return 0
    k = kept.get("k") if kept else 0
    return k if isinstance(k, int) and not isinstance(k, bool) and k > 0 else 0


def explain_top_rows(predictor: Any, top: pd.DataFrame, parts: Sequence[Path], explain: int) -> pd.DataFrame:
    """Add the explanation columns to ``top`` from the descriptors kept in the part files.

    Parameters
    ----------
    predictor : GlassPredictor
    top : pandas.DataFrame
        The screen's top rows (with ``input_row``).
    parts : sequence of path
        The part files of the screen.
    explain : int
        Descriptors listed per row.

    Raises
    ------
    RuntimeError
        A top row's descriptors are not in any part (a part written without them).
    """
    want = set(int(r) for r in top["input_row"].to_numpy())
    features: dict[int, np.ndarray] = {}
    structure: dict[int, np.ndarray] = {}
    columns: list[str] = list(_STRUCTURE_COLUMNS)
    for path in parts:
        kept = _read_kept(path)
        if not kept or not kept.get("input_row"):
            continue
        rows = [int(r) for r in kept["input_row"]]
        if not want.intersection(rows):
            continue
        f = _decode(kept["features"], int(kept["n_features"]))
        columns = list(kept["structure_columns"])
        s = _decode(kept["structure"], len(columns))
        for j, r in enumerate(rows):
            if r in want:
                features[r], structure[r] = f[j], s[j]
    order = [int(r) for r in top["input_row"].to_numpy()]
    missing = [r for r in order if r not in features]
    if missing:
        raise RuntimeError(f"no kept descriptors for input row(s) {missing[:5]}; the part files were written "
                           "without them (a predictor whose predict() does not fill its 'descriptors' argument?)")
    n_feat = len(predictor.feature_labels)
    X = np.vstack([features[r] for r in order]) if order else np.zeros((0, n_feat))
    S = pd.DataFrame(np.vstack([structure[r] for r in order]) if order else np.zeros((0, len(columns))),
                     columns=columns)
    dom = top["tm_domain"].to_numpy() if "tm_domain" in top.columns else None  # which model made the Tm
    explained = predictor.explain_features(X, S, top=explain, tm_domain=dom)
    out = top.copy()
    for col in EXPLAIN_COLUMNS:
        if col in explained.columns:
            out[col] = explained[col].to_numpy()
    return out
