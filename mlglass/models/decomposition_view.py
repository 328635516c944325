"""Decomposition at prediction time: Td from the CIF, table-row or structure-only view, the window, p_melt.

Functions of a :class:`~mlglass.models.predictor.GlassPredictor` (``predictor``) holding the
decomposition heads (``td_row``, ``td_cif``, optional ``td_struct``, ``tm_aft``); see the
predictor's module docstring for the physics (p_melt = P(Tm < Td)).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from mlglass.models.tree_bins import RowClasses
from mlglass.thermal import GRAPH_COLUMNS, STRUCT_COLUMNS

__all__ = ["predict_decomposition", "struct_rows", "structure_only_rows", "Z80", "KELVIN"]

KELVIN = 273.15
Z80 = 1.2815515655446004  # standard normal quantile of 0.9 (80 % two-sided interval -> sd)


def struct_rows(predictor: Any, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Structure descriptors of the CIF view (``struct_*`` then ``sg_*``) and the rows that have any."""
    from mlglass.models.decomposition import graph_matrix, struct_matrix

    if not frame.columns.isin([*STRUCT_COLUMNS, *GRAPH_COLUMNS]).any():  # no structure: no CIF-view row
        return np.empty((len(frame), 0)), np.empty(0, dtype=int)
    struct = np.hstack([struct_matrix(frame), graph_matrix(frame)])
    rows = np.flatnonzero(np.isfinite(struct).any(axis=1))
    booster = predictor.heads["td_cif"].booster if len(rows) else None  # built only when a row needs it
    if booster is not None:  # a bundle from before the graph descriptors uses the first five only
        struct = struct[:, :booster.num_features() - len(predictor.feature_labels)]
        rows = np.flatnonzero(np.isfinite(struct).any(axis=1))
    return struct, rows


def structure_only_rows(predictor: Any, frame: pd.DataFrame, td: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Graph descriptors and the rows without a Td that have them (empty without a ``td_struct`` head)."""
    from mlglass.models.decomposition import graph_matrix

    if "td_struct" not in predictor.heads or not frame.columns.isin(GRAPH_COLUMNS).any():
        return np.empty((0, len(GRAPH_COLUMNS))), np.empty(0, int)
    graph = graph_matrix(frame)
    return graph, np.flatnonzero(np.isfinite(graph).any(axis=1) & ~np.isfinite(td))


def predict_decomposition(predictor: Any, table: np.ndarray, index: np.ndarray, frame: pd.DataFrame,
                          td_given: np.ndarray | None, tm: np.ndarray, coverage: float | None,
                          classes: RowClasses | None = None, td_row: np.ndarray | None = None
                          ) -> dict[str, np.ndarray]:
    """Td (CIF view where the row has structure descriptors, else table-row view), window and p_melt."""
    from mlglass.models.censored import MonotoneCalibrator, prob_tm_below_td

    cov = predictor.coverage if coverage is None else coverage
    table32 = np.asarray(table, dtype=np.float32)
    n = len(index)
    empty_u = ~np.isfinite(table).any(axis=1) if table.size else np.ones(len(table), bool)
    row_head, cif_head = predictor.heads["td_row"], predictor.heads["td_cif"]
    # the table-row view for every distinct composition (``td_row``: already predicted by the caller)
    td_u = np.array(row_head.predict(table32, classes) if td_row is None else td_row, dtype=float)
    td_u[empty_u] = np.nan
    td = td_u[index].astype(float)
    half = np.full(n, row_head.halfwidth(cov))
    sd = np.full(n, row_head.halfwidth(0.8) / Z80)
    source = np.where(np.isfinite(td), "table row", "").astype(object)
    struct, rows = struct_rows(predictor, frame)
    rows = rows[np.isfinite(td[rows])] if len(rows) else rows
    if len(rows):
        Xc = np.hstack([table[index[rows]], struct[rows]]).astype(np.float32)
        td[rows] = cif_head.predict(Xc)
        half[rows] = cif_head.halfwidth(cov)
        sd[rows] = cif_head.halfwidth(0.8) / Z80
        source[rows] = "cif"
    graph, g_rows = structure_only_rows(predictor, frame, td)
    if len(g_rows):  # the CIF gave no record: structure-only view
        g_head = predictor.heads["td_struct"]
        td[g_rows] = g_head.predict(graph[g_rows].astype(np.float32))
        half[g_rows] = g_head.halfwidth(cov)
        sd[g_rows] = g_head.halfwidth(0.8) / Z80
        source[g_rows] = "structure"
    lo, hi = td - half, td + half
    if td_given is not None:
        given = np.isfinite(td_given)
        td[given], lo[given], hi[given], sd[given] = td_given[given], td_given[given], td_given[given], 0.0
        source[given] = "given"
    aft = predictor.heads["tm_aft"]
    dec = predictor.metadata.get("decomposition", {})
    sigma = float(dec.get("tm_aft", {}).get("sigma", 0.12))
    margin_u = np.full(len(table), np.nan)
    if len(table) and aft.booster is not None:
        margin_u = aft.predict_margin(table32, classes)
        margin_u[empty_u] = np.nan
    p = prob_tm_below_td(margin_u[index], sigma, td, sd)
    cal = dec.get("calibration")
    if cal:
        p = MonotoneCalibrator.from_thresholds(cal["x"], cal["y"], cal.get("eps", 0.05)).transform(p)
    tm_censored = np.exp(margin_u[index]) - KELVIN
    # the window of the Tm that knows decomposition (the one p_melt integrates): > 0 where melting comes first
    window = np.where(np.isfinite(tm_censored), td - tm_censored, td - tm)
    return {"td_c": td, "td_lo_c": lo, "td_hi_c": hi, "window_c": window, "td_source": source, "p_melt": p,
            "tm_censored_c": tm_censored}
