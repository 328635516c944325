"""Issue 13: one base input error (field, value, reason; row added late) with record, schema and option
errors as siblings; the old names stay importable."""

from __future__ import annotations

import pickle

import pytest

from mlglass.errors import (
    FormulaError,
    InputError,
    MlglassError,
    ModelFileError,
    OptionError,
    RecordError,
    SchemaError,
    ScreenOptionError,
    UnknownElementError,
)


@pytest.mark.parametrize("cls", [RecordError, SchemaError, OptionError, FormulaError, UnknownElementError])
def test_every_input_error_carries_field_value_reason(cls):
    err = cls("metal", "Xx", "not an element")
    assert isinstance(err, InputError) and isinstance(err, MlglassError) and isinstance(err, ValueError)
    assert (err.field, err.value, err.reason, err.row) == ("metal", "Xx", "not an element", None)
    assert str(err) == "field 'metal' = 'Xx': not an element"


def test_record_schema_and_option_errors_are_siblings():
    assert not issubclass(SchemaError, RecordError) and not issubclass(RecordError, SchemaError)
    assert not issubclass(OptionError, RecordError) and not issubclass(OptionError, SchemaError)
    assert not issubclass(ModelFileError, InputError)
    assert ScreenOptionError is OptionError


def test_row_is_added_when_writing_and_survives_pickling():
    err = FormulaError("formula", "Zn(Im", "unbalanced bracket")
    named = err.with_row("zif-4")
    assert err.row is None and "row" not in str(err)  # the original is left alone
    assert type(named) is FormulaError and named.row == "zif-4"
    assert str(named).startswith("row 'zif-4': field 'formula'")
    back = pickle.loads(pickle.dumps(named))
    assert type(back) is FormulaError and (back.field, back.value, back.reason, back.row) == (
        "formula", "Zn(Im", "unbalanced bracket", "zif-4")


def test_long_values_are_shortened_in_the_message():
    err = RecordError("ligands", "x" * 500, "too long")
    assert len(str(err)) < 200 and err.value == "x" * 500


def test_screening_options_raise_option_errors_not_record_errors():
    import pandas as pd

    from mlglass.screen import score_predictions

    pred = pd.DataFrame({"tm_c": [300.0], "tg_c": [250.0], "p_melt": [0.9]})
    with pytest.raises(OptionError, match="objective") as info:
        score_predictions(pred, objective="no-such-objective")
    assert not isinstance(info.value, RecordError) and info.value.field == "objective"
