import json
import multiprocessing as mp

import optuna
import pytest

from mlglass.models.training_sets import build_training_sets
from mlglass.models.tuning import read_params, tune_all


@pytest.fixture(scope="module")
def sets(glasses):
    return build_training_sets(glasses)[0]


def small_space(monkeypatch):
    import mlglass.models.tuning as tuning

    orig = tuning.suggest_params

    def fast(trial):
        p = orig(trial)
        p["n_estimators"] = trial.suggest_int("n_estimators_small", 5, 15)
        return p

    monkeypatch.setattr(tuning, "suggest_params", fast)


def test_study_resumes_and_params_file_is_read_by_train(sets, tmp_path, monkeypatch):
    small_space(monkeypatch)
    study, params = tmp_path / "study.sqlite3", tmp_path / "params.json"
    res = tune_all(sets, targets=("tm",), trials=2, study_path=study, params_path=params)
    assert res["tm"]["n_trials"] == 2
    res = tune_all(sets, targets=("tm",), trials=2, study_path=study, params_path=params)
    assert res["tm"]["n_trials"] == 4  # resumed, not restarted
    loaded = read_params(params)
    assert set(loaded["tm"]) >= {"max_depth", "learning_rate"}
    assert json.loads(params.read_text())["tm"]["loss"] == "MAE degC"


def test_nested_score_is_reported(sets, monkeypatch):
    small_space(monkeypatch)
    res = tune_all(sets, targets=("tg",), trials=1, nested_trials=1)
    assert res["tg"]["nested_mae"] > 0 and res["tg"]["tuned_cv_loss"] > 0


def _worker(study_path: str, n: int) -> None:

    import mlglass.models.tuning as tuning
    from mlglass.datasets import load_glasses
    from mlglass.models.training_sets import build_training_sets as _b

    orig = tuning.suggest_params
    tuning.suggest_params = lambda t: {**orig(t), "n_estimators": 5}
    ts = _b(load_glasses())[0]["tm"]
    tuning.tune_target(ts, trials=n, storage_path=study_path)


def test_concurrent_runs_do_not_corrupt_the_study(tmp_path):
    study = str(tmp_path / "shared.sqlite3")
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_worker, args=(study, 3)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    s = optuna.load_study(study_name="mlglass-tm", storage=f"sqlite:///{study}")
    done = [t for t in s.trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert len(done) == 6
