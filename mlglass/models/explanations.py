"""Explanations: the descriptors with the largest SHAP contributions, as text per row.

Functions of a :class:`~mlglass.models.predictor.GlassPredictor` (``predictor``); used by
``predict(..., explain=True)`` and by :meth:`~mlglass.models.predictor.GlassPredictor.explain_features`
(the screen's top rows, from the descriptors of the one prediction pass).

Explanations follow the model that produced the number: with a Td-anchored Tm head
(:mod:`mlglass.models.tm_anchor`), a row whose Tm comes from the predicted Td of the ``td_row``
head (outside the ``in``/``near`` bins of the Tm domain) is explained by that head's
contributions plus those of the residual trees when the anchor has them
(:func:`anchored_contributions`), prefixed ``Td-anchored:``; a row inside the domain by the
boosted Tm model.
``tg_top_features`` explains Tg the same way: through ``Tg = r * Tm`` (kelvin) each Tm
contribution scales by ``r`` (prefix ``Tg = r*Tm:``); without the anchor, the direct Tg model.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from mlglass.models.decomposition_view import struct_rows, structure_only_rows
from mlglass.thermal import GRAPH_COLUMNS, STRUCT_COLUMNS

__all__ = ["ANCHOR_PREFIX", "TG_RATIO_PREFIX", "anchored_contributions", "anchored_rows", "explanation_columns",
           "explain_head", "explain_td", "explain_tm_tg"]

#: Prefix of a Tm explanation whose number is the ``td_row`` head's predicted Td.
ANCHOR_PREFIX = "Td-anchored: "
#: Prefix of a Tg explanation through the Tg/Tm ratio.
TG_RATIO_PREFIX = "Tg = r*Tm: "


def explanation_columns(predictor: Any, table: np.ndarray, index: np.ndarray, frame: pd.DataFrame,
                        top: int, tm_domain: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """``tm_top_features``, ``tg_top_features``, ``p_melt_top_features`` and ``td_top_features``.

    ``table`` holds descriptor rows, ``index`` maps each output row (a row of ``frame``) to its
    row of ``table``; ``tm_domain`` is the Tm domain bin of each output row as predicted (None:
    from the descriptor distance alone, as the predictor does without chemistry). Units: degC
    for Tm, Tg and Td; ln(Tm/K) of the censored Tm model, or log-odds of the old classifier, for
    p_melt. ``td_top_features`` only with the decomposition heads.
    """
    out = explain_tm_tg(predictor, table, index, top, tm_domain)
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


def anchored_rows(predictor: Any, X: np.ndarray, tm_domain: np.ndarray | None) -> np.ndarray:
    """True for rows whose bundled Tm comes from the Td-anchored head, as the predictor decides it.

    ``X`` holds one descriptor row per output row: every row for kind ``residual``, the rows
    outside the ``in``/``near`` bins of the Tm domain for the gated kinds.
    """
    state = predictor.metadata.get("tm_anchor")
    n = len(X)
    if not state or "td_row" not in predictor.heads or n == 0:
        return np.zeros(n, bool)
    if state.get("kind") == "residual":
        return np.ones(n, bool)
    bins = tm_domain
    if bins is None:
        dom = predictor.domain("tm")
        if dom is None:
            return np.ones(n, bool)
        bins, _ = dom.classify(np.asarray(X, float), [(frozenset(), frozenset())] * n)
    return ~np.isin(np.asarray(bins).astype(str), ["in", "near"])


def anchored_contributions(predictor: Any, X: np.ndarray) -> np.ndarray:
    """Per-feature contributions (degC) to the anchored Tm of rows ``X`` (no bias column).

    The anchored Tm is ``Td_hat + offset + trees(x)`` (:class:`mlglass.models.tm_anchor.ResidualTm`),
    so its contributions are the ``td_row`` head's plus the residual trees' (both additive in the
    same descriptors); ``gated_td`` has no trees, and ``gated_range`` drops them where Td_hat
    itself is the Tm (:func:`mlglass.models.tm_anchor.range_anchor`).
    """
    state = predictor.metadata.get("tm_anchor") or {}
    contrib = _contributions(predictor, X, "td_row")
    if state.get("kind") == "gated_td" or "tm_anchor" not in predictor.heads:
        return contrib
    trees = _contributions(predictor, X, "tm_anchor")
    if state.get("kind") == "gated_range":
        td_hat = predictor.heads["td_row"].predict(np.asarray(X, np.float32))
        trees[td_hat > float(state["tm_train_max_c"])] = 0.0
    return contrib + trees


def explain_tm_tg(predictor: Any, table: np.ndarray, index: np.ndarray, top: int,
                  tm_domain: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """``tm_top_features`` and ``tg_top_features`` of the model that produced each row's number (degC)."""
    anchor = predictor.metadata.get("tm_anchor") or {}
    tm_contrib = _contributions(predictor, table, "tm")
    rows = anchored_rows(predictor, table[index], tm_domain)
    if rows.any():
        per_row = np.where(rows[:, None], anchored_contributions(predictor, table)[index], tm_contrib[index])
    else:
        per_row = tm_contrib[index]
    empty = ~np.isfinite(table[index]).any(axis=1) if len(index) else np.zeros(0, bool)
    tm_texts = _texts(predictor, per_row, empty, top, "degC")
    tm_texts = np.array([ANCHOR_PREFIX + t if a and t else t for t, a in zip(tm_texts, rows)], dtype=object)
    if anchor.get("use_for_tg", False) and "td_row" in predictor.heads:
        r = float(anchor["tg_tm_ratio"])
        tg_texts = _texts(predictor, r * per_row, empty, top, "degC")
        tg_texts = np.array([(TG_RATIO_PREFIX + (ANCHOR_PREFIX if a else "") + t) if t else t
                             for t, a in zip(tg_texts, rows)], dtype=object)
    else:
        tg_texts = _texts(predictor, _contributions(predictor, table, "tg")[index], empty, top, "degC")
    return {"tm_top_features": tm_texts, "tg_top_features": tg_texts}


def _contributions(predictor: Any, table: np.ndarray, head: str) -> np.ndarray:
    return np.asarray(predictor.heads[head].contributions(table.astype(np.float32))[:, :-1], float)


def _texts(predictor: Any, contrib: np.ndarray, empty: np.ndarray, top: int, unit: str) -> np.ndarray:
    texts = np.empty(len(contrib), dtype=object)
    for i in range(len(contrib)):
        if empty[i]:
            texts[i] = ""
            continue
        order = np.argsort(-np.abs(contrib[i]))[:top]
        texts[i] = "; ".join(f"{predictor.feature_labels[k]} {contrib[i, k]:+.3g} {unit}" for k in order)
    return texts


def explain_head(predictor: Any, table: np.ndarray, head: str, top: int, unit: str) -> np.ndarray:
    """Top SHAP contributions of model ``head`` per row of ``table`` (empty text for a NaN row)."""
    empty = ~np.isfinite(table).any(axis=1) if len(table) else np.zeros(0, bool)
    return _texts(predictor, _contributions(predictor, table, head), empty, top, unit)
