"""Network descriptors: dimensionality, metal:linker ratio and charge balance."""

from __future__ import annotations

import numpy as np

from mlglass.featurize.base import REVIEW_BIBTEX, RecordFeaturizer
from mlglass.featurize.batch import RecordBatch, gather

__all__ = ["NetworkFeaturizer"]


class NetworkFeaturizer(RecordFeaturizer):
    """Dimensionality and connectivity of the coordination network.

    Chemistry: lower-dimensional networks (1D chains, 2D layers held by
    hydrogen bonds) melt at lower temperature than 3D frameworks of the same
    ions, and porosity lowers the entropy gain on melting (Ma & Horike 2022,
    sections 3.4 and 8.1).

    Features

    - ``network_dimensionality``: 0-3, NaN when unknown (never a silent zero);
    - (no "dimensionality known" indicator: in the curated data whether a paper states the
      dimensionality tracked the melt label, so the indicator would be a leak, not chemistry);
    - ``network_dim_0`` ... ``network_dim_3``: one-hot (all zero when unknown);
    - ``network_metal_to_linker_ratio``: metals per mole of coordinating ligand;
    - ``network_net_charge_per_metal``: oxidation state plus ligand and counter-ion charges
      (e per metal; non-zero flags an inconsistent record or an unusual charge assignment).

    Parameters
    ----------
    on_error : {"report", "raise"}, default="report"
        Batch behaviour (see :class:`~mlglass.featurize.base.RecordFeaturizer`).
    """

    def feature_labels(self) -> list[str]:
        return ["network_dimensionality", "network_dim_0", "network_dim_1",
                "network_dim_2", "network_dim_3", "network_metal_to_linker_ratio", "network_net_charge_per_metal"]

    def featurize_batch(self, batch: RecordBatch) -> np.ndarray:
        """Descriptors of every record of a :class:`~mlglass.featurize.batch.RecordBatch`."""
        dim = batch.dim
        known = ~np.isnan(dim)
        onehot = np.zeros((batch.n, 4))
        rows = np.flatnonzero(known)
        onehot[rows, dim[rows].astype(int)] = 1.0
        total = batch.lig_amt.sum(axis=1)
        with np.errstate(divide="ignore"):
            ratio = np.where(total > 0, 1.0 / np.where(total > 0, total, 1.0), np.nan)
        ox = np.array([m.oxidation_state for m in batch.metals]).reshape(-1, 1)
        charge = (gather(ox, batch.metal_idx, fill=0.0)[:, :, 0] * batch.metal_frac).sum(axis=1)
        q = batch.species_vec[:, 3:4] if len(batch.species_vec) else np.zeros((0, 1))
        charge = charge + (gather(q, batch.lig_idx, fill=0.0)[:, :, 0] * batch.lig_amt).sum(axis=1)
        charge = charge + (gather(q, batch.cnt_idx, fill=0.0)[:, :, 0] * batch.cnt_amt).sum(axis=1)
        return np.column_stack([dim, onehot, ratio, charge])

    def citations(self) -> list[str]:
        return [REVIEW_BIBTEX]
