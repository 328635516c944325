"""Module names that say what they hold: old import paths keep working (deprecated where renamed)."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_models_data_is_a_deprecated_alias_of_training_sets():
    from mlglass.models import training_sets

    sys.modules.pop("mlglass.models.data", None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data = importlib.import_module("mlglass.models.data")
    assert any(issubclass(w.category, DeprecationWarning) and "training_sets" in str(w.message) for w in caught)
    for name in training_sets.__all__:
        assert getattr(data, name) is getattr(training_sets, name)


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
