"""Scoring and ranking of predicted candidates.

:func:`score_predictions` turns the output of
:meth:`mlglass.models.predictor.GlassPredictor.predict` into one number per
row, ``score`` (dimensionless, 0-1, higher is better), plus a boolean
``passes_constraints``; :func:`rank_candidates` sorts and numbers the rows.

Temperatures are in degC. ``sigma(x) = 1 / (1 + exp(-x))`` is the logistic
function. The formulas (also in :data:`OBJECTIVES`) are

``meltable``
    ``p_melt * sigma((300 - Tm) / 75) * W`` with the liquid-window factor
    ``W = sigma((Td - Tm_w - 50) / 25)`` when the row has a Td (``td_c``: the
    user's value, or the predictor's Td from the structure or the table row,
    see ``td_source``), else ``W = 1`` (term omitted). ``Tm_w`` is
    ``tm_censored_c`` (the Tm of the censored model behind p_melt, which has
    learned that frameworks decompose; ``window_c = td_c - tm_censored_c``) where
    the predictor gives it, else Tm. ``p_melt`` is itself P(Tm < Td)
    (:mod:`mlglass.models.censored`); ``W`` additionally prefers a wide liquid
    window (the review's criterion for a workable melt: at least ~50 degC
    between melting and decomposition). Increases with p_melt, decreases with
    Tm (a low melting point is easier to reach), increases with the window.
``stable-glass``
    ``p_melt * sigma((Tg - 200) / 75)``: a high Tg (a glass that stays a glass
    when warm) that can actually be made by melt-quenching (high p_melt).
``target``
    ``p_melt * exp(-(max(0, Tm - tm_max) + max(0, tg_min - Tg)) / 50)``: equal
    to p_melt inside the user window ``Tm <= tm_max`` and ``Tg >= tg_min``,
    decaying by a factor e per 50 degC outside it. Needs ``tm_max`` and/or
    ``tg_min`` (a missing bound contributes no penalty).

``risk`` chooses which temperatures enter the formulas (:data:`RISKS`):
``expected`` uses the point predictions ``tm_c``/``tg_c``; ``optimistic`` the
favourable bound of the prediction interval (``tm_lo_c`` for Tm, ``tg_hi_c``
for Tg, ``td_hi_c`` for Td when present); ``pessimistic`` the unfavourable one
(``tm_hi_c``, ``tg_lo_c``, ``td_lo_c``).
``p_melt`` has no interval and is used as is.

Constraints (rows failing any get ``passes_constraints = False`` and rank
after every passing row, still ordered by score):

* ``p_melt_min``: ``p_melt >= p_melt_min``.
* ``allow_elements`` / ``deny_elements``: element symbols checked against the
  network metals of the ``metal`` column only (falling back to the metals of
  ``formula`` when ``metal`` is blank). Metals inside counter-ions or complex
  anions (``CoCl4``, ``TPrA``, SMILES) are *not* checked. With an allow list
  every network metal must be allowed; with a deny list none may be denied.
* ``tm_max`` / ``tg_min`` with the ``meltable`` or ``stable-glass`` objective:
  hard limits on the Tm / Tg chosen by ``risk`` (with ``target`` they define
  the window instead and are not hard limits).

Applicability domain (``out_of_domain``, needs the predictor's ``domain`` column):

* ``keep`` (default): the domain is shown, not used.
* ``penalise``: the score of an ``out`` row is multiplied by
  :data:`OUT_OF_DOMAIN_FACTOR` (0.5): a prediction far from every measured
  compound, or for a metal/donor no training compound has, counts half.
* ``exclude``: ``out`` rows fail the constraints (rank after every passing row).

Rows with a non-empty ``error`` get a NaN ``score``, ``passes_constraints =
False`` and rank last; so do rows whose needed predictions are NaN.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from mlglass.errors import RecordError, SchemaError, ScreenOptionError
from mlglass.options import OBJECTIVES, OUT_OF_DOMAIN, RISKS
from mlglass.schema import text_column

__all__ = [
    "OUT_OF_DOMAIN",
    "OUT_OF_DOMAIN_FACTOR",
    "OBJECTIVES",
    "RISKS",
    "SCORING_CONSTANTS",
    "ScreenOptionError",
    "ScoreOptions",
    "score_predictions",
    "rank_candidates",
    "sort_group",
    "metal_elements",
]

# OBJECTIVES (objective -> score formula), RISKS (risk -> Tm/Tg columns), OUT_OF_DOMAIN: mlglass.options

#: Constants of the formulas (degC).
SCORING_CONSTANTS: dict[str, float] = {
    "tm_ref_c": 300.0, "tm_scale_c": 75.0,
    "window_ref_c": 50.0, "window_scale_c": 25.0,
    "tg_ref_c": 200.0, "tg_scale_c": 75.0,
    "target_scale_c": 50.0,
}


def _sigmoid(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-x))


def _norm_element(sym: Any, field: str) -> str:
    from mlglass.chem.elements import is_element

    s = str(sym).strip()
    s = s[:1].upper() + s[1:].lower()
    if not is_element(s):
        raise ScreenOptionError(field, sym, f"{sym!r} is not a chemical element symbol (e.g. 'Zn', 'Co')")
    return s


def _elements_option(values: Iterable[str] | str | None, field: str) -> tuple[str, ...] | None:
    if values is None:
        return None
    if isinstance(values, str):
        values = [v for v in values.replace(";", ",").split(",") if v.strip()]
    out = sorted({_norm_element(v, field) for v in values})
    return tuple(out)


def _float_option(value: Any, field: str, lo: float = -math.inf, hi: float = math.inf) -> float | None:
    if value is None:
        return None
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ScreenOptionError(field, value, "must be a number") from None
    if not math.isfinite(x) or not lo <= x <= hi:
        raise ScreenOptionError(field, value, f"must be a finite number between {lo:g} and {hi:g}")
    return x


#: Score factor of ``out`` rows with ``out_of_domain="penalise"``.
OUT_OF_DOMAIN_FACTOR = 0.5


class ScoreOptions:
    """Validated scoring options (objective, risk and constraints).

    Parameters
    ----------
    objective : {"meltable", "stable-glass", "target"}
    risk : {"expected", "optimistic", "pessimistic"}
    tm_max : float, optional
        degC. Window edge for ``target``; hard limit otherwise.
    tg_min : float, optional
        degC. Window edge for ``target``; hard limit otherwise.
    p_melt_min : float, optional
        Minimum probability of melting, 0-1.
    allow_elements, deny_elements : iterable of str, optional
        Element symbols (network metals of the ``metal`` column).
    out_of_domain : {"keep", "penalise", "exclude"}, default="keep"
        What to do with rows whose ``domain`` is ``out`` (module docstring).

    Raises
    ------
    ScreenOptionError
        Unknown objective or risk, a non-numeric limit, an unknown element, or
        ``target`` without ``tm_max``/``tg_min``.
    """

    __slots__ = ("objective", "risk", "tm_max", "tg_min", "p_melt_min", "allow_elements", "deny_elements",
                 "out_of_domain")

    def __init__(self, objective: str = "meltable", risk: str = "expected", *, tm_max: float | None = None,
                 tg_min: float | None = None, p_melt_min: float | None = None,
                 allow_elements: Iterable[str] | str | None = None,
                 deny_elements: Iterable[str] | str | None = None, out_of_domain: str = "keep"):
        obj = str(objective).strip().lower().replace("_", "-")
        ood = str(out_of_domain).strip().lower().replace("penalize", "penalise")
        if ood not in OUT_OF_DOMAIN:
            raise ScreenOptionError("out_of_domain", out_of_domain, f"must be one of {', '.join(OUT_OF_DOMAIN)}")
        self.out_of_domain = ood
        if obj not in OBJECTIVES:
            raise ScreenOptionError("objective", objective, f"must be one of {', '.join(OBJECTIVES)}")
        rk = str(risk).strip().lower()
        if rk not in RISKS:
            raise ScreenOptionError("risk", risk, f"must be one of {', '.join(RISKS)}")
        self.objective = obj
        self.risk = rk
        self.tm_max = _float_option(tm_max, "tm_max", -273.15, 5000)
        self.tg_min = _float_option(tg_min, "tg_min", -273.15, 5000)
        self.p_melt_min = _float_option(p_melt_min, "p_melt_min", 0.0, 1.0)
        self.allow_elements = _elements_option(allow_elements, "allow_elements")
        self.deny_elements = _elements_option(deny_elements, "deny_elements")
        if obj == "target" and self.tm_max is None and self.tg_min is None:
            raise ScreenOptionError("objective", objective,
                                    "the 'target' objective needs tm_max and/or tg_min (--tm-max/--tg-min)")

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form (used in checkpoints and metadata)."""
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in
                ((k, getattr(self, k)) for k in self.__slots__)}

    def with_risk(self, risk: str) -> ScoreOptions:
        """Copy with another risk attitude."""
        d = self.to_dict()
        d["risk"] = risk
        return ScoreOptions(**d)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ScoreOptions) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        return f"ScoreOptions({', '.join(f'{k}={v!r}' for k, v in self.to_dict().items())})"


