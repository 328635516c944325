"""Issue 12: regression tests for the promises that broke under hostile input (items 1-16) and the
usability fixes. Each test fails on the code before the fix."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

from mlglass.cli import main
from mlglass.errors import ModelFileError, SchemaError

CANDS = pd.DataFrame({"id": ["a", "b", "c"], "metal": ["Zn", "Co", "Zn"],
                      "ligands": ["Im:2", "Im:1.75;bIm:0.25", "Im:1.9;ClbIm:0.1"], "dimensionality": ["3", "3", "3"]})


@pytest.fixture()
def cands(tmp_path):
    path = tmp_path / "cands.csv"
    CANDS.to_csv(path, index=False)
    return path


def _err(capsys) -> str:
    cap = capsys.readouterr()
    return " ".join((cap.out + cap.err).split())


# ----------------------------------------------------------------------------- 1. output lock
def test_second_writer_of_the_same_output_is_refused(cands, tmp_path, tiny_model_dir):
    from mlglass._io import output_lock
    from mlglass.screen import screen_file
    from mlglass.screen.scoring import ScreenOptionError

    out = tmp_path / "out.csv"
    with output_lock(tmp_path / ".out.csv.lock"):  # another screen holds the output
        with pytest.raises(ScreenOptionError, match="another screen is writing this output"):
            screen_file(cands, out, tiny_model_dir, progress=False)
        assert not out.exists() and not (tmp_path / "out.csv.parts").exists()
    res = screen_file(cands, out, tiny_model_dir, progress=False)  # released: works, and leaves no lock file
    assert res.n_rows == 3 and not (tmp_path / ".out.csv.lock").exists()


def test_lock_of_a_dead_process_does_not_block(tmp_path):
    from mlglass._io import output_lock

    lock = tmp_path / ".x.lock"
    lock.write_text("12345\n")  # left by a killed run: no process holds it
    with output_lock(lock):
        assert lock.exists()
    assert not lock.exists()


# ----------------------------------------------------------------------------- 2. output == input
@pytest.mark.parametrize("command", [
    ["predict", "{inp}", "-o", "{inp}"],
    ["featurize", "{inp}", "-o", "{inp}"],
    ["suggest", "{inp}", "-o", "{inp}", "--batch", "2"],
    ["screen", "{inp}", "-o", "{inp}", "--no-progress"],
])
def test_every_command_refuses_to_overwrite_its_input(cands, tiny_model_dir, capsys, command):
    before = cands.read_bytes()
    argv = [a.format(inp=cands) for a in command]
    if command[0] in ("predict", "suggest", "screen"):
        argv += ["--models", str(tiny_model_dir)]
    assert main(argv) == 2
    assert "input" in _err(capsys)
    assert cands.read_bytes() == before


def test_enumerate_refuses_to_overwrite_its_spec(tmp_path, capsys):
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"metals": ["Zn"], "linkers": ["Im"]}))
    before = spec.read_bytes()
    # .json is not a table extension: the extension check refuses first; a .csv spec path is not a spec
    assert main(["enumerate", "--spec", str(spec), "-o", str(spec)]) == 2
    assert spec.read_bytes() == before


# ----------------------------------------------------------------------------- 3. rows with extra fields
def test_first_row_with_extra_fields_is_an_error_naming_the_row(tmp_path, tiny_model_dir):
    from mlglass.datasets import read_table
    from mlglass.screen import screen_file

    path = tmp_path / "shift.csv"
    path.write_text("id,metal,ligands\na,Zn,Im:2,EXTRA\nb,Co,Im:2\n")
    with pytest.raises(SchemaError, match=r"data row 1 \(line 2\) has 4 fields but the header has 3"):
        read_table(path)
    with pytest.raises(SchemaError, match="data row 1"):
        screen_file(path, tmp_path / "o.csv", tiny_model_dir, progress=False)
    path.write_text("id,metal,ligands\na,Zn,Im:2\nb,Co\n")
    with pytest.raises(SchemaError, match="data row 2 .* has 2 fields"):
        read_table(path)
    path.write_text('id,metal,ligands\n"a,1",Zn,"Im:2"\n\nb,Co,Im:2\n')  # quoted comma, blank line: fine
    assert list(read_table(path)["id"]) == ["a,1", "b"]


# ----------------------------------------------------------------------------- 4 + 12. resume verifies parts
def _big(tmp_path, n=1200):
    rows = [(f"r{i:04d}", ["Zn", "Co"][i % 2], f"Im:{2 - 0.001 * (i % 500):.3f};bIm:{0.001 * (i % 500):.3f}")
            for i in range(n)]
    path = tmp_path / "big.csv"
    pd.DataFrame(rows, columns=["id", "metal", "ligands"]).to_csv(path, index=False)
    return path


def test_resume_recomputes_a_part_copied_over_another(tmp_path, tiny_model_dir):
    from mlglass.screen import screen_file

    inp, out = _big(tmp_path), tmp_path / "out.csv"
    screen_file(inp, out, tiny_model_dir, chunk_size=200, keep_parts=True, progress=False)
    work = tmp_path / "out.csv.parts"
    out.unlink()
    shutil.copy(work / "part-000001.parquet", work / "part-000002.parquet")  # 200 ids lost, 200 duplicated
    res = screen_file(inp, out, tiny_model_dir, chunk_size=200, resume=True, progress=False)
    assert res.resumed_chunks == 5  # the damaged part was not trusted
    got = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert len(got) == 1200 and got["id"].is_unique


@pytest.mark.parametrize("damage", [
    lambda ck: ck.update(completed={"x": [1, 0, 0, "0" * 64]}),
    lambda ck: ck.update(completed=[1, 2, 3]),
    lambda ck: ck.update(completed={"0": [200]}),
    lambda ck: ck.update(signature=[1]),
])
def test_corrupted_checkpoint_is_a_clear_error(tmp_path, tiny_model_dir, damage):
    from mlglass.screen import screen_file
    from mlglass.screen.scoring import ScreenOptionError

    inp, out = _big(tmp_path, 400), tmp_path / "out.csv"
    screen_file(inp, out, tiny_model_dir, chunk_size=200, keep_parts=True, progress=False)
    ck_path = tmp_path / "out.csv.parts" / "checkpoint.json"
    ck = json.loads(ck_path.read_text())
    damage(ck)
    ck_path.write_text(json.dumps(ck))
    with pytest.raises(ScreenOptionError, match="checkpoint"):
        screen_file(inp, out, tiny_model_dir, chunk_size=200, resume=True, progress=False)


def test_garbage_part_file_is_recomputed(tmp_path, tiny_model_dir):
    from mlglass.screen import screen_file

    inp, out = _big(tmp_path, 400), tmp_path / "out.csv"
    first = screen_file(inp, out, tiny_model_dir, chunk_size=200, keep_parts=True, progress=False)
    (tmp_path / "out.csv.parts" / "part-000000.parquet").write_bytes(b"garbage")
    res = screen_file(inp, out, tiny_model_dir, chunk_size=200, resume=True, progress=False)
    assert res.resumed_chunks == 1 and res.n_rows == first.n_rows == 400


# ----------------------------------------------------------------------------- 5. CSV: CR and headers
CR_ID = "x\r=cmd|' /C calc'!A0"


@pytest.mark.parametrize("command", ["predict", "featurize", "suggest", "screen"])
def test_bare_cr_is_quoted_and_headers_escaped(tmp_path, tiny_model_dir, command):
    import csv

    inp = tmp_path / "in.csv"
    frame = CANDS.copy()
    frame.loc[0, "id"] = CR_ID
    frame['=HYPERLINK("http://x")'] = "1"
    frame.to_csv(inp, index=False, lineterminator="\n", quoting=csv.QUOTE_ALL)  # a well-formed input
    out = tmp_path / "out.csv"
    argv = [command, str(inp), "-o", str(out)]
    if command != "featurize":
        argv += ["--models", str(tiny_model_dir)]
    if command == "suggest":
        argv += ["--batch", "3"]
    if command == "screen":
        argv += ["--no-progress"]
    assert main(argv) == 0
    with open(out, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert len(rows) == 1 + 3  # the CR did not split a row
    header = rows[0]
    assert not any(h.startswith(("=", "+", "-", "@")) for h in header)
    assert "'=HYPERLINK(\"http://x\")" in header
    assert CR_ID in [c for r in rows[1:] for c in r]
    for line in out.read_bytes().split(b"\n"):
        assert not line.lstrip(b'"').startswith(b"=")


# ----------------------------------------------------------------------------- 6 + 7. model bundle
def _copy_bundle(src, tmp_path):
    dst = tmp_path / "bundle"
    shutil.copytree(src, dst)
    return dst


@pytest.mark.parametrize("edit", [
    lambda m: m.update(tg_tm_ratio_cap=0.2),
    lambda m: m.update(coverage=0.99),
    lambda m: m["files"]["tm"].update(residuals=[r * 100 for r in m["files"]["tm"]["residuals"]]),
    lambda m: m["files"]["tm"].update(constant=99999),
])
def test_edited_metadata_is_refused(tiny_model_dir, tmp_path, edit):
    from mlglass.models.predictor import GlassPredictor

    d = _copy_bundle(tiny_model_dir, tmp_path)
    meta = json.loads((d / "metadata.json").read_text())
    edit(meta)
    (d / "metadata.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    with pytest.raises(ModelFileError, match="manifest|SHA-256"):
        GlassPredictor.load(d)


def test_in_bundle_symlink_is_refused(tiny_model_dir, tmp_path):
    from mlglass.models.predictor import GlassPredictor

    d = _copy_bundle(tiny_model_dir, tmp_path)
    (d / "tm_real.json").write_bytes((d / "tm.json").read_bytes())
    (d / "tm.json").unlink()
    (d / "tm.json").symlink_to("tm_real.json")  # same bytes, same hash: only the symlink check catches it
    with pytest.raises(ModelFileError, match="symlink"):
        GlassPredictor.load(d)
    (d / "tm.json").unlink()
    shutil.copy(d / "metadata.json", d / "meta_real.json")
    (d / "metadata.json").unlink()
    (d / "metadata.json").symlink_to("meta_real.json")
    with pytest.raises(ModelFileError, match="symlink"):
        GlassPredictor.load(d)


def test_missing_or_edited_manifest_is_refused(tiny_model_dir, tmp_path):
    from mlglass.models.persistence import MANIFEST_NAME
    from mlglass.models.predictor import GlassPredictor

    d = _copy_bundle(tiny_model_dir, tmp_path)
    man = json.loads((d / MANIFEST_NAME).read_text())
    man["files"]["tm.json"]["bytes"] += 1
    (d / MANIFEST_NAME).write_text(json.dumps(man))
    with pytest.raises(ModelFileError, match="seal"):
        GlassPredictor.load(d)
    (d / MANIFEST_NAME).unlink()
    with pytest.raises(ModelFileError, match="manifest"):
        GlassPredictor.load(d)


def test_wrong_metadata_types_are_a_model_error(tiny_model_dir, tmp_path):
    from mlglass.models.persistence import seal_bundle
    from mlglass.models.predictor import GlassPredictor

    for field, value in (("coverage", "high"), ("tg_tm_ratio_cap", [1]), ("files", {"tm": {"residuals": "x"}})):
        d = _copy_bundle(tiny_model_dir, tmp_path / field)
        meta = json.loads((d / "metadata.json").read_text())
        if field == "files":
            meta["files"]["tm"]["residuals"] = "x"
        else:
            meta[field] = value
        (d / "metadata.json").write_text(json.dumps(meta))
        seal_bundle(d)  # sealed (e.g. by its author), but the types are wrong
        with pytest.raises(ModelFileError, match="wrong types"):
            GlassPredictor.load(d)


def test_huge_sparse_model_file_is_refused_before_reading(tiny_model_dir, tmp_path, monkeypatch):
    from mlglass.models.predictor import GlassPredictor

    d = _copy_bundle(tiny_model_dir, tmp_path)
    with open(d / "tm.json", "r+b") as fh:
        fh.truncate(2 * 1024**3)  # 2 GB sparse file: takes no disk space
    reads = []
    real_open = open

    def spy(path, mode="r", *a, **k):
        if "b" in mode and str(path).endswith("tm.json"):
            reads.append(path)
        return real_open(path, mode, *a, **k)

    monkeypatch.setattr("builtins.open", spy)
    with pytest.raises(ModelFileError, match="larger than the limit|manifest records"):
        GlassPredictor.load(d)
    assert reads == []


def test_bundled_models_are_sealed():
    from mlglass.models.persistence import read_manifest
    from mlglass.models.predictor import default_model_dir

    files = read_manifest(default_model_dir())
    assert {"metadata.json", "tm.json", "tg.json", "melt.json"} <= set(files)
    for name, entry in files.items():
        assert hashlib.sha256((default_model_dir() / name).read_bytes()).hexdigest() == entry["sha256"]


def test_yaml_alias_bomb_is_refused(tmp_path):
    from mlglass.screen import count_candidates

    spec = tmp_path / "bomb.yaml"
    lines = ['a: &a ["Zn","Zn","Zn","Zn","Zn","Zn","Zn","Zn","Zn"]']
    for i, name in enumerate("bcdefghi"):
        prev = "abcdefghi"[i]
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    lines += ["metals: [*i]", "linkers: [Im]"]
    spec.write_text("\n".join(lines) + "\n")
    with pytest.raises(SchemaError, match="aliases"):
        count_candidates(spec)


# ----------------------------------------------------------------------------- 8. file mode
@pytest.mark.skipif(os.name == "nt", reason="POSIX modes")
def test_overwriting_keeps_the_file_mode(cands, tmp_path, tiny_model_dir):
    out = tmp_path / "out.csv"
    out.write_text("old\n")
    out.chmod(0o600)
    assert main(["predict", str(cands), "-o", str(out), "--models", str(tiny_model_dir)]) == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o600 and out.read_text() != "old\n"


# ----------------------------------------------------------------------------- 9. unreadable inputs to screen
@pytest.mark.parametrize("content", [b"", "id,metal,ligands\na,Zn,Im:2\n".encode("utf-16"),
                                     "id,metal,ligands\na,Zn\xe9,Im:2\n".encode("latin-1"),
                                     b'id,metal,ligands\n"a,Zn,Im:2\n'])
def test_screen_unreadable_csv_is_a_clear_error(tmp_path, tiny_model_dir, capsys, content):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    assert main(["screen", str(path), "-o", str(tmp_path / "o.csv"), "--models", str(tiny_model_dir),
                 "--no-progress"]) == 2
    assert "error:" in _err(capsys)
    assert not (tmp_path / "o.csv.parts").exists()


# ----------------------------------------------------------------------------- 10. output paths first
@pytest.mark.parametrize("command", ["predict", "featurize", "screen", "suggest"])
def test_bad_output_paths_fail_before_computing(cands, tmp_path, tiny_model_dir, capsys, monkeypatch, command):
    from mlglass.candidates import CandidateBatch

    def boom(*a, **k):
        raise AssertionError("computed before checking the output path")

    monkeypatch.setattr(CandidateBatch, "features", boom)
    folder = tmp_path / "dir.csv"
    folder.mkdir()
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    for out, expect in ((tmp_path / "x.xlsx", "must end in"), (folder, "is a folder"),
                        (not_a_dir / "o.csv", "not a folder")):
        argv = [command, str(cands), "-o", str(out)]
        if command != "featurize":
            argv += ["--models", str(tiny_model_dir)]
        assert main(argv) == 2, (command, out)
        assert expect in _err(capsys)


def test_plot_path_checked_before_screening(cands, tmp_path, tiny_model_dir, capsys):
    out = tmp_path / "o.csv"
    assert main(["screen", str(cands), "-o", str(out), "--plot", str(tmp_path / "map.jpg"),
                 "--models", str(tiny_model_dir), "--no-progress"]) == 2
    assert "plot" in _err(capsys) and not out.exists()


def test_unwritable_folder_is_reported_before_computing(tmp_path, monkeypatch):
    import tempfile

    from mlglass._io import check_output_path

    def refuse(*a, **k):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)  # a read-only folder (root ignores chmod)
    with pytest.raises(SchemaError, match="cannot write in folder"):
        check_output_path(tmp_path / "o.csv")


def test_full_disk_is_a_clear_error(tmp_path, monkeypatch):
    import mlglass.io.write as tables

    frame = pd.DataFrame({"a": [1]})

    class Full:
        def __enter__(self):
            raise OSError(28, "No space left on device")

        def __exit__(self, *a):
            return False

    monkeypatch.setattr(tables, "atomic_write", lambda *a, **k: Full())
    with pytest.raises(SchemaError, match="No space left"):
        tables.write_table(frame, tmp_path / "o.csv")


# ----------------------------------------------------------------------------- 11. finite descriptors
def test_tiny_amount_is_a_row_error_not_an_inf_descriptor(tiny_predictor, tmp_path, tiny_model_dir):
    from mlglass.screen import screen_file

    frame = pd.DataFrame({"id": ["tiny", "ok"], "metal": ["Zn", "Zn"], "ligands": ["Im:1e-320", "Im:2"]})
    out = tiny_predictor.predict(frame)
    assert "ligands" in out.loc[0, "error"] and np.isnan(out.loc[0, "tm_c"])
    assert out.loc[1, "error"] == "" and np.isfinite(out.loc[1, "tm_c"])
    explained = tiny_predictor.predict(frame, explain=True)
    assert explained.loc[1, "error"] == ""
    path = tmp_path / "tiny.csv"
    frame.to_csv(path, index=False)
    res = screen_file(path, tmp_path / "o.csv", tiny_model_dir, progress=False)
    assert res.n_errors == 1 and not (tmp_path / "o.csv.parts").exists()


def test_non_finite_descriptor_gives_a_row_error(tiny_predictor, monkeypatch):
    import mlglass.candidates as candidates

    monkeypatch.setattr(candidates, "DESCRIPTOR_LIMIT", 0.5)  # every non-zero descriptor now counts as overflow
    out = tiny_predictor.predict(pd.DataFrame({"id": ["a"], "metal": ["Zn"], "ligands": ["Im:2"]}))
    assert "descriptor is not a finite number" in out.loc[0, "error"] and np.isnan(out.loc[0, "tm_c"])


# ----------------------------------------------------------------------------- 13. option validation
@pytest.mark.parametrize("argv, field", [
    (["tune", "--trials", "0"], "trials"), (["tune", "--trials", "-1"], "trials"),
    (["tune", "--timeout", "-5"], "timeout"), (["tune", "--study", "{notsqlite}"], "study"),
    (["train", "--params", "{notsqlite}", "--out", "{out}", "--no-cv"], "params"),
])
def test_tune_and_train_options_are_validated(tmp_path, capsys, argv, field):
    bad = tmp_path / "x.csv"
    bad.write_text("id,metal\n")
    argv = [a.format(notsqlite=bad, out=tmp_path / "m") for a in argv]
    assert main(argv) == 2
    assert f"field '{field}'" in _err(capsys)


def test_dask_address_is_validated(cands, tmp_path, tiny_model_dir):
    from mlglass.screen import screen_file
    from mlglass.screen.scoring import ScreenOptionError

    for addr in ("not a url", "tcp://", "http//x:1", 5):
        with pytest.raises(ScreenOptionError, match="dask_address"):
            screen_file(cands, tmp_path / "o.csv", tiny_model_dir, dask_address=addr, progress=False)


@pytest.mark.slow
def test_unreachable_dask_scheduler_is_a_clear_error(cands, tmp_path, tiny_model_dir, monkeypatch):
    import mlglass.screen.backends as scale
    from mlglass.screen import screen_file
    from mlglass.screen.scoring import ScreenOptionError

    monkeypatch.setattr(scale, "CONNECT_TIMEOUT_S", 2)
    with pytest.raises(ScreenOptionError, match="cannot connect to the dask scheduler"):
        screen_file(cands, tmp_path / "o.csv", tiny_model_dir, dask_address="tcp://127.0.0.1:1", progress=False)


# ----------------------------------------------------------------------------- 14. td_c
@pytest.mark.parametrize("td", ["abc", "-500", "nan", "inf", "1e400"])
def test_bad_td_is_a_row_error_in_predict_and_screen(tiny_predictor, tmp_path, tiny_model_dir, td):
    from mlglass.screen import screen_file

    frame = pd.DataFrame({"id": ["bad", "ok", "blank"], "metal": ["Zn"] * 3, "ligands": ["Im:2"] * 3,
                          "td_c": [td, "450", ""]})
    out = tiny_predictor.predict(frame)
    assert "field 'td_c'" in out.loc[0, "error"] and np.isnan(out.loc[0, "p_melt"])
    assert out.loc[1, "error"] == out.loc[2, "error"] == ""
    path = tmp_path / "td.csv"
    frame.to_csv(path, index=False)
    screen_file(path, tmp_path / "o.csv", tiny_model_dir, progress=False)
    got = pd.read_csv(tmp_path / "o.csv", dtype=str, keep_default_na=False).set_index("id")
    assert "field 'td_c'" in got.loc["bad", "error"] and got.loc["ok", "error"] == ""


# ----------------------------------------------------------------------------- 15. huge cells, absurd widths
def test_huge_cell_is_cut_in_terminal_tables():
    from mlglass.report import CELL_LIMIT, prediction_table
    from rich.console import Console

    frame = pd.DataFrame({"id": ["x" * 1_000_000], "tm_c": [1.0]})
    console = Console(width=120, record=True, file=open(os.devnull, "w"))
    console.print(prediction_table(frame, "t", ["id", "tm_c"]))
    text = console.export_text()
    assert "characters" in text and len(text) < 30 * CELL_LIMIT


def test_absurdly_wide_table_is_refused(tmp_path, tiny_model_dir):
    from mlglass.screen import screen_file

    path = tmp_path / "wide.csv"
    n = 100_000
    path.write_text(",".join(["id", "metal", "ligands"] + [f"c{i}" for i in range(n)]) + "\n"
                    + ",".join(["a", "Zn", "Im:2"] + ["1"] * n) + "\n")
    with pytest.raises(SchemaError, match="100,003 columns"):
        screen_file(path, tmp_path / "o.csv", tiny_model_dir, progress=False)


# ----------------------------------------------------------------------------- 16. enumerate
def test_enumerate_announces_size_and_requires_flag_above_limit(tmp_path, capsys, monkeypatch):
    import mlglass.screen.enumeration as enumeration

    monkeypatch.setattr(enumeration, "LARGE_SPACE_ROWS", 5)
    argv = ["enumerate", "--metal", "Zn", "--linker", "Im", "--mix", "bIm:0:0.5:0.1", "-o", str(tmp_path / "e.csv"),
            "--no-progress"]
    assert main(argv) == 2
    text = _err(capsys)
    assert "space: 6 rows" in text and "--allow-large" in text and not (tmp_path / "e.csv").exists()
    assert main(argv + ["--allow-large"]) == 0
    assert len(pd.read_csv(tmp_path / "e.csv")) == 6


@pytest.mark.parametrize("base", ["1e308", "0", "-1", "nan"])
def test_enumerate_base_amount_bounds(tmp_path, capsys, base):
    assert main(["enumerate", "--metal", "Zn", "--linker", "Im", "--base-amount", base, "-o",
                 str(tmp_path / "e.csv"), "--no-progress"]) == 2
    assert "base_amount" in _err(capsys)


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(signal, "SIGTERM") or os.name == "nt", reason="POSIX signals")
def test_enumerate_sigterm_leaves_no_hidden_file(tmp_path):
    out = tmp_path / "space.csv"
    metals = [x for m in ["Zn", "Co", "Cd", "Mn", "Fe", "Cu", "Ni", "Mg", "Ca", "Sr", "Ba", "Li", "Na"]
              for x in ("--metal", m)]
    cmd = [sys.executable, "-m", "mlglass.cli", "enumerate", *metals, "--linker", "Im", "--mix", "bIm:0:1:0.0011",
           "--mix", "ClbIm:0:1:0.0011", "--allow-large", "--no-progress", "-o", str(out)]
    # the documented hook sends SIGTERM right after the first chunk reached the hidden output (an event)
    env = {**os.environ, "MLGLASS_ENUMERATE_TERM_AT": "chunk:1"}
    proc = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, timeout=600)
    rc = proc.returncode
    assert rc != 0
    assert list(tmp_path.iterdir()) == []


# ----------------------------------------------------------------------------- usability
def test_zero_amount_means_absent(tiny_predictor):
    from mlglass.records import parse_amounts

    assert parse_amounts("Im:2;bIm:0", "ligands") == (("Im", 2.0),)
    assert parse_amounts("Im:2;bIm:0.0", "ligands") == (("Im", 2.0),)
    out = tiny_predictor.predict(pd.DataFrame({"id": ["zero", "plain", "none", "neg", "nan"], "metal": ["Zn"] * 5,
                                               "ligands": ["Im:2;bIm:0", "Im:2", "Im:0", "Im:-1", "Im:nan"]}))
    assert out.loc[0, "error"] == "" and out.loc[0, "tm_c"] == out.loc[1, "tm_c"]
    assert all("ligands" in e for e in out.loc[2:, "error"])


def test_parquet_reads_the_same_in_predict_and_screen(tmp_path):
    from mlglass.datasets import read_table
    from mlglass.screen.stream import read_chunks

    path = tmp_path / "p.parquet"
    pd.DataFrame({"id": ["a", "b", "c"], "metal": ["Zn", "Co", "Zn"], "ligands": ["Im:2"] * 3,
                  "dimensionality": [1, 3.0, None], "td_c": [450.5, np.nan, 3.0]}).to_parquet(path)
    whole = read_table(path)
    chunked = pd.concat(list(read_chunks(path, 2)), ignore_index=True)
    pd.testing.assert_frame_equal(whole.reset_index(drop=True), chunked)
    assert list(whole["dimensionality"]) == ["1", "3", ""]


@pytest.mark.parametrize("command", ["predict", "screen"])
def test_text_outputs_are_rounded(cands, tmp_path, tiny_model_dir, command):
    out = tmp_path / "o.csv"
    argv = [command, str(cands), "-o", str(out), "--models", str(tiny_model_dir)]
    assert main(argv + (["--no-progress"] if command == "screen" else [])) == 0
    got = pd.read_csv(out, dtype=str, keep_default_na=False)
    for col in ("tm_c", "tm_lo_c", "tm_hi_c", "tg_c", "tg_lo_c", "tg_hi_c"):
        assert all(len(v.partition(".")[2]) <= 1 for v in got[col]), (col, list(got[col]))
    assert all(len(v.partition(".")[2]) <= 3 for v in got["p_melt"])
