"""The screening loop: score and rank predictions, screen huge candidate files, enumerate candidate
spaces, suggest the next batch to make, plot a screen.

One public function per command (the CLI calls these):

========================  ==============================================================
:func:`score_predictions` add ``score`` and ``passes_constraints`` to predictions
:func:`rank_candidates`   sort scored rows and add ``rank``
:func:`screen_file`       stream a CSV/Parquet file through predict + score + rank
:func:`enumerate_candidates` stream a combinatorial space to CSV/Parquet
:func:`count_candidates`  size of that space
:func:`from_cli`          build an enumeration spec from CLI strings
:func:`suggest_batch`     diverse batch by UCB / EI / greedy / random acquisition
:func:`suggest_file`      predict a file and suggest a batch
:func:`plot_screen`       Tm vs Tg scatter coloured by p_melt (PNG)
========================  ==============================================================

>>> from mlglass.screen import score_predictions, rank_candidates   # doctest: +SKIP
>>> ranked = rank_candidates(score_predictions(predictor.predict(frame), "meltable"))  # doctest: +SKIP
"""

from __future__ import annotations

from mlglass.screen.acquisition import ACQUISITIONS, acquisition_values, suggest_batch, suggest_file
from mlglass.screen.enumeration import count_candidates, enumerate_candidates, from_cli, load_spec, mix_grid
from mlglass.screen.plot import plot_screen
from mlglass.screen.scoring import (
    OBJECTIVES,
    RISKS,
    SCORING_CONSTANTS,
    ScoreOptions,
    ScreenOptionError,
    rank_candidates,
    score_predictions,
)
from mlglass.screen.stream import ScreenResult, escape_csv_formulas, screen_file

__all__ = [
    "OBJECTIVES",
    "RISKS",
    "SCORING_CONSTANTS",
    "ACQUISITIONS",
    "ScoreOptions",
    "ScreenOptionError",
    "ScreenResult",
    "score_predictions",
    "rank_candidates",
    "screen_file",
    "escape_csv_formulas",
    "enumerate_candidates",
    "count_candidates",
    "from_cli",
    "load_spec",
    "mix_grid",
    "acquisition_values",
    "suggest_batch",
    "suggest_file",
    "plot_screen",
]
