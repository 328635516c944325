import math

import pytest

from mlglass.chem.elements import cfse, d_electron_count, default_oxidation_state, metal_ion
from mlglass.errors import OxidationStateError, UnknownElementError


@pytest.mark.parametrize("sym,ox,d", [("Zn", 2, 10), ("Co", 2, 7), ("Cu", 1, 10), ("Cu", 2, 9), ("Cd", 2, 10),
                                      ("Mn", 2, 5), ("Fe", 2, 6), ("Fe", 3, 5), ("Cr", 3, 3), ("Ag", 1, 10),
                                      ("Mg", 2, 0), ("Li", 1, 0), ("Ga", 3, 10), ("Zr", 4, 0)])
def test_d_electrons(sym, ox, d):
    assert d_electron_count(sym, ox) == d


def test_cfse_values():
    assert cfse(10) == 0.0 and cfse(0) == 0.0 and cfse(5) == 0.0  # d10, d0, high-spin d5
    assert cfse(7, "octahedral") == pytest.approx(-0.8)
    assert cfse(7, "tetrahedral") == pytest.approx(-1.2)
    assert cfse(3, "octahedral") == pytest.approx(-1.2)


def test_zn_has_zero_cfse_and_co_is_stabilised():
    zn, co = metal_ion("Zn", 2), metal_ion("Co", 2)
    assert zn.d_electrons == 10 and zn.cfse_oct == 0 and zn.cfse_tet == 0
    assert co.d_electrons == 7 and co.cfse_oct < 0


def test_hsab_classes():
    assert metal_ion("Li", 1).hsab_class == "hard"
    assert metal_ion("Ag", 1).hsab_class == "soft"
    assert metal_ion("Zn", 2).hsab_class == "borderline"
    # Pearson hardness: Li+ much harder than Ag+
    assert metal_ion("Li", 1).hardness_ev > metal_ion("Ag", 1).hardness_ev


def test_radius_and_defaults():
    assert metal_ion("Zn", 2).ionic_radius_vi_a == pytest.approx(0.74)  # Shannon ionic (not crystal) radius, CN VI
    assert default_oxidation_state("Zn") == 2
    assert math.isfinite(metal_ion("Eu", 3).hardness_ev)


def test_errors():
    with pytest.raises(UnknownElementError):
        metal_ion("Qq", 2)
    with pytest.raises(OxidationStateError, match="Zn"):
        metal_ion("Zn", 7)
    with pytest.raises(UnknownElementError, match="not a metal"):
        metal_ion("C", 4)
