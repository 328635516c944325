"""Package layout that pyproject.toml cannot express: the top-level ``datasets/`` and ``models/`` folders
(and their subfolders) become the package-data packages ``mlglass._bundled.datasets`` and
``mlglass._bundled.models`` (see ``mlglass/_bundled/__init__.py``). Every file in them is shipped, whatever
its type; the project metadata lives in pyproject.toml."""

from pathlib import Path

from setuptools import find_namespace_packages, setup

ROOT = Path(__file__).resolve().parent
BUNDLED = {"mlglass._bundled.datasets": "datasets", "mlglass._bundled.models": "models"}


def _bundled_packages() -> dict[str, str]:
    """Package name -> source folder for each bundled folder and its subfolders."""
    out = {}
    for pkg, folder in BUNDLED.items():
        out[pkg] = folder
        for sub in sorted((ROOT / folder).rglob("*")):
            rel = sub.relative_to(ROOT / folder)
            if sub.is_dir() and not any(p.startswith((".", "__")) for p in rel.parts):
                out[".".join([pkg, *rel.parts])] = "/".join([folder, *rel.parts])
    return out


PACKAGE_DIR = _bundled_packages()
setup(
    packages=find_namespace_packages(include=["mlglass", "mlglass.*"], exclude=["*.__pycache__"])
    + sorted(PACKAGE_DIR),
    package_dir=PACKAGE_DIR,
    package_data={"mlglass.chem.data": ["*.csv"], "mlglass.web": ["static/*"], **{pkg: ["*"] for pkg in PACKAGE_DIR}},
    exclude_package_data={pkg: [".*", "*.pyc"] for pkg in PACKAGE_DIR},
)
