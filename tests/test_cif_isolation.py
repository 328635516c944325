"""The hard per-file limit of the CIF pipeline (isolated workers), folder rules and the resonance bound.

The stall is real C code: the worker's test hook (``MLGLASS_TEST_STALL``,
see :mod:`mlglass.structure._worker`) blocks SIGALRM/SIGTERM/SIGINT and calls
``libc.sleep(3600)`` through ``ctypes`` when the chosen file enters the chosen
stage. Nothing but the parent's SIGKILL ends it, so a test that finishes at
all proves the limit holds; the assertions are on outcomes (the error row
names the stage and the limit, the other rows are there), never on elapsed
times.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from mlglass.structure import records_from_cifs
from mlglass.structure._worker import STALL_ENV

LIMIT_S = 8.0  # generous: the two good files must finish within it on a loaded machine


_ZNO_CIF = """data_ZnO_rocksalt
_symmetry_space_group_name_H-M   'P 1'
_cell_length_a   {a}
_cell_length_b   {a}
_cell_length_c   {a}
_cell_angle_alpha   90
_cell_angle_beta   90
_cell_angle_gamma   90
loop_
 _symmetry_equiv_pos_as_xyz
  'x, y, z'
loop_
 _atom_site_label
 _atom_site_type_symbol
 _atom_site_fract_x
 _atom_site_fract_y
 _atom_site_fract_z
 _atom_site_occupancy
  Zn1  Zn  0.0  0.0  0.0  1
  Zn2  Zn  0.0  0.5  0.5  1
  Zn3  Zn  0.5  0.0  0.5  1
  Zn4  Zn  0.5  0.5  0.0  1
  O1  O  0.5  0.5  0.5  1
  O2  O  0.5  0.0  0.0  1
  O3  O  0.0  0.5  0.0  1
  O4  O  0.0  0.0  0.5  1
"""


def _write_cif(path: Path, a: float = 4.3) -> Path:
    """A small valid structure (rock-salt ZnO, P1), quick through the whole pipeline."""
    path.write_text(_ZNO_CIF.format(a=a), encoding="utf-8")
    return path


@pytest.fixture()
def folder(tmp_path):
    d = tmp_path / "cifs"
    d.mkdir()
    for name, a in (("a", 4.3), ("b", 4.31), ("c", 4.32)):
        _write_cif(d / f"{name}.cif", a)
    return d


def _check_stalled_batch(df, stats):
    rows = df.set_index("id")
    assert list(df["id"]) == ["a", "b", "c"]
    err = rows.loc["b", "error"]
    assert err.startswith("timeout"), err
    assert f"{LIMIT_S:g} s" in err and "stage ligands" in err, err
    for ok in ("a", "c"):  # the batch went on, the files before and after the stalled one are complete
        assert rows.loc[ok, "error"] == "", rows.loc[ok, "error"]
        assert rows.loc[ok, "metal"] == "Zn"
    stalled = [s for s in stats if s["path"].endswith("b.cif")]
    assert len(stalled) == 1 and stalled[0]["stage"] == "ligands" and stalled[0]["seconds"] >= LIMIT_S


def test_stall_in_c_is_killed_from_the_main_thread(folder, tmp_path, monkeypatch):
    monkeypatch.setenv(STALL_ENV, "ligands@b")
    stats: list = []
    df = records_from_cifs(folder, n_jobs=2, progress=False, cache_dir=tmp_path / "cache", timeout=LIMIT_S,
                           stats_out=stats)
    _check_stalled_batch(df, stats)
    # the killed file is not cached (a timeout may be transient); the good ones are
    assert len(list((tmp_path / "cache").glob("*.json"))) == 2


def test_stall_in_c_is_killed_from_a_worker_thread(folder, tmp_path, monkeypatch):
    monkeypatch.setenv(STALL_ENV, "ligands@b")
    result: dict = {}

    def run():
        try:
            stats: list = []
            result["df"] = records_from_cifs(folder, n_jobs=1, progress=False, use_cache=False, timeout=LIMIT_S,
                                             stats_out=stats)
            result["stats"] = stats
        except BaseException as exc:  # noqa: BLE001 - reported below
            result["exc"] = exc

    t = threading.Thread(target=run, name="not-main")
    t.start()
    t.join()
    assert "exc" not in result, result.get("exc")
    _check_stalled_batch(result["df"], result["stats"])


def test_stall_in_c_is_killed_under_dask(folder, monkeypatch):
    dask = pytest.importorskip("dask")
    monkeypatch.setenv(STALL_ENV, "ligands@b")

    def run(path):
        stats: list = []
        return records_from_cifs(path, n_jobs=1, progress=False, use_cache=False, timeout=LIMIT_S,
                                 stats_out=stats), stats

    df, stats = dask.delayed(run)(folder).compute(scheduler="threads")
    _check_stalled_batch(df, stats)


def _run_in_dask_worker(folder):
    import multiprocessing as mp

    stats: list = []
    df = records_from_cifs(folder, n_jobs=1, progress=False, use_cache=False, timeout=LIMIT_S, stats_out=stats)
    return mp.current_process().daemon, df, stats


def test_stall_in_c_is_killed_in_a_dask_distributed_worker(folder, monkeypatch):
    """dask's worker processes are daemonic: multiprocessing may not start children there, subprocess may."""
    distributed = pytest.importorskip("distributed")
    monkeypatch.setenv(STALL_ENV, "ligands@b")
    root = str(Path(__file__).resolve().parents[1])
    monkeypatch.setenv("PYTHONPATH", root + os.pathsep + os.environ.get("PYTHONPATH", ""))
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cl, \
            distributed.Client(cl) as client:
        daemonic, df, stats = client.submit(_run_in_dask_worker, folder).result()
    assert daemonic
    _check_stalled_batch(df, stats)


