"""Metal-centre descriptors: d-electron count, crystal-field terms, size, hardness."""

from __future__ import annotations

import numpy as np

from mlglass.featurize.base import REVIEW_BIBTEX, RecordFeaturizer
from mlglass.featurize.batch import RecordBatch, entropy, gather

__all__ = ["MetalFeaturizer"]


class MetalFeaturizer(RecordFeaturizer):
    """Fraction-weighted descriptors of the network-forming metal ion(s).

    Chemistry: d10 ions (Zn2+, Cd2+, Cu+, Ag+) have zero crystal-field
    stabilisation energy (CFSE) and dissociate coordination bonds more easily,
    which favours melting (Ma & Horike 2022, sections 3 and 8.1).

    Features (mixed metals: mean weighted by site fraction, plus min/max where noted)

    - ``metal_d_electrons``: d-electron count of the ion (group minus charge for d-block metals).
    - ``metal_d10_fraction`` / ``metal_d0_fraction``: site fraction of d10 / d0 ions.
    - ``metal_cfse_oct_delta_o`` / ``metal_cfse_tet_delta_o``: high-spin CFSE, both in units of
      Delta_o (Delta_t = 4/9 Delta_o, so tetrahedral Co2+ is -0.53, not -1.2).
    - ``metal_cfse_geom_delta_o``: CFSE for the record's ``geometry`` (default ``default_geometry``),
      in Delta_o; ``_min``/``_max`` over the metals.
    - ``metal_oxidation_state`` (given, else from charge balance, else the default:
      :mod:`mlglass.chem.oxidation`); ``metal_shannon_ionic_radius_a`` (Shannon ionic radius,
      angstrom, at coordination number IV for tetrahedral records and VI otherwise; NaN where
      Shannon lists none);
      ``metal_electronegativity`` (Pauling); ``metal_hardness_ev`` (absolute Pearson hardness, eV;
      ``_min``/``_max``); ``metal_hsab_softness`` (0 hard, 0.5 borderline, 1 soft);
      ``metal_period``; ``metal_group``; ``metal_atomic_mass`` (g/mol);
      ``metal_count`` (distinct metals); ``metal_mixing_entropy`` (-sum x ln x, in units of R).

    Parameters
    ----------
    default_geometry : {"octahedral", "tetrahedral"}, default="octahedral"
        Geometry assumed for ``metal_cfse_geom_delta`` when the record has none.
    on_error : {"report", "raise"}, default="report"
    """

    def __init__(self, *, default_geometry: str = "octahedral", on_error: str = "report"):
        self.default_geometry = default_geometry
        self.on_error = on_error

    def feature_labels(self) -> list[str]:
        return [
            "metal_d_electrons", "metal_d10_fraction", "metal_d0_fraction", "metal_cfse_oct_delta_o",
            "metal_cfse_tet_delta_o", "metal_cfse_geom_delta_o", "metal_cfse_geom_min_delta_o",
            "metal_cfse_geom_max_delta_o", "metal_oxidation_state", "metal_shannon_ionic_radius_a",
            "metal_electronegativity", "metal_hardness_ev", "metal_hardness_min_ev", "metal_hardness_max_ev",
            "metal_hsab_softness", "metal_period", "metal_group", "metal_atomic_mass", "metal_count",
            "metal_mixing_entropy",
        ]

    def featurize_batch(self, batch: RecordBatch) -> np.ndarray:
        """Descriptors of every record of a :class:`~mlglass.featurize.batch.RecordBatch`."""
        props = np.array([[m.d_electrons, float(m.d_electrons == 10), float(m.d_electrons == 0), m.cfse_oct,
                           m.cfse_tet, m.oxidation_state, m.ionic_radius_vi_a, m.electronegativity, m.hardness_ev,
                           m.hsab_value, m.period, m.group, m.atomic_mass, m.ionic_radius_iv_a]
                          for m in batch.metals]).reshape(-1, 14)
        V = gather(props, batch.metal_idx)                      # (n, k, 14)
        f = batch.metal_frac
        mask = batch.metal_idx >= 0
        default_tet = self.default_geometry == "tetrahedral"
        tet = np.where(batch.geometry_given, batch.tetrahedral, default_tet)[:, None]
        cf_geo = np.where(tet, V[:, :, 4], V[:, :, 3])          # (n, k)
        radius = np.where(tet, V[:, :, 13], V[:, :, 6])

        def wsum(x):
            return np.where(mask, x * f, 0.0).sum(axis=1)

        hard = V[:, :, 8]
        out = np.column_stack([
            wsum(V[:, :, 0]), wsum(V[:, :, 1]), wsum(V[:, :, 2]), wsum(V[:, :, 3]), wsum(V[:, :, 4]), wsum(cf_geo),
            np.where(mask, cf_geo, np.inf).min(axis=1), np.where(mask, cf_geo, -np.inf).max(axis=1),
            wsum(V[:, :, 5]), wsum(radius), wsum(V[:, :, 7]), wsum(hard),
            np.where(mask, hard, np.inf).min(axis=1), np.where(mask, hard, -np.inf).max(axis=1),
            wsum(V[:, :, 9]), wsum(V[:, :, 10]), wsum(V[:, :, 11]), wsum(V[:, :, 12]),
            mask.sum(axis=1).astype(float), entropy(f),
        ])
        out[~mask.any(axis=1)] = np.nan
        return out

    def citations(self) -> list[str]:
        return [REVIEW_BIBTEX,
                "@article{pearson1963,author={Pearson, Ralph G.},title={Hard and Soft Acids and Bases},"
                "journal={J. Am. Chem. Soc.},volume={85},pages={3533--3539},year={1963}}",
                "@article{shannon1976,author={Shannon, R. D.},title={Revised effective ionic radii},"
                "journal={Acta Cryst. A},volume={32},pages={751--767},year={1976}}"]
