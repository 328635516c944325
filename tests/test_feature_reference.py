"""The featurizers reproduce the descriptors recorded before issue 13 (tests/data/make_feature_reference.py)."""

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlglass.featurize import GlassFeaturizer
from mlglass.records import record_from_mapping

DATA = Path(__file__).with_name("data")
INPUT_COLUMNS = ["id", "metal", "oxidation_state", "ligands", "counter_ions", "dimensionality", "geometry", "formula"]


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    return pd.read_csv(DATA / "features_reference.csv.gz", dtype=str, keep_default_na=False)


def _matrix(frame: pd.DataFrame, labels: list[str]) -> np.ndarray:
    return frame[labels].replace("", "nan").to_numpy(dtype=float)


def _assert_close(got: np.ndarray, want: np.ndarray, labels: list[str], ids: list[str]) -> None:
    same_nan = np.isnan(got) == np.isnan(want)
    close = np.isclose(got, want, rtol=1e-9, atol=0.0, equal_nan=True)
    bad = ~(same_nan & close)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise AssertionError(f"{int(bad.sum())} descriptors differ; first: row {ids[i]!r} {labels[j]}: "
                             f"{got[i, j]!r} != {want[i, j]!r}")


def test_batch_features_equal_reference(reference):
    featurizer = GlassFeaturizer()
    labels = featurizer.feature_labels()
    assert labels == [c for c in reference.columns if c in labels]
    X = featurizer.transform(reference[INPUT_COLUMNS])
    _assert_close(X[labels].to_numpy(dtype=float), _matrix(reference, labels), labels, reference["id"].tolist())
    assert X["error"].tolist() == reference["error"].tolist()


def test_single_record_features_equal_reference(reference):
    featurizer = GlassFeaturizer()
    labels = featurizer.feature_labels()
    rows = reference[(reference["error"] == "")].groupby("source", sort=False).head(60)
    got = []
    for row in rows[INPUT_COLUMNS].to_dict("records"):
        got.append(featurizer.featurize(record_from_mapping(row)))
    _assert_close(np.array(got, dtype=float), _matrix(rows, labels), labels, rows["id"].tolist())


def test_predict_on_batch_equals_row_by_row(reference):
    from mlglass.models.predictor import GlassPredictor

    predictor = GlassPredictor.default()
    frame = reference.groupby("source", sort=False).head(25)[INPUT_COLUMNS].reset_index(drop=True)
    frame = pd.concat([frame, frame.iloc[:5].assign(id=lambda f: f["id"] + "_again")], ignore_index=True)
    batch = predictor.predict(frame)
    single = pd.concat([predictor.predict(frame.iloc[[i]]) for i in range(len(frame))], ignore_index=True)
    for col in ("tm_c", "tm_lo_c", "tm_hi_c", "tg_c", "tg_lo_c", "tg_hi_c", "p_melt", "td_c", "window_c"):
        np.testing.assert_allclose(batch[col].to_numpy(dtype=float), single[col].to_numpy(dtype=float),
                                   rtol=1e-6, equal_nan=True, err_msg=col)
    for col in ("error", "domain", "td_source", "oxidation_state_used", "oxidation_state_method"):
        assert batch[col].tolist() == single[col].tolist(), col
    assert not math.isnan(batch["tm_c"].iloc[0])
