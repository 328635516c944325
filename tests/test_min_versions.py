"""Issue 12: the declared minimum versions cover what the code uses.

``NEEDS`` lists, per distribution, the newest API the code relies on, the
version that introduced it and a pattern that finds the use in ``mlglass/`` (or in the fuzz
harness ``tests/fuzz/``, which runs against the same installed versions).
The test checks that every listed use is still in the code (so the list stays
true), that the floor in ``pyproject.toml`` is at least that version, and that
the installed versions satisfy the declared floors.
"""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

REPO = Path(__file__).resolve().parents[1]

#: distribution -> [(minimum version, API, regex finding its use in mlglass/)]
NEEDS = {
    "scikit-learn": [
        ("1.6", "sklearn.utils.validation.validate_data", r"\bvalidate_data\("),
        ("1.6", "BaseEstimator.__sklearn_tags__", r"def __sklearn_tags__\("),
        ("1.6", "GroupKFold(shuffle=...)", r"GroupKFold\([^)]*shuffle="),
    ],
    "pandas": [("2.1", "DataFrame.map (the fuzz harness, tests/fuzz)", r"\bframe\.map\(")],
    "xgboost": [("2.0", "Booster.save_raw(raw_format='json')", r"save_raw\(raw_format=")],
    "numpy": [("1.26", "numpy 2 compatible wheels for python 3.12", r"import numpy")],
    "pyarrow": [("15", "pyarrow.compute.binary_join_element_wise", r"binary_join_element_wise")],
}


def _declared() -> dict[str, Version]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    out = {}
    for line in project["dependencies"]:
        req = Requirement(line)
        floors = [Version(s.version) for s in req.specifier if s.operator in (">=", "==", "~=")]
        out[req.name.lower()] = max(floors) if floors else None
    return out


def _code() -> str:
    files = sorted((REPO / "mlglass").rglob("*.py")) + sorted((REPO / "tests" / "fuzz").rglob("*.py"))
    return "\n".join(p.read_text(encoding="utf-8") for p in files)


@pytest.mark.parametrize("dist", sorted(NEEDS))
def test_floor_covers_the_api_used(dist):
    declared = _declared()
    assert declared.get(dist) is not None, f"{dist} has no minimum version in pyproject.toml"
    code = _code()
    for version, api, pattern in NEEDS[dist]:
        assert re.search(pattern, code), f"{api} is no longer used; update NEEDS in this test"
        assert declared[dist] >= Version(version), f"{dist}>={declared[dist]} but the code uses {api} ({version})"


def test_every_dependency_has_a_floor_and_the_installed_version_meets_it():
    for name, floor in _declared().items():
        assert floor is not None, f"{name} has no minimum version"
        installed = Version(metadata.version(name))
        assert installed >= floor, f"{name} {installed} is older than the declared {floor}"
