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
* **Applicability domain.** ``tm_domain`` / ``tg_domain`` (``in``, ``near``, ``out``)
  and ``domain`` (the worse of the two) come from
  :class:`mlglass.models.domain.ApplicabilityDomain`; the Tm and Tg intervals are
  normalised conformal intervals that widen with the distance to the training
  compounds. Bundles without domain data fall back to one half-width for all rows.
* **Melting needs Tm < Td.** When the input has a ``td_c`` column, the
  classifier's probability is limited by the probability that Tm lies below
  Td under the Tm predictive distribution (a normal whose 80% interval matches
  the conformal interval): ``p_melt = min(p_classifier, P(Tm < Td))``.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd
import xgboost as xgb

from mlglass.errors import ModelFileError
from mlglass.featurize import GlassFeaturizer
from mlglass.featurize.base import featurize_unique, records_from_frame
from mlglass.models.boosting import BoostedClassifier, BoostedRegressor, _apply_platt, conformal_quantile
from mlglass.models.persistence import FORMAT_VERSION, load_booster, read_metadata, save_booster, write_metadata
from mlglass.records import CompoundRecord

__all__ = ["GlassPredictor", "OUTPUT_COLUMNS", "default_model_dir", "as_candidate_frame", "check_coverage",
           "numeric_column"]

#: Columns :meth:`GlassPredictor.predict` adds (public contract).
OUTPUT_COLUMNS = ("tm_c", "tm_lo_c", "tm_hi_c", "tg_c", "tg_lo_c", "tg_hi_c", "p_melt", "error")
#: Applicability-domain and oxidation-state columns :meth:`GlassPredictor.predict` also adds.
DOMAIN_COLUMNS = ("tm_domain", "tg_domain", "domain", "oxidation_state_used", "oxidation_state_method")
_K = 273.15
_Z80 = 1.2815515655446004  # standard normal quantile of 0.9


def default_model_dir() -> Path:
    """Folder of the bundled models (``MLGLASS_MODEL_DIR`` overrides)."""
    env = os.environ.get("MLGLASS_MODEL_DIR")
    if env:
        return Path(env)
    from mlglass._bundled import bundled_dir

    return bundled_dir("models")


def check_coverage(coverage: Any) -> float:
    """Validate a nominal interval coverage (0 < coverage < 1).

    Raises
    ------
    RecordError
    """
    from mlglass.errors import RecordError

    try:
        c = float(coverage)
    except (TypeError, ValueError, OverflowError):
        raise RecordError("coverage", coverage, "must be a number between 0 and 1, e.g. 0.8") from None
    if not 0 < c < 1:
        raise RecordError("coverage", coverage, "must be strictly between 0 and 1, e.g. 0.8")
    return c


def numeric_column(series: pd.Series) -> np.ndarray:
    """A column as float64; cells that are not finite-able numbers (text, huge ints, lists) become NaN."""
    def one(v: Any) -> float:
        if isinstance(v, bool):
            return np.nan
        try:
            return float(v)
        except (TypeError, ValueError, OverflowError):
            return np.nan

    if pd.api.types.is_float_dtype(series.dtype):
        return series.to_numpy(dtype=float)
    return np.array([one(v) for v in series.tolist()], dtype=float)


def checked_td(series: pd.Series, row_labels: list[Any]) -> tuple[np.ndarray, list[str]]:
    """Decomposition temperatures (degC) of a ``td_c`` column and a per-row error message.

    Blank cells mean unknown (NaN, no error). Any other cell must be a finite
    number between -273.15 and 3000 degC; otherwise its row gets an error naming
    the field and the value, and its ``td_c`` is NaN.
    """
    from mlglass.errors import RecordError

    values = np.array(numeric_column(series), dtype=float)  # a copy: never a view of the caller's frame
    errors = [""] * len(values)
    for i, (raw, v) in enumerate(zip(series.tolist(), values)):
        blank = raw is None or (isinstance(raw, float) and math.isnan(raw)) or (isinstance(raw, str)
                                                                                 and not raw.strip())
        if blank:
            values[i] = np.nan
        elif not (math.isfinite(v) and -273.15 <= v <= 3000.0):
            err = RecordError("td_c", raw, "decomposition temperature must be a number of degC between -273.15 "
                                           "and 3000, or blank if unknown", row=row_labels[i])
            errors[i] = str(err)
            values[i] = np.nan
    return values, errors