def _column(frame: pd.DataFrame, col: str, why: str) -> np.ndarray:
    if col not in frame.columns:
        raise SchemaError("columns", col, f"column {col!r} is needed for {why}; pass the output of "
                                          "GlassPredictor.predict()")
    from mlglass.models.predictor import numeric_column

    return numeric_column(frame[col])


def _error_mask(frame: pd.DataFrame) -> np.ndarray:
    if "error" not in frame.columns:
        return np.zeros(len(frame), dtype=bool)
    err = frame["error"]
    return (err.notna() & (err.astype(str).str.len() > 0)).to_numpy()


def metal_elements(frame: pd.DataFrame) -> list[frozenset[str]]:
    """Network-metal element symbols of every row (from ``metal``, else ``formula``).

    Unparsable rows give an empty set. Parsing is done once per distinct value.
    """
    codes, sets = _metal_element_codes(frame)
    return [sets[c] for c in codes]


_blank_text = text_column  # missing -> "" (the rule of mlglass.schema)


def _metal_element_codes(frame: pd.DataFrame) -> tuple[np.ndarray, list[frozenset[str]]]:
    from mlglass.records import parse_metals, record_from_mapping

    n = len(frame)
    metal = _blank_text(frame["metal"]).str.strip() if "metal" in frame.columns else pd.Series([""] * n)
    formula = _blank_text(frame["formula"]) if "formula" in frame.columns else pd.Series([""] * n)
    key = metal.where(metal != "", "\x1f" + formula.to_numpy())
    codes, uniques = pd.factorize(key.reset_index(drop=True), sort=False)
    sets: list[frozenset[str]] = []
    for value in uniques:
        try:
            if not value.startswith("\x1f"):
                sets.append(frozenset(sym for sym, _ in parse_metals(value)))
            elif value[1:].strip():
                sets.append(frozenset(sym for sym, _ in record_from_mapping({"formula": value[1:]}).metals))
            else:
                sets.append(frozenset())
        except (RecordError, ImportError):
            sets.append(frozenset())
    return codes, sets


