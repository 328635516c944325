"""Ligand descriptors (RDKit): flexibility, symmetry, size, charge, donors, substituents."""

from __future__ import annotations

import numpy as np

from mlglass.chem.ligands import SpeciesDescriptors
from mlglass.featurize.base import REVIEW_BIBTEX, RecordFeaturizer
from mlglass.featurize.batch import RecordBatch, entropy, gather

__all__ = ["LigandFeaturizer", "DONOR_GROUPS"]

_LABELS = list(SpeciesDescriptors.LABELS)
_POS = {d: k for k, d in enumerate(_LABELS)}
#: Descriptors also reported as totals per formula metal (extensive quantities).
_EXTENSIVE = ("heavy_atoms", "molar_mass_g_per_mol", "vdw_volume_a3", "charge", "rotatable_bonds",
              "h_bond_donors", "halogens", "ewg_count", "donor_atoms")
#: Descriptors also reported as the maximum over ligands.
_MAXED = ("rotatable_bonds", "kier_phi", "longest_flexible_chain", "heavy_atoms")
#: Donor groups reported as amount fractions.
DONOR_GROUPS = ("azolate_N", "azole_N", "nitrile_N", "thiocyanate_NS", "phosphate_O", "amide_O",
                "carboxylate_O", "phosphine_oxide_O", "halide", "other")


class LigandFeaturizer(RecordFeaturizer):
    """Stoichiometry-weighted descriptors of the coordinating ligands.

    Chemistry: flexible, low-symmetry ligands raise the entropy of fusion and
    lower Tm (Tm = dHfus/dSfus); weakly binding groups (amides, nitriles) lower
    the enthalpy; charge delocalisation weakens Coulombic cohesion (Ma & Horike
    2022, section 3). Per-species values come from RDKit and are cached per
    canonical SMILES.

    Features

    - ``ligand_<d>_mean`` for every species descriptor ``d`` (heavy atoms, molar mass g/mol,
      vdW volume A^3, charge, charge density, rotatable bonds, Kier Phi, fraction sp3 C, longest
      flexible chain, symmetry-class fraction, log2 automorphisms, rings, aromatic fraction, H-bond
      donors, halogens, electron-withdrawing groups, donor softness, donor atoms, donor-atom
      hardness eV, contains metal), weighted by moles per metal;
    - ``ligand_<d>_per_metal`` totals for extensive descriptors; ``ligand_<d>_max`` for flexibility/size;
    - ``ligand_amount_per_metal``, ``ligand_count``, ``ligand_mixing_entropy`` (-sum x ln x of the
      linker mole fractions; the mixed-linker effect of ZIF-62), ``ligand_minor_fraction``;
    - ``ligand_donor_<kind>_fraction`` for the donor kinds in :data:`DONOR_GROUPS`.

    Parameters
    ----------
    on_error : {"report", "raise"}, default="report"
        Batch behaviour (see :class:`~mlglass.featurize.base.RecordFeaturizer`).
    """

    def feature_labels(self) -> list[str]:
        labels = [f"ligand_{d}_mean" for d in _LABELS]
        labels += [f"ligand_{d}_per_metal" for d in _EXTENSIVE]
        labels += [f"ligand_{d}_max" for d in _MAXED]
        labels += ["ligand_amount_per_metal", "ligand_count", "ligand_mixing_entropy", "ligand_minor_fraction"]
        labels += [f"ligand_donor_{k}_fraction" for k in DONOR_GROUPS]
        return labels

    def featurize_batch(self, batch: RecordBatch) -> np.ndarray:
        """Descriptors of every record of a :class:`~mlglass.featurize.batch.RecordBatch`."""
        width = len(_LABELS)
        V = gather(batch.species_vec, batch.lig_idx)            # (n, k, width)
        a = batch.lig_amt
        mask = batch.lig_idx >= 0
        total = a.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            fr = a / total[:, None]
            ok = mask[:, :, None] & ~np.isnan(V)
            wsum = np.where(ok, fr[:, :, None], 0.0).sum(axis=1)
            mean = np.where(ok, V * fr[:, :, None], 0.0).sum(axis=1) / wsum
        mean[wsum == 0] = np.nan
        ext = [_POS[d] for d in _EXTENSIVE]
        per_metal = np.where(mask[:, :, None], V[:, :, ext] * a[:, :, None], 0.0).sum(axis=1)
        per_metal[(np.isnan(V[:, :, ext]) & mask[:, :, None]).any(axis=1)] = np.nan
        mx = [_POS[d] for d in _MAXED]
        maxed = np.where(mask[:, :, None], V[:, :, mx], -np.inf).max(axis=1)
        count = mask.sum(axis=1).astype(float)
        frac_clean = np.where(mask, np.nan_to_num(fr), 0.0)
        minor = 1.0 - np.where(mask, frac_clean, -np.inf).max(axis=1)
        group_of = np.array([DONOR_GROUPS.index(k) if k in DONOR_GROUPS else len(DONOR_GROUPS) - 1
                             for k in batch.species_kind] + [0], dtype=np.int64)
        g = group_of[np.where(batch.lig_idx < 0, len(group_of) - 1, batch.lig_idx)]
        donor = np.zeros((batch.n, len(DONOR_GROUPS)))
        rows = np.arange(batch.n)
        for k in range(batch.lig_idx.shape[1]):  # one slot at a time: each (row, group) pair at most once
            donor[rows, g[:, k]] += frac_clean[:, k]
        out = np.column_stack([mean, per_metal, maxed, total, count, entropy(frac_clean), minor, donor])
        none = ~mask.any(axis=1)
        if none.any():
            base = width + len(_EXTENSIVE) + len(_MAXED)
            out[none, :base] = np.nan
            out[none, base:] = 0.0
        return out

    def citations(self) -> list[str]:
        return [REVIEW_BIBTEX,
                "@article{kier1989,author={Kier, Lemont B.},title={An Index of Molecular Flexibility from "
                "Kappa Shape Attributes},journal={Quant. Struct.-Act. Relat.},volume={8},pages={221--224},year={1989}}",
                "@article{zhao2003,author={Zhao, Yuan H. and Abraham, Michael H. and Zissimos, Andreas M.},"
                "title={Fast Calculation of van der Waals Volume as a Sum of Atomic and Bond Contributions},"
                "journal={J. Org. Chem.},volume={68},pages={7368--7373},year={2003}}"]

