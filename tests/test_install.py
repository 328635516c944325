"""Issue 12: a built wheel carries the dataset and the models, and predicts outside the repository.

The wheel is built from a copy of the project (so the checkout gets no ``build/``)
without build isolation (no download), installed with ``--no-deps`` into a fresh
venv that sees the running interpreter's site-packages through a ``.pth`` line
(their ``.pth`` files, such as an editable install of mlglass, are not run), and
used from an empty temporary folder.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BUNDLED_ROOTS = ("datasets", "models")


def _project_files() -> list[str]:
    """Every file of datasets/ and models/ in the checkout (any type), relative to the repo."""
    out = []
    for root in BUNDLED_ROOTS:
        for p in (REPO / root).rglob("*"):
            rel = p.relative_to(REPO)
            if p.is_file() and not any(part.startswith(".") or part == "__pycache__" for part in rel.parts):
                out.append(rel.as_posix())
    return sorted(out)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    pytest.importorskip("wheel", reason="building a wheel without isolation needs the 'wheel' package")
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy(REPO / name, src / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".*")
    for name in ("mlglass", *BUNDLED_ROOTS):
        shutil.copytree(REPO / name, src / name, ignore=ignore)
    # a file type the package data patterns did not name must still ship
    (src / "models" / "extra_note.md").write_text("new file type check\n")
    (src / "datasets" / "extra.parquet").write_bytes(b"PAR1")
    dist = tmp_path_factory.mktemp("dist")
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                           "-w", str(dist), str(src)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (whl,) = dist.glob("mlglass-*.whl")
    return whl


def test_wheel_holds_every_bundled_file(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {f"mlglass/_bundled/{rel}" for rel in _project_files()}
    expected |= {"mlglass/_bundled/models/extra_note.md", "mlglass/_bundled/datasets/extra.parquet",
                 "mlglass/chem/data/ligands.csv"}
    assert expected <= names, sorted(expected - names)
    assert {"mlglass/_bundled/models/tm.json", "mlglass/_bundled/datasets/glasses.csv"} <= names


def test_wheel_ships_no_test_tooling(wheel):
    """Issue 13: the fuzz harness (tests/fuzz) is test tooling, not part of the installed library."""
    names = zipfile.ZipFile(wheel).namelist()
    assert "mlglass/__init__.py" in names
    leaked = [n for n in names if "robustness" in n or "fuzz" in n or n.startswith(("tests/", "benchmarks/"))]
    assert leaked == []


@pytest.mark.slow
def test_installed_wheel_predicts_outside_the_repo(wheel, tmp_path):
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False, symlinks=os.name != "nt").create(env_dir)
    py = env_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    purelib = Path(subprocess.check_output([str(py), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                                           text=True).strip())
    # dependencies come from the running interpreter's site-packages (no download)
    (purelib / "_host_site.pth").write_text("\n".join(dict.fromkeys(
        [sysconfig.get_path("purelib"), sysconfig.get_path("platlib")])) + "\n")
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "MLGLASS_MODEL_DIR", "MLGLASS_DATA_DIR", "PYTHONHOME")}
    done = subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps", "-q",
                           str(wheel)], capture_output=True, text=True, env=env, timeout=600)
    if done.returncode != 0 and "no such option: --python" in done.stderr:  # pip < 22.3
        pytest.skip("pip too old for --python")
    assert done.returncode == 0, done.stderr[-3000:]
    work = tmp_path / "elsewhere"
    work.mkdir()
    script = (
        "import json, mlglass, mlglass.datasets as d\n"
        "from mlglass.models.predictor import GlassPredictor, default_model_dir\n"
        "p = GlassPredictor.default()\n"
        "import pandas as pd\n"
        "res = p.predict(pd.DataFrame({'id': ['a'], 'formula': ['Zn(Im)1.75(bIm)0.25']}))\n"
        "print(json.dumps({'pkg': mlglass.__file__, 'models': str(default_model_dir()),"
        " 'data': str(d.dataset_path()), 'n_glasses': len(d.load_glasses()),"
        " 'tm': float(res['tm_c'][0]), 'error': res['error'][0]}))\n"
    )
    run = subprocess.run([str(py), "-c", script], cwd=work, capture_output=True, text=True, env=env, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    info = json.loads(run.stdout.strip().splitlines()[-1])
    site = str(purelib.resolve())
    for key in ("pkg", "models", "data"):
        assert str(Path(info[key]).resolve()).startswith(site), (key, info[key])
    assert info["n_glasses"] > 50 and info["error"] == "" and -273.15 < info["tm"] < 3000
    cli = env_dir / ("Scripts/mlglass.exe" if os.name == "nt" else "bin/mlglass")
    run = subprocess.run([str(cli), "predict", "--formula", "Zn(Im)2", "-o", "pred.csv"], cwd=work,
                         capture_output=True, text=True, env=env, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    import pandas as pd

    pred = pd.read_csv(work / "pred.csv", keep_default_na=False)
    assert list(pred["id"]) == ["Zn(Im)2"] and pred.loc[0, "error"] == "" and pred.loc[0, "tm_lo_c"] < pred.loc[0, "tm_hi_c"]
