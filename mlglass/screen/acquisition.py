"""Choose the next batch of compounds to make: acquisition functions plus diverse greedy selection.

Acquisition values (:data:`ACQUISITIONS`) are computed on the scale of the
screening ``score`` (0-1, see :mod:`mlglass.screen.scoring`) from the
prediction intervals. With ``mu`` the score from the point predictions and
``s_hi`` / ``s_lo`` the scores from the optimistic / pessimistic interval
bounds (e.g. ``tm_lo_c`` / ``tm_hi_c`` for the ``meltable`` objective,
``tg_hi_c`` / ``tg_lo_c`` for ``stable-glass``):

``ucb``
    ``mu + kappa * (s_hi - mu)``; ``kappa = 1`` is the optimistic score.
``ei``
    Expected improvement over ``best`` (the best *observed* score if given,
    else the best ``mu`` among the candidates): ``(mu - best) Phi(z) + sigma
    phi(z)``, ``z = (mu - best) / sigma``, with ``sigma = (s_hi - s_lo) / 2 /
    z_c`` where ``z_c`` is the normal quantile of the interval coverage
    (1.2816 for 80 % intervals), i.e. interval half-width / 1.2816.
``greedy``
    ``mu`` (pure exploitation).
``random``
    Uniform random numbers from ``seed`` (a baseline).

Diverse batch (maximal-marginal-relevance style, cumulative penalty): the
acquisition values of the eligible candidates (no ``error``, passing the
constraints) are min-max normalised to 0-1 over a pool of the best
``pool_size`` candidates; then candidates are picked one by one, each time
maximising ``a_norm - diversity * sum(similarity to the ones already
picked)``. A second near-identical compound therefore needs a lead of about
``diversity`` and a third of ``2 * diversity`` over the best dissimilar one.

Similarity (0-1):

``composition`` (default)
    ``s_L * (1 + s_M)/2 * (1 + s_C)/2 * f_dim`` where ``s_X = exp(-L1_X / 0.25)``
    compares the ligand mole fractions (L, each set normalised to 1), the
    metal fractions (M) and the counter-ion mole fractions (C), and ``f_dim``
    is 0.8 if the dimensionality differs, else 1. The ligand set dominates:
    the same metals and ligands with fractions within a few percent (ZIF-62
    ``Im:1.75;bIm:0.25`` vs ``Im:1.7;bIm:0.3``, L1 = 0.05) give 0.82; the
    same framework with another metal (or another counter-ion) 0.5, with both
    changed 0.25; another linker set ~0.
descriptors (``feature_frame`` given)
    ``exp(-(d / 0.5)^2)`` with ``d`` the root-mean-square difference of the
    descriptors standardised over the pool (NaN -> mean).
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from mlglass.errors import SchemaError, ScreenOptionError
from mlglass.io import cell_text
from mlglass.options import ACQUISITIONS
from mlglass.screen.chunks import mask_error_rows
from mlglass.screen.scoring import ScoreOptions, score_predictions

__all__ = ["ACQUISITIONS", "acquisition_values", "suggest_batch", "suggest_file", "composition_similarity"]

# ACQUISITIONS (name -> formula) lives in mlglass.options, shared with the CLI.
_TAU = 0.25
_DESCRIPTOR_SCALE = 0.5


def _options_from(scored: pd.DataFrame, objective: str | None, options: ScoreOptions | None) -> ScoreOptions:
    if options is not None:
        return options.with_risk("expected")
    stored = dict(scored.attrs.get("mlglass_scoring") or {})
    if objective is not None:
        stored["objective"] = objective
    stored.setdefault("objective", "meltable")
    stored["risk"] = "expected"
    return ScoreOptions(**stored)


def acquisition_values(scored: pd.DataFrame, acquisition: str = "ucb", *, kappa: float = 1.0,
                       best: float | None = None, seed: int = 0, coverage: float = 0.8,
                       objective: str | None = None, options: ScoreOptions | None = None) -> np.ndarray:
    """Acquisition value of every row (NaN for error rows), score scale.

    Parameters
    ----------
    scored : pandas.DataFrame
        Predictions (``GlassPredictor.predict`` output, optionally scored).
    acquisition : {"ucb", "ei", "greedy", "random"}
    kappa : float, default=1.0
        UCB exploration weight.
    best : float, optional
        Best observed score for ``ei`` (default: best expected score of the rows).
    seed : int, default=0
    coverage : float, default=0.8
        Nominal coverage of the intervals in ``scored`` (sets ``z_c`` for ``ei``).
    objective : str, optional
        Objective (default: the one recorded by :func:`score_predictions`, else ``meltable``).
    options : ScoreOptions, optional
        Full scoring options (overrides ``objective``).
    """
    acq = str(acquisition).lower()
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ScreenOptionError("seed", seed, "must be a non-negative integer")
    if acq not in ACQUISITIONS:
        raise ScreenOptionError("acquisition", acquisition, f"must be one of {', '.join(ACQUISITIONS)}")
    opts = _options_from(scored, objective, options)
    mu = score_predictions(scored, options=opts)["score"].to_numpy(dtype=float)
    if acq == "greedy":
        return mu
    if acq == "random":
        rng = np.random.default_rng(seed)
        r = rng.random(len(scored))
        return np.where(np.isfinite(mu), r, np.nan)
    hi = score_predictions(scored, options=opts.with_risk("optimistic"))["score"].to_numpy(dtype=float)
    if acq == "ucb":
        return mu + float(kappa) * (hi - mu)
    from scipy.stats import norm

    lo = score_predictions(scored, options=opts.with_risk("pessimistic"))["score"].to_numpy(dtype=float)
    zc = float(norm.ppf(0.5 + coverage / 2))
    sigma = np.abs(hi - lo) / 2.0 / zc
    if best is None:
        finite = mu[np.isfinite(mu)]
        best = float(finite.max()) if len(finite) else 0.0
    imp = mu - best
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(sigma > 0, imp / sigma, 0.0)
        ei = np.where(sigma > 0, imp * norm.cdf(z) + sigma * norm.pdf(z), np.maximum(imp, 0.0))
    return ei


def _normalised(items: Iterable[tuple[str, float]], prefix: str) -> dict[str, float]:
    items = list(items)
    total = sum(a for _, a in items) or 1.0
    out: dict[str, float] = {}
    for n, a in items:
        out[f"{prefix}{n}"] = out.get(f"{prefix}{n}", 0.0) + a / total
    return out


def _row_composition(metal: Any, ligands: Any, counter: Any, formula: Any, cache: dict) -> tuple[dict, dict, dict]:
    key: tuple[Any, ...] = (metal, ligands, counter, formula)
    try:
        hit = cache.get(key)
    except TypeError:  # unhashable cell (a list from a Parquet list column): read it as text
        key = tuple(str(v) for v in key)
        metal, ligands, counter, formula = key
        hit = cache.get(key)
    if hit is not None:
        return hit
    from mlglass.records import parse_amounts, parse_metals, record_from_mapping
    from mlglass.schema import is_blank as blank

    parts: tuple[Sequence[tuple[str, float]], Sequence[tuple[str, float]], Sequence[tuple[str, float]]]
    try:
        if blank(metal) and blank(ligands) and not blank(formula):
            rec = record_from_mapping({"formula": str(formula)})
            parts = (rec.metals, [(c.name, c.amount) for c in rec.ligands],
                     [(c.name, c.amount) for c in rec.counter_ions])
        else:
            parts = (parse_metals(str(metal)) if not blank(metal) else (),
                     parse_amounts(str(ligands), "ligands") if not blank(ligands) else (),
                     parse_amounts(str(counter), "counter_ions") if not blank(counter) else ())
    except (ValueError, TypeError):
        parts = ((f"?{metal}", 1.0),), ((f"?{ligands}", 1.0),), ((f"?{counter}", 1.0),)
    hit = cache[key] = (_normalised(parts[0], "M:"), _normalised(parts[1], "L:"), _normalised(parts[2], "C:"))
    return hit


def _composition_matrices(frame: pd.DataFrame) -> tuple[list[np.ndarray], np.ndarray]:
    """Metal, ligand and counter-ion fraction matrices (rows sum to 1, or 0 if none) and dimensionality."""
    n = len(frame)

    def col(name: str) -> list:
        return frame[name].tolist() if name in frame.columns else [None] * n

    cache: dict = {}
    comps = [_row_composition(m, lig, c, f, cache)
             for m, lig, c, f in zip(col("metal"), col("ligands"), col("counter_ions"), col("formula"))]
    mats = []
    for k in range(3):
        vocab: dict[str, int] = {}
        for comp in comps:
            for name in comp[k]:
                vocab.setdefault(name, len(vocab))
        mat = np.zeros((n, max(1, len(vocab))))
        for i, comp in enumerate(comps):
            for name, v in comp[k].items():
                mat[i, vocab[name]] = v
        mats.append(mat)
    dims = np.asarray([str(v) for v in col("dimensionality")], dtype=object)
    return mats, dims


def _composition_kernel(mats: list[np.ndarray], dims: np.ndarray, rows: np.ndarray | slice,
                        i: int) -> np.ndarray:
    s = [np.exp(-np.abs(m[rows] - m[i]).sum(axis=1) / _TAU) for m in mats]
    dim_factor = np.where(dims[rows] == dims[i], 1.0, 0.8)
    return s[1] * (0.5 + 0.5 * s[0]) * (0.5 + 0.5 * s[2]) * dim_factor


def composition_similarity(frame: pd.DataFrame) -> np.ndarray:
    """Pairwise composition similarity (n x n, 0-1) of the rows of a candidate table (see module docstring)."""
    mats, dims = _composition_matrices(frame)
    return np.vstack([_composition_kernel(mats, dims, slice(None), i) for i in range(len(frame))])


class _Similarity:
    """Similarity of every pool row to one chosen row, computed on demand."""

    def __init__(self, pool: pd.DataFrame, features: np.ndarray | None):
        if features is None:
            self.mats, self.dims = _composition_matrices(pool)
            self.kind = "composition"
        else:
            x = np.asarray(features, dtype=float)
            mean = np.nanmean(np.where(np.isfinite(x), x, np.nan), axis=0) if len(x) else np.zeros(x.shape[1])
            mean = np.where(np.isfinite(mean), mean, 0.0)
            x = np.where(np.isfinite(x), x, mean)
            std = x.std(axis=0)
            keep = std > 1e-12
            self.z = (x[:, keep] - mean[keep]) / std[keep] if keep.any() else np.zeros((len(x), 1))
            self.kind = "descriptors"

    def to(self, i: int) -> np.ndarray:
        if self.kind == "composition":
            return _composition_kernel(self.mats, self.dims, slice(None), i)
        d = np.sqrt(np.mean((self.z - self.z[i]) ** 2, axis=1))
        return np.exp(-((d / _DESCRIPTOR_SCALE) ** 2))


def suggest_batch(pred_scored: pd.DataFrame, *, batch: int = 10, acquisition: str = "ucb", kappa: float = 1.0,
                  diversity: float = 0.5, feature_frame: pd.DataFrame | np.ndarray | None = None, seed: int = 0,
                  objective: str | None = None, best: float | None = None, coverage: float = 0.8,
                  pool_size: int | None = None, exclude_ids: Iterable[str] | None = None,
                  options: ScoreOptions | None = None) -> pd.DataFrame:
    """Pick a diverse batch of candidates to measure next.

    Parameters
    ----------
    pred_scored : pandas.DataFrame
        Predictions for the candidates, ideally the output of
        :func:`score_predictions` (its objective and constraints are reused;
        ``passes_constraints`` filters). Needs ``p_melt`` and the Tm/Tg columns
        with interval bounds (degC).
    batch : int, default=10
        Batch size (fewer rows are returned if fewer candidates are eligible).
    acquisition : {"ucb", "ei", "greedy", "random"}, default="ucb"
        See :data:`ACQUISITIONS`.
    kappa : float, default=1.0
        UCB exploration weight.
    diversity : float, default=0.5
        Weight of the similarity penalty (0: plain top-``batch`` by acquisition).
    feature_frame : DataFrame or ndarray, optional
        Descriptors aligned row by row with ``pred_scored`` (e.g.
        ``GlassFeaturizer().transform(frame)``; non-numeric columns such as
        ``error`` are ignored). Default: composition similarity.
    seed : int, default=0
        Seed of the ``random`` acquisition (the result is deterministic for a seed).
    objective : str, optional
        Objective if ``pred_scored`` carries none.
    best : float, optional
        Best observed score (``ei``).
    coverage : float, default=0.8
        Nominal coverage of the intervals.
    pool_size : int, optional
        Candidates considered for the batch (best by acquisition); default ``max(500, 50 * batch)``.
    exclude_ids : iterable of str, optional
        Ids never to suggest (e.g. already measured). Ids are compared as the table readers give
        them (:func:`mlglass.io.cell_text`: bytes decoded, a whole float ``7.0`` is ``"7"``).
    options : ScoreOptions, optional
        Full scoring options (override ``objective`` and the stored ones).

    Returns
    -------
    pandas.DataFrame
        The chosen rows (all input columns) in pick order, with ``acquisition``
        (score scale), ``similarity_penalty`` (sum of similarities to earlier
        picks when chosen) and ``batch_rank`` (1..batch).
    """
    if isinstance(batch, bool) or not isinstance(batch, (int, np.integer)) or batch < 1:
        raise ScreenOptionError("batch", batch, "must be a whole number >= 1")
    if not (isinstance(diversity, (int, float)) and math.isfinite(diversity) and diversity >= 0):
        raise ScreenOptionError("diversity", diversity, "must be a number >= 0")
    frame = pred_scored.reset_index(drop=True)
    acq = acquisition_values(frame, acquisition, kappa=kappa, best=best, seed=seed, coverage=coverage,
                             objective=objective, options=options)
    eligible = np.isfinite(acq)
    if "error" in frame.columns:
        eligible &= frame["error"].fillna("").astype(str).str.len().to_numpy() == 0
    if "passes_constraints" in frame.columns:
        eligible &= frame["passes_constraints"].fillna(False).to_numpy(dtype=bool)
    if exclude_ids is not None and "id" in frame.columns:
        eligible &= ~frame["id"].map(cell_text).isin(set(map(str, exclude_ids))).to_numpy()
    idx = np.flatnonzero(eligible)
    ids = frame["id"].map(cell_text).to_numpy() if "id" in frame.columns else np.arange(len(frame)).astype(str)
    id_codes, _ = pd.factorize(pd.Series(ids[idx]), sort=True)
    order = idx[np.lexsort((idx, id_codes, -acq[idx]))]
    size = pool_size if pool_size is not None else max(500, 50 * int(batch))
    pool = order[:size]
    if len(pool) == 0:
        out = frame.iloc[[]].copy()
        for c in ("acquisition", "similarity_penalty", "batch_rank"):
            out[c] = pd.Series(dtype=float)
        return out
    a = acq[pool]
    span = a.max() - a.min()
    a_norm = (a - a.min()) / span if span > 0 else np.zeros(len(pool))
    features = None
    if feature_frame is not None:
        ff = feature_frame if isinstance(feature_frame, pd.DataFrame) else pd.DataFrame(np.asarray(feature_frame))
        if len(ff) != len(frame):
            raise SchemaError("feature_frame", len(ff), f"must have one row per candidate ({len(frame)})")
        ff = ff.reset_index(drop=True).select_dtypes(include=[np.number])
        features = ff.to_numpy(dtype=float)[pool]
    sim = _Similarity(frame.iloc[pool], features)
    penalty = np.zeros(len(pool))
    taken = np.zeros(len(pool), dtype=bool)
    picks, pick_pen = [], []
    for _ in range(min(int(batch), len(pool))):
        obj = np.where(taken, -np.inf, a_norm - diversity * penalty)
        j = int(np.argmax(obj))  # first maximum: pool order breaks ties (acquisition desc, id asc)
        picks.append(j)
        pick_pen.append(penalty[j])
        taken[j] = True
        if diversity > 0:
            penalty += sim.to(j)
    rows = pool[picks]
    out = frame.iloc[rows].copy().reset_index(drop=True)
    out["acquisition"] = acq[rows]
    out["similarity_penalty"] = np.asarray(pick_pen, dtype=float)
    out["batch_rank"] = np.arange(1, len(rows) + 1, dtype=np.int64)
    out.attrs = dict(pred_scored.attrs)
    return out


def suggest_file(input_path: str | os.PathLike, predictor: Any = None, *, batch: int = 10,
                 acquisition: str = "ucb", objective: str = "meltable", kappa: float = 1.0,
                 diversity: float = 0.5, similarity: str = "composition", seed: int = 0,
                 tm_max: float | None = None, tg_min: float | None = None, p_melt_min: float | None = None,
                 allow_elements: Iterable[str] | str | None = None,
                 deny_elements: Iterable[str] | str | None = None, best: float | None = None,
                 coverage: float | None = None, exclude_ids: Iterable[str] | None = None,
                 progress: bool = False, out_of_domain: str = "keep") -> pd.DataFrame:
    """Predict a candidate file and suggest a diverse batch (:func:`suggest_batch`).

    Parameters
    ----------
    input_path : path-like
        Candidate table (``.csv``/``.parquet``, read whole; screen huge files
        with :func:`screen_file` first and pass its output here).
    predictor : GlassPredictor or path-like, optional
        Default: the bundled models.
    batch, acquisition, kappa, diversity, seed, best, exclude_ids
        See :func:`suggest_batch`.
    objective, tm_max, tg_min, p_melt_min, allow_elements, deny_elements, out_of_domain
        Scoring options, see :func:`score_predictions` (degC, probability).
    similarity : {"composition", "descriptors"}, default="composition"
        ``descriptors`` uses the standardised ``GlassFeaturizer`` descriptors.
    coverage : float, optional
        Interval coverage (default: the model's, 0.8).
    progress : bool, default=False
        Show a progress bar while predicting.

    Returns
    -------
    pandas.DataFrame
        See :func:`suggest_batch`.
    """
    from mlglass._progress import row_progress
    from mlglass.io import read_table
    from mlglass.screen.stream import resolve_predictor

    if similarity not in ("composition", "descriptors"):
        raise ScreenOptionError("similarity", similarity, "must be 'composition' or 'descriptors'")
    options = ScoreOptions(objective, "expected", tm_max=tm_max, tg_min=tg_min, p_melt_min=p_melt_min,
                           allow_elements=allow_elements, deny_elements=deny_elements, out_of_domain=out_of_domain)
    predictor, _ = resolve_predictor(predictor)
    frame = read_table(input_path)
    with row_progress(progress, "predicting", total=len(frame)) as bar:
        pred = mask_error_rows(predictor.predict(frame, coverage=coverage))
        bar.advance(len(frame))
    scored = score_predictions(pred, options=options)
    features = None
    if similarity == "descriptors":
        from mlglass.featurize import GlassFeaturizer

        features = GlassFeaturizer().transform(frame)
    cov = coverage if coverage is not None else float(getattr(predictor, "coverage", 0.8))
    return suggest_batch(scored, batch=batch, acquisition=acquisition, kappa=kappa, diversity=diversity,
                         feature_frame=features, seed=seed, best=best, coverage=cov, exclude_ids=exclude_ids,
                         options=options)
