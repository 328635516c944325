"""Hard/soft acid-base match between the metal and the donor atoms."""

from __future__ import annotations

import numpy as np

from mlglass.chem.ligands import SpeciesDescriptors
from mlglass.featurize.base import REVIEW_BIBTEX, RecordFeaturizer
from mlglass.featurize.batch import RecordBatch, gather

__all__ = ["HSABFeaturizer"]

_SOFT = SpeciesDescriptors.LABELS.index("donor_softness")


class HSABFeaturizer(RecordFeaturizer):
    """Pearson hard/soft acid-base mismatch between metal ions and ligand donors.

    Chemistry: a hard acid with a soft base (Li+ with the nitrile of
    succinonitrile, Ma & Horike 2022 section 7.1.2) binds weakly, which lowers
    the enthalpy of fusion and eases melting and ion transport.

    Features

    - ``hsab_mismatch``: mean |softness(metal) - softness(donor)| over metal/ligand pairs
      weighted by site fraction and moles of ligand (0 match ... 1 hard/soft mismatch).
    - ``hsab_signed_difference``: mean softness(metal) - softness(donor).
    - ``hsab_donor_softness``: ligand-weighted donor softness.

    Donors are placed on one scale only, Pearson's HSAB classes
    (:data:`mlglass.chem.ligands.DONOR_SOFTNESS`); no neutral-atom hardness is used for
    donors (it ranks O donors softer than azolate N, against Pearson's classes).

    Parameters
    ----------
    on_error : {"report", "raise"}, default="report"
        Batch behaviour (see :class:`~mlglass.featurize.base.RecordFeaturizer`).
    """

    def feature_labels(self) -> list[str]:
        return ["hsab_mismatch", "hsab_signed_difference", "hsab_donor_softness"]

    def featurize_batch(self, batch: RecordBatch) -> np.ndarray:
        """Descriptors of every record of a :class:`~mlglass.featurize.batch.RecordBatch`."""
        mprops = np.array([[m.hsab_value, m.hardness_ev] for m in batch.metals]).reshape(-1, 2)
        M = gather(mprops, batch.metal_idx, fill=0.0)            # (n, km, 2)
        f = batch.metal_frac                                     # zero on padding
        S = gather(batch.species_vec[:, [_SOFT]] if len(batch.species_vec) else np.zeros((0, 1)),
                   batch.lig_idx)                                # (n, kl, 1)
        donor = (batch.lig_idx >= 0) & ~np.isnan(S[:, :, 0])
        a = np.where(donor, batch.lig_amt, 0.0)
        wsum = a.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            w = a / wsum[:, None]
        w = np.nan_to_num(w)
        soft_d = np.nan_to_num(S[:, :, 0])
        pair_w = f[:, :, None] * w[:, None, :]                   # (n, km, kl)
        diff = M[:, :, None, 0] - soft_d[:, None, :]
        mismatch = (pair_w * np.abs(diff)).sum(axis=(1, 2))
        signed = (pair_w * diff).sum(axis=(1, 2))
        donor_soft = (w * soft_d).sum(axis=1)
        out = np.column_stack([mismatch, signed, donor_soft])
        out[wsum == 0] = np.nan
        return out

    def citations(self) -> list[str]:
        return [REVIEW_BIBTEX,
                "@article{parr1983,author={Parr, Robert G. and Pearson, Ralph G.},title={Absolute hardness: "
                "companion parameter to absolute electronegativity},journal={J. Am. Chem. Soc.},volume={105},"
                "pages={7512--7516},year={1983}}"]
