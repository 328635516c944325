"""GlassPredictor: Tm, Tg and melt-vs-decompose predictions with intervals.

Physical coupling (documented choices)
--------------------------------------
* **Tg below Tm.** Tg is learned directly (more compounds have a Tg than a
  Tg/Tm pair), then capped in kelvin: ``Tg_K <= r_max * Tm_K`` where ``r_max``
  is the largest Tg/Tm ratio in the training data (ZIF-62-type glasses reach
  about 0.84-0.87; the Kauzmann rule gives 2/3). The cap moves the point
  prediction; the interval keeps its half-widths around the capped point (so it
  still brackets the estimate and keeps its coverage, which ``mlglass evaluate``
  checks after the cap), with the upper bound at most ``r_max`` times the upper
  Tm bound.
* **Td-anchored Tm (bundles with ``tm_anchor`` metadata).** Outside the Tm domain's
  ``in``/``near`` bins Tm comes from the ``td_row`` predicted Td: Td_hat + offset + residual
  trees (kind ``gated_range``; Td_hat itself where it exceeds every training Tm, and always for
  ``gated_td`` bundles), and Tg = r * Tm (kelvin), with Mondrian conformal intervals per domain
  bin (:mod:`mlglass.models.tm_anchor`).
* **Applicability domain.** ``tm_domain`` / ``tg_domain`` (``in``, ``near``, ``out``)
  and ``domain`` (the worse of the two) come from
  :class:`mlglass.models.domain.ApplicabilityDomain`; the Tm and Tg intervals are
  normalised conformal intervals that widen with the distance to the training
  compounds. Bundles without domain data fall back to one half-width for all rows.
* **Melting needs Tm < Td.** When the input has a ``td_c`` column, the
  classifier's probability is limited by the probability that Tm lies below
  Td under the Tm predictive distribution (a normal whose 80% interval matches
  the conformal interval): ``p_melt = min(p_classifier, P(Tm < Td))``.
  (Bundles without the decomposition models below.)
* **Decomposition (bundles trained with the thermal table).** Td is predicted
  by :mod:`mlglass.models.decomposition` (CIF view when the row has ``struct_*``
  or ``sg_*`` descriptors, from a ``cif`` path or given, else the table-row view;
  the structure-only view when the CIF's compound record could not be
  extracted), with a split-conformal interval. A user-given ``td_c`` takes
  precedence; the ``td_source`` column says which Td was used (``given``,
  ``cif``, ``table row``, ``structure``). ``window_c = td_c - tm_censored_c`` (the Tm of the censored model
  below, which knows that frameworks decompose; ``td_c - tm_c`` in bundles without it). ``p_melt = P(Tm < Td)`` from the
  censored Tm model (:mod:`mlglass.models.censored`) integrated over the Td
  predictive distribution (a normal whose 80 % interval matches the conformal
  one; a point mass for a given Td). No calibration is applied on top unless
  the bundle stores a monotone one (:class:`~mlglass.models.censored.MonotoneCalibrator`).
"""

from __future__ import annotations

import hashlib
import math
import os
from collections.abc import Iterable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xgboost as xgb

from mlglass.candidates import CandidateBatch, with_columns
from mlglass.errors import ModelFileError
from mlglass.featurize import GlassFeaturizer
from mlglass.models.boosting import FittedBooster
from mlglass.models.decomposition_view import KELVIN, Z80, predict_decomposition
from mlglass.models.explanations import explanation_columns
from mlglass.models.persistence import (
    booster_from_bytes,
    read_booster_bytes,
    read_metadata,
    save_booster,
    write_metadata,
)
from mlglass.models.predictor_inputs import (
    as_candidate_frame,
    check_coverage,
    checked_td,
    default_model_dir,
    numeric_column,
)
from mlglass.models.tree_bins import RowClasses, SplitBins
from mlglass.records import CompoundRecord
from mlglass.thermal import GRAPH_COLUMNS, STRUCT_COLUMNS

__all__ = ["GlassPredictor", "OUTPUT_COLUMNS", "default_model_dir", "as_candidate_frame", "check_coverage",
           "numeric_column"]

#: Columns :meth:`GlassPredictor.predict` adds (public contract).
OUTPUT_COLUMNS = ("tm_c", "tm_lo_c", "tm_hi_c", "tg_c", "tg_lo_c", "tg_hi_c", "p_melt", "error",
                  "td_c", "td_lo_c", "td_hi_c", "window_c", "td_source", "tm_censored_c")
