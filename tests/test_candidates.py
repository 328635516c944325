"""The columnar candidate batch: one parse per distinct composition, structured errors, broadcast."""

import numpy as np
import pandas as pd
import pytest

from mlglass.candidate_columns import parse_amount_column
from mlglass.candidates import CandidateBatch
from mlglass.errors import RecordError
from mlglass.featurize import (
    CounterIonFeaturizer,
    GlassFeaturizer,
    HSABFeaturizer,
    LigandFeaturizer,
    MetalFeaturizer,
    NetworkFeaturizer,
)
from mlglass.records import parse_amounts, record_from_mapping

CELLS = ["Im:1.75;bIm:0.25", " Im : 1.8 ; bIm : 0.2 ", "Im:2;bIm:0", "Im:1;Im:1", "Im:2;", ";Im:2", "", None,
         "c1:c:c:c:c:1:2", "Im:1e-1;bIm:1.9E0", "Im:.5;bIm:1.", "Im:+2", "Im:-1", "Im", "Im:two", ":2",
         "Im:1e-9", "Im:20000", "Ím:2", "Im:2\u00a0", "bIm:0.00001;Im:1.99999", "Im:0;bIm:0"]


def _expected(value):
    try:
        return parse_amounts(value, "ligands"), None
    except RecordError as err:
        return None, err


def test_vectorised_amounts_equal_the_record_parser():
    table = parse_amount_column(CELLS, "ligands")
    for v, value in enumerate(CELLS):
        items, err = _expected(value)
        if err is not None:
            assert table.errors[v] is not None and str(table.errors[v]) == str(err), value
            continue
        assert table.errors[v] is None, value
        got = tuple((table.names[j], a) for j, a in zip(table.idx[v], table.amt[v]) if j >= 0)
        assert got == items, value


def test_each_distinct_composition_parsed_once_with_an_inverse_index():
    frame = pd.DataFrame({"id": ["a", "b", "c", "d", "e"], "metal": ["Zn", "Zn", "Co", "Zn", "Zn"],
                          "ligands": ["Im:2", "Im:2", "Im:2", "Im:1.9;notAligand:0.1", "Im:1.9;notAligand:0.1"]})
    cb = CandidateBatch.from_frame(frame)
    assert cb.n_unique == 3 and cb.inverse.tolist() == [0, 0, 1, 2, 2] and cb.first_row.tolist() == [0, 2, 3]
    err = cb.errors[2]
    assert isinstance(err, RecordError) and err.field == "ligands" and err.value == "notAligand" and err.row is None
    rows = cb.row_errors(frame["id"].tolist())
    assert rows[:3] == ["", "", ""]
    assert rows[3].startswith("row 'd': field 'ligands'") and rows[4].startswith("row 'e': field 'ligands'")
    with pytest.raises(RecordError) as info:
        cb.features(GlassFeaturizer()._parts(), on_error="raise", row_labels=frame["id"].tolist())
    assert info.value.row == "d"


def test_parse_errors_keep_the_field_order_of_the_record_parser():
    frame = pd.DataFrame({"metal": ["Xx", "Zn", "Zn", "Zn"], "ligands": ["bad:x", "bad:x", "Im:2", "Im:2"],
                          "dimensionality": ["9", "9", "9", "2"], "geometry": ["", "", "", "cubic"]})
    cb = CandidateBatch.from_frame(frame)
    for i, row in enumerate(frame.to_dict("records")):
        with pytest.raises(RecordError) as info:
            record_from_mapping(row)
        assert str(cb.errors[cb.inverse[i]]) == str(info.value)


def test_featurize_is_a_batch_of_one():
    records = [record_from_mapping({"metal": "Zn:0.7;Co:0.3", "ligands": "Im:1.8;bIm:0.2", "counter_ions": "Cl-:0.1",
                                    "geometry": "tetrahedral", "dimensionality": "3"}),
               record_from_mapping({"metal": "Cu", "oxidation_state": "1", "ligands": "SCN-:2"})]
    f = GlassFeaturizer()
    batch = f.transform(records).drop(columns="error").to_numpy(dtype=float)
    for rec, row in zip(records, batch):
        np.testing.assert_array_equal(np.array(f.featurize(rec)), row)


def test_a_descriptor_group_can_be_dropped():
    frame = pd.DataFrame({"metal": ["Zn", "Co"], "ligands": ["Im:2", "Im:1.5;bIm:0.5"]})
    full = GlassFeaturizer().transform(frame)
    parts = [MetalFeaturizer(), LigandFeaturizer(), NetworkFeaturizer(), CounterIonFeaturizer()]
    ablated = GlassFeaturizer(parts).transform(frame)
    assert not any(c.startswith("hsab_") for c in ablated.columns)
    assert set(ablated.columns) < set(full.columns)
    pd.testing.assert_frame_equal(ablated, full[ablated.columns])
    assert GlassFeaturizer([HSABFeaturizer()]).feature_labels() == HSABFeaturizer().feature_labels()


@pytest.mark.parametrize("f", [GlassFeaturizer(), MetalFeaturizer(), LigandFeaturizer()])
def test_sklearn_estimator_contract(f):
    from sklearn.base import clone
    from sklearn.utils.estimator_checks import (
        check_get_params_invariance,
        check_no_attributes_set_in_init,
    )

    check_no_attributes_set_in_init(type(f).__name__, f)
    check_get_params_invariance(type(f).__name__, f)
    twin = clone(f)
    assert twin.get_params() == f.get_params()
    frame = pd.DataFrame({"metal": ["Zn"], "ligands": ["Im:2"]})
    pd.testing.assert_frame_equal(twin.fit(frame).transform(frame), f.fit_transform(frame))


def test_broadcast_labels_each_row():
    frame = pd.DataFrame({"id": ["x1", "x2", "y"], "metal": ["Zn", "Zn", "Xx"], "ligands": ["Im:2", "Im:2", "Im:2"]})
    cb = CandidateBatch.from_frame(frame)
    unique = frame.iloc[cb.first_row].reset_index(drop=True)
    unique["error"] = [str(e) if e else "" for e in cb.errors]
    unique["value"] = np.arange(cb.n_unique, dtype=float)
    out = cb.broadcast(unique, frame)
    assert out["value"].tolist() == [0.0, 0.0, 1.0]
    assert out["error"].tolist()[:2] == ["", ""] and out["error"].iloc[2].startswith("row 'y': field 'metal'")
