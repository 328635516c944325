"""Hyperparameter tuning with optuna and nested, series-grouped cross-validation.

Two loops:

* **Tuning** (persistent): an optuna study per target stored in one SQLite
  file minimises the grouped-CV error on the whole dataset; re-running resumes
  the study (more trials accumulate). Its best parameters are written to a JSON
  file that ``mlglass train`` reads.
* **Nested estimate** (honest): the *procedure* is scored by an outer grouped
  CV in which a fresh in-memory study tunes on each outer-training part only;
  the reported score is never the tuned-on score.

Concurrent ``mlglass tune`` runs may share one study file: creating the study is
serialised by a file lock (``STUDY.lock``), trials by SQLite's database lock
(connections wait up to 60 s).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import optuna
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GroupKFold, StratifiedGroupKFold

from mlglass.io import atomic_write_text
from mlglass.models.boosting import make_estimator
from mlglass.models.training_sets import TrainingSet

__all__ = ["best_params", "suggest_params", "cv_score", "tune_target", "nested_score", "tune_all", "read_params"]

optuna.logging.set_verbosity(optuna.logging.WARNING)
logging.getLogger("optuna").setLevel(logging.WARNING)


def suggest_params(trial: optuna.Trial) -> dict[str, Any]:
    """Search space of the booster hyperparameters."""
    return {
        "n_estimators": trial.suggest_int("n_estimators", 50, 600, log=True),
        "max_depth": trial.suggest_int("max_depth", 2, 6),
        "learning_rate": trial.suggest_float("learning_rate", 0.01, 0.3, log=True),
        "subsample": trial.suggest_float("subsample", 0.5, 1.0),
        "colsample_bytree": trial.suggest_float("colsample_bytree", 0.3, 1.0),
        "min_child_weight": trial.suggest_float("min_child_weight", 0.5, 10.0, log=True),
        "reg_lambda": trial.suggest_float("reg_lambda", 1e-3, 10.0, log=True),
        "reg_alpha": trial.suggest_float("reg_alpha", 1e-4, 1.0, log=True),
    }


def cv_score(ts: TrainingSet, params: dict[str, Any], idx: np.ndarray | None = None, *, n_splits: int = 4,
             seed: int = 0) -> float:
    """Grouped-CV loss of ``params`` on rows ``idx``: MAE (degC) for regressors, 1 - ROC-AUC for the classifier."""
    idx = np.arange(len(ts.y)) if idx is None else idx
    X, y, g = ts.X[idx], ts.y[idx], ts.groups[idx]
    k = max(2, min(n_splits, len(np.unique(g))))
    if ts.name == "melt":
        k = max(2, min(k, int(np.bincount(y.astype(int)).min())))
        oof = np.full(len(y), np.nan)
        for tr, te in StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed).split(X, y, g):
            if len(np.unique(y[tr])) < 2:
                oof[te] = y[tr].mean()
                continue
            clf = make_estimator("classifier", calibration_folds=0, random_state=seed, **params).fit(X[tr], y[tr])
            oof[te] = clf.predict_proba(X[te])[:, 1]
        return 1.0 - float(roc_auc_score(y, oof)) if len(np.unique(y)) == 2 else 0.5
    err = []
    for tr, te in GroupKFold(n_splits=k, shuffle=True, random_state=seed).split(X, y, g):
        reg = make_estimator("regressor", calibration_folds=0, random_state=seed, **params).fit(X[tr], y[tr])
        err.append(np.abs(reg.predict(X[te]) - y[te]))
    return float(np.mean(np.concatenate(err)))


@contextlib.contextmanager
def _file_lock(path: Path):
    """Exclusive advisory lock on ``path`` + ".lock" (serialises schema creation between processes)."""
    lock_path = Path(str(path) + ".lock")
    with open(lock_path, "a+") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _open_study(path: Path | None, study_name: str, sampler: optuna.samplers.BaseSampler) -> optuna.Study:
    if path is None:
        return optuna.create_study(direction="minimize", sampler=sampler, study_name=study_name)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Creating the schema and the study is not atomic in optuna: two runs starting on a new file
    # would race (UNIQUE constraint on alembic_version). A file lock serialises that step; trials
    # afterwards are serialised by SQLite's own lock (connections wait up to 60 s).
    with _file_lock(path):
        storage = optuna.storages.RDBStorage(url=f"sqlite:///{path.resolve()}",
                                             engine_kwargs={"connect_args": {"timeout": 60}})
        return optuna.create_study(direction="minimize", sampler=sampler, storage=storage, study_name=study_name,
                                   load_if_exists=True)


def tune_target(ts: TrainingSet, *, trials: int = 20, timeout: float | None = None, storage_path: Path | None = None,
                seed: int = 0, idx: np.ndarray | None = None, study_name: str | None = None,
                callback: Callable[[], None] | None = None) -> optuna.Study:
    """Run (or resume) a study minimising :func:`cv_score` for one target."""
    sampler = optuna.samplers.TPESampler(seed=seed)
    study = _open_study(storage_path, study_name or f"mlglass-{ts.name}", sampler)

    def objective(trial: optuna.Trial) -> float:
        params = suggest_params(trial)
        trial.set_user_attr("params", params)
        value = cv_score(ts, params, idx, seed=seed)
        if callback:
            callback()
        return value

    study.optimize(objective, n_trials=trials, timeout=timeout, gc_after_trial=False)
    return study


def best_params(study: optuna.Study) -> dict[str, Any]:
    """Booster parameters of the best trial (as passed to the estimator)."""
    return dict(study.best_trial.user_attrs.get("params", study.best_params))


def nested_score(ts: TrainingSet, *, trials: int = 10, n_splits: int = 4, seed: int = 0,
                 callback: Callable[[], None] | None = None) -> dict[str, float]:
    """Outer grouped CV of the whole tuning procedure (inner study on the outer-training rows only)."""
    k = max(2, min(n_splits, len(np.unique(ts.groups))))
    losses = []
    if ts.name == "melt":
        splits = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed + 100).split(ts.X, ts.y, ts.groups)
    else:
        splits = GroupKFold(n_splits=k, shuffle=True, random_state=seed + 100).split(ts.X, ts.y, ts.groups)
    oof = np.full(len(ts.y), np.nan)
    for tr, te in splits:
        study = tune_target(ts, trials=trials, seed=seed, idx=tr, callback=callback)
        best = best_params(study)
        if ts.name == "melt":
            if len(np.unique(ts.y[tr])) < 2:
                oof[te] = ts.y[tr].mean()
                continue
            clf = make_estimator("classifier", calibration_folds=0, random_state=seed, **best).fit(ts.X[tr], ts.y[tr])
            oof[te] = clf.predict_proba(ts.X[te])[:, 1]
        else:
            reg = make_estimator("regressor", calibration_folds=0, random_state=seed, **best).fit(ts.X[tr], ts.y[tr])
            oof[te] = reg.predict(ts.X[te])
            losses.append(np.abs(oof[te] - ts.y[te]))
    if ts.name == "melt":
        auc = float(roc_auc_score(ts.y, oof)) if len(np.unique(ts.y)) == 2 else float("nan")
        return {"nested_auc": auc}
    return {"nested_mae": float(np.mean(np.concatenate(losses)))}


def read_params(path: str | Path) -> dict[str, dict[str, Any]]:
    """Read a tuned-parameter file written by :func:`tune_all` (``{"tm": {...}, ...}``)."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return {k: dict(v.get("params", v)) for k, v in data.items() if k in ("tm", "tg", "melt")}


