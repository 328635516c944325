"""Decomposition temperature (Td) and the melt-before-decompose model, trained on the thermal table.

Views
-----
Three Td regressors (xgboost, :class:`~mlglass.models.boosting.BoostedRegressor`,
split-conformal 80 % intervals from out-of-fold residuals of each view):

* ``td_cif``: the record descriptors of :class:`~mlglass.featurize.GlassFeaturizer`
  plus the structure descriptors of a CIF: the record pipeline's
  (:data:`~mlglass.thermal.STRUCT_COLUMNS`: density, closest metal-metal distance,
  void fraction, mean coordination number, atoms per cell) and the graph
  descriptors of :mod:`mlglass.structure.graph_descriptors`
  (:data:`~mlglass.thermal.GRAPH_COLUMNS`: composition fractions, pore grid,
  metal-donor bonds, revised autocorrelations);
* ``td_row``: the record descriptors only, for candidate-table rows without a
  structure;
* ``td_struct``: the graph descriptors only, for CIFs whose compound record
  cannot be extracted (ligand perception, oxidation states, timeouts). It is
  trained on every train/val row with graph descriptors, including rows whose
  record failed.

Each view's intervals come from its own residuals, so they are as wide as that
view's errors.

Both are fitted on the published ``train`` + ``val`` rows of the thermal table
(``datasets/thermal.csv``); the ``test`` rows are never used for fitting,
tuning or feature selection (they are for ``mlglass evaluate`` only).

Melting versus decomposition
----------------------------
:func:`tm_censored_labels` turns the data into interval labels of Tm for
:class:`~mlglass.models.censored.CensoredTmRegressor`:

* a measured Tm (``datasets/glasses.csv``): exact, ``[Tm, Tm]``;
* a Tm range: ``[low, high]``;
* a compound the review says melts, with a Td but no Tm: ``(-inf, Td]``;
* a compound the review says does not melt: ``[Td, +inf)`` with its Td, or the
  ``td_row`` prediction when it has none;
* a thermal-table framework (train/val, not a known melter): ``[Td, +inf)``;
  a known melter (e.g. Zn(Im)2 polymorphs): ``(-inf, Td]``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mlglass.featurize import GlassFeaturizer
from mlglass.models.boosting import BoostedRegressor, make_estimator
from mlglass.thermal import GRAPH_COLUMNS, STRUCT_COLUMNS

__all__ = ["ThermalSet", "featurize_thermal", "struct_matrix", "graph_matrix", "fit_td_regressors", "TD_PARAMS",
           "TM_AFT_PARAMS", "tm_censored_labels", "TRAIN_SPLITS", "struct_feature_labels", "TD_VIEWS"]

#: Td heads: name -> what the view sees.
TD_VIEWS = {"td_cif": "record + structure descriptors", "td_row": "record descriptors",
            "td_struct": "structure (graph) descriptors only"}

#: Splits of the thermal table used for fitting (``test`` is held out).
TRAIN_SPLITS = ("train", "val")
#: Hyperparameters of the Td regressors, chosen on the val split (fitted on train, 48 settings of depth,
#: learning rate, column sampling and child weight; depth 8 was best for all three views); never on test.
TD_PARAMS: dict[str, Any] = {"n_estimators": 600, "max_depth": 8, "learning_rate": 0.03, "subsample": 0.8,
                             "colsample_bytree": 0.6, "min_child_weight": 3.0}
#: Hyperparameters of the censored Tm model.
TM_AFT_PARAMS: dict[str, Any] = {"n_estimators": 400, "max_depth": 3, "learning_rate": 0.05, "sigma": 0.12}
_EXACT_WEIGHT = 5.0  # weight of a measured Tm (or Tm bound of a melter) against one censored framework


def struct_feature_labels() -> list[str]:
    """Labels of the structure descriptors appended in the CIF view (after the record descriptors)."""
    return list(STRUCT_COLUMNS) + list(GRAPH_COLUMNS)


def _numeric_matrix(frame: pd.DataFrame, columns: tuple[str, ...] | list[str]) -> np.ndarray:
    """``columns`` of ``frame`` as floats (NaN where absent or not numeric)."""
    from mlglass.models.predictor import numeric_column

    out = np.full((len(frame), len(columns)), np.nan)
    for j, col in enumerate(columns):
        if col in frame.columns:
            out[:, j] = numeric_column(frame[col].reset_index(drop=True))
    return out


def graph_matrix(frame: pd.DataFrame) -> np.ndarray:
    """The ``sg_*`` columns of ``frame`` as floats (NaN where absent or not numeric)."""
    return _numeric_matrix(frame, GRAPH_COLUMNS)


def struct_matrix(frame: pd.DataFrame) -> np.ndarray:
    """The ``struct_*`` columns of ``frame`` as floats (NaN where absent or not numeric)."""
    return _numeric_matrix(frame, STRUCT_COLUMNS)


@dataclass
class ThermalSet:
    """Featurized thermal-table rows (those without an ``error``).

    Attributes
    ----------
    X_row : ndarray (n, n_record_features)
    X_struct : ndarray (n, 5 + n_graph)
        Record-pipeline structure descriptors, then the graph descriptors.
    y : ndarray (n,)
        Td (degC).
    split, refcode, metal : ndarray of str
    known_melter : ndarray of bool
    excluded : dict
        Reason -> rows left out.
    G_X, G_y, G_split, G_refcode : ndarray
        Structure-only view: graph descriptors, Td, split and refcode of every row with
        graph descriptors (also rows whose record extraction failed).
    """

    X_row: np.ndarray
    X_struct: np.ndarray
    y: np.ndarray
    split: np.ndarray
    refcode: np.ndarray
    metal: np.ndarray
    known_melter: np.ndarray
    excluded: dict[str, int]
    G_X: np.ndarray = field(default_factory=lambda: np.empty((0, len(GRAPH_COLUMNS))))
    G_y: np.ndarray = field(default_factory=lambda: np.empty(0))
    G_split: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=str))
    G_refcode: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=str))

    @property
    def X_cif(self) -> np.ndarray:
        return np.hstack([self.X_row, self.X_struct])

    def mask(self, splits: tuple[str, ...]) -> np.ndarray:
        return np.isin(self.split, splits)

    def graph_mask(self, splits: tuple[str, ...]) -> np.ndarray:
        return np.isin(self.G_split, splits)


def featurize_thermal(thermal: pd.DataFrame, featurizer: GlassFeaturizer | None = None) -> ThermalSet:
    """Descriptors of the thermal table's good rows (CIF-pipeline failures and featurization failures dropped).

    Averaged mixed-valence oxidation states are rounded as for CIF input
    (:func:`~mlglass.models.cif_input.round_oxidation_states`).
    """
    from mlglass.models.cif_input import round_oxidation_states

    featurizer = featurizer or GlassFeaturizer()
    gx = graph_matrix(thermal)
    g_ok = np.isfinite(gx).any(axis=1) & thermal["td_c"].notna().to_numpy()
    good = thermal[(thermal["error"] == "") & thermal["td_c"].notna()].reset_index(drop=True)
    good["oxidation_state"] = [round_oxidation_states(v) for v in good["oxidation_state"]]
    cols = [c for c in ("metal", "oxidation_state", "ligands", "counter_ions", "dimensionality", "geometry")
            if c in good.columns]
    feats = featurizer.transform(good[cols])
    ok = (feats["error"] == "").to_numpy()
    labels = featurizer.feature_labels()
    good = good[ok].reset_index(drop=True)
    return ThermalSet(X_row=feats.loc[ok, labels].to_numpy(dtype=float),
                      X_struct=np.hstack([struct_matrix(good), graph_matrix(good)]),
                      y=good["td_c"].to_numpy(dtype=float), split=good["split"].astype(str).to_numpy(),
                      refcode=good["refcode"].astype(str).to_numpy(),
                      metal=good["metal"].astype(str).to_numpy(),
                      known_melter=good["known_melter"].astype(bool).to_numpy(),
                      excluded={"CIF pipeline failed": int((thermal["error"] != "").sum()),
                                "featurization failed": int((~ok).sum())},
                      G_X=gx[g_ok], G_y=thermal["td_c"].to_numpy(dtype=float)[g_ok],
                      G_split=thermal["split"].astype(str).to_numpy()[g_ok],
                      G_refcode=thermal["refcode"].astype(str).to_numpy()[g_ok])


def fit_td_regressors(ts: ThermalSet, *, splits: tuple[str, ...] = TRAIN_SPLITS, coverage: float = 0.8,
                      seed: int = 0, n_jobs: int = 1, params: dict[str, Any] | None = None
                      ) -> dict[str, BoostedRegressor]:
    """Fit the Td regressors of :data:`TD_VIEWS` on ``splits`` (never ``test``).

    ``td_struct`` is fitted only when the table has graph descriptors.
    """
    if "test" in splits:
        raise ValueError("the test split is held out: fit on train/val only")
    params = {**TD_PARAMS, **(params or {})}
    m = ts.mask(splits)
    out = {}
    for name, X in (("td_cif", ts.X_cif), ("td_row", ts.X_row)):
        out[name] = make_estimator("regressor", coverage=coverage, random_state=seed, n_jobs=n_jobs, **params).fit(
            X[m], ts.y[m])
    g = ts.graph_mask(splits)
    if g.sum() >= 10:
        out["td_struct"] = make_estimator("regressor", coverage=coverage, random_state=seed, n_jobs=n_jobs,
                                          **params).fit(ts.G_X[g], ts.G_y[g])
    return out


def tm_censored_labels(glasses: pd.DataFrame, X_glasses: np.ndarray, ts: ThermalSet | None, *,
                       td_row_pred_glasses: np.ndarray | None = None, splits: tuple[str, ...] = TRAIN_SPLITS,
                       glass_rows: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Interval labels of Tm (degC) from the glass dataset and the thermal table (see module docstring).

    Parameters
    ----------
    glasses : DataFrame
        Dataset schema (``tm_c``, ``tm_low_c``, ``tm_high_c``, ``td_c``, ``melts``).
    X_glasses : ndarray
        Record descriptors of ``glasses`` (NaN rows are skipped).
    ts : ThermalSet, optional
        Thermal rows; only ``splits`` are used.
    td_row_pred_glasses : ndarray, optional
        Predicted Td of the glass rows (censoring point of a non-melter without a measured Td).
    glass_rows : ndarray of bool, optional
        Use only these glass rows (cross-validation folds).

    Returns
    -------
    dict with ``X``, ``lower``, ``upper``, ``weight``, ``source`` (``"glass"``/``"thermal"``) and ``kind``.
    """
    n = len(glasses)
    use = np.ones(n, bool) if glass_rows is None else np.asarray(glass_rows, bool)
    use &= np.isfinite(X_glasses).any(axis=1)
    if "composite" in glasses:  # a composite's melting is not its framework's (it trains no model)
        use &= ~glasses["composite"].astype("boolean").fillna(False).to_numpy(dtype=bool)

    def col(name: str) -> np.ndarray:
        return glasses[name].to_numpy(dtype=float) if name in glasses else np.full(n, np.nan)

    tm, lo_r, hi_r, td = col("tm_c"), col("tm_low_c"), col("tm_high_c"), col("td_c")
    melts = glasses["melts"].astype("boolean") if "melts" in glasses else pd.Series([pd.NA] * n, dtype="boolean")
    td_fallback = np.where(np.isfinite(td), td, td_row_pred_glasses if td_row_pred_glasses is not None else np.nan)
    lower = np.full(n, np.nan)
    upper = np.full(n, np.nan)
    kind = np.array([""] * n, dtype=object)
    exact = np.isfinite(tm)
    lower[exact], upper[exact], kind[exact] = tm[exact], tm[exact], "measured Tm"
    rng = ~exact & np.isfinite(lo_r) & np.isfinite(hi_r)
    lower[rng], upper[rng], kind[rng] = lo_r[rng], hi_r[rng], "Tm range"
    melter_td = ~exact & ~rng & (melts == True).fillna(False).to_numpy() & np.isfinite(td)  # noqa: E712
    lower[melter_td], upper[melter_td], kind[melter_td] = -273.15, td[melter_td], "melts below Td"
    non = (melts == False).fillna(False).to_numpy() & ~exact & np.isfinite(td_fallback)  # noqa: E712
    lower[non], upper[non], kind[non] = td_fallback[non], np.inf, "does not melt (Tm > Td)"
    keep = use & np.isfinite(lower)
    parts = {"X": [X_glasses[keep]], "lower": [lower[keep]], "upper": [upper[keep]],
             "weight": [np.full(int(keep.sum()), _EXACT_WEIGHT)], "source": [np.array(["glass"] * int(keep.sum()))],
             "kind": [kind[keep].astype(str)]}
    if ts is not None:
        m = ts.mask(splits)
        melter = ts.known_melter[m]
        y = ts.y[m]
        parts["X"].append(ts.X_row[m])
        parts["lower"].append(np.where(melter, -273.15, y))
        parts["upper"].append(np.where(melter, y, np.inf))
        parts["weight"].append(np.where(melter, _EXACT_WEIGHT, 1.0))
        parts["source"].append(np.array(["thermal"] * int(m.sum())))
        parts["kind"].append(np.where(melter, "known melter (Tm < Td)", "decomposes (Tm > Td)"))
    return {k: np.concatenate(v) for k, v in parts.items()}
