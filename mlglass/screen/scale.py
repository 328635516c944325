"""Deprecated import path: the execution back-ends of a screen are in :mod:`mlglass.screen.backends`.

Kept so that code importing ``mlglass.screen.scale`` keeps working; it will be removed.
"""

import warnings

from mlglass.screen.backends import (  # noqa: F401
    CONNECT_TIMEOUT_S,
    DaskRunner,
    ProcessRunner,
    SequentialRunner,
    model_bundle,
    model_fingerprint,
)

warnings.warn("mlglass.screen.scale is deprecated; import from mlglass.screen.backends", DeprecationWarning,
              stacklevel=2)
