"""Training sets: featurize the curated dataset (plus user data) for each target."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from mlglass.featurize import GlassFeaturizer

__all__ = ["TrainingSet", "build_training_sets", "frame_hash", "TARGET_NAMES"]

#: Model name -> dataset column.
TARGET_NAMES = {"tm": "tm_c", "tg": "tg_c", "melt": "melts"}


@dataclass
class TrainingSet:
    """Descriptors and labels of one target.

    Attributes
    ----------
    name : str
        ``"tm"``, ``"tg"`` or ``"melt"``.
    X : ndarray (n, n_features)
    y : ndarray (n,)
        degC for temperatures; 0/1 for ``melt``.
    groups : ndarray
        Chemistry group of each row (for grouped cross-validation): the dataset's ``series``
        merged with every near-duplicate compound (:func:`mlglass.models.domain.chemistry_groups`).
    families : ndarray
    ids : ndarray
    frame : pandas.DataFrame
        The dataset rows used (original columns).
    excluded : dict
        Reason -> number of dataset rows left out of this target.
    """

    name: str
    X: np.ndarray
    y: np.ndarray
    groups: np.ndarray
    families: np.ndarray
    ids: np.ndarray
    frame: pd.DataFrame
    excluded: dict[str, int]


def frame_hash(frame: pd.DataFrame) -> str:
    """SHA-256 of a table's CSV serialisation (the training-data hash in model metadata)."""
    return hashlib.sha256(frame.to_csv(index=False).encode("utf-8")).hexdigest()


def build_training_sets(data: pd.DataFrame, featurizer: GlassFeaturizer | None = None
                        ) -> tuple[dict[str, TrainingSet], list[str]]:
    """Featurize ``data`` (dataset schema, coerced dtypes) and split it per target.

    Rows that fail featurization are dropped and counted; rows without a
    composition (no ligands: the ZIF range rows) and composite rows (``composite`` true:
    a framework plus another phase) train no model; rows with only a
    range (``*_low_c``/``*_high_c``) or no value for a target are left out of
    that target and counted.

    Returns
    -------
    sets : dict of str to TrainingSet
    labels : list of str
        Feature labels.
    """
    featurizer = featurizer or GlassFeaturizer()
    feats = featurizer.transform(data)
    labels = featurizer.feature_labels()
    from mlglass.models.domain import chemistry_groups

    bad = feats["error"] != ""
    X_all = feats[labels].to_numpy(dtype=float)
    no_composition = (~bad.to_numpy()) & (X_all[:, labels.index("ligand_count")] == 0)
    composite = (data["composite"].fillna(False).astype(bool).to_numpy() if "composite" in data
                 else np.zeros(len(data), dtype=bool))
    usable = ~bad.to_numpy() & ~no_composition & ~composite
    series_all = data["series"].astype(str).to_numpy() if "series" in data else data["id"].astype(str).to_numpy()
    groups_all = np.array([""] * len(data), dtype=object)
    # one grouping over every usable row, so Tm, Tg and melt folds share their group keys
    groups_all[usable] = chemistry_groups(X_all[usable], labels, series_all[usable])
    sets: dict[str, TrainingSet] = {}
    family = data["family"].astype(str).to_numpy() if "family" in data else np.array(["user"] * len(data))
    for name, col in TARGET_NAMES.items():
        excluded: dict[str, int] = {}
        if col not in data:
            continue
        values = data[col]
        has = values.notna().to_numpy()
        stem = col.removesuffix("_c")
        if f"{stem}_low_c" in data:
            excluded["range only"] = int((~has & data[f"{stem}_low_c"].notna().to_numpy()).sum())
        excluded["no value"] = int((~has).sum()) - excluded.get("range only", 0)
        excluded["featurization failed"] = int((has & bad.to_numpy()).sum())
        excluded["no composition"] = int((has & no_composition).sum())
        excluded["composite"] = int((has & composite & ~bad.to_numpy()).sum())
        use = has & ~bad.to_numpy() & ~no_composition & ~composite
        y = values[use].astype(float).to_numpy() if name != "melt" else values[use].astype(bool).astype(int).to_numpy()
        sets[name] = TrainingSet(name=name, X=X_all[use], y=y, groups=groups_all[use], families=family[use],
                                 ids=data["id"].astype(str).to_numpy()[use], frame=data[use].reset_index(drop=True),
                                 excluded=excluded)
    return sets, labels
