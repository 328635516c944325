"""Counter-ion and guest descriptors."""

from __future__ import annotations

import numpy as np

from mlglass.chem.ligands import SpeciesDescriptors
from mlglass.featurize.base import REVIEW_BIBTEX, RecordFeaturizer
from mlglass.featurize.batch import RecordBatch, gather

__all__ = ["CounterIonFeaturizer"]

_METAL = SpeciesDescriptors.LABELS.index("contains_metal")


class CounterIonFeaturizer(RecordFeaturizer):
    """Non-coordinating ions and guests.

    Chemistry: charge-delocalised, bulky, spatially separated ions weaken
    Coulombic cohesion (the anticrystal engineering of ionic liquids); the
    imidazolium cations of phosphate-azole CPs and uncoordinated [MCl4]2- anions
    of the metal-bis(acetamide) frameworks take part in melting (Ma & Horike
    2022, sections 3.1 and 3.4).

    Features (per formula metal unless noted)

    - ``counter_present`` (1/0), ``counter_count`` (distinct species),
      ``counter_amount_per_metal``;
    - ``counter_cation_amount``, ``counter_anion_amount``, ``counter_neutral_amount`` (guests),
      ``counter_complex_anion_amount`` (metal-containing anions such as [CoCl4]2-),
      ``counter_halide_amount``;
    - ``counter_charge_per_metal`` (signed, e), ``counter_heavy_atoms_per_metal``,
      ``counter_h_bond_donors_per_metal``;
    - ``counter_volume_mean_a3`` and ``counter_charge_density_mean`` (amount-weighted; NaN if none).

    Parameters
    ----------
    on_error : {"report", "raise"}, default="report"
        Batch behaviour (see :class:`~mlglass.featurize.base.RecordFeaturizer`).
    """

    def feature_labels(self) -> list[str]:
        return ["counter_present", "counter_count", "counter_amount_per_metal", "counter_cation_amount",
                "counter_anion_amount", "counter_neutral_amount", "counter_complex_anion_amount",
                "counter_halide_amount", "counter_charge_per_metal", "counter_heavy_atoms_per_metal",
                "counter_h_bond_donors_per_metal", "counter_volume_mean_a3", "counter_charge_density_mean"]

    def featurize_batch(self, batch: RecordBatch) -> np.ndarray:
        """Descriptors of every record of a :class:`~mlglass.featurize.batch.RecordBatch`."""
        V = gather(batch.species_vec, batch.cnt_idx, fill=0.0)
        a = batch.cnt_amt
        mask = batch.cnt_idx >= 0
        q = V[:, :, 3]
        total = a.sum(axis=1)

        def s(x):
            return (a * x).sum(axis=1)

        with np.errstate(invalid="ignore", divide="ignore"):
            vol = s(V[:, :, 2]) / total
            dens = s(V[:, :, 5]) / total
        out = np.column_stack([
            mask.any(axis=1).astype(float), mask.sum(axis=1).astype(float), total,
            s(q > 0), s(q < 0), s(q == 0), s((q < 0) & (V[:, :, _METAL] > 0)),
            s((V[:, :, 0] == 1) & (q < 0)), s(q), s(V[:, :, 0]), s(V[:, :, 14]), vol, dens])
        none = ~mask.any(axis=1)
        out[none, :11] = 0.0
        out[none, 11:] = np.nan
        return out

    def citations(self) -> list[str]:
        return [REVIEW_BIBTEX]
