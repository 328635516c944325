"""Training a :class:`~mlglass.models.predictor.GlassPredictor` bundle: the boosted heads, the
applicability domains and the metadata (:meth:`GlassPredictor.train` calls :func:`train_bundle`)."""

from __future__ import annotations

import math
import os
from typing import Any

import pandas as pd
import xgboost as xgb

from mlglass.featurize import GlassFeaturizer
from mlglass.models.boosting import FittedBooster, make_estimator
from mlglass.models.decomposition_view import KELVIN as _K
from mlglass.models.persistence import FORMAT_VERSION

__all__ = ["train_bundle"]


def train_bundle(data: pd.DataFrame | None = None, *, params: dict[str, dict[str, Any]] | None = None,
                 coverage: float = 0.8, seed: int = 0, n_jobs: int = 1, cv_metrics: dict[str, Any] | None = None,
                 thermal: pd.DataFrame | None | bool = None
                 ) -> tuple[dict[str, FittedBooster], dict[str, Any], GlassFeaturizer]:
    """The heads, metadata and featurizer of a bundle trained on ``data``.

    Parameters and defaults as :meth:`mlglass.models.predictor.GlassPredictor.train`.
    """
    from mlglass import __version__
    from mlglass.datasets import load_glasses
    from mlglass.models.training_sets import build_training_sets, frame_hash

    data = load_glasses() if data is None else data
    params = params or {}
    featurizer = GlassFeaturizer()
    sets, labels = build_training_sets(data, featurizer)
    heads: dict[str, FittedBooster] = {}
    info: dict[str, Any] = {}
    for name in ("tm", "tg"):
        ts = sets[name]
        est = make_estimator("regressor", coverage=coverage, random_state=seed, n_jobs=n_jobs,
                             **params.get(name, {}))
        est.fit(ts.X, ts.y, groups=ts.groups)
        heads[name] = est.fitted_
        info[name] = {"n_train": int(len(ts.y)), "excluded": ts.excluded, "params": est.get_params(),
                      "interval_halfwidth_c": est.interval_halfwidth(coverage)}
    ts = sets["melt"]
    clf = make_estimator("classifier", random_state=seed, n_jobs=n_jobs, **params.get("melt", {}))
    clf.fit(ts.X, ts.y, groups=ts.groups)
    one_class = FittedBooster(None, constant=float(clf.classes_[0])) if clf.booster_ is None else None
    heads["melt"] = one_class or clf.fitted_
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
    if thermal is not False:
        from mlglass.models.decomposition_training import train_decomposition_heads

        if thermal is None or thermal is True:
            from mlglass.datasets import dataset_path, load_thermal

            use = os.environ.get("MLGLASS_THERMAL", "").lower() not in ("off", "0", "false", "no")
            thermal = load_thermal() if use and dataset_path("thermal.csv").exists() else None
        if isinstance(thermal, pd.DataFrame):
            extra_heads, extra_info = train_decomposition_heads(
                data, thermal, featurizer, coverage=coverage, seed=seed, n_jobs=n_jobs,
                params={k: params[k] for k in ("td", "tm_aft") if k in params})
            heads.update(extra_heads)
            metadata["decomposition"] = extra_info
            from mlglass.models.tm_anchor import ANCHOR_KIND, train_bundle_anchor

            if ANCHOR_KIND is not None:  # Td-anchored Tm, the winner of the nested CV (issue 11)
                anchor, metadata["tm_anchor"] = train_bundle_anchor(
                    sets, labels, thermal, featurizer, kind=ANCHOR_KIND, seed=seed, coverage=coverage,
                    n_jobs=n_jobs, td_params=params.get("td"))
                heads["tm_anchor"] = FittedBooster(anchor)
    return heads, metadata, featurizer


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
            make_model=lambda name=name: make_estimator("regressor", **{"random_state": seed, **params.get(name, {}),
                                                                        "calibration_folds": 0}))
        out[name] = ApplicabilityDomain(coverage=coverage).fit(ts.X, labels, chem, dist, res).to_dict()
    return out
