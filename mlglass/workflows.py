"""End-to-end jobs behind the CLI commands (each CLI command calls one function here).

Every function takes paths and options, does the work through the library and
returns plain data (DataFrames, dicts) for the caller to print.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from mlglass.datasets import coerce_types, load_glasses, validate_table
from mlglass.errors import OptionError, SchemaError
from mlglass.io import read_table
from mlglass.options import MODEL_TARGETS
from mlglass.schema import COMPOSITION_COLUMNS, PLOT_COLUMNS, blank_mask

__all__ = ["combined_training_data", "train_models", "evaluate_models", "tune_models", "featurize_file",
           "predict_table", "predict_inputs", "formula_frame", "screen_candidates", "suggest_candidates",
           "run_demo", "default_params_path", "load_params", "PLOT_COLUMNS"]


def default_params_path(model_dir: Path | None = None) -> Path:
    """Where ``mlglass tune`` writes and ``mlglass train`` reads tuned parameters."""
    from mlglass.models.predictor import default_model_dir

    return Path(model_dir or default_model_dir()) / "tuned_params.json"


def load_params(path: Path | None) -> dict[str, dict[str, Any]]:
    """Tuned parameters from ``path`` (empty dict if the file does not exist)."""
    from mlglass.models.tuning import read_params

    if path is None or not Path(path).exists():
        return {}
    try:
        params = read_params(path)
    except (OSError, UnicodeDecodeError, ValueError, AttributeError, TypeError) as err:
        raise SchemaError("params", str(path), f"not a tuned-parameter JSON file ({type(err).__name__}: "
                                               f"{str(err)[:200]}); expected {{\"tm\": {{...}}, ...}} as written "
                                               "by `mlglass tune`") from None
    for name, p in params.items():
        if not all(isinstance(k, str) and (v is None or isinstance(v, (int, float, str, bool))) for k, v in p.items()):
            raise SchemaError("params", str(path), f"parameters of {name!r} must map names to numbers or text")
    return params


def combined_training_data(extra: Sequence[str | Path] = ()) -> pd.DataFrame:
    """The bundled dataset plus user CSVs that pass validation.

    Raises
    ------
    SchemaError
        A user file has bad cells (all of them are listed) or an id clashes with the dataset.
    """
    base = load_glasses()
    frames = [base]
    for path in extra:
        raw = read_table(path)
        problems = validate_table(raw)
        if problems:
            shown = "\n".join(f"  {p}" for p in problems[:50])
            raise SchemaError("data", str(path), f"{len(problems)} bad cells; nothing was trained:\n{shown}")
        user = coerce_types(raw)
        if "series" not in user:
            user["series"] = "user:" + user["id"].astype(str)
        if "family" not in user:
            user["family"] = "user"
        clash = set(user["id"]) & set(base["id"])
        if clash:
            raise SchemaError("id", sorted(clash)[:5], f"{path}: ids already in the bundled dataset; rename them")
        frames.append(user)
    data = pd.concat(frames, ignore_index=True, sort=False)
    return data


def train_models(*, extra: Sequence[str | Path] = (), out: Path | None = None, params_path: Path | None = None,
                 seed: int = 0, coverage: float = 0.8, with_cv: bool = True, n_repeats: int = 3,
                 progress: Callable[[], None] | None = None) -> dict[str, Any]:
    """Train Tm, Tg and melt models on the bundled data (+ ``extra``) and save the bundle to ``out``.

    With ``with_cv`` a series-grouped CV (``n_repeats`` repeats) is run first and its figures
    are stored in the bundle's metadata.
    """
    from mlglass.models.evaluate import evaluate_all
    from mlglass.models.predictor import GlassPredictor, default_model_dir
    from mlglass.models.training_sets import build_training_sets

    out = Path(out or default_model_dir())
    params_path = params_path or default_params_path(out)
    params = load_params(params_path)
    data = combined_training_data(extra)
    t0 = time.perf_counter()
    cv = {}
    if with_cv:
        sets, _ = build_training_sets(data)
        res = evaluate_all(sets, params=params, n_repeats=n_repeats, coverage=coverage, seed=seed, progress=progress)
        cv = {k: {"methods": res[k]["methods"], **({"coverage": res[k]["coverage"], "width_c": res[k]["width_c"]}
                                                     if k != "melt" else {})} for k in ("tm", "tg", "melt")}
        cv["protocol"] = res["protocol"]
    predictor = GlassPredictor.train(data, params=params, coverage=coverage, seed=seed, cv_metrics=cv)
    predictor.metadata["extra_data"] = [str(p) for p in extra]
    predictor.metadata["params_file"] = str(params_path) if params else None
    predictor.save(out)
    return {"out": str(out), "seconds": time.perf_counter() - t0, "metadata": predictor.metadata}


def evaluate_models(*, extra: Sequence[str | Path] = (), params_path: Path | None = None, n_repeats: int = 3,
                    n_splits: int = 5, coverage: float = 0.8, seed: int = 0, json_path: Path | None = None,
                    plots_dir: Path | None = None, progress: Callable[[], None] | None = None) -> dict[str, Any]:
    """Series-grouped CV, leave-one-family-out and baselines; optional JSON and PNG output."""
    import json

    from mlglass.io import atomic_write_text
    from mlglass.models.evaluate import evaluate_all
    from mlglass.models.persistence import jsonable
    from mlglass.models.training_sets import build_training_sets

    data = combined_training_data(extra)
    sets, _ = build_training_sets(data)
    t0 = time.perf_counter()
    res = evaluate_all(sets, params=load_params(params_path or default_params_path()), n_splits=n_splits,
                       n_repeats=n_repeats, coverage=coverage, seed=seed, progress=progress)
    from mlglass.models.evaluate_thermal import evaluate_thermal

    res["thermal"] = evaluate_thermal(data, coverage=coverage, seed=seed, n_splits=n_splits)
    if "skipped" not in res["thermal"]:  # nested Td-anchored Tm / Tg (issue 11)
        from mlglass.datasets import load_thermal
        from mlglass.models.tm_anchor_evaluation import evaluate_anchor_tables

        res["tm_anchor"] = evaluate_anchor_tables(sets, load_thermal(), n_splits=n_splits, n_repeats=n_repeats,
                                                  seed=seed, coverage=coverage)
    res["seconds"] = time.perf_counter() - t0
    if json_path is not None:
        atomic_write_text(json_path, json.dumps(jsonable(res), indent=2) + "\n")
    if plots_dir is not None:
        from mlglass.plots import write_evaluation_plots

        res["plots"] = [str(p) for p in write_evaluation_plots(res, plots_dir)]
    return res


def tune_models(*, targets: Sequence[str] = ("tm", "tg", "melt"), trials: int = 20, timeout: float | None = None,
                study_path: Path | None = None, params_path: Path | None = None, nested_trials: int = 0,
                seed: int = 0, extra: Sequence[str | Path] = (),
                callback: Callable[[], None] | None = None) -> dict[str, Any]:
    """optuna tuning (persistent SQLite study) and, optionally, its nested-CV score."""
    import math

    from mlglass.models.training_sets import build_training_sets
    from mlglass.models.tuning import tune_all

    unknown = [t for t in targets if t not in MODEL_TARGETS]
    if unknown or not targets:
        raise OptionError("targets", list(targets), f"choose from {', '.join(MODEL_TARGETS)}")
    for name, value, lo in (("trials", trials, 1), ("nested_trials", nested_trials, 0)):
        if isinstance(value, bool) or not isinstance(value, int) or value < lo:
            raise OptionError(name, value, f"must be a whole number >= {lo}")
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float))
                                or not math.isfinite(timeout) or timeout <= 0):
        raise OptionError("timeout", timeout, "must be a positive number of seconds (or omitted)")
    params_path = Path(params_path or default_params_path())
    study_path = Path(study_path or params_path.with_name("tuning.sqlite3"))
    if study_path.exists():
        try:
            with open(study_path, "rb") as fh:
                magic = fh.read(16)
        except OSError as err:
            raise SchemaError("study", str(study_path), f"cannot read the study file ({err.strerror})") from None
        if magic != b"SQLite format 3\x00":
            raise SchemaError("study", str(study_path), "not an SQLite file; give a new path or an optuna "
                                                        "SQLite study written by `mlglass tune`")
    load_params(params_path)  # an existing parameter file must be readable before hours of tuning
    data = combined_training_data(extra)
    sets, _ = build_training_sets(data)
    return tune_all(sets, targets=tuple(targets), trials=trials, timeout=timeout, study_path=study_path,
                    params_path=params_path, nested_trials=nested_trials, seed=seed, callback=callback)


def featurize_file(input_path: Path | None, output_path: Path, *, cif: Path | None = None,
                   progress: bool = True, chunk_size: int = 50_000, workers: int = 1,
                   cif_timeout: float | None = None) -> dict[str, Any]:
    """Featurize a candidate table (or CIF files) into a descriptor table (CSV/Parquet by extension).

    CIF files are processed by ``workers`` isolated worker processes with a hard limit of
    ``cif_timeout`` seconds per file (default :data:`mlglass.structure.DEFAULT_TIMEOUT_S`).
    """
    from mlglass.featurize import GlassFeaturizer
    from mlglass.io import write_table

    frame = _input_frame(input_path, cif, progress=progress, workers=workers, cif_timeout=cif_timeout)
    featurizer = GlassFeaturizer()
    parts = []
    n = len(frame)
    from mlglass._progress import row_progress

    with row_progress(progress, "featurizing", total=n) as bar:
        for start in range(0, max(n, 1), chunk_size):
            chunk = frame.iloc[start:start + chunk_size]
            feats = featurizer.transform(chunk)
            parts.append(pd.concat([chunk.reset_index(drop=True), feats.reset_index(drop=True)], axis=1))
            bar.advance(len(chunk))
    result = pd.concat(parts, ignore_index=True) if parts else frame
    if result.columns.tolist().count("error") > 1:  # an input 'error' column is replaced by ours
        result = result.loc[:, ~result.columns.duplicated(keep="last")]
    if "cif_error" in result.columns:  # a structure that could not be read: say why, not "metal missing"
        cif_err = result["cif_error"].fillna("").astype(str)
        result["error"] = cif_err.where(cif_err != "", result["error"])
    write_table(result, output_path)
    return {"rows": n, "errors": int((result["error"] != "").sum()) if "error" in result else 0,
            "features": len(featurizer.feature_labels()), "output": str(output_path)}


def _cif_options(workers: int, cif_timeout: float | None) -> dict[str, Any]:
    from mlglass.structure import DEFAULT_TIMEOUT_S

    if cif_timeout is not None and not cif_timeout > 0:
        raise OptionError("--cif-timeout", cif_timeout, "must be a positive number of seconds")
    if workers < 1:
        raise OptionError("--workers", workers, "must be at least 1")
    return {"n_jobs": int(workers), "timeout": float(cif_timeout) if cif_timeout is not None else DEFAULT_TIMEOUT_S}


def _input_frame(input_path: Path | None, cif: Path | None, *, progress: bool, workers: int = 1,
                 cif_timeout: float | None = None) -> pd.DataFrame:
    frames = []
    opts = _cif_options(workers, cif_timeout)
    if input_path is not None:
        frame = read_table(input_path)
        if "cif" in frame.columns and frame["cif"].astype(str).str.strip().ne("").any():
            frame = _fill_from_cif_column(frame, Path(input_path).parent, progress=progress, **opts)
        frames.append(frame)
    if cif is not None:
        from mlglass.structure import records_from_cifs

        frames.append(records_from_cifs(cif, progress=progress, **opts).rename(columns={"error": "cif_error"}))
    if not frames:
        raise OptionError("input", None, "give an input table or --cif FILE_OR_DIR")
    return pd.concat(frames, ignore_index=True, sort=False).fillna("") if len(frames) > 1 else frames[0]


def _fill_from_cif_column(frame: pd.DataFrame, base: Path, *, progress: bool, **cif_options: Any) -> pd.DataFrame:
    """Rows with a ``cif`` path (relative to the table's folder) take their composition from the structure."""
    from mlglass.structure import records_from_cifs

    frame = frame.copy()
    has = pd.Series(~blank_mask(frame["cif"]), index=frame.index)
    paths = [str((base / p).resolve()) if not Path(p).is_absolute() else p for p in frame.loc[has, "cif"]]
    derived = records_from_cifs(paths, progress=progress, **cif_options)
    derived.index = frame.index[has]
    import numpy as np

    from mlglass.thermal import STRUCT_COLUMNS

    for col in STRUCT_COLUMNS:  # structure descriptors for the Td model's CIF view
        if col in derived and col not in frame:
            frame[col] = np.nan
            frame.loc[has, col] = derived[col].to_numpy(dtype=float)
    for col in COMPOSITION_COLUMNS:
        if col in derived and col != "formula":
            if col not in frame:
                frame[col] = ""
            blank = pd.Series(blank_mask(frame.loc[has, col]), index=frame.loc[has].index)
            frame.loc[blank[blank].index, col] = derived.loc[blank[blank].index, col].astype(str)
    if "error" in derived:
        frame["cif_error"] = ""
        frame.loc[has, "cif_error"] = derived["error"].astype(str)
    return frame


def predict_table(frame: pd.DataFrame, *, model_dir: Path | None = None, coverage: float | None = None,
                  explain: bool = False) -> pd.DataFrame:
    """Predict a candidate table with the bundled (or given) models."""
    from mlglass.models.predictor import GlassPredictor

    predictor = GlassPredictor.load(model_dir) if model_dir else GlassPredictor.default()
    return predictor.predict(frame, coverage=coverage, explain=explain)


def formula_frame(formulas: Sequence[str]) -> pd.DataFrame:
    """A candidate table with one row per formula (``id`` = the formula text, as typed)."""
    return pd.DataFrame({"id": list(formulas), "formula": list(formulas)}, dtype=object)


def predict_inputs(input_path: Path | None = None, formulas: Sequence[str] = (), *, model_dir: Path | None = None,
                   coverage: float | None = None, explain: bool = False) -> pd.DataFrame:
    """Predict a candidate table and/or formulas (``mlglass predict``): the table's rows first, then the formulas.

    Relative ``cif`` paths in the table are taken relative to the table's folder.

    Raises
    ------
    mlglass.errors.OptionError
        Neither a table nor a formula is given.
    """
    from mlglass.models.cif_input import resolve_cif_paths

    frames = []
    if input_path is not None:
        frames.append(resolve_cif_paths(read_table(input_path), Path(input_path).resolve().parent))
    if formulas:
        frames.append(formula_frame(formulas))
    if not frames:
        raise OptionError("input", None, "give an input table or --formula")
    frame = pd.concat(frames, ignore_index=True, sort=False).fillna("") if len(frames) > 1 else frames[0]
    return predict_table(frame, model_dir=model_dir, coverage=coverage, explain=explain)


def screen_candidates(input_path: Path | None, output_path: Path, *, cif: Path | None = None,
                      model_dir: Path | None = None, plot_path: Path | None = None, progress: bool = True,
                      cif_timeout: float | None = None, **options: Any):
    """Screen a candidate table (and/or a folder of CIFs) and optionally plot the screened space.

    ``options`` go to :func:`mlglass.screen.screen_file` (objective, risk, constraints, chunk_size,
    workers, dask_address, resume, top_n, ...). Rows with a ``cif`` path, or ``cif`` files, are turned
    into compositions first (``mlglass.structure``, ``workers`` isolated processes, at most
    ``cif_timeout`` seconds per file); the derived table is kept next to the output as
    ``OUTPUT.cif-candidates.parquet``.

    Returns
    -------
    mlglass.screen.ScreenResult
    """
    from mlglass.io import check_output_path, read_header
    from mlglass.models.predictor import default_model_dir
    from mlglass.screen import plot_screen, screen_file

    # every output path is checked before any computation
    check_output_path(output_path, inputs=[input_path], field="output_path")
    if plot_path is not None:
        check_output_path(plot_path, inputs=[input_path, output_path], field="plot", suffixes=(".png",))
    model = Path(model_dir) if model_dir is not None else default_model_dir()
    source = input_path
    needs_cif = cif is not None
    if input_path is not None and not needs_cif:
        needs_cif = "cif" in read_header(input_path)
    if needs_cif:
        from mlglass.io import write_table

        frame = _input_frame(input_path, cif, progress=progress, workers=int(options.get("workers") or 1),
                             cif_timeout=cif_timeout)
        source = Path(str(output_path) + ".cif-candidates.parquet")
        write_table(frame.astype(str), source)
    if source is None:
        raise OptionError("input", None, "give a candidate table or --cif DIR")
    result = screen_file(source, output_path, model, progress=progress, **options)
    if plot_path is not None:  # the rows screen_file ranked (all, or a sample above plot_rows), not a re-read
        plot_screen(result.ranked, plot_path, top_n=options.get("top_n", 10), n_candidates=result.n_plottable)
    return result


def run_demo(out: Path = Path("out"), *, retrain: bool = False, progress: bool = True,
             on_training: Callable[[Path], None] | None = None) -> dict[str, Any]:
    """The main job (``mlglass demo``): summarise the bundled dataset, train if no model is present, screen the
    example candidates and map them.

    Parameters
    ----------
    out : path
        Folder for ``example_screen.csv`` and ``example_screen.png``.
    retrain : bool
        Train even if the bundled models exist.
    progress : bool
        Progress bars while screening.
    on_training : callable, optional
        Called with the model folder before training starts (training takes about a minute).

    Returns
    -------
    dict
        ``summary`` (dataset counts), ``trained`` (bool), ``screen`` (:class:`~mlglass.screen.ScreenResult`)
        and ``plot`` (path of the PNG map).
    """
    from mlglass.datasets import dataset_path, summarize
    from mlglass.models.predictor import default_model_dir

    summary = summarize(load_glasses())
    model_dir = default_model_dir()
    trained = retrain or not (model_dir / "metadata.json").exists()
    if trained:
        if on_training is not None:
            on_training(model_dir)
        train_models(out=model_dir)
    out = Path(out)
    plot = out / "example_screen.png"
    res = screen_candidates(dataset_path("candidates/example.csv"), out / "example_screen.csv", objective="meltable",
                            top_n=10, plot_path=plot, progress=progress)
    return {"summary": summary, "trained": trained, "screen": res, "plot": plot}


def suggest_candidates(input_path: Path, *, model_dir: Path | None = None, **options: Any) -> pd.DataFrame:
    """Predict a candidate table and propose a diverse batch (:func:`mlglass.screen.suggest_file`)."""
    from mlglass.models.predictor import default_model_dir
    from mlglass.screen import suggest_file

    model = Path(model_dir) if model_dir is not None else default_model_dir()
    return suggest_file(input_path, model, **options)
