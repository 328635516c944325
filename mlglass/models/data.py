"""Deprecated import path: the training sets are in :mod:`mlglass.models.training_sets`.

Kept so that code importing ``mlglass.models.data`` keeps working; it will be removed.
"""

import warnings

from mlglass.models.training_sets import (  # noqa: F401
    TARGET_NAMES,
    TrainingSet,
    build_training_sets,
    frame_hash,
)

warnings.warn("mlglass.models.data is deprecated; import from mlglass.models.training_sets", DeprecationWarning,
              stacklevel=2)
