"""Rich tables for the terminal (used by the CLI; nothing here computes results)."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
from rich.table import Table

__all__ = ["evaluation_table", "summary_table", "prediction_table", "problems_table", "ranked_table"]


#: Longest text shown in one terminal cell (longer values are cut, with their length).
CELL_LIMIT = 200


def _cell(v: Any, limit: int = CELL_LIMIT) -> str:
    """``str(v)`` cut to ``limit`` characters (a 10 MB cell would take minutes to lay out)."""
    text = v if isinstance(v, str) else str(v)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text):,} characters)"


def _f(x: Any, digits: int = 1) -> str:
    if isinstance(x, str):  # a text cell of a table read back from CSV
        try:
            x = float(x)
        except ValueError:
            return "-"
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return f"{x:.{digits}f}"


def _pct(x: Any) -> str:
    try:
        return "–" if x is None or x != x else f"{100 * float(x):.0f}%"
    except (TypeError, ValueError):
        return "–"


def evaluation_table(res: dict[str, Any]) -> list[Table]:
    """Tables of CV metrics per target, model and baselines side by side."""
    tables = []
    for key, title in (("tm", "Tm (°C)"), ("tg", "Tg (°C)")):
        r = res[key]
        t = Table(title=f"{title}: chemistry-grouped CV, n={r['n']} compounds in {r['n_series']} groups "
                        f"({res['protocol']['n_repeats']}x{res['protocol']['n_splits']}-fold, default hyperparameters)")
        for c in ("method", "MAE °C", "RMSE °C", "R²", "n"):
            t.add_column(c, justify="right" if c != "method" else "left")
        for m, v in r["methods"].items():
            t.add_row(m, f"{_f(v.get('mae'))} ± {_f(v.get('mae_std'))}", _f(v.get("rmse")), _f(v.get("r2"), 2),
                      str(v.get("n", "")))
        _anchor_rows(t, res.get("tm_anchor", {}).get(key))
        bound = r.get("label_range_bound")
        if bound:
            t.add_row(f"bound: least MAE of any model predicting inside the training labels' range "
                      f"({_f(bound['n_outside_range'], 0)} held-out rows outside it; reads the test labels)",
                      f"{_f(bound['mae'])} ± {_f(bound['mae_std'])}", "-", "-", str(r["n"]))
        lofo = r["lofo"]
        t.add_row("model, leave-one-family-out", _f(lofo["model"]["mae"]), _f(lofo["model"]["rmse"]),
                  _f(lofo["model"]["r2"], 2), str(lofo["model"]["n"]))
        t.caption = (f"{int(r['coverage_nominal'] * 100)}% intervals: one width for all rows "
                     f"{r['coverage'] * 100:.0f}% covered (mean width {r['width_c']:.0f} °C)")
        if "domain_coverage" in r:
            bins = "; ".join(f"{b} n={v['n']} {_pct(v['coverage'])} ({_f(v['width_c'], 0)} °C)"
                             for b, v in r["domain_coverage"].items())
            t.caption += (f"; widening with domain distance {_pct(r.get('coverage_domain_adaptive'))} "
                          f"(mean width {_f(r.get('width_domain_adaptive_c'), 0)} °C), per domain: {bins}")
        if key == "tg" and "tg_after_cap" in res:
            t.caption += f"; Tg after the Tg/Tm cap: {_pct(res['tg_after_cap']['coverage'])} covered"
            ratio = res["tg_after_cap"].get("ratio")
            if ratio:
                t.caption += (f"; Tg = r·Tm_hat (K, r = {_f(ratio['ratio_median'], 2)}): MAE {_f(ratio['mae'])} °C, "
                              f"{_pct(ratio['coverage'])} covered (mean width {_f(ratio['width_c'], 0)} °C)")
        tables.append(t)
    r = res["melt"]
    t = Table(title=f"melt vs decompose: grouped CV, n={r['n']} ({r['n_positive']} melt, {r['n_negative']} not)")
    for c in ("method", "ROC-AUC", "balanced acc.", "Brier"):
        t.add_column(c, justify="right" if c != "method" else "left")
    for m, v in r["methods"].items():
        t.add_row(m, _f(v.get("auc"), 2), _f(v.get("balanced_accuracy"), 2), _f(v.get("brier"), 3))
    tables.append(t)
    tables.extend(thermal_tables(res.get("thermal")))
    return tables


def _anchor_rows(t: Table, a: dict[str, Any] | None) -> None:
    """Rows of the nested Td-anchored Tm evaluation (:mod:`mlglass.models.tm_anchor`), when it ran."""
    if not a or "mae" not in a:
        return
    for m in ("td_prior_only", "residual", "gated", "gated_td", "gated_range", "capped", "knn_blend", "knn_margin",
              "linear", "ratio_td_prior_only", "ratio_residual", "ratio_gated", "ratio_gated_td", "ratio_gated_range",
              "ratio_capped", "ratio_knn_blend", "ratio_knn_margin", "ratio_linear"):
        if m in a["mae"]:
            t.add_row(f"{m} (Td-anchored, nested; ZIF {_f(a['zif_mae'].get(m), 0)}, others "
                      f"{_f(a['other_mae'].get(m), 0)})", f"{_f(a['mae'][m])} ± {_f(a['mae_std'].get(m))}", "-", "-",
                      str(a.get("n", "")))
    # the shipped interval of the shipped head: Tm Mondrian by domain bin, Tg through the ratio range
    from mlglass.models.tm_anchor import ANCHOR_KIND

    coverage = a.get("coverage") or {}
    for kind in dict.fromkeys((ANCHOR_KIND or "gated_td", "gated_td")):
        cov = coverage.get(f"{kind}|mondrian") or coverage.get(f"ratio_{kind}|propagated")
        if cov:
            bins = "; ".join(f"{b} n={v['n']} {_pct(v['coverage'])} ({_f(v['width_c'], 0)} °C)"
                             for b, v in cov.items() if v.get("n"))
            t.add_row(f"{kind} interval, nested coverage (nominal {_pct(a.get('coverage_nominal'))}): {bins}",
                      "-", "-", "-", str(a.get("n", "")))
            break


def thermal_tables(th: dict[str, Any] | None) -> list[Table]:
    """Td on the published test split and p_melt = P(Tm < Td), each beside baselines."""
    if not th:
        return []
    if "skipped" in th:
        t = Table(title="decomposition (Td, p_melt): skipped")
        t.add_column("why")
        t.add_row(str(th["skipped"]))
        return [t]
    out = []
    td = th["td"]
    t = Table(title=f"Td (°C) on the published test split: {td['n_test_predicted']} of {td['n_test_table']} test "
                    f"frameworks (the rest failed the CIF pipeline); trained on {td['n_train']} train+val")
    for c in ("method", "MAE °C", "RMSE °C", "R²", f"{int(td['coverage_nominal'] * 100)}% coverage", "width °C",
              "MAE, all test rows"):
        t.add_column(c, justify="right" if c != "method" else "left")
    names = {"mean": "training mean", "rf_rac_zeo": "RF(500) on RAC+Zeo++", "mlglass_cif": "mlglass from CIF",
             "mlglass_row": "mlglass from table row", "mlglass_structure": "mlglass from structure only"}
    for m in ("mean", "rf_rac_zeo", "mlglass_cif", "mlglass_row", "mlglass_structure"):
        v = td["methods"].get(m)
        if v is None:
            continue
        cov = v.get("coverage")
        t.add_row(names[m], _f(v.get("mae")), _f(v.get("rmse")), _f(v.get("r2"), 2),
                  "-" if cov is None else f"{cov * 100:.0f}%", _f(v.get("width_c"), 0),
                  _f(v.get("all_test_rows", {}).get("mae")))
    if "predictor" in td:
        pr = td["predictor"]
        t.add_row(f"GlassPredictor on every test CIF ({pr['n_predicted']} of {td['n_test_table']}; "
                  f"{pr['n_structure_view']} structure-only)", _f(pr.get("mae")), _f(pr.get("rmse")),
                  _f(pr.get("r2"), 2), f"{pr['coverage'] * 100:.0f}%", "-", "-")
    if "rf_skipped" in td:
        t.caption = td["rf_skipped"]
    out.append(t)
    pm = th["p_melt"]
    t = Table(title=f"p_melt = P(Tm < Td): {pm['n_glass']} review compounds ({pm['n_glass_melt']} melt; "
                    f"series-grouped CV) + {pm['n_test_frameworks']} test-split frameworks (decompose)")
    for c in ("method", "ROC-AUC", "balanced acc.", "Brier", "AUC review only", "mean p, test frameworks"):
        t.add_column(c, justify="right" if c != "method" else "left")
    for m, v in pm["methods"].items():
        g = pm["glass_only"][m]
        t.add_row(m, _f(v.get("auc"), 2), _f(v.get("balanced_accuracy"), 2), _f(v.get("brier"), 3),
                  _f(g.get("auc"), 2), _f(pm["test_frameworks_mean_p"][m], 3))
    out.append(t)
    return out


def summary_table(summary: dict[str, Any]) -> Table:
    """Counts per family and target."""
    t = Table(title=f"dataset: {summary['rows']} rows")
    cols = ("rows", "tm_c", "tg_c", "td_c", "tm_range_only", "tg_range_only", "melts_true", "melts_false",
            "melts_unknown")
    t.add_column("family", no_wrap=True)
    for c in cols:
        t.add_column(c.replace("_c", "").replace("_", " "), justify="right")
    for fam, d in summary.get("families", {}).items():
        t.add_row(fam, *(str(d.get(c, 0)) for c in cols))
    tot = summary["total"]
    t.add_row("[bold]total", *(f"[bold]{tot.get(c, 0)}" for c in cols))
    return t


def prediction_table(frame: pd.DataFrame, title: str, columns: list[str] | None = None, n: int = 10) -> Table:
    """Top ``n`` rows of a prediction/screen table with units."""
    columns = columns or [c for c in ("rank", "id", "metal", "ligands", "tm_c", "tm_lo_c", "tm_hi_c", "tg_c",
                                      "p_melt", "score", "error") if c in frame.columns]
    t = Table(title=title)
    for c in columns:
        t.add_column(c[:-2] + " °C" if c.endswith("_c") else c, overflow="fold")
    for _, row in frame.head(n).iterrows():
        cells = []
        for c in columns:
            v = row[c]
            if isinstance(v, float):
                cells.append(_f(v, 2 if c in ("p_melt", "score") else 0))
            else:
                cells.append(_cell(v))
        t.add_row(*cells)
    return t


def ranked_table(frame: pd.DataFrame, title: str, n: int = 10) -> Table:
    """Compact view of ranked candidates: Tm and Tg with their intervals in one cell each."""
    t = Table(title=title)
    for c, kw in (("rank", {"justify": "right"}), ("id", {}), ("metal", {}), ("ligands", {"max_width": 24}),
                  ("ions", {"max_width": 14}),
                  ("Tm °C [80%]", {"justify": "right"}), ("Tg °C [80%]", {"justify": "right"}),
                  ("p_melt", {"justify": "right"}), ("domain", {}), ("score", {"justify": "right"})):
        t.add_column(c, overflow="fold", **kw)
    with_td = "td_c" in frame.columns and "window_c" in frame.columns
    if with_td:
        t.add_column("Td °C [80%]", justify="right", overflow="fold")
        t.add_column("window °C", justify="right")

    def span(row: pd.Series, stem: str) -> str:
        v, lo, hi = row.get(f"{stem}_c"), row.get(f"{stem}_lo_c"), row.get(f"{stem}_hi_c")
        return f"{_f(v, 0)} [{_f(lo, 0)}–{_f(hi, 0)}]"

    for _, row in frame.head(n).iterrows():
        t.add_row(_cell(row.get("rank", "")), _cell(row.get("id", "")), _cell(row.get("metal", "")),
                  _cell(row.get("ligands", "")), _cell(row.get("counter_ions", "")), span(row, "tm"), span(row, "tg"),
                  _f(row.get("p_melt"), 2),
                  _cell(row.get("domain", "")), _f(row.get("score"), 3),
                  *((span(row, "td"), _f(row.get("window_c"), 0)) if with_td else ()))
    return t


def problems_table(problems: list[Any], limit: int = 200) -> Table:
    """Bad cells as row, column, value, why."""
    t = Table(title=f"{len(problems)} bad cells" + (f" (first {limit})" if len(problems) > limit else ""))
    for c in ("row", "column", "value", "why"):
        t.add_column(c, overflow="fold")
    for p in problems[:limit]:
        t.add_row(_cell(p.row), _cell(p.column), _cell(repr(p.value)), _cell(p.reason, 4 * CELL_LIMIT))
    return t