#: Applicability-domain and oxidation-state columns :meth:`GlassPredictor.predict` also adds.
DOMAIN_COLUMNS = ("tm_domain", "tg_domain", "domain", "oxidation_state_used", "oxidation_state_method")
#: Columns besides the composition that change a row's predictions (distinct values are predicted apart).
_PREDICTION_KEYS = ("td_c", "cif", *STRUCT_COLUMNS)
_CORE_HEADS = {"tm", "tg", "melt"}
_DECOMPOSITION_HEADS = {"td_cif", "td_row", "tm_aft"}
_OPTIONAL_HEADS = {"td_struct", "tm_anchor"}  # structure-only Td view; Td-anchored Tm residual trees
#: Heads used only for rows with a structure (CIF): their boosters are built on first use.
_LAZY_HEADS = {"td_cif", "td_struct"}
_K = KELVIN
_Z80 = Z80
#: Heads that read the record descriptors (one descriptor matrix): their rows are grouped into tree classes.
_ROW_VIEW_HEADS = ("tm", "tg", "melt", "tm_aft", "td_row")
#: Distinct compositions from which :meth:`GlassPredictor.predict` groups rows into tree classes (exact either way).
TREE_CLASS_MIN_ROWS = 2048


class GlassPredictor:
    """Predict Tm, Tg (degC, with intervals) and the probability of melting before decomposition.

    Build one with :meth:`train`, :meth:`load` or :meth:`default`.

    Examples
    --------
    >>> p = GlassPredictor.default()                         # doctest: +SKIP
    >>> p.predict(["Zn(Im)1.75(bIm)0.25"])[["tm_c", "tm_lo_c", "tm_hi_c", "p_melt"]]  # doctest: +SKIP
    """

    def __init__(self, heads: dict[str, FittedBooster], *, metadata: dict[str, Any] | None = None,
                 featurizer: GlassFeaturizer | None = None):
        self.heads = heads
        self.metadata = metadata or {}
        self.featurizer = featurizer or GlassFeaturizer()
        self.feature_labels = self.featurizer.feature_labels()

    # ------------------------------------------------------------------ building
    @classmethod
    def train(cls, data: pd.DataFrame | None = None, *, params: dict[str, dict[str, Any]] | None = None,
              coverage: float = 0.8, seed: int = 0, n_jobs: int = 1, cv_metrics: dict[str, Any] | None = None,
              thermal: pd.DataFrame | None | bool = None) -> GlassPredictor:
        """Train the three models on ``data`` (default: the bundled dataset).

        Parameters
        ----------
        data : DataFrame, optional
            Dataset schema, dtypes as from :func:`mlglass.datasets.load_glasses`.
        params : dict, optional
            Booster hyperparameters per model (``{"tm": {...}, "tg": {...}, "melt": {...}}``),
            e.g. from ``mlglass tune``.
        coverage : float, default=0.8
            Default nominal coverage of the intervals.
        seed : int, default=0
            Random seed (same seed, same models).
        cv_metrics : dict, optional
            Cross-validation figures to store in the metadata.
        thermal : DataFrame or False, optional
            Thermal-stability table (default: the bundled ``datasets/thermal.csv`` when present and
            the environment variable ``MLGLASS_THERMAL`` is not ``off``) for the Td models and
            p_melt = P(Tm < Td); ``False`` trains without them.
        """
        from mlglass.models.predictor_training import train_bundle

        heads, metadata, featurizer = train_bundle(data, params=params, coverage=coverage, seed=seed, n_jobs=n_jobs,
                                                   cv_metrics=cv_metrics, thermal=thermal)
        return cls(heads, metadata=metadata, featurizer=featurizer)

    def save(self, folder: str | os.PathLike) -> Path:
        """Write the bundle (xgboost JSON per model + ``metadata.json``), each file atomically."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        meta = dict(self.metadata)
        files = {}
        for name, head in self.heads.items():
            entry: dict[str, Any] = head.calibration()
            if head.booster is not None:
                entry["sha256"] = save_booster(head.booster, folder, name)
                entry["file"] = f"{name}.json"
            files[name] = entry
        meta["files"] = files
        write_metadata(folder, meta)
        return folder

    @classmethod
    def load(cls, folder: str | os.PathLike) -> GlassPredictor:
        """Load a bundle written by :meth:`save` (checks hashes, version and feature list; never unpickles).

        Raises
        ------
        ModelFileError
        """
        folder = Path(folder)
        featurizer = GlassFeaturizer()
        meta = read_metadata(folder, expected_labels=featurizer.feature_labels())
        files = meta.get("files")
        if not isinstance(files, dict) or not _CORE_HEADS <= set(files) \
                or not set(files) <= _CORE_HEADS | _DECOMPOSITION_HEADS | _OPTIONAL_HEADS \
                or (set(files) & _DECOMPOSITION_HEADS and set(files) & _DECOMPOSITION_HEADS != _DECOMPOSITION_HEADS):
            raise ModelFileError(f"{folder}/metadata.json: 'files' must describe the tm, tg and melt models "
                                 "(and optionally all of td_cif, td_row, tm_aft)")
        from mlglass.models.decomposition import struct_feature_labels

        n_row = len(featurizer.feature_labels())
        heads = {}
        for name, entry in files.items():
            if not isinstance(entry, dict):
                raise ModelFileError(f"{folder}/metadata.json: entry {name!r} is not an object")
            try:
                residuals = [float(r) for r in entry.get("residuals") or []]
                platt = entry.get("platt")
                platt = None if platt is None else [float(platt[0]), float(platt[1])]
            except (TypeError, ValueError, IndexError):
                raise ModelFileError(f"{folder}/metadata.json: bad calibration data for {name!r}") from None
            n_expected = {"td_cif": n_row + len(struct_feature_labels()),
                          "td_struct": len(GRAPH_COLUMNS)}.get(name, n_row)
            legacy = n_row + len(STRUCT_COLUMNS) if name == "td_cif" else n_expected
            if entry.get("file") is None:
                heads[name] = FittedBooster(None, residuals=residuals, platt=platt, constant=entry.get("constant"))
                continue
            data = read_booster_bytes(folder, entry)  # size and SHA-256 checked now, for every file
            path = folder / str(entry["file"])
            loader = partial(_checked_booster, data, path, {n_expected, legacy})
            digest = hashlib.sha256(data).hexdigest()
            heads[name] = FittedBooster(residuals=residuals, platt=platt, constant=entry.get("constant"),
                                        loader=loader, digest=digest) if name in _LAZY_HEADS \
                else FittedBooster(loader(), residuals=residuals, platt=platt, constant=entry.get("constant"),
                                   digest=digest)
        return cls(heads, metadata=meta, featurizer=featurizer)

    @classmethod
    def default(cls) -> GlassPredictor:
        """The models bundled in ``models/`` (trained on the curated dataset)."""
        folder = default_model_dir()
        if not (folder / "metadata.json").exists():
            raise ModelFileError(f"no bundled models in {folder}; run `mlglass train` first")
        return cls.load(folder)

    # ---------------------------------------------------------------- predicting
    @property
    def coverage(self) -> float:
        """Default nominal coverage of the intervals."""
        return float(self.metadata.get("coverage", 0.8))

    def domain(self, name: str):
        """The :class:`~mlglass.models.domain.ApplicabilityDomain` of ``"tm"`` or ``"tg"``, or None."""
        from mlglass.models.domain import ApplicabilityDomain

        state = (self.metadata.get("domain") or {}).get(name)
        if not state:
            return None
        cache = self.__dict__.setdefault("_domains", {})
        if name not in cache:
            cache[name] = ApplicabilityDomain.from_dict(state)
        return cache[name]

    def predict_matrix(self, X: np.ndarray, *, coverage: float | None = None,
                       td_c: np.ndarray | None = None, chemistry: Sequence[tuple] | np.ndarray | None = None,
                       classes: RowClasses | None = None, td_hat: np.ndarray | None = None
                       ) -> dict[str, np.ndarray]:
        """Predictions for a descriptor matrix (rows of NaN give NaN).

        With ``chemistry`` (one ``(metals, donor kinds)`` pair per row, see
        :func:`mlglass.models.domain.record_chemistry`) and a bundle with domain data, the
        intervals widen with the distance to the training data and ``tm_domain``,
        ``tg_domain``, ``domain`` are returned too. ``classes`` (:meth:`row_classes` of ``X``) makes
        each tree class predicted once; the result is identical. ``td_hat`` (degC), the ``td_row``
        Td of the rows when the caller has it, saves predicting it again for the Td-anchored Tm.
        """
        cov = self.coverage if coverage is None else coverage
        X = np.asarray(X, dtype=np.float32)
        tm = self.heads["tm"].predict(X, classes)
        tg_raw = self.heads["tg"].predict(X, classes)
        extra: dict[str, np.ndarray] = {}
        dom_tm, dom_tg = self.domain("tm"), self.domain("tg")
        if chemistry is not None and dom_tm is not None and dom_tg is not None and len(X):
            b_tm, q_tm, _ = dom_tm.assess(X, chemistry, check_coverage(cov))
            b_tg, q_tg, _ = dom_tg.assess(X, chemistry, cov)
            bins = np.array(["in", "near", "out"], dtype=object)
            rank_tm = (b_tm == "near") + 2 * (b_tm == "out")
            worst = bins[np.maximum(rank_tm, (b_tg == "near") + 2 * (b_tg == "out"))]
            extra = {"tm_domain": b_tm, "tg_domain": b_tg, "domain": worst}
        else:
            q_tm = self.heads["tm"].halfwidth(cov)
            q_tg = self.heads["tg"].halfwidth(cov)
        if "tm_anchor" in self.metadata:  # Td-anchored Tm (and Tg = r Tm), issue 11
            from mlglass.models.tm_anchor import bundle_anchor

            tm, q_tm, tg_raw, q_tg = bundle_anchor(self, X, tm, q_tm, tg_raw, q_tg, extra.get("tm_domain"),
                                                   check_coverage(cov), td_hat=td_hat)
        cap = float(self.metadata.get("tg_tm_ratio_cap", 0.9))
        tm_lo, tm_hi = tm - q_tm, tm + q_tm
        tg, tg_lo, tg_hi = cap_tg_interval(tg_raw, q_tg, tm, tm_hi, cap)
        p = self.heads["melt"].predict(X, classes)
        if td_c is not None:
            sigma = self.heads["tm"].halfwidth(0.8) / _Z80
            td = np.asarray(td_c, dtype=float)
            known = np.isfinite(td)
            if np.any(known) and math.isfinite(sigma) and sigma > 0:
                from scipy.stats import norm

                p_below = norm.cdf((td - tm) / sigma)
                p = np.where(known, np.minimum(p, p_below), p)
        out = {"tm_c": tm, "tm_lo_c": tm_lo, "tm_hi_c": tm_hi, "tg_c": tg, "tg_lo_c": tg_lo, "tg_hi_c": tg_hi,
               "p_melt": p}
        empty = ~np.isfinite(X).any(axis=1) if X.size else np.zeros(len(X), bool)
        if empty.any():  # rows that could not be featurized get no prediction
            for v in out.values():
                v[empty] = np.nan
            for v in extra.values():
                v[empty] = ""
        out.update(extra)
        return out

    def row_classes(self, X: np.ndarray) -> RowClasses:
        """Tree-equivalence classes of descriptor rows for the heads that read the record descriptors.

        Rows in one class get identical predictions from every such head
        (:mod:`mlglass.models.tree_bins`), so each class is predicted once.
        """
        bins = self.__dict__.get("_row_bins")
        if bins is None:
            boosters = [self.heads[h].booster for h in _ROW_VIEW_HEADS if h in self.heads]
            bins = self.__dict__["_row_bins"] = SplitBins.from_boosters(
                [b for b in boosters if b is not None], len(self.feature_labels))
        return bins.classes(X)

    @property
    def has_decomposition(self) -> bool:
        """True if the bundle holds the Td models and the censored Tm model (p_melt = P(Tm < Td))."""
        return _DECOMPOSITION_HEADS <= set(self.heads)

    def predict(self, X: pd.DataFrame | Iterable[str] | Iterable[CompoundRecord], *, coverage: float | None = None,
                explain: bool = False, top: int = 3, descriptors: dict[str, Any] | None = None) -> pd.DataFrame:
        """Predict for a candidate table, a list of formulas or a list of records.

        Returns the input columns plus ``tm_c``, ``tm_lo_c``, ``tm_hi_c``, ``tg_c``, ``tg_lo_c``,
        ``tg_hi_c`` (degC; bounds at ``coverage``, default 0.8), ``p_melt`` (probability that
        the crystal melts before it decomposes) and ``error`` (empty for good rows; bad rows are
        kept with the reason and NaN predictions). With the decomposition models also ``td_c``,
        ``td_lo_c``, ``td_hi_c`` (degC; a given ``td_c`` is kept and wins), ``td_source``
        (``given``, ``cif``, ``table row`` or ``structure``), ``window_c`` (= Td - Tm, degC, with the
        censored model's Tm below: the liquid window behind p_melt) and ``tm_censored_c``
        (median Tm of the censored model behind p_melt, degC: it has learned that frameworks which
        decompose have Tm above their Td, which the glass-trained ``tm_c`` has not).

        A ``cif`` column (paths, relative ones against the working directory) fills blank
        record fields and the ``struct_*`` descriptors from the structures
        (:mod:`mlglass.models.cif_input`). A row whose CIF gives no compound record keeps its
        ``error`` and NaN Tm, Tg and p_melt, but still gets ``td_c`` from the structure-only view
        (``td_source`` ``structure``; its own, wider interval). With ``explain=True`` also ``tm_top_features``,
        ``tg_top_features``, ``p_melt_top_features`` and ``td_top_features``: the ``top`` descriptors
        with the largest SHAP contributions of the model that produced the number (degC for Tm, Tg
        and Td; ln(Tm/K) of the censored Tm model, or log-odds of the old classifier, for p_melt;
        a Td-anchored Tm is explained by the Td head, see :mod:`mlglass.models.explanations`).

        A ``descriptors`` dict receives the pass's descriptor matrix: ``descriptors["features"]``
        (one row per distinct composition, NaN rows for bad ones) and ``descriptors["row"]`` (its
        row for each input row), so that rows can be explained later without a second parse
        (:meth:`explain_features`).
        """
        from mlglass.models.cif_input import complete_from_cifs, has_cif_paths

        frame = as_candidate_frame(X)
        if coverage is not None:
            check_coverage(coverage)
        cif_errors = None
        if has_cif_paths(frame):
            frame, cif_errors = complete_from_cifs(frame)
        # each distinct composition (and td_c / structure) is parsed, featurized and predicted once
        cand = CandidateBatch.from_frame(frame, key_columns=_PREDICTION_KEYS)
        full, frame = frame, frame.iloc[cand.first_row].reset_index(drop=True)
        table = cand.features(self.featurizer._parts())
        index = cand.index[cand.first_row]
        errors = [str(e) if e is not None else "" for e in cand.errors]
        if cif_errors is not None:  # the structure's error, replaced by each row's own message below
            errors = [cif_errors[r] or e for r, e in zip(cand.first_row, errors)]
            index = np.where([bool(cif_errors[r]) for r in cand.first_row], len(table) - 1, index)
        td = None
        bad_td = None
        if "td_c" in frame.columns:
            td, td_errors = checked_td(frame["td_c"], [None] * len(frame))
            bad_td = np.array([bool(e) for e in td_errors])
            errors = [e or t for e, t in zip(errors, td_errors)]
        chem = cand.chemistry
        classes = self.row_classes(table) if len(table) >= TREE_CLASS_MIN_ROWS else None
        # the table-row Td of every distinct composition, once: the anchored Tm and the decomposition share it
        td_row = self.heads["td_row"].predict(np.asarray(table, dtype=np.float32), classes) \
            if self.has_decomposition else None
        preds = self.predict_matrix(table[index], coverage=coverage, chemistry=chem,
                                    td_c=None if self.has_decomposition else td,
                                    classes=None if classes is None else classes.take(index),
                                    td_hat=None if td_row is None else td_row[index])
        new: dict[str, Any] = dict(preds)  # the output columns, set on the frame in one step below
        new["oxidation_state_used"] = cand.oxidation_used
        new["oxidation_state_method"] = cand.oxidation_method
        tm_c = np.asarray(preds["tm_c"], dtype=float)
        if self.has_decomposition:
            dec = predict_decomposition(self, table, index, frame, td, tm_c, coverage, classes, td_row=td_row)
        else:  # a bundle without Td models: only a given td_c
            given = np.full(len(frame), np.nan) if td is None else np.where(np.isfinite(td), td, np.nan)
            dec = {"td_c": given, "td_lo_c": given.copy(), "td_hi_c": given.copy(), "window_c": given - tm_c,
                   "td_source": np.where(np.isfinite(given), "given", "").astype(object),
                   "tm_censored_c": np.full(len(frame), np.nan)}
        new.update(dec)
        if bad_td is not None and bad_td.any():  # a bad td_c is a row error: no prediction for that row
            for col in [*preds, *dec]:
                values = np.asarray(new[col])
                if values.dtype.kind == "f":
                    new[col] = np.where(bad_td, np.nan, values)
        new["error"] = errors
        bad_rows = np.fromiter((e != "" for e in errors), dtype=bool, count=len(errors))
        if bad_rows.any():
            for col in ("tm_domain", "tg_domain", "domain", "oxidation_state_used", "oxidation_state_method"):
                if col in new:
                    values = np.array(new[col], dtype=object)
                    values[bad_rows] = ""
                    new[col] = values
        if explain:
            dom = np.asarray(new["tm_domain"], dtype=object) if "tm_domain" in new else None
            new.update(explanation_columns(self, table, index, frame, top, dom))
        out = with_columns(frame, new)
        if descriptors is not None:  # the caller keeps the descriptors of this pass (see explain_features)
            descriptors.update(features=table, row=index[cand.inverse])
        written = [c for c in out.columns if c not in frame.columns or c in OUTPUT_COLUMNS + DOMAIN_COLUMNS]
        result = cand.broadcast(out, full, written)
        if cif_errors is not None and any(cif_errors):
            result["error"] = [c or e for c, e in zip(cif_errors, result["error"].tolist())]
        return result

    def explain_features(self, features: np.ndarray, structure: pd.DataFrame | None = None, *,
                         top: int = 3, tm_domain: Sequence[str] | np.ndarray | None = None) -> pd.DataFrame:
        """Explanations of rows from their descriptors, as :meth:`predict` with ``explain=True`` gives them.

        Parameters
        ----------
        features : ndarray, shape (n, n_features)
            Descriptor rows (:attr:`feature_labels` order), e.g. kept from a :meth:`predict`
            pass through its ``descriptors`` argument; a row of NaN gets empty texts.
        structure : pandas.DataFrame, optional
            ``n`` rows with the structure descriptors (``struct_*`` and ``sg_*`` columns, any others
            ignored) the rows were predicted with; absent means none (the table-row Td view).
        top : int, default=3
            Descriptors listed per row.
        tm_domain : sequence of str, optional
            The rows' ``tm_domain`` as predicted; it decides which model produced a Td-anchored
            Tm (absent: from the descriptor distance alone, without the chemistry-novelty rule).

        Returns
        -------
        pandas.DataFrame
            ``tm_top_features`` and ``tg_top_features`` (degC), ``p_melt_top_features`` (ln(Tm/K) of
            the censored Tm model, or log-odds of the old classifier) and, with the decomposition models,
            ``td_top_features`` (degC): the ``top`` descriptors with the largest SHAP contributions.
        """
        table = np.asarray(features, dtype=float).reshape(-1, len(self.feature_labels))
        n = len(table)
        frame = pd.DataFrame(index=range(n)) if structure is None else structure.reset_index(drop=True)
        if len(frame) != n:
            raise ValueError(f"structure has {len(frame)} rows, features {n}")
        dom = None if tm_domain is None else np.asarray(tm_domain, dtype=object)
        return pd.DataFrame(explanation_columns(self, table, np.arange(n), frame, top, dom))



def cap_tg_interval(tg_raw: np.ndarray, q_tg: np.ndarray | float | tuple[Any, Any], tm: np.ndarray,
                    tm_hi: np.ndarray, cap: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cap Tg at ``cap * Tm`` (kelvin) and keep the interval's half-widths around the capped point.

    ``q_tg`` is one half-width or a ``(below, above)`` pair of them (degC). The upper bound is at
    most ``cap * tm_hi`` (kelvin), which lies above the capped point whenever the Tm interval has
    positive width, so the interval always brackets the estimate.
    """
    q_lo, q_hi = q_tg if isinstance(q_tg, tuple) else (q_tg, q_tg)
    tg = np.minimum(tg_raw + _K, cap * (tm + _K)) - _K
    tg_lo = tg - q_lo
    tg_hi = np.minimum(tg + q_hi + _K, cap * (tm_hi + _K)) - _K
    tg_hi = np.maximum(tg_hi, tg)
    return tg, tg_lo, tg_hi


def _checked_booster(data: bytes, path: Path, n_features: set[int]) -> xgb.Booster:
    """Build a booster from checked bytes and refuse one made for another descriptor set."""
    booster = booster_from_bytes(data, path)
    if booster.num_features() not in n_features:
        raise ModelFileError(f"{path}: model expects {booster.num_features()} features, "
                             f"this mlglass makes {min(n_features)}")
    return booster