def score_predictions(pred: pd.DataFrame, objective: str = "meltable", risk: str = "expected", *,
                      tm_max: float | None = None, tg_min: float | None = None, p_melt_min: float | None = None,
                      allow_elements: Iterable[str] | str | None = None,
                      deny_elements: Iterable[str] | str | None = None, out_of_domain: str = "keep",
                      options: ScoreOptions | None = None) -> pd.DataFrame:
    """Add ``score`` and ``passes_constraints`` to a prediction frame.

    Parameters
    ----------
    pred : pandas.DataFrame
        Output of :meth:`GlassPredictor.predict`: needs ``p_melt`` and the
        temperature columns (degC) the objective and risk use; ``error`` and
        ``td_c`` (degC) are used when present.
    objective : {"meltable", "stable-glass", "target"}, default="meltable"
        See :data:`OBJECTIVES` and the module docstring for the formulas.
    risk : {"expected", "optimistic", "pessimistic"}, default="expected"
        Which interval bound enters the formulas (:data:`RISKS`).
    tm_max, tg_min : float, optional
        degC. Window for ``target``; hard limits for the other objectives.
    p_melt_min : float, optional
        Minimum ``p_melt`` (0-1).
    allow_elements, deny_elements : iterable of str or comma-separated str, optional
        Network-metal element symbols (``metal`` column only, see module docstring).
    out_of_domain : {"keep", "penalise", "exclude"}, default="keep"
        Use of the ``domain`` column (module docstring).
    options : ScoreOptions, optional
        Already validated options; overrides the individual arguments.

    Returns
    -------
    pandas.DataFrame
        A copy of ``pred`` with ``score`` (float, 0-1, NaN for error rows) and
        ``passes_constraints`` (bool). ``attrs["mlglass_scoring"]`` records the options.

    Raises
    ------
    ScreenOptionError
        Bad options.
    SchemaError
        A needed prediction column is missing.
    """
    opts = options or ScoreOptions(objective, risk, tm_max=tm_max, tg_min=tg_min, p_melt_min=p_melt_min,
                                   allow_elements=allow_elements, deny_elements=deny_elements,
                                   out_of_domain=out_of_domain)
    c = SCORING_CONSTANTS
    tm_col, tg_col = RISKS[opts.risk]
    p = _column(pred, "p_melt", "every objective")
    n = len(pred)
    tm = tg = None
    if opts.objective == "meltable":
        tm = _column(pred, tm_col, f"objective 'meltable' with risk '{opts.risk}'")
        score = p * _sigmoid((c["tm_ref_c"] - tm) / c["tm_scale_c"])
        if "td_c" in pred.columns:
            from mlglass.models.predictor import numeric_column

            td_col = {"optimistic": "td_hi_c", "pessimistic": "td_lo_c"}.get(opts.risk, "td_c")
            td = numeric_column(pred[td_col] if td_col in pred.columns else pred["td_c"])
            # the window of the Tm behind p_melt (it knows frameworks decompose), where the predictor gives it
            tm_w = numeric_column(pred["tm_censored_c"]) if "tm_censored_c" in pred.columns else tm
            tm_w = np.where(np.isfinite(tm_w), tm_w, tm)
            window = _sigmoid((td - tm_w - c["window_ref_c"]) / c["window_scale_c"])
            score = np.where(np.isfinite(td), score * window, score)
    elif opts.objective == "stable-glass":
        tg = _column(pred, tg_col, f"objective 'stable-glass' with risk '{opts.risk}'")
        score = p * _sigmoid((tg - c["tg_ref_c"]) / c["tg_scale_c"])
    else:  # target
        penalty = np.zeros(n)
        if opts.tm_max is not None:
            tm = _column(pred, tm_col, f"objective 'target' with risk '{opts.risk}'")
            penalty = penalty + np.maximum(0.0, tm - opts.tm_max)
        if opts.tg_min is not None:
            tg = _column(pred, tg_col, f"objective 'target' with risk '{opts.risk}'")
            penalty = penalty + np.maximum(0.0, opts.tg_min - tg)
        score = p * np.exp(-penalty / c["target_scale_c"])
    score = np.asarray(score, dtype=float)
    out_dom = np.zeros(n, dtype=bool)
    if getattr(opts, "out_of_domain", "keep") != "keep":
        if "domain" not in pred.columns:
            raise SchemaError("columns", list(pred.columns)[:20],
                              f"out_of_domain={opts.out_of_domain!r} needs the predictor's 'domain' column")
        out_dom = pred["domain"].astype(str).to_numpy() == "out"
        if opts.out_of_domain == "penalise":
            score = np.where(out_dom, score * OUT_OF_DOMAIN_FACTOR, score)
    err = _error_mask(pred)
    score[err] = np.nan
    ok = np.isfinite(score)
    if opts.p_melt_min is not None:
        ok &= p >= opts.p_melt_min
    if getattr(opts, "out_of_domain", "keep") == "exclude":
        ok &= ~out_dom
    if opts.objective != "target":
        if opts.tm_max is not None:
            tm = tm if tm is not None else _column(pred, tm_col, "the tm_max constraint")
            ok &= tm <= opts.tm_max
        if opts.tg_min is not None:
            tg = tg if tg is not None else _column(pred, tg_col, "the tg_min constraint")
            ok &= tg >= opts.tg_min
    if opts.allow_elements is not None or opts.deny_elements is not None:
        allow = set(opts.allow_elements) if opts.allow_elements is not None else None
        deny = set(opts.deny_elements or ())
        codes, sets = _metal_element_codes(pred)
        verdict = np.array([((bool(es) and es <= allow) if allow is not None else True) and not (es & deny)
                            for es in sets] + [False], dtype=bool)
        ok &= verdict[codes]
    out = pred.copy()
    out["score"] = score
    out["passes_constraints"] = ok & ~err
    out.attrs["mlglass_scoring"] = opts.to_dict()
    return out