def as_candidate_frame(X: Any) -> pd.DataFrame:
    """Turn a DataFrame, a list of formulas or a list of records into a candidate table."""
    if isinstance(X, pd.DataFrame):
        return X
    if isinstance(X, (str, CompoundRecord)):
        X = [X]
    items = list(X)
    if all(isinstance(x, str) for x in items):
        return pd.DataFrame({"id": items, "formula": items})
    if all(isinstance(x, CompoundRecord) for x in items):
        return pd.DataFrame([r.to_row() for r in items])
    raise TypeError("predict() takes a DataFrame in the candidate schema, a list of formulas or a list of "
                    "CompoundRecord objects")


class _Head:
    """One fitted booster plus its calibration (no sklearn objects: loadable from JSON)."""

    def __init__(self, booster: xgb.Booster | None, *, residuals: Sequence[float] = (),
                 platt: Sequence[float] | None = None, constant: float | None = None):
        self.booster = booster
        self.residuals = np.asarray(residuals, dtype=float)
        self.platt = tuple(platt) if platt is not None else None
        self.constant = constant

    def predict(self, X: np.ndarray) -> np.ndarray:
        if self.booster is None:
            return np.full(len(X), self.constant if self.constant is not None else np.nan)
        if len(X) == 0:
            return np.zeros(0)
        out = self.booster.inplace_predict(X, missing=np.nan)
        out = np.asarray(out, dtype=float)
        if self.platt is not None:
            out = _apply_platt(out, self.platt)
        return out

    def halfwidth(self, coverage: float) -> float:
        return conformal_quantile(self.residuals, check_coverage(coverage))

    def contributions(self, X: np.ndarray) -> np.ndarray:
        if self.booster is None or len(X) == 0:
            return np.zeros((len(X), X.shape[1] + 1))
        return self.booster.predict(xgb.DMatrix(X, missing=np.nan), pred_contribs=True)


