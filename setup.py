"""Package layout that pyproject.toml cannot express: the top-level ``datasets/`` and ``models/`` folders
become the package-data packages ``mlglass._bundled.datasets`` and ``mlglass._bundled.models`` (see
``mlglass/_bundled/__init__.py``). Every file in them is shipped, whatever its type; metadata lives in
pyproject.toml."""

from setuptools import find_packages, setup

BUNDLED = {"mlglass._bundled.datasets": "datasets", "mlglass._bundled.models": "models"}
ALL_FILES = ["*", "**/*"]

setup(
    packages=find_packages(include=["mlglass", "mlglass.*"]) + sorted(BUNDLED),
    package_dir=BUNDLED,
    package_data={"mlglass.chem": ["data/*.csv"], **{pkg: ALL_FILES for pkg in BUNDLED}},
    exclude_package_data={pkg: ["**/__pycache__/*", "**/.*"] for pkg in BUNDLED},
)