def tune_all(sets: dict[str, TrainingSet], *, targets: tuple[str, ...] = ("tm", "tg", "melt"), trials: int = 20,
             timeout: float | None = None, study_path: Path | None = None, params_path: Path | None = None,
             nested_trials: int = 0, seed: int = 0, callback: Callable[[], None] | None = None) -> dict[str, Any]:
    """Tune each target; write best parameters to ``params_path`` (JSON, atomic).

    Returns per target: best params, best (tuned-on) CV loss, number of trials in the study and,
    when ``nested_trials > 0``, the nested-CV score of the procedure.
    """
    results: dict[str, Any] = {}
    if params_path is not None and Path(params_path).exists():
        results = json.loads(Path(params_path).read_text(encoding="utf-8"))
    for name in targets:
        study = tune_target(sets[name], trials=trials, timeout=timeout, storage_path=study_path, seed=seed,
                            callback=callback)
        entry = {"params": best_params(study), "tuned_cv_loss": float(study.best_value),
                 "loss": "1 - ROC-AUC" if name == "melt" else "MAE degC", "n_trials": len(study.trials)}
        if nested_trials > 0:
            entry.update(nested_score(sets[name], trials=nested_trials, seed=seed, callback=callback))
        results[name] = entry
    if params_path is not None:
        atomic_write_text(params_path, json.dumps(results, indent=2, sort_keys=True) + "\n")
    return results
