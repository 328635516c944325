"""One factory builds the boosted estimators; one class holds a fitted one at prediction time."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import mlglass
from mlglass.models.boosting import BoostedClassifier, BoostedRegressor, FittedBooster, make_estimator
from mlglass.models.censored import CensoredTmRegressor

PACKAGE = Path(mlglass.__file__).parent
_DIRECT = re.compile(r"\b(BoostedRegressor|BoostedClassifier|CensoredTmRegressor|XGBRegressor|XGBClassifier)\(")


def test_no_module_builds_an_estimator_around_the_factory():
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "boosting.py":
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            if _DIRECT.search(code) and not code.lstrip().startswith("class "):
                offenders.append(f"{path.relative_to(PACKAGE)}:{n}: {line.strip()}")
    assert not offenders, "build estimators with mlglass.models.boosting.make_estimator:\n" + "\n".join(offenders)


@pytest.mark.parametrize("kind, cls", [("regressor", BoostedRegressor), ("classifier", BoostedClassifier),
                                       ("censored", CensoredTmRegressor)])
def test_factory_kinds(kind, cls):
    est = make_estimator(kind, random_state=3)
    assert type(est) is cls and est.get_params()["random_state"] == 3


def test_plain_kind_is_a_silent_hist_xgboost_regressor():
    import xgboost as xgb

    est = make_estimator("plain", max_depth=2, random_state=5)
    assert type(est) is xgb.XGBRegressor
    params = est.get_params()
    assert (params["tree_method"], params["verbosity"], params["max_depth"], params["random_state"]) == \
        ("hist", 0, 2, 5)


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="kind"):
        make_estimator("forest")


def test_classifier_probabilities_come_from_its_fitted_booster():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(80, 3))
    y = (X[:, 0] > 0).astype(int)
    clf = make_estimator("classifier", n_estimators=15, random_state=0).fit(X, y)
    assert isinstance(clf.fitted_, FittedBooster)
    np.testing.assert_array_equal(clf.predict_proba(X)[:, 1], clf.fitted_.predict(X))
    assert clf.fitted_.platt == clf.platt_
