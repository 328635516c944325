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
