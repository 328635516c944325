"""Plots of evaluation results (matplotlib, Agg backend), written atomically as PNG."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from mlglass.io import atomic_write

__all__ = ["parity_plot", "roc_plot", "write_evaluation_plots"]


def _figure():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> Path:
    with atomic_write(path, "wb") as fh:
        fig.savefig(fh, format="png", dpi=120, bbox_inches="tight")
    return path


def parity_plot(oof: dict[str, Any], title: str, path: Path) -> Path:
    """Predicted vs measured (degC), coloured by family, with 80% interval bars."""
    plt = _figure()
    y = np.asarray(oof["y"], float)
    p = np.asarray(oof["pred"], float)
    lo = np.asarray(oof["lo"], float)
    hi = np.asarray(oof["hi"], float)
    fam = np.asarray(oof["family"])
    fig, ax = plt.subplots(figsize=(6, 5.5))
    for f in sorted(set(fam)):
        m = fam == f
        ax.errorbar(y[m], p[m], yerr=[p[m] - lo[m], hi[m] - p[m]], fmt="o", ms=5, alpha=0.8, elinewidth=0.6,
                    capsize=0, label=f)
    lim = [np.nanmin([y.min(), p.min()]) - 20, np.nanmax([y.max(), p.max()]) + 20]
    ax.plot(lim, lim, "k--", lw=1)
    ax.set_xlim(lim)
    ax.set_ylim(lim)
    ax.set_xlabel("measured (°C)")
    ax.set_ylabel("predicted, out-of-fold (°C)")
    ax.set_title(title)
    ax.legend(fontsize=7, loc="upper left")
    out = _save(fig, path)
    plt.close(fig)
    return out


def roc_plot(oof: dict[str, Any], path: Path) -> Path:
    """ROC curve of the out-of-fold melt probabilities."""
    from sklearn.metrics import roc_auc_score, roc_curve

    plt = _figure()
    y = np.asarray(oof["y"], int)
    p = np.asarray(oof["p"], float)
    fig, ax = plt.subplots(figsize=(5, 5))
    if len(np.unique(y)) == 2:
        fpr, tpr, _ = roc_curve(y, p)
        ax.plot(fpr, tpr, label=f"model (AUC {roc_auc_score(y, p):.2f})")
    ax.plot([0, 1], [0, 1], "k--", lw=1, label="chance")
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_title("melt vs decompose (grouped CV)")
    ax.legend(loc="lower right")
    out = _save(fig, path)
    plt.close(fig)
    return out


def write_evaluation_plots(results: dict[str, Any], folder: str | Path) -> list[Path]:
    """Parity plots for Tm and Tg and the ROC curve of the classifier, as PNG files in ``folder``."""
    folder = Path(folder)
    return [parity_plot(results["tm"]["oof"], "Tm, series-grouped CV", folder / "parity_tm.png"),
            parity_plot(results["tg"]["oof"], "Tg, series-grouped CV", folder / "parity_tg.png"),
            roc_plot(results["melt"]["oof"], folder / "roc_melt.png")]