def sort_group(scored: pd.DataFrame) -> np.ndarray:
    """Primary sort key of the ranking: 0 passing, 1 failing constraints, 2 error rows (int8)."""
    err = _error_mask(scored)
    passes = scored["passes_constraints"].fillna(False).to_numpy(dtype=bool) \
        if "passes_constraints" in scored.columns else np.ones(len(scored), dtype=bool)
    return np.where(err, 2, np.where(passes, 0, 1)).astype(np.int8)


def _ids_as_str(frame: pd.DataFrame) -> np.ndarray:
    if "id" not in frame.columns:
        return np.full(len(frame), "", dtype=object)
    s = frame["id"]
    return s.where(s.notna(), "").astype(str).to_numpy(dtype=object)


def rank_candidates(scored: pd.DataFrame) -> pd.DataFrame:
    """Sort scored candidates and number them.

    Order: rows without error before error rows; among those, rows passing the
    constraints first; then ``score`` descending (NaN last); then ``id``
    ascending (code-point order); then input order. The result is deterministic.

    Parameters
    ----------
    scored : pandas.DataFrame
        Output of :func:`score_predictions`.

    Returns
    -------
    pandas.DataFrame
        Sorted copy with a fresh ``RangeIndex`` and a ``rank`` column (1..n) first.
    """
    if "score" not in scored.columns:
        raise SchemaError("columns", "score", "rank_candidates() needs the output of score_predictions()")
    group = sort_group(scored)
    score = pd.to_numeric(scored["score"], errors="coerce").to_numpy(dtype=float)
    neg = np.where(np.isfinite(score), -score, np.inf)
    id_codes, _ = pd.factorize(pd.Series(_ids_as_str(scored)), sort=True)
    order = np.lexsort((np.arange(len(scored)), id_codes, neg, group))
    out = scored.iloc[order].reset_index(drop=True)
    if "rank" in out.columns:
        out = out.drop(columns="rank")
    out.insert(0, "rank", np.arange(1, len(out) + 1, dtype=np.int64))
    out.attrs = dict(scored.attrs)
    return out