class GlassPredictor:
    """Predict Tm, Tg (degC, with intervals) and the probability of melting before decomposition.

    Build one with :meth:`train`, :meth:`load` or :meth:`default`.

    Examples
    --------
    >>> p = GlassPredictor.default()                         # doctest: +SKIP
    >>> p.predict(["Zn(Im)1.75(bIm)0.25"])[["tm_c", "tm_lo_c", "tm_hi_c", "p_melt"]]  # doctest: +SKIP
    """

    def __init__(self, heads: dict[str, _Head], *, metadata: dict[str, Any] | None = None,
                 featurizer: GlassFeaturizer | None = None):
        self.heads = heads
        self.metadata = metadata or {}
        self.featurizer = featurizer or GlassFeaturizer()
        self.feature_labels = self.featurizer.feature_labels()

    # ------------------------------------------------------------------ building
    @classmethod
    def train(cls, data: pd.DataFrame | None = None, *, params: dict[str, dict[str, Any]] | None = None,
              coverage: float = 0.8, seed: int = 0, n_jobs: int = 1, cv_metrics: dict[str, Any] | None = None,
              ) -> "GlassPredictor":
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
        """
        from mlglass import __version__
        from mlglass.datasets import load_glasses
        from mlglass.models.data import build_training_sets, frame_hash

        data = load_glasses() if data is None else data
        params = params or {}
        featurizer = GlassFeaturizer()
        sets, labels = build_training_sets(data, featurizer)
        heads: dict[str, _Head] = {}
        info: dict[str, Any] = {}
        for name in ("tm", "tg"):
            ts = sets[name]
            est = BoostedRegressor(coverage=coverage, random_state=seed, n_jobs=n_jobs, **params.get(name, {}))
            est.fit(ts.X, ts.y, groups=ts.groups)
            heads[name] = _Head(est.booster_.get_booster(), residuals=est.residuals_)
            info[name] = {"n_train": int(len(ts.y)), "excluded": ts.excluded, "params": est.get_params(),
                          "interval_halfwidth_c": est.interval_halfwidth(coverage)}
        ts = sets["melt"]
        clf = BoostedClassifier(random_state=seed, n_jobs=n_jobs, **params.get("melt", {}))
        clf.fit(ts.X, ts.y, groups=ts.groups)
        if clf.booster_ is None:
            heads["melt"] = _Head(None, constant=float(clf.classes_[0]))
        else:
            heads["melt"] = _Head(clf.booster_.get_booster(), platt=clf.platt_)
        info["melt"] = {"n_train": int(len(ts.y)), "n_positive": int(ts.y.sum()), "excluded": ts.excluded,
                        "params": clf.get_params(), "platt": clf.platt_}
        metadata_domain = _fit_domains(sets, labels, params, seed=seed, coverage=coverage)
        both = data[data["tm_c"].notna() & data["tg_c"].notna()]
        ratios = ((both["tg_c"] + _K) / (both["tm_c"] + _K)).to_numpy()
        ratio_cap = float(min(0.99, math.ceil(ratios.max() * 100) / 100)) if len(ratios) else 0.9
        metadata = {
            "format_version": FORMAT_VERSION, "mlglass_version": __version__, "xgboost_version": xgb.__version__,
            "feature_labels": labels, "training_data_sha256": frame_hash(data), "n_rows": int(len(data)),
            "coverage": coverage, "seed": seed, "tg_tm_ratio_cap": ratio_cap,
            "tg_tm_ratio_training_max": float(ratios.max()) if len(ratios) else None,
            "models": info, "cv_metrics": cv_metrics or {}, "domain": metadata_domain,
        }
        return cls(heads, metadata=metadata, featurizer=featurizer)

    def save(self, folder: str | os.PathLike) -> Path:
        """Write the bundle (xgboost JSON per model + ``metadata.json``), each file atomically."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        meta = dict(self.metadata)
        files = {}
        for name, head in self.heads.items():
            entry: dict[str, Any] = {"residuals": head.residuals.tolist(), "platt": head.platt,
                                     "constant": head.constant}
            if head.booster is not None:
                entry["sha256"] = save_booster(head.booster, folder, name)
                entry["file"] = f"{name}.json"
            files[name] = entry
        meta["files"] = files
        write_metadata(folder, meta)
        return folder

    @classmethod
    def load(cls, folder: str | os.PathLike) -> "GlassPredictor":
        """Load a bundle written by :meth:`save` (checks hashes, version and feature list; never unpickles).

        Raises
        ------
        ModelFileError
        """
        folder = Path(folder)
        featurizer = GlassFeaturizer()
        meta = read_metadata(folder, expected_labels=featurizer.feature_labels())
        files = meta.get("files")
        if not isinstance(files, dict) or set(files) != {"tm", "tg", "melt"}:
            raise ModelFileError(f"{folder}/metadata.json: 'files' must describe the tm, tg and melt models")
        heads = {}
        for name, entry in files.items():
            if not isinstance(entry, dict):
                raise ModelFileError(f"{folder}/metadata.json: entry {name!r} is not an object")
            booster = load_booster(folder, entry) if entry.get("file") is not None else None
            if booster is not None and booster.num_features() != len(featurizer.feature_labels()):
                raise ModelFileError(f"{folder}/{entry['file']}: model expects {booster.num_features()} features, "
                                     f"this mlglass makes {len(featurizer.feature_labels())}")
            try:
                residuals = [float(r) for r in entry.get("residuals") or []]
                platt = entry.get("platt")
                platt = None if platt is None else [float(platt[0]), float(platt[1])]
            except (TypeError, ValueError, IndexError):
                raise ModelFileError(f"{folder}/metadata.json: bad calibration data for {name!r}") from None
            heads[name] = _Head(booster, residuals=residuals, platt=platt, constant=entry.get("constant"))
        return cls(heads, metadata=meta, featurizer=featurizer)

    @classmethod
    def default(cls) -> "GlassPredictor":
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
                       td_c: np.ndarray | None = None, chemistry: Sequence[tuple] | None = None
                       ) -> dict[str, np.ndarray]:
        """Predictions for a descriptor matrix (rows of NaN give NaN).

        With ``chemistry`` (one ``(metals, donor kinds)`` pair per row, see
        :func:`mlglass.models.domain.record_chemistry`) and a bundle with domain data, the
        intervals widen with the distance to the training data and ``tm_domain``,
        ``tg_domain``, ``domain`` are returned too.
        """
        cov = self.coverage if coverage is None else coverage
        X = np.asarray(X, dtype=np.float32)
        tm = self.heads["tm"].predict(X)
        tg_raw = self.heads["tg"].predict(X)
        extra: dict[str, np.ndarray] = {}
        dom_tm, dom_tg = self.domain("tm"), self.domain("tg")
        if chemistry is not None and dom_tm is not None and dom_tg is not None and len(X):
            X64 = X.astype(float)
            b_tm, q_tm, _ = dom_tm.assess(X64, chemistry, check_coverage(cov))
            b_tg, q_tg, _ = dom_tg.assess(X64, chemistry, cov)
            rank = {"in": 0, "near": 1, "out": 2}
            worst = np.array([max(a, b, key=rank.get) for a, b in zip(b_tm, b_tg)], dtype=object)
            extra = {"tm_domain": b_tm, "tg_domain": b_tg, "domain": worst}
        else:
            q_tm = self.heads["tm"].halfwidth(cov)
            q_tg = self.heads["tg"].halfwidth(cov)
        cap = float(self.metadata.get("tg_tm_ratio_cap", 0.9))
        tm_lo, tm_hi = tm - q_tm, tm + q_tm
        tg, tg_lo, tg_hi = cap_tg_interval(tg_raw, q_tg, tm, tm_hi, cap)
        p = self.heads["melt"].predict(X)
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

    def predict(self, X: pd.DataFrame | Iterable[str] | Iterable[CompoundRecord], *, coverage: float | None = None,
                explain: bool = False, top: int = 3) -> pd.DataFrame:
        """Predict for a candidate table, a list of formulas or a list of records.

        Returns the input columns plus ``tm_c``, ``tm_lo_c``, ``tm_hi_c``, ``tg_c``, ``tg_lo_c``,
        ``tg_hi_c`` (degC; bounds at ``coverage``, default 0.8), ``p_melt`` (probability that
        the crystal melts before it decomposes) and ``error`` (empty for good rows; bad rows are
        kept with the reason and NaN predictions). With ``explain=True`` also
        ``tm_top_features`` and ``p_melt_top_features``: the ``top`` descriptors with the
        largest SHAP contributions (degC for Tm, log-odds for p_melt).
        """
        frame = as_candidate_frame(X)
        if coverage is not None:
            check_coverage(coverage)
        records, errors = records_from_frame(frame, on_error="report")
        row_labels = frame["id"].tolist() if "id" in frame.columns else list(frame.index)
        table, index, errors = featurize_unique(self.featurizer._parts(), records, errors, row_labels=row_labels)
        td = None
        bad_td = None
        if "td_c" in frame.columns:
            td, td_errors = checked_td(frame["td_c"], row_labels)
            bad_td = np.array([bool(e) for e in td_errors])
            errors = [e or t for e, t in zip(errors, td_errors)]
        out = frame.copy()
        chem, ox_used, ox_method = _record_info(records)
        preds = self.predict_matrix(table[index], coverage=coverage, td_c=td, chemistry=chem)
        for col, values in preds.items():
            out[col] = values
        out["oxidation_state_used"] = ox_used
        out["oxidation_state_method"] = ox_method
        if bad_td is not None and bad_td.any():  # a bad td_c is a row error: no prediction for that row
            for col in preds:
                if out[col].dtype.kind == "f":
                    out[col] = np.where(bad_td, np.nan, out[col].to_numpy(dtype=float))
        out["error"] = errors
        for col in ("tm_domain", "tg_domain", "domain", "oxidation_state_used", "oxidation_state_method"):
            if col in out.columns:
                out.loc[np.asarray([e != "" for e in errors], dtype=bool), col] = ""
        if explain:
            out["tm_top_features"] = self._explain(table, "tm", top, "degC")[index]
            out["p_melt_top_features"] = self._explain(table, "melt", top, "logit")[index]
        return out

    def _explain(self, table: np.ndarray, head: str, top: int, unit: str) -> np.ndarray:
        contrib = self.heads[head].contributions(table.astype(np.float32))[:, :-1]
        texts = np.empty(len(table), dtype=object)
        for i in range(len(table)):
            if not np.isfinite(table[i]).any():
                texts[i] = ""
                continue
            order = np.argsort(-np.abs(contrib[i]))[:top]
            texts[i] = "; ".join(f"{self.feature_labels[k]} {contrib[i, k]:+.3g} {unit}" for k in order)
        return texts


