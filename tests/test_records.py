import math

import numpy as np
import pandas as pd
import pytest

from mlglass.errors import (DimensionalityError, OxidationStateError, RecordError, StoichiometryError,
                            UnknownElementError)
from mlglass.records import (CompoundRecord, parse_amounts, parse_dimensionality, parse_metals,
                             record_from_mapping)


class TestAmounts:
    def test_basic(self):
        assert parse_amounts("Im:1.75;bIm:0.25", "ligands") == (("Im", 1.75), ("bIm", 0.25))

    def test_smiles_with_colons_split_on_last_numeric_colon(self):
        # aromatic-bond SMILES contain ':'
        assert parse_amounts("c1:c:[n-]:c:n:1:2", "ligands") == (("c1:c:[n-]:c:n:1", 2.0),)

    def test_duplicates_are_summed(self):
        assert parse_amounts("Im:1;Im:0.5", "ligands") == (("Im", 1.5),)

    @pytest.mark.parametrize("text", ["Im:0", "Im:-1", "Im", "Im:nan", "Im:inf", "Im:1e9"])
    def test_bad_amounts(self, text):
        with pytest.raises(StoichiometryError, match="ligands"):
            parse_amounts(text, "ligands")

    def test_blank(self):
        assert parse_amounts("", "ligands") == ()
        assert parse_amounts(float("nan"), "ligands") == ()


class TestMetals:
    def test_fractions_normalised(self):
        metals = parse_metals("Zn:4;Co:1")
        assert metals == (("Zn", 0.8), ("Co", 0.2))

    def test_unknown_element(self):
        with pytest.raises(UnknownElementError, match="Xx"):
            parse_metals("Xx")

    def test_several_bare_metals_refused(self):
        with pytest.raises(RecordError, match="fraction"):
            parse_metals("Zn;Co")


@pytest.mark.parametrize("value,expected", [(3, 3), ("2D", 2), ("1", 1), ("", None), (None, None)])
def test_dimensionality(value, expected):
    assert parse_dimensionality(value) == expected


@pytest.mark.parametrize("value", [4, -1, 1.5, "3.5", "abc", True])
def test_dimensionality_rejected(value):
    with pytest.raises(DimensionalityError):
        parse_dimensionality(value)


def test_record_from_mapping_names_row():
    with pytest.raises(RecordError) as info:
        record_from_mapping({"metal": "Zn", "ligands": "Im:-2"}, row_label="row7")
    msg = str(info.value)
    assert "row7" in msg and "ligands" in msg and "Im:-2" in msg


def test_oxidation_state_per_metal():
    rec = record_from_mapping({"metal": "Zn:0.5;Co:0.5", "oxidation_state": "Zn:2;Co:3", "ligands": "Im:2"})
    assert rec.oxidation_state_of("Co") == 3
    with pytest.raises(OxidationStateError):
        record_from_mapping({"metal": "Zn", "oxidation_state": "Fe:2", "ligands": "Im:2"})


def test_to_row_round_trip():
    rec = record_from_mapping({"metal": "Zn:0.8;Co:0.2", "ligands": "Im:1.75;bIm:0.25", "counter_ions": "TPrA:1",
                               "dimensionality": 3, "oxidation_state": 2})
    back = record_from_mapping(rec.to_row())
    assert back.key() == rec.key()
    assert isinstance(back, CompoundRecord) and math.isclose(back.metals[0][1], 0.8)


@pytest.mark.parametrize("missing", [None, float("nan"), np.float32("nan"), pd.NA, pd.NaT, "  "])
def test_blank_cells_follow_the_schema_rule(missing):
    """records uses mlglass.schema's blank-cell rule: NaT and a float32 NaN are blank, as in every reader."""
    from mlglass.schema import is_blank

    assert is_blank(missing)
    rec = record_from_mapping({"id": "a", "metal": "Zn", "oxidation_state": 2, "ligands": "Im:2",
                               "counter_ions": missing, "geometry": missing, "dimensionality": missing,
                               "formula": missing})
    assert (rec.counter_ions, rec.geometry, rec.dimensionality, rec.formula) == ((), None, None, None)
