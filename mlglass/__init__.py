"""mlglass: find coordination polymers and MOFs that melt and form glasses.

Data flows one way: records (CSV / formula / SMILES / CIF) -> featurizers ->
models -> predictor -> screening.

>>> import mlglass
>>> df = mlglass.load_glasses()                    # the curated dataset      # doctest: +SKIP
>>> p = mlglass.GlassPredictor.default()           # bundled models           # doctest: +SKIP
>>> p.predict(["Zn(Im)1.75(bIm)0.25"])             # Tm, Tg with intervals    # doctest: +SKIP
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__", "load_glasses", "GlassPredictor", "parse_formula", "CompoundRecord", "GlassFeaturizer"]


def __getattr__(name: str):  # lazy imports keep `import mlglass` fast
    if name == "load_glasses":
        from mlglass.datasets import load_glasses

        return load_glasses
    if name == "GlassPredictor":
        from mlglass.models.predictor import GlassPredictor

        return GlassPredictor
    if name == "parse_formula":
        from mlglass.formula import parse_formula

        return parse_formula
    if name == "CompoundRecord":
        from mlglass.records import CompoundRecord

        return CompoundRecord
    if name == "GlassFeaturizer":
        from mlglass.featurize import GlassFeaturizer

        return GlassFeaturizer
    raise AttributeError(f"module 'mlglass' has no attribute {name!r}")