def cap_tg_interval(tg_raw: np.ndarray, q_tg: np.ndarray | float, tm: np.ndarray, tm_hi: np.ndarray,
                    cap: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cap Tg at ``cap * Tm`` (kelvin) and keep the interval's half-widths around the capped point.

    The upper bound is at most ``cap * tm_hi`` (kelvin), which lies above the capped point
    whenever the Tm interval has positive width, so the interval always brackets the estimate.
    """
    tg = np.minimum(tg_raw + _K, cap * (tm + _K)) - _K
    tg_lo = tg - q_tg
    tg_hi = np.minimum(tg + q_tg + _K, cap * (tm_hi + _K)) - _K
    tg_hi = np.maximum(tg_hi, tg)
    return tg, tg_lo, tg_hi


def _record_info(records: Sequence[CompoundRecord | None]) -> tuple[list, list, list]:
    """Per row: (metals, donor kinds), oxidation states used and the method (blank for bad rows)."""
    from mlglass.chem.oxidation import resolve_oxidation_states
    from mlglass.errors import RecordError
    from mlglass.models.domain import record_chemistry

    chem, used, method = [], [], []
    for rec in records:
        if rec is None:
            chem.append((frozenset(), frozenset()))
            used.append("")
            method.append("")
            continue
        chem.append(record_chemistry(rec))
        try:
            states, how = resolve_oxidation_states(rec)
            used.append(";".join(f"{s}:{v:g}" for s, v in states))
            method.append(how)
        except RecordError:
            used.append("")
            method.append("")
    return chem, used, method


def _fit_domains(sets: dict, labels: list[str], params: dict, *, seed: int, coverage: float) -> dict[str, Any]:
    """Fit the Tm and Tg applicability domains on chemistry-grouped CV of the training sets."""
    from mlglass.models.domain import ApplicabilityDomain, grouped_cv_calibration, record_chemistry
    from mlglass.records import record_from_mapping

    out: dict[str, Any] = {}
    for name in ("tm", "tg"):
        ts = sets[name]
        chem = [record_chemistry(record_from_mapping(row)) for row in ts.frame.to_dict("records")]
        dist, res = grouped_cv_calibration(
            ts.X, ts.y, ts.groups, labels, seed=seed,
            make_model=lambda: BoostedRegressor(**{"random_state": seed, **params.get(name, {}),
                                                   "calibration_folds": 0}))
        out[name] = ApplicabilityDomain(coverage=coverage).fit(ts.X, labels, chem, dist, res).to_dict()
    return out
