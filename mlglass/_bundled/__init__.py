"""Where the bundled data lives: the curated dataset (``datasets/``) and the trained models (``models/``).

In the source tree both folders stay at the top level of the repository. The
build maps them into this package (``setup.py``: package ``mlglass._bundled.datasets``
is the folder ``datasets``, ``mlglass._bundled.models`` is ``models``; every file
in them is package data), so an installed wheel holds them as
``mlglass/_bundled/datasets`` and ``mlglass/_bundled/models``.
:func:`bundled_dir` finds them with :mod:`importlib.resources` in an installed
wheel and falls back to the checkout (editable install or ``PYTHONPATH``).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["bundled_dir", "BUNDLED_FOLDERS"]

#: Package name -> folder of the source tree (the same mapping as ``setup.py``).
BUNDLED_FOLDERS = {"mlglass._bundled.datasets": "datasets", "mlglass._bundled.models": "models"}


def bundled_dir(name: str) -> Path:
    """Folder of the bundled ``"datasets"`` or ``"models"``.

    Parameters
    ----------
    name : {"datasets", "models"}

    Returns
    -------
    pathlib.Path
        ``mlglass/_bundled/<name>`` inside an installed wheel, else ``<checkout>/<name>``.
    """
    if name not in BUNDLED_FOLDERS.values():
        raise ValueError(f"unknown bundled folder {name!r}; expected one of {sorted(BUNDLED_FOLDERS.values())}")
    installed = resources.files(__name__).joinpath(name)
    if installed.is_dir():  # wheel: the data sits inside this package
        return Path(str(installed))
    return Path(__file__).resolve().parents[2] / name  # source checkout (editable install or PYTHONPATH)
