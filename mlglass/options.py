"""The named choices of the library's options, in one light module (no numpy/pandas import).

The screening and suggestion functions validate against these, and the CLI builds its
option help from them, so both always offer the same choices.
"""

from __future__ import annotations

__all__ = ["OBJECTIVES", "RISKS", "OUT_OF_DOMAIN", "ACQUISITIONS", "MODEL_TARGETS", "choices_help"]

#: Objective name -> formula of ``score`` (temperatures in degC, sigma = logistic function).
OBJECTIVES: dict[str, str] = {
    "meltable": "p_melt * sigma((300 - Tm)/75) * [sigma((Td - Tm - 50)/25) if a Td is given or predicted]",
    "stable-glass": "p_melt * sigma((Tg - 200)/75)",
    "target": "p_melt * exp(-(max(0, Tm - tm_max) + max(0, tg_min - Tg))/50)",
}

#: Risk attitude -> (column used for Tm, column used for Tg).
RISKS: dict[str, tuple[str, str]] = {
    "expected": ("tm_c", "tg_c"),
    "optimistic": ("tm_lo_c", "tg_hi_c"),
    "pessimistic": ("tm_hi_c", "tg_lo_c"),
}

#: Choices of the ``out_of_domain`` option of scoring (what to do with rows whose ``domain`` is ``out``).
OUT_OF_DOMAIN = ("keep", "penalise", "exclude")

#: Acquisition name -> formula (score scale; see :mod:`mlglass.screen.acquisition`).
ACQUISITIONS: dict[str, str] = {
    "ucb": "mu + kappa * (score_optimistic - mu)",
    "ei": "(mu - best) Phi(z) + sigma phi(z), sigma = (score_optimistic - score_pessimistic)/2/z_coverage",
    "greedy": "mu",
    "random": "uniform(0, 1) from seed",
}

#: The models trained and tuned: Tm (degC), Tg (degC) and melt-vs-decompose (probability).
MODEL_TARGETS = ("tm", "tg", "melt")


def choices_help(choices: object) -> str:
    """``"a | b | c"`` for the keys of a dict or the items of a tuple (CLI help text)."""
    return " | ".join(str(c) for c in choices)  # type: ignore[attr-defined]
