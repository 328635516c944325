"""Command-line interface (typer). Each command parses options and calls one library function.

Run ``mlglass --help`` for the list of commands.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from rich.console import Console

from mlglass.errors import MlglassError
from mlglass.options import ACQUISITIONS, MODEL_TARGETS, OBJECTIVES, OUT_OF_DOMAIN, RISKS, choices_help

#: Default of ``--cif-timeout`` (s); equal to ``mlglass.structure.DEFAULT_TIMEOUT_S`` (a test checks), written
#: here so that ``--help`` does not import the structure code.
DEFAULT_CIF_TIMEOUT_S = 120.0

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="mlglass: predict melting (Tm), glass transition (Tg) and melt-vs-decompose of CPs/MOFs, "
                       "and screen candidates. Temperatures are in °C.")
dataset_app = typer.Typer(no_args_is_help=True, help="Validate and summarise measurement tables.")
app.add_typer(dataset_app, name="dataset")
console = Console()
err_console = Console(stderr=True)


def _fail(err: Exception) -> None:
    err_console.print(f"[red]error:[/red] {err}")
    raise typer.Exit(code=2)


def _check_output(path: Path | None, *inputs: Path | None, field: str = "output") -> None:
    """Refuse an output that cannot be written (or is an input) before any computation."""
    from mlglass.io import check_output_path

    if path is not None:
        try:
            check_output_path(path, inputs=inputs, field=field)
        except MlglassError as err:
            _fail(err)


def _bar(total: int | None, label: str):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    prog = Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err_console,
                    transient=True)
    return prog, prog.add_task(label, total=total)


# --------------------------------------------------------------------------- dataset
@dataset_app.command("validate")
def dataset_validate(path: Path = typer.Argument(..., exists=True, dir_okay=False, help="CSV or Parquet table")):
    """Check a measurement table against the dataset schema; print every bad cell (exit 1 if any)."""
    from mlglass.datasets import summarize, validate_table
    from mlglass.io import read_table
    from mlglass.report import problems_table, summary_table

    try:
        frame = read_table(path)
        problems = validate_table(frame)
    except MlglassError as err:
        _fail(err)
    if problems:
        console.print(problems_table(problems))
        raise typer.Exit(code=1)
    console.print(f"[green]{path}: valid[/green]")
    console.print(summary_table(summarize(frame)))


@dataset_app.command("summary")
def dataset_summary(path: Path | None = typer.Argument(None, help="table (default: the bundled dataset)")):
    """Counts per family and target (rows with Tm, Tg, Td, ranges, melts true/false/unknown)."""
    from mlglass.datasets import load_glasses, summarize
    from mlglass.report import summary_table

    try:
        console.print(summary_table(summarize(load_glasses(path))))
    except MlglassError as err:
        _fail(err)


@dataset_app.command("build-thermal")
def dataset_build_thermal(shared: Path | None = typer.Option(None, "--shared", help="folder with td.csv and cifs/ "
                                                                 "(default ../shared/thermal)"),
                          out: Path | None = typer.Option(None, "--out", help="output folder (default datasets/)"),
                          workers: int = typer.Option(2, help="worker processes"),
                          timeout: float = typer.Option(60.0, help="seconds per CIF")):
    """Run the shared thermal set (3,132 MOF CIFs with Td) through the CIF pipeline into datasets/thermal.csv."""
    from mlglass.datasets import DATASET_DIR
    from mlglass.thermal import build_and_write

    try:
        report = build_and_write(out or DATASET_DIR, shared, n_jobs=workers, timeout=timeout, progress=True)
    except MlglassError as err:
        _fail(err)
    console.print_json(json.dumps(report))


# --------------------------------------------------------------------------- featurize
@app.command()
def featurize(input: Path | None = typer.Argument(None, exists=True, dir_okay=False, help="candidate table"),
              output: Path = typer.Option(..., "-o", "--output", help="output .csv or .parquet"),
              cif: Path | None = typer.Option(None, "--cif", exists=True, help="a CIF file or a folder of CIFs"),
              workers: int = typer.Option(1, help="isolated worker processes for CIF files"),
              cif_timeout: float = typer.Option(DEFAULT_CIF_TIMEOUT_S, "--cif-timeout",
                                                help="hard limit in seconds per CIF file (the file gets an error row)"),
              progress: bool = typer.Option(True, help="show a progress bar")):
    """Compute descriptors for a candidate table (or CIF files); bad rows keep an `error`."""
    from mlglass.workflows import featurize_file

    _check_output(output, input)
    try:
        res = featurize_file(input, output, cif=cif, progress=progress, workers=workers, cif_timeout=cif_timeout)
    except MlglassError as err:
        _fail(err)
    console.print(f"wrote {res['rows']} rows x {res['features']} descriptors to {res['output']} "
                  f"({res['errors']} rows with an error)")


# --------------------------------------------------------------------------- train / evaluate / tune
@app.command()
def train(data: list[Path] = typer.Option([], "--data", exists=True, dir_okay=False,
                                          help="extra measurement CSV(s), validated first"),
          out: Path | None = typer.Option(None, "--out", help="model folder (default: bundled models/)"),
          params: Path | None = typer.Option(None, "--params", help="tuned parameters JSON"),
          seed: int = typer.Option(0, help="random seed"),
          coverage: float = typer.Option(0.8, help="nominal coverage of the intervals"),
          cv: bool = typer.Option(True, help="run a grouped CV and store its figures in the metadata")):
    """Train the Tm, Tg and melt models on the bundled data plus --data files; save xgboost JSON + metadata."""
    from mlglass.workflows import train_models

    prog, task = _bar(45, "cross-validating")
    try:
        with prog:
            res = train_models(extra=data, out=out, params_path=params, seed=seed, coverage=coverage, with_cv=cv,
                               progress=lambda: prog.advance(task))
    except MlglassError as err:
        _fail(err)
    meta = res["metadata"]
    for name in ("tm", "tg", "melt"):
        m = meta["models"][name]
        extra = f", interval ±{m['interval_halfwidth_c']:.0f} °C" if "interval_halfwidth_c" in m else ""
        console.print(f"{name}: trained on {m['n_train']} rows (left out: {m['excluded']}){extra}")
    dec = meta.get("decomposition")
    if dec:
        hw = dec["td_interval_halfwidth_c"]
        console.print(f"td: trained on {dec['n_td_train']} thermal train+val frameworks, "
                      f"interval ±{hw['td_cif']:.0f} °C (CIF) / ±{hw['td_row']:.0f} °C (table row); "
                      "p_melt = P(Tm < Td) from "
                      f"{sum(dec['tm_aft']['labels'].values())} censored Tm labels")
    if meta.get("cv_metrics"):
        cvm = meta["cv_metrics"]
        console.print(f"grouped CV: Tm MAE {cvm['tm']['methods']['model']['mae']:.1f} °C, "
                      f"Tg MAE {cvm['tg']['methods']['model']['mae']:.1f} °C, "
                      f"melt ROC-AUC {cvm['melt']['methods']['model'].get('auc', float('nan')):.2f}")
    console.print(f"saved to {res['out']} in {res['seconds']:.1f} s")


@app.command()
def evaluate(json_path: Path | None = typer.Option(None, "--json", help="write every figure as JSON"),
             plots: Path | None = typer.Option(None, "--plots", help="folder for parity and ROC PNGs"),
             repeats: int = typer.Option(3, help="repeats of the grouped K-fold"),
             folds: int = typer.Option(5, help="folds"),
             data: list[Path] = typer.Option([], "--data", exists=True, dir_okay=False,
                                             help="extra measurement CSV(s)"),
             params: Path | None = typer.Option(None, "--params", help="tuned parameters JSON"),
             seed: int = typer.Option(0)):
    """Chemistry-grouped CV (default hyperparameters), leave-one-family-out, baselines, per-domain interval coverage."""
    from mlglass.report import evaluation_table
    from mlglass.workflows import evaluate_models

    prog, task = _bar(3 * repeats * folds, "cross-validating")
    try:
        with prog:
            res = evaluate_models(extra=data, params_path=params, n_repeats=repeats, n_splits=folds, seed=seed,
                                  json_path=json_path, plots_dir=plots, progress=lambda: prog.advance(task))
    except MlglassError as err:
        _fail(err)
    for t in evaluation_table(res):
        console.print(t)
    console.print(f"evaluated in {res['seconds']:.1f} s" + (f"; plots: {', '.join(res['plots'])}" if plots else ""))


@app.command()
def tune(trials: int = typer.Option(20, help="optuna trials per target (added to the study)"),
         timeout: float | None = typer.Option(None, help="seconds per target"),
         study: Path | None = typer.Option(None, help="SQLite study file (resumed when it exists)"),
         out: Path | None = typer.Option(None, "--out", help="parameters JSON (default models/tuned_params.json)"),
         target: list[str] = typer.Option(list(MODEL_TARGETS), help=f"targets to tune: {choices_help(MODEL_TARGETS)}"),
         nested: int = typer.Option(0, help="trials of the nested-CV estimate (0: skip)"),
         seed: int = typer.Option(0)):
    """Tune booster hyperparameters with optuna (grouped CV); train reads the result."""
    from mlglass.workflows import tune_models

    prog, task = _bar(None, "tuning")
    try:
        with prog:
            res = tune_models(targets=target, trials=trials, timeout=timeout, study_path=study, params_path=out,
                              nested_trials=nested, seed=seed, callback=lambda: prog.advance(task))
    except MlglassError as err:
        _fail(err)
    console.print_json(json.dumps(res))


# --------------------------------------------------------------------------- predict
@app.command()
def predict(input: Path | None = typer.Argument(None, exists=True, dir_okay=False, help="candidate table"),
            output: Path | None = typer.Option(None, "-o", "--output", help="output .csv or .parquet"),
            formula: list[str] = typer.Option([], "--formula", help="formula(s), e.g. 'Zn(Im)1.75(bIm)0.25'"),
            models: Path | None = typer.Option(None, "--models", help="model folder (default: bundled)"),
            coverage: float | None = typer.Option(None, help="interval coverage (default: the model's, 0.8)"),
            explain: bool = typer.Option(False, help="add the top contributing descriptors")):
    """Predict Tm, Tg (°C, with intervals) and p_melt for a table or formulas."""
    from mlglass.io import write_table
    from mlglass.report import prediction_table
    from mlglass.workflows import predict_inputs

    _check_output(output, input)
    try:
        out = predict_inputs(input, formula, model_dir=models, coverage=coverage, explain=explain)
    except MlglassError as err:
        _fail(err)
    if output is not None:
        try:
            write_table(out, output)
        except MlglassError as err:
            _fail(err)
        console.print(f"wrote {len(out)} rows to {output} ({int((out['error'] != '').sum())} with an error)")
    cols = [c for c in ("id", "tm_c", "tm_lo_c", "tm_hi_c", "tg_c", "tg_lo_c", "tg_hi_c", "td_c", "td_source",
                        "window_c", "tm_censored_c", "p_melt", "domain", "error") if c in out.columns]
    if explain:
        cols += [c for c in ("tm_top_features", "p_melt_top_features", "td_top_features") if c in out.columns]
    console.print(prediction_table(out, "predictions (°C; 80% intervals unless --coverage)", cols, n=20))


# --------------------------------------------------------------------------- screening
@app.command()
def screen(input: Path | None = typer.Argument(None, exists=True, dir_okay=False, help="candidate table"),
           output: Path = typer.Option(..., "-o", "--output", help="ranked output .csv or .parquet"),
           objective: str = typer.Option("meltable", help=choices_help(OBJECTIVES)),
           risk: str = typer.Option("expected", help=choices_help(RISKS)),
           tm_max: float | None = typer.Option(None, "--tm-max", help="target: highest acceptable Tm (°C)"),
           tg_min: float | None = typer.Option(None, "--tg-min", help="target: lowest acceptable Tg (°C)"),
           p_melt_min: float | None = typer.Option(None, "--p-melt-min", help="constraint on p_melt"),
           allow: list[str] = typer.Option([], "--allow", help="allowed metal elements"),
           deny: list[str] = typer.Option([], "--deny", help="excluded metal elements"),
           out_of_domain: str = typer.Option("keep", "--out-of-domain",
                                             help=f"{choices_help(OUT_OF_DOMAIN)} rows whose domain is 'out'"),
           top: int = typer.Option(10, help="rows to preview"),
           chunk_size: int = typer.Option(50_000, help="rows per chunk"),
           workers: int = typer.Option(1, help="local worker processes (also the isolated CIF workers)"),
           threads: int = typer.Option(2, help="chunks in flight at once in one process (with --workers 1)"),
           dask: str | None = typer.Option(None, "--dask", help="dask scheduler address, or 'local'"),
           resume: bool = typer.Option(False, help="continue an interrupted screen"),
           plot: Path | None = typer.Option(None, "--plot", help="PNG map of the screened space"),
           cif: Path | None = typer.Option(None, "--cif", exists=True, help="folder of CIFs to screen"),
           cif_timeout: float = typer.Option(DEFAULT_CIF_TIMEOUT_S, "--cif-timeout",
                                             help="hard limit in seconds per CIF file (the file gets an error row)"),
           models: Path | None = typer.Option(None, "--models", help="model folder (default: bundled)"),
           progress: bool = typer.Option(True)):
    """Predict, score and rank candidates; every input row is written (bad rows keep their `error`)."""
    from mlglass.workflows import screen_candidates

    try:
        res = screen_candidates(input, output, objective=objective, risk=risk, tm_max=tm_max, tg_min=tg_min,
                                p_melt_min=p_melt_min, allow_elements=allow or None, deny_elements=deny or None,
                                out_of_domain=out_of_domain,
                                top_n=top, chunk_size=chunk_size, workers=workers, threads=threads,
                                dask_address=dask, resume=resume, plot_path=plot, cif=cif, model_dir=models,
                                progress=progress, cif_timeout=cif_timeout)
    except MlglassError as err:
        _fail(err)
    _print_screen(res, top, objective)


def _print_screen(res, top: int, objective: str) -> None:
    from mlglass.report import ranked_table

    console.print(ranked_table(res.top, f"top {min(top, len(res.top))} by '{objective}'", n=top))
    if "tm_top_features" in res.top.columns:
        console.print("[bold]why[/bold] (largest contributions to predicted Tm and Td; window = Td - Tm):")
        for _, row in res.top.head(top).iterrows():
            feats = str(row.get("tm_top_features", "")).replace(" degC", " °C")
            line = f"  {row.get('rank', '')}. {row['id']}: Tm: {feats}"
            if "td_top_features" in res.top.columns:
                td_feats = str(row.get("td_top_features", "")).replace(" degC", " °C")
                line += (f" | Td {_num(row.get('td_c'))} °C, window {_num(row.get('window_c'))} °C, "
                         f"Tm of the censored model {_num(row.get('tm_censored_c'))} °C: {td_feats}")
            console.print(line, overflow="fold")
    console.print(f"{res.n_rows} rows screened ({res.n_errors} with an error) at {res.rows_per_second:,.0f} rows/s; "
                  f"ranked table: {res.output_path}")


def _num(x) -> str:
    try:
        return f"{float(x):.0f}"
    except (TypeError, ValueError):
        return "-"


@app.command("enumerate")
def enumerate_command(spec: Path | None = typer.Option(None, "--spec", exists=True, help="YAML/TOML spec"),
              output: Path = typer.Option(..., "-o", "--output", help="output .csv or .parquet"),
              metal: list[str] = typer.Option([], "--metal", help="e.g. Zn, or Cu(I) / Cu(1) with an oxidation state"),
              linker: list[str] = typer.Option([], "--linker", help="base linker (library name or SMILES)"),
              mix: list[str] = typer.Option([], "--mix", help="LIGAND:START:STOP:STEP, e.g. bIm:0:0.5:0.05"),
              counter_ion: list[str] = typer.Option([], "--counter-ion", help="e.g. TPrA:1"),
              dimensionality: list[int] = typer.Option([], "--dim", help="0-3"),
              base_amount: float = typer.Option(2.0, help="moles of linker per metal"),
              allow_large: bool = typer.Option(False, "--allow-large",
                                               help="required for spaces above 10 million rows"),
              progress: bool = typer.Option(True)):
    """Build a combinatorial candidate space and stream it to a file (its size is printed first)."""
    from mlglass.screen import count_candidates, enumerate_candidates, from_cli

    _check_output(output, spec)
    try:
        the_spec = spec if spec is not None else from_cli(metals=metal, linkers=linker, mix=mix,
                                                          counter_ions=counter_ion, dimensionality=dimensionality,
                                                          base_amount=base_amount)
        err_console.print(f"space: {count_candidates(the_spec):,} rows")
        n = enumerate_candidates(the_spec, output, progress=progress, allow_large=allow_large)
    except MlglassError as err:
        _fail(err)
    console.print(f"wrote {n:,} candidates to {output}")


@app.command()
def suggest(input: Path = typer.Argument(..., exists=True, dir_okay=False, help="candidate table"),
            batch: int = typer.Option(10, help="how many experiments to propose"),
            acquisition: str = typer.Option("ucb", help=choices_help(ACQUISITIONS)),
            objective: str = typer.Option("meltable", help=choices_help(OBJECTIVES)),
            output: Path | None = typer.Option(None, "-o", "--output", help="write the batch (.csv/.parquet)"),
            models: Path | None = typer.Option(None, "--models", help="model folder (default: bundled)"),
            out_of_domain: str = typer.Option("keep", "--out-of-domain",
                                              help=f"{choices_help(OUT_OF_DOMAIN)} rows whose domain is 'out'"),
            seed: int = typer.Option(0)):
    """Propose a diverse batch of candidates to measure next (acquisition uses the intervals)."""
    from mlglass.io import write_table
    from mlglass.report import prediction_table
    from mlglass.workflows import suggest_candidates

    _check_output(output, input)
    try:
        picked = suggest_candidates(input, batch=batch, acquisition=acquisition, objective=objective,
                                    model_dir=models, seed=seed, out_of_domain=out_of_domain)
    except MlglassError as err:
        _fail(err)
    if output is not None:
        try:
            write_table(picked, output)
        except MlglassError as err:
            _fail(err)
    cols = [c for c in ("batch_rank", "id", "metal", "ligands", "tm_c", "tm_lo_c", "tm_hi_c", "tg_c", "p_melt",
                        "domain", "acquisition") if c in picked.columns]
    console.print(prediction_table(picked, f"next {batch} experiments ({acquisition})", cols, n=batch))


# --------------------------------------------------------------------------- demo
@app.command()
def demo(out: Path = typer.Option(Path("out"), help="folder for the demo outputs"),
         retrain: bool = typer.Option(False, help="retrain even if bundled models exist")):
    """The main job: validate the bundled dataset, train if no model is present, screen the example candidates."""
    from mlglass.report import summary_table
    from mlglass.workflows import run_demo

    def training(model_dir: Path) -> None:
        console.print(f"no bundled model in {model_dir}: training (about a minute)...")

    try:
        res = run_demo(out, retrain=retrain, progress=True, on_training=training)
    except MlglassError as err:
        _fail(err)
    console.print(summary_table(res["summary"]))
    _print_screen(res["screen"], 10, "meltable")
    console.print(f"map of the screened space: {res['plot']}")


# --------------------------------------------------------------------------- web page
@app.command()
def serve(host: str = typer.Option("127.0.0.1", help="address to bind (default: this machine only)"),
          port: int = typer.Option(8000, help="TCP port"),
          models: Path | None = typer.Option(None, "--models", help="model folder (default: bundled)")):
    """Start the local web page (http://HOST:PORT/) and JSON API; stop with Ctrl-C."""
    try:
        from mlglass.web import serve as run_server
    except ImportError as err:
        _fail(ImportError(f"the web page needs FastAPI and uvicorn ({err}); reinstall mlglass: pip install -e ."))
    console.print(f"mlglass page: http://{host}:{port}/  (Ctrl-C stops it)")
    try:
        run_server(host, port, model_dir=models)
    except MlglassError as err:
        _fail(err)


def main(argv: list[str] | None = None) -> int:
    """Entry point usable from tests: ``main(["dataset", "summary"])``."""
    try:
        rv = app(args=argv, standalone_mode=False)
    except typer.Exit as e:
        return e.exit_code
    except SystemExit as e:  # pragma: no cover
        return int(e.code or 0)
    return rv if isinstance(rv, int) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
