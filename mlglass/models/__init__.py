"""Estimators, evaluation, tuning and persistence."""

from mlglass.models.boosting import BoostedClassifier, BoostedRegressor
from mlglass.models.predictor import OUTPUT_COLUMNS, GlassPredictor

__all__ = ["BoostedRegressor", "BoostedClassifier", "GlassPredictor", "OUTPUT_COLUMNS"]
