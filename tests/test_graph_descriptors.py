"""Structure descriptors for the Td models (mlglass.structure.graph_descriptors) and the structure-only Td view."""

from __future__ import annotations

import math
import os
from pathlib import Path

import pandas as pd
import pytest

from mlglass.structure.graph_descriptors import (
    GRAPH_COLUMNS,
    graph_descriptors,
    graph_descriptors_for_cifs,
)

REPO = Path(__file__).resolve().parents[1]
SHARED_CIFS = Path(os.environ.get("MLGLASS_SHARED_DIR", REPO.parent / "shared" / "cifs"))
needs_cifs = pytest.mark.skipif(not (SHARED_CIFS / "ZIF-8.cif").exists(), reason="shared CIFs not available")


@needs_cifs
class TestDescriptors:
    def test_zif8_metal_site_and_autocorrelations(self):
        d = graph_descriptors(SHARED_CIFS / "ZIF-8.cif")
        assert list(d) == list(GRAPH_COLUMNS)
        assert sum(d[f"sg_frac_{k}"] for k in ("C", "H", "N", "O", "S", "P", "halogen", "metal", "other")) \
            == pytest.approx(1.0)
        # Zn(2-methylimidazolate)2: tetrahedral ZnN4, Zn-N about 2.0 A
        assert d["sg_metal_cn_mean"] == d["sg_metal_cn_min"] == d["sg_metal_cn_max"] == 4
        assert d["sg_donor_frac_N"] == 1.0 and d["sg_donor_frac_O"] == 0.0
        assert 1.9 < d["sg_md_bond_mean_a"] < 2.1
        # RACs: identity at depth 1 counts the metal's bonded neighbours; depth 0 is the property squared
        assert d["sg_mc_I_1"] == 4.0 and d["sg_mc_I_0"] == 1.0
        assert d["sg_mc_Z_0"] == 30.0 ** 2 and d["sg_mc_T_0"] == 16.0
        assert d["sg_Dmc_Z_1"] == pytest.approx(4 * (30 - 7))  # Zn minus its four N neighbours
        assert d["sg_metal_z_mean"] == 30.0 and d["sg_n_metal_elements"] == 1.0

    def test_pore_geometry_orders_frameworks(self):
        zif8, mof5 = (graph_descriptors(SHARED_CIFS / f) for f in ("ZIF-8.cif", "IRMOF-1.cif"))
        # MOF-5 has larger cavities and more void than ZIF-8 (Zeo++: 15.2 vs 11.4 A)
        assert 8 < zif8["sg_lcd_a"] < mof5["sg_lcd_a"] < 17
        assert 0.5 < zif8["sg_void_fraction"] < mof5["sg_void_fraction"] < 0.9
        assert mof5["sg_density_g_cm3"] == pytest.approx(0.59, abs=0.03)

    def test_record_failure_still_has_descriptors(self):
        # no hydrogen atoms: the record pipeline refuses the bare ring carbons, the structure is still there
        from mlglass.errors import StructureError
        from mlglass.structure import record_from_structure

        with pytest.raises(StructureError):
            record_from_structure(SHARED_CIFS / "ni_2d_flake.cif")
        d = graph_descriptors(SHARED_CIFS / "ni_2d_flake.cif")
        assert d["sg_metal_cn_mean"] == 4 and d["sg_frac_H"] == 0.0


def test_batch_reports_bad_files_and_uses_its_cache(tmp_path, monkeypatch):
    bad = tmp_path / "bad.cif"
    bad.write_text("not a cif at all\n", encoding="utf-8")
    nometal = tmp_path / "nometal.cif"
    nometal.write_text("data_x\n_cell_length_a 5\n_cell_length_b 5\n_cell_length_c 5\n_cell_angle_alpha 90\n"
                       "_cell_angle_beta 90\n_cell_angle_gamma 90\n_symmetry_space_group_name_H-M 'P 1'\n"
                       "loop_\n_atom_site_label\n_atom_site_type_symbol\n_atom_site_fract_x\n_atom_site_fract_y\n"
                       "_atom_site_fract_z\nC1 C 0 0 0\nO1 O 0.23 0 0\n", encoding="utf-8")
    paths = [bad, tmp_path / "missing.cif", nometal]
    out = graph_descriptors_for_cifs(paths, cache_dir=tmp_path / "cache")
    assert list(out.columns) == ["cif", *GRAPH_COLUMNS, "graph_error"]
    assert len(out) == 3 and (out["graph_error"] != "").all()
    assert "missing.cif" in out.loc[1, "graph_error"]
    assert "no metal" in out.loc[2, "graph_error"]
    assert out[list(GRAPH_COLUMNS)].isna().all().all()
    if (SHARED_CIFS / "ZIF-8.cif").exists():
        good = graph_descriptors_for_cifs([SHARED_CIFS / "ZIF-8.cif"], cache_dir=tmp_path / "cache")
        import mlglass.structure.graph_descriptors as gd

        def boom(source):
            raise AssertionError("not read from the cache")

        monkeypatch.setattr(gd, "graph_descriptors", boom)
        again = graph_descriptors_for_cifs([SHARED_CIFS / "ZIF-8.cif"], cache_dir=tmp_path / "cache")
        pd.testing.assert_frame_equal(good, again)
        assert math.isfinite(again.loc[0, "sg_lcd_a"])