def test_crashed_worker_costs_only_its_file(folder, monkeypatch):
    monkeypatch.setenv("MLGLASS_TEST_CRASH", "network@a")
    df = records_from_cifs(folder, n_jobs=1, progress=False, use_cache=False, timeout=60)
    rows = df.set_index("id")
    assert "worker process died in stage network" in rows.loc["a", "error"]
    assert "SIGKILL" in rows.loc["a", "error"]
    assert rows.loc["b", "error"] == "" and rows.loc["c", "error"] == ""


def test_no_limit_runs_in_process(folder, monkeypatch):
    import mlglass.structure._pool as pool

    def boom(*args, **kwargs):
        raise AssertionError("timeout=None with one job must not start workers")

    monkeypatch.setattr(pool, "run_isolated", boom)
    df = records_from_cifs(folder, n_jobs=1, progress=False, use_cache=False, timeout=None)
    assert (df["error"] == "").all()


# ---------------------------------------------------------------------------------------------
# symbolic links in a --cif folder


def test_folder_symlinks(tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    _write_cif(outside / "secret.cif")
    d = tmp_path / "cifs"
    d.mkdir()
    _write_cif(d / "real.cif")
    (d / "alias.cif").symlink_to(d / "real.cif")
    (d / "dangling.cif").symlink_to(d / "missing-target.cif")
    (d / "escape.cif").symlink_to(outside / "secret.cif")
    (d / "relative-escape.cif").symlink_to(Path("..") / "elsewhere" / "secret.cif")
    df = records_from_cifs(d, n_jobs=1, progress=False, use_cache=False, timeout=None)
    rows = df.set_index("id")
    assert sorted(rows.index) == ["alias", "dangling", "escape", "real", "relative-escape"]
    assert rows.loc["real", "error"] == "" and rows.loc["alias", "error"] == ""
    assert rows.loc["dangling", "error"].startswith("dangling symbolic link")
    for name in ("escape", "relative-escape"):
        assert "points outside the folder" in rows.loc[name, "error"]
        assert rows.loc[name, "metal"] == ""  # not read


# ---------------------------------------------------------------------------------------------
# the resonance step is bounded by a step count RDKit honours


# tetrakis(4-carboxylatophenyl)porphyrin as xyz2mol perceives it in AVILEY (1,156 atoms): its
# resonance search runs for tens of minutes without a bound
TCPP = ("O=C([O-])c1ccc(C2=C3C=CC(=N3)C(c3ccc(C(=O)[O-])cc3)=C3C=CC(=N3)C(c3ccc(C(=O)[O-])cc3)=C3C=CC(=N3)"
        "C(c3ccc(C(=O)[O-])cc3)=C3C=CC2=N3)cc1")


def test_resonance_search_stops_at_its_step_bound(monkeypatch):
    from rdkit import Chem

    import mlglass.structure.ligands as ligands

    mol = Chem.AddHs(Chem.MolFromSmiles(TCPP))
    # too large a conjugated group (60 atoms): not searched at all
    score, smi, form, complete, work = ligands._best_resonance(mol)
    assert not complete and work == 0 and ligands.MAX_RESONANCE_GROUP_ATOMS < 60
    # allowed to search: RDKit stops at the step bound (20 steps of 60² work)
    monkeypatch.setattr(ligands, "MAX_RESONANCE_GROUP_ATOMS", 100)
    score, smi, form, complete, work = ligands._best_resonance(mol, max_work=60 ** 2 * 20)
    assert not complete and work == 60 ** 2 * 20
    assert Chem.MolFromSmiles(smi) is not None
    assert Chem.GetFormalCharge(form) == -4


def test_resonance_search_complete_below_the_bound():
    from rdkit import Chem

    from mlglass.structure.ligands import MAX_RESONANCE_WORK, _best_resonance, canonical_ligand_smiles

    # imidazolate written with the charge on carbon: the search must move it to N, well within the bound
    mol = Chem.AddHs(Chem.MolFromSmiles("c1[cH-]ncn1"))
    score, smi, _, complete, work = _best_resonance(mol)
    assert complete and 0 < work < MAX_RESONANCE_WORK
    assert score[0] == 0 and "[n-]" in smi
    assert canonical_ligand_smiles("c1[cH-]ncn1") == canonical_ligand_smiles("c1c[n-]cn1")


def test_stall_hook_is_off_without_the_variable():
    assert STALL_ENV not in os.environ


def test_cli_default_limit_matches_the_library():
    from mlglass.cli import DEFAULT_CIF_TIMEOUT_S
    from mlglass.structure import DEFAULT_TIMEOUT_S

    assert DEFAULT_CIF_TIMEOUT_S == DEFAULT_TIMEOUT_S


def test_workers_import_the_installed_package_from_any_folder(tmp_path, monkeypatch):
    """The pool puts the folder ``mlglass`` was imported from first on the workers' path (no repository layout)."""
    import subprocess
    import sys

    import mlglass
    from mlglass.structure._pool import _worker_env

    monkeypatch.delenv("PYTHONPATH", raising=False)
    env = _worker_env()
    first = env["PYTHONPATH"].split(os.pathsep)[0]
    assert Path(first, "mlglass", "__init__.py").samefile(mlglass.__file__)
    out = subprocess.run([sys.executable, "-c", "import mlglass; print(mlglass.__file__)"], env=env, cwd=tmp_path,
                         capture_output=True, text=True, check=True).stdout.strip()
    assert Path(out).samefile(mlglass.__file__)
