"""Plot a screen: predicted Tm vs Tg coloured by p_melt, top picks labelled."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from mlglass.errors import SchemaError
from mlglass.io import atomic_write

__all__ = ["plot_screen"]

_MAX_POINTS = 50_000
_K = 273.15


def plot_screen(scored: pd.DataFrame, path: str | os.PathLike, top_n: int = 10, *, title: str | None = None,
                max_points: int = _MAX_POINTS, seed: int = 0, n_candidates: int | None = None) -> Path:
    """Write a PNG scatter plot of predicted Tm (x, degC) vs Tg (y, degC) coloured by p_melt.

    Error rows and rows without both predictions are left out. The ``top_n``
    best rows (by ``rank`` if present, else ``score``) are circled and
    labelled with their ``id``. Lines mark Tg = Tm and Tg/Tm = 2/3 (kelvin,
    the Kauzmann/Beaman rule). Above ``max_points`` rows a random sample
    (``seed``) is drawn, always keeping the top rows. Uses the Agg canvas
    directly (no pyplot state) and writes atomically.

    Parameters
    ----------
    scored : pandas.DataFrame
        Predictions with ``tm_c``, ``tg_c`` and ``p_melt`` (and ``score``/``rank``, ``id``).
    path : path-like
        Output ``.png``.
    top_n : int, default=10
    title : str, optional
    max_points : int, default=50_000
    seed : int, default=0
    n_candidates : int, optional
        How many plottable rows ``scored`` is a sample of (for the title, e.g.
        :attr:`~mlglass.screen.ScreenResult.n_plottable`); default: the plottable rows of ``scored``.

    Returns
    -------
    pathlib.Path
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    missing = [c for c in ("tm_c", "tg_c", "p_melt") if c not in scored.columns]
    if missing:
        raise SchemaError("columns", missing, "plot_screen needs tm_c, tg_c and p_melt (predictions)")
    frame = scored.reset_index(drop=True)
    tm = pd.to_numeric(frame["tm_c"], errors="coerce").to_numpy(dtype=float)
    tg = pd.to_numeric(frame["tg_c"], errors="coerce").to_numpy(dtype=float)
    p = pd.to_numeric(frame["p_melt"], errors="coerce").to_numpy(dtype=float)
    ok = np.isfinite(tm) & np.isfinite(tg) & np.isfinite(p)
    if "error" in frame.columns:
        ok &= frame["error"].fillna("").astype(str).str.len().to_numpy() == 0
    good = np.flatnonzero(ok)
    if "rank" in frame.columns:
        key = pd.to_numeric(frame["rank"], errors="coerce").to_numpy(dtype=float)[good]
        top = good[np.argsort(key, kind="stable")][:top_n]
    elif "score" in frame.columns:
        key = pd.to_numeric(frame["score"], errors="coerce").to_numpy(dtype=float)[good]
        top = good[np.argsort(-np.nan_to_num(key, nan=-np.inf), kind="stable")][:top_n]
    else:
        top = good[:0]
    shown = good
    if len(good) > max_points:
        rng = np.random.default_rng(seed)
        shown = np.union1d(rng.choice(good, size=max_points, replace=False), top)

    fig = Figure(figsize=(7.5, 6), dpi=120)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    sc = ax.scatter(tm[shown], tg[shown], c=p[shown], cmap="viridis", vmin=0, vmax=1, s=12, alpha=0.75,
                    linewidths=0, rasterized=len(shown) > 5000)
    fig.colorbar(sc, ax=ax, label="p_melt (probability of melting before decomposing)")
    if len(shown):
        lo = float(min(tm[shown].min(), tg[shown].min()))
        hi = float(max(tm[shown].max(), tg[shown].max()))
        xs = np.linspace(lo, hi, 50)
        ax.plot(xs, xs, color="0.6", lw=0.8, ls="--", label="Tg = Tm")
        ax.plot(xs, (xs + _K) * 2 / 3 - _K, color="0.4", lw=0.8, ls=":", label="Tg/Tm = 2/3 (K)")
    if len(top):
        ax.scatter(tm[top], tg[top], s=70, facecolors="none", edgecolors="crimson", linewidths=1.2,
                   label=f"top {len(top)}")
        ids = frame["id"].astype(str).to_numpy() if "id" in frame.columns else top.astype(str)
        for k, i in enumerate(top):
            ax.annotate(ids[i] if "id" in frame.columns else str(i), (tm[i], tg[i]), xytext=(4, 4 + 3 * (k % 3)),
                        textcoords="offset points", fontsize=7, color="crimson")
    ax.set_xlabel("predicted Tm (°C)")
    ax.set_ylabel("predicted Tg (°C)")
    total = len(good) if n_candidates is None else max(int(n_candidates), len(good))
    ax.set_title(title or f"screen: {total:,} candidates" + (f" ({len(shown):,} shown)"
                                                             if len(shown) < total else ""))
    if len(shown):
        ax.legend(loc="upper left", fontsize=8, frameon=False)
    fig.tight_layout()
    path = Path(path)
    with atomic_write(path, "wb") as fh:
        fig.savefig(fh, format="png")
    return path
