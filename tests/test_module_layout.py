"""Module names that say what they hold: old import paths keep working (deprecated where renamed)."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("old, new", [("mlglass.models.data", "mlglass.models.training_sets"),
                                      ("mlglass.screen.scale", "mlglass.screen.backends")])
def test_old_module_path_is_a_deprecated_alias(old, new):
    current = importlib.import_module(new)
    sys.modules.pop(old, None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        alias = importlib.import_module(old)
    assert any(issubclass(w.category, DeprecationWarning) and new in str(w.message) for w in caught)
    names = [n for n in vars(alias) if not n.startswith("_") and n != "warnings"]
    assert names and all(getattr(alias, n) is getattr(current, n) for n in names)


def test_library_code_does_not_import_the_deprecated_paths():
    code = ("import sys, mlglass.models.predictor, mlglass.models.evaluate, mlglass.models.tuning, "
            "mlglass.models.decomposition_training, mlglass.workflows, mlglass.screen, mlglass.cli; "
            "bad = [m for m in ('mlglass.models.data', 'mlglass.screen.scale') if m in sys.modules]; "
            "sys.exit(repr(bad) if bad else 0)")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONWARNINGS"}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    proc = subprocess.run([sys.executable, "-W", "error::DeprecationWarning:mlglass", "-c", code], env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_stream_keeps_its_public_names():
    from mlglass.screen import checkpoint, merge, stream

    for name in stream.__all__:
        assert hasattr(stream, name), name
    assert stream.work_dir_for is checkpoint.work_dir_for and stream.CHECKPOINT_NAME == checkpoint.CHECKPOINT_NAME
    assert stream.KILL_AT_ENV == "MLGLASS_SCREEN_KILL_AT"
    assert callable(merge.merge_parts)


def test_split_modules_stay_small():
    from pathlib import Path

    import mlglass

    root = Path(mlglass.__file__).parent
    for rel in ("screen/stream.py", "screen/checkpoint.py", "screen/merge.py", "screen/ranking.py",
                "screen/top_rows.py", "candidates.py", "models/training_sets.py"):
        n = len((root / rel).read_text(encoding="utf-8").splitlines())
        assert n <= 500, (rel, n)


def test_suggest_reads_ids_as_the_table_readers_do():
    """A numeric id column (Parquet floats) is excluded by the ids a CSV reader shows ("7", not "7.0")."""
    import numpy as np
    import pandas as pd

    from mlglass.screen import suggest_batch

    frame = pd.DataFrame({"id": [7.0, 8.0, 9.0], "metal": ["Zn", "Co", "Cd"], "ligands": ["Im:2"] * 3,
                          "tm_c": [300.0, 310.0, 320.0], "tm_lo_c": [250.0, 260.0, 270.0],
                          "tm_hi_c": [350.0, 360.0, 370.0], "tg_c": [250.0, 255.0, 260.0],
                          "tg_lo_c": [200.0, 205.0, 210.0], "tg_hi_c": [300.0, 305.0, 310.0],
                          "p_melt": [0.9, 0.8, 0.7], "error": ["", "", ""]})
    out = suggest_batch(frame, batch=3, acquisition="greedy", exclude_ids=["7", "9"])
    assert out["id"].tolist() == [8.0] and np.isfinite(out["acquisition"]).all()


def _private_imports_across_packages() -> list[str]:
    """``from mlglass.a.b import _x`` (or a private module ``mlglass.a._m``) outside the package that holds it."""
    import ast

    import mlglass

    root = Path(mlglass.__file__).parent
    found = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root.parent).with_suffix("")
        parts = list(rel.parts)
        importer = parts[:-1] if parts[-1] != "__init__" else parts[:-1]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom) or not node.module or not node.module.startswith("mlglass"):
                continue
            mod = node.module.split(".")
            is_package = (root.parent.joinpath(*mod) / "__init__.py").exists()
            for alias in node.names:
                name = alias.name
                if name.startswith("_") and not name.startswith("__"):  # a private name or private submodule
                    owner = mod if is_package else mod[:-1]
                    if importer[:len(owner)] != owner or (not is_package and importer != owner):
                        found.append(f"{'/'.join(parts)}.py:{node.lineno} {node.module}.{name}")
            private = [i for i, p in enumerate(mod) if p.startswith("_") and not p.startswith("__")]
            if private and importer[:private[0]] != mod[:private[0]]:
                found.append(f"{'/'.join(parts)}.py:{node.lineno} {node.module}")
    return found


def test_no_private_imports_across_packages():
    assert _private_imports_across_packages() == []
