"""Explanations: the descriptors with the largest SHAP contributions, as text per row.

Functions of a :class:`~mlglass.models.predictor.GlassPredictor` (``predictor``); used by
``predict(..., explain=True)`` and by :meth:`~mlglass.models.predictor.GlassPredictor.explain_features`
(the screen's top rows, from the descriptors of the one prediction pass).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from mlglass.models.decomposition_view import struct_rows, structure_only_rows
from mlglass.thermal import GRAPH_COLUMNS, STRUCT_COLUMNS

__all__ = ["explanation_columns", "explain_head", "explain_td"]


def explanation_columns(predictor: Any, table: np.ndarray, index: np.ndarray, frame: pd.DataFrame,
                        top: int) -> dict[str, np.ndarray]:
    """``tm_top_features``, ``p_melt_top_features`` and (with the decomposition heads) ``td_top_features``.

    ``table`` holds descriptor rows, ``index`` maps each output row (a row of ``frame``) to its
    row of ``table``. Units: degC for Tm and Td; ln(Tm/K) of the censored Tm model, or log-odds
    of the old classifier, for p_melt.
    """
    out = {"tm_top_features": explain_head(predictor, table, "tm", top, "degC")[index]}
    if predictor.has_decomposition:
        out["p_melt_top_features"] = explain_head(predictor, table, "tm_aft", top, "ln(Tm/K)")[index]
        out["td_top_features"] = explain_td(predictor, table, index, frame, top)
    else:
        out["p_melt_top_features"] = explain_head(predictor, table, "melt", top, "logit")[index]
    return out


def explain_td(predictor: Any, table: np.ndarray, index: np.ndarray, frame: pd.DataFrame, top: int) -> np.ndarray:
    """Top Td contributions per row of ``frame`` (CIF view where it has structure, else table row, degC)."""
    texts = explain_head(predictor, table, "td_row", top, "degC")[index]
    struct, rows = struct_rows(predictor, frame)
    if len(rows):
        Xc = np.hstack([table[index[rows]], struct[rows]])
        labels = (list(predictor.feature_labels) + list(STRUCT_COLUMNS) + list(GRAPH_COLUMNS))[:Xc.shape[1]]
        contrib = predictor.heads["td_cif"].contributions(Xc.astype(np.float32))[:, :-1]
        for k, i in enumerate(rows):
            if not np.isfinite(table[index[i]]).any():
                continue
            order = np.argsort(-np.abs(contrib[k]))[:top]
            texts[i] = "; ".join(f"{labels[j]} {contrib[k, j]:+.3g} degC" for j in order)
    td_rows = np.array([bool(t) for t in texts])
    graph, g_rows = structure_only_rows(predictor, frame, np.where(td_rows, 0.0, np.nan))
    if len(g_rows):
        contrib = predictor.heads["td_struct"].contributions(graph[g_rows].astype(np.float32))[:, :-1]
        for k, i in enumerate(g_rows):
            order = np.argsort(-np.abs(contrib[k]))[:top]
            texts[i] = "; ".join(f"{GRAPH_COLUMNS[j]} {contrib[k, j]:+.3g} degC" for j in order)
    return texts


def explain_head(predictor: Any, table: np.ndarray, head: str, top: int, unit: str) -> np.ndarray:
    """Top SHAP contributions of model ``head`` per row of ``table`` (empty text for a NaN row)."""
    contrib = predictor.heads[head].contributions(table.astype(np.float32))[:, :-1]
    texts = np.empty(len(table), dtype=object)
    for i in range(len(table)):
        if not np.isfinite(table[i]).any():
            texts[i] = ""
            continue
        order = np.argsort(-np.abs(contrib[i]))[:top]
        texts[i] = "; ".join(f"{predictor.feature_labels[k]} {contrib[i, k]:+.3g} {unit}" for k in order)
    return texts
