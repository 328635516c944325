"""Featurizers: one per chemical concept, plus :class:`GlassFeaturizer` that combines them.

>>> from mlglass.featurize import GlassFeaturizer
>>> import pandas as pd
>>> X = GlassFeaturizer().transform(pd.DataFrame({"metal": ["Zn"], "ligands": ["Im:2"]}))
>>> float(X.loc[0, "metal_d_electrons"])
10.0
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from mlglass.featurize.base import RecordFeaturizer, featurize_records, featurize_table, records_from_frame
from mlglass.featurize.batch import RecordBatch
from mlglass.featurize.hsab import HSABFeaturizer
from mlglass.featurize.ions import CounterIonFeaturizer
from mlglass.featurize.ligand import LigandFeaturizer
from mlglass.featurize.metal import MetalFeaturizer
from mlglass.featurize.network import NetworkFeaturizer
from mlglass.records import CompoundRecord

__all__ = [
    "RecordFeaturizer",
    "MetalFeaturizer",
    "LigandFeaturizer",
    "HSABFeaturizer",
    "NetworkFeaturizer",
    "CounterIonFeaturizer",
    "GlassFeaturizer",
    "featurize_records",
    "featurize_table",
    "records_from_frame",
]


class GlassFeaturizer(RecordFeaturizer):
    """Several descriptor groups in one transformer (the featurizer the models use).

    Like matminer's ``MultipleFeaturizer``: the descriptors of ``featurizers``
    side by side, in their order, so a group can be dropped for an ablation
    (``GlassFeaturizer([MetalFeaturizer(), LigandFeaturizer()])``).

    Parameters
    ----------
    featurizers : list of RecordFeaturizer, optional
        The groups; default: metal, ligand, HSAB, network and counter-ion descriptors
        (:meth:`default_parts`).
    default_geometry : str, default="octahedral"
        Passed to the default :class:`MetalFeaturizer`.
    on_error : {"report", "raise"}, default="report"
    """

    def __init__(self, featurizers: Sequence[RecordFeaturizer] | None = None, *,
                 default_geometry: str = "octahedral", on_error: str = "report"):
        self.featurizers = featurizers
        self.default_geometry = default_geometry
        self.on_error = on_error

    def default_parts(self) -> list[RecordFeaturizer]:
        """The descriptor groups of the bundled models."""
        return [MetalFeaturizer(default_geometry=self.default_geometry), LigandFeaturizer(), HSABFeaturizer(),
                NetworkFeaturizer(), CounterIonFeaturizer()]

    def _parts(self) -> list[RecordFeaturizer]:
        return list(self.featurizers) if self.featurizers is not None else self.default_parts()

    def feature_labels(self) -> list[str]:
        return [lab for f in self._parts() for lab in f.feature_labels()]

    def transform(self, X: pd.DataFrame | Iterable[CompoundRecord]) -> pd.DataFrame:
        return featurize_table(self._parts(), X, on_error=self.on_error)

    def featurize_batch(self, batch: RecordBatch) -> np.ndarray:
        """Descriptors of every group, side by side."""
        return np.hstack([f.featurize_batch(batch) for f in self._parts()])

    def citations(self) -> list[str]:
        seen: list[str] = []
        for f in self._parts():
            for c in f.citations():
                if c not in seen:
                    seen.append(c)
        return seen

    def describe_features(self) -> dict[str, Any]:
        """Map each feature label to the featurizer class that produces it."""
        return {lab: type(f).__name__ for f in self._parts() for lab in f.feature_labels()}
