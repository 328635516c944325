"""Shared fixtures: the curated dataset and a tiny trained predictor."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")
# tests train on the glass data only unless they pass a thermal table themselves (the full Td models take minutes)
os.environ.setdefault("MLGLASS_THERMAL", "off")

REPO = Path(__file__).resolve().parents[1]

TINY = {"n_estimators": 15, "max_depth": 2, "calibration_folds": 3}


def synthetic_tm_tg_sets(X, tm, tg, groups) -> dict:
    """``{"tm": TrainingSet, "tg": TrainingSet}`` over the same synthetic compounds (ids ``c0...``;
    families ``ZIF`` for groups g0 and g1, ``other`` elsewhere)."""
    import numpy as np
    import pandas as pd

    from mlglass.models.training_sets import TrainingSet

    ids = np.array([f"c{i}" for i in range(len(tm))])
    frame = pd.DataFrame({"id": ids, "tm_c": tm, "tg_c": tg})
    fam = np.array(["ZIF" if g in ("g0", "g1") else "other" for g in groups])
    return {name: TrainingSet(name=name, X=X, y=y, groups=groups, families=fam, ids=ids, frame=frame, excluded={})
            for name, y in (("tm", tm), ("tg", tg))}


@pytest.fixture(scope="session")
def glasses():
    from mlglass.datasets import load_glasses

    return load_glasses()


@pytest.fixture(scope="session")
def tiny_predictor(glasses):
    """A small predictor trained on the curated data (seconds, not minutes)."""
    from mlglass.models.predictor import GlassPredictor

    return GlassPredictor.train(glasses, params={"tm": TINY, "tg": TINY, "melt": TINY})


@pytest.fixture(scope="session")
def tiny_model_dir(tiny_predictor, tmp_path_factory):
    folder = tmp_path_factory.mktemp("models")
    tiny_predictor.save(folder)
    return folder
