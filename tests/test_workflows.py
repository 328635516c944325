"""Issue 13: the CLI is thin - choices come from mlglass.options, formula/demo handling lives in
mlglass.workflows, and renamed modules keep their old import paths."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from mlglass.errors import OptionError


def test_cli_help_lists_the_library_choices():
    import typer.main

    from mlglass.cli import app
    from mlglass.options import ACQUISITIONS, OBJECTIVES, OUT_OF_DOMAIN, RISKS

    commands = typer.main.get_command(app).commands  # type: ignore[attr-defined]

    def help_of(command: str, option: str) -> str:
        (param,) = [p for p in commands[command].params if p.name == option]
        return param.help

    assert help_of("screen", "objective") == help_of("suggest", "objective") == " | ".join(OBJECTIVES)
    assert help_of("screen", "risk") == " | ".join(RISKS)
    assert help_of("suggest", "acquisition") == " | ".join(ACQUISITIONS)
    assert help_of("screen", "out_of_domain").startswith(" | ".join(OUT_OF_DOMAIN))
    result = CliRunner().invoke(app, ["screen", "--help"])
    assert result.exit_code == 0 and "stable-glass" in result.output


def test_library_validates_against_the_same_choices():
    from mlglass.options import ACQUISITIONS, OBJECTIVES, RISKS
    from mlglass.screen import ScoreOptions, scoring
    from mlglass.screen import acquisition as acq

    assert scoring.OBJECTIVES is OBJECTIVES and scoring.RISKS is RISKS and acq.ACQUISITIONS is ACQUISITIONS
    for objective in OBJECTIVES:
        for risk in RISKS:
            ScoreOptions(objective, risk, tm_max=300.0)  # every advertised choice is accepted
    with pytest.raises(OptionError, match="risk"):
        ScoreOptions("meltable", "reckless")


def test_predict_inputs_puts_table_rows_then_formulas(tmp_path, tiny_model_dir):
    from mlglass.workflows import predict_inputs

    table = tmp_path / "c.csv"
    pd.DataFrame({"id": ["t1"], "metal": ["Zn"], "ligands": ["Im:2"]}).to_csv(table, index=False)
    out = predict_inputs(table, ["Zn(Im)1.75(bIm)0.25", "Qq(Im)2"], model_dir=tiny_model_dir)
    assert out["id"].tolist() == ["t1", "Zn(Im)1.75(bIm)0.25", "Qq(Im)2"]
    assert out.loc[0, "error"] == "" and out.loc[1, "error"] == "" and "Qq" in out.loc[2, "error"]
    with pytest.raises(OptionError, match="give an input table or --formula"):
        predict_inputs(None, [], model_dir=tiny_model_dir)


def test_tune_refuses_unknown_targets_before_any_work(tmp_path):
    from mlglass.workflows import tune_models

    with pytest.raises(OptionError, match="choose from tm, tg, melt") as info:
        tune_models(targets=["tm", "density"], params_path=tmp_path / "p.json")
    assert info.value.field == "targets"
    assert not (tmp_path / "p.json").exists() and not (tmp_path / "tuning.sqlite3").exists()


def test_split_modules_keep_their_public_names():
    import mlglass.formula as formula
    import mlglass.screen.enumeration as enumeration
    import mlglass.structure.ligands as ligands

    for name in ("parse_formula", "format_formula", "MAX_FORMULA_LENGTH", "MAX_NESTING", "HALIDES"):
        assert hasattr(formula, name)
    for name in ("enumerate_candidates", "count_candidates", "load_spec", "from_cli", "mix_grid", "SPEC_KEYS",
                 "ENUMERATED_COLUMNS", "LARGE_SPACE_ROWS"):
        assert hasattr(enumeration, name)
    for name in ligands.__all__:
        assert hasattr(ligands, name), name


def test_screen_candidates_plots_the_rows_screen_file_returns(tmp_path, tiny_model_dir, monkeypatch):
    """The plot is drawn from ScreenResult.ranked: the output file is not read back."""
    import mlglass.io.read
    from mlglass import workflows

    space = tmp_path / "space.csv"
    pd.DataFrame({"id": ["a", "b", "c"], "metal": ["Zn", "Co", "Zn"], "oxidation_state": ["2"] * 3,
                  "ligands": ["Im:2", "Im:2", "Im:1.5;bIm:0.5"]}).to_csv(space, index=False)
    out, png = tmp_path / "ranked.csv", tmp_path / "map.png"

    def no_reread(path, *args, **kwargs):
        raise AssertionError(f"re-read {path}")

    monkeypatch.setattr(workflows, "read_table", no_reread)
    monkeypatch.setattr(mlglass.io.read, "read_table", no_reread)
    res = workflows.screen_candidates(space, out, model_dir=tiny_model_dir, plot_path=png, progress=False, top_n=2)
    assert png.read_bytes()[:4] == b"\x89PNG" and out.exists()
    assert res.ranked["id"].tolist() == pd.read_csv(out, dtype=str)["id"].tolist()
