"""Applicability domain: how far a compound is from the compounds with a measured Tm or Tg.

Distance
--------
Each compound is placed in a small space of physically motivated descriptors
(:data:`DOMAIN_DESCRIPTORS`: metal charge, d count, radius and softness; ligand
charge, size, flexibility, symmetry, charge density and donor softness; linker
mixing; dimensionality; counter-ions), each standardised with the training
median and standard deviation (missing values take the training median). The
distance of a compound to the training data is the mean Euclidean distance to
its ``k`` nearest training compounds (k = 3).

Bins
----
``in``   distance <= ``in_threshold_``  (median of grouped-CV held-out distances),
``near`` distance <= ``near_threshold_`` (90th percentile of grouped-CV held-out distances),
``out``  farther, **or** chemical novelty: a network metal, a ligand donor kind, or a
         metal-donor pair (e.g. Zn with azolate N) that no training compound has. Without
         the novelty rule about 90 % of held-out rows of a chemistry-grouped CV are ``in`` or
         ``near`` by construction; a new element or bond type is never ``in``.

The domain of the Tm (Tg) value is the compounds with a measured Tm (Tg); frameworks
that only bound Tm do not enlarge it.

Intervals
---------
Locally adaptive (normalised) split-conformal: held-out residuals ``r`` of the
chemistry-grouped CV are scaled by ``sigma = 1 + d / in_threshold_``; the
``coverage`` quantile ``q`` of ``r / sigma`` gives the half-width ``q * sigma(x)``
(Papadopoulos et al. 2008; Lei et al. 2018, JASA 113, 1094). For chemically novel
compounds ``d`` is taken as at least ``2 * near_threshold_``. Intervals therefore widen
with distance, and coverage is reported per bin by ``mlglass evaluate``.

Chemistry groups
----------------
:func:`chemistry_groups` merges the dataset's ``series`` with every pair of compounds
closer than :data:`GROUP_DISTANCE` in this space (single linkage), so no near-duplicate
sits on both sides of a cross-validation fold boundary.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["DOMAIN_DESCRIPTORS", "GROUP_DISTANCE", "ApplicabilityDomain", "chemistry_groups", "scaled_space",
           "record_chemistry", "grouped_cv_calibration", "DOMAIN_BINS"]

#: Descriptors of the distance space (all produced by :class:`mlglass.featurize.GlassFeaturizer`).
DOMAIN_DESCRIPTORS = (
    "metal_oxidation_state", "metal_d_electrons", "metal_shannon_ionic_radius_a", "metal_hsab_softness",
    "metal_electronegativity", "ligand_charge_mean", "ligand_heavy_atoms_mean", "ligand_kier_phi_mean",
    "ligand_symmetry_class_fraction_mean", "ligand_charge_density_mean", "ligand_donor_softness_mean",
    "ligand_amount_per_metal", "ligand_mixing_entropy", "network_dimensionality", "counter_amount_per_metal",
    "counter_heavy_atoms_per_metal",
)
#: Compounds closer than this (standardised descriptor units) are one chemistry group.
GROUP_DISTANCE = 1.0
DOMAIN_BINS = ("in", "near", "out")


def _columns(labels: Sequence[str]) -> list[int]:
    return [list(labels).index(d) for d in DOMAIN_DESCRIPTORS]


def scaled_space(X: np.ndarray, labels: Sequence[str], center: np.ndarray | None = None,
                 scale: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Standardised domain descriptors of ``X`` (missing -> centre). Returns (Z, center, scale)."""
    Z = np.asarray(X)[:, _columns(labels)].astype(float)  # gather the few domain columns, then widen
    if center is None:
        with np.errstate(all="ignore"):
            center = np.nanmedian(Z, axis=0) if len(Z) else np.zeros(Z.shape[1])
            scale = np.nanstd(Z, axis=0) if len(Z) else np.ones(Z.shape[1])
        center = np.nan_to_num(center)
        scale = np.where(np.isfinite(scale) & (scale > 1e-9), scale, 1.0)
    Z = np.where(np.isnan(Z), center, Z)
    return (Z - center) / scale, np.asarray(center, float), np.asarray(scale, float)


def _pairwise(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    sq = (A * A).sum(axis=1)[:, None] + (B * B).sum(axis=1)[None, :] - 2.0 * (A @ B.T)
    return np.sqrt(np.maximum(sq, 0.0))


def chemistry_groups(X: np.ndarray, labels: Sequence[str], series: Sequence[str],
                     threshold: float = GROUP_DISTANCE) -> np.ndarray:
    """Group keys: connected components of (same ``series``) or (distance < ``threshold``)."""
    n = len(series)
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(i: int, j: int) -> None:
        a, b = find(i), find(j)
        if a != b:
            parent[max(a, b)] = min(a, b)

    first: dict[str, int] = {}
    for i, s in enumerate(series):
        union(i, first.setdefault(str(s), i))
    if n:
        Z, _, _ = scaled_space(X, labels)
        D = _pairwise(Z, Z)
        for i, j in zip(*np.nonzero(D < threshold)):
            if i < j:
                union(int(i), int(j))
    roots = [find(i) for i in range(n)]
    names: dict[int, str] = {}
    for r in roots:
        names.setdefault(r, str(series[r]))
    return np.array([names[r] for r in roots], dtype=object)


def record_chemistry(record: Any) -> tuple[frozenset[str], frozenset[str]]:
    """(network metals, ligand donor kinds) of a record, for the novelty check."""
    from mlglass.chem.ligands import resolve_species

    metals = frozenset(sym for sym, _ in record.metals)
    donors = set()
    for c in record.ligands:
        try:
            donors.add(resolve_species(c.name, "ligands").donor_kind)
        except Exception:  # noqa: BLE001 - unresolvable species: featurization reports it
            donors.add("unknown")
    return metals, frozenset(donors)


class ApplicabilityDomain:
    """kNN distance domain with chemical novelty and normalised conformal intervals (module docstring).

    Parameters
    ----------
    k : int, default=3
        Neighbours averaged in the distance.
    coverage : float, default=0.8
        Nominal coverage of the intervals.
    """

    def __init__(self, *, k: int = 3, coverage: float = 0.8):
        self.k = k
        self.coverage = coverage

    # ----------------------------------------------------------------- fitting
    def fit(self, X: np.ndarray, labels: Sequence[str], chemistry: Sequence[tuple[frozenset, frozenset]],
            cv_distance: np.ndarray, cv_residual: np.ndarray) -> ApplicabilityDomain:
        """Fit on the training compounds and their grouped-CV held-out distances and residuals.

        Parameters
        ----------
        X : ndarray (n, n_features)
            Training descriptors (all features, ``labels`` order).
        chemistry : list of (metals, donor kinds)
        cv_distance, cv_residual : ndarray (n,)
            For each training row, its kNN distance to the *training fold* and its absolute
            out-of-fold residual (degC), from chemistry-grouped CV (:func:`grouped_cv_calibration`).
        """
        self.labels_ = list(labels)
        self.Z_, self.center_, self.scale_ = scaled_space(X, labels)
        self.metals_ = sorted(set().union(*[m for m, _ in chemistry])) if chemistry else []
        self.donors_ = sorted(set().union(*[d for _, d in chemistry])) if chemistry else []
        self.pairs_ = sorted({f"{m}|{dk}" for ms, ds in chemistry for m in ms for dk in ds})
        d = np.asarray(cv_distance, float)
        r = np.asarray(cv_residual, float)
        ok = np.isfinite(d) & np.isfinite(r)
        d, r = d[ok], r[ok]
        self.in_threshold_ = float(np.quantile(d, 0.5)) if len(d) else 1.0
        self.near_threshold_ = float(np.quantile(d, 0.9)) if len(d) else 2.0
        self.in_threshold_ = max(self.in_threshold_, 1e-6)
        sigma = 1.0 + d / self.in_threshold_
        self.scores_ = np.sort(r / sigma)
        return self

    def distance(self, X: np.ndarray) -> np.ndarray:
        """Mean distance to the ``k`` nearest training compounds (standardised units)."""
        Z, _, _ = scaled_space(X, self.labels_, self.center_, self.scale_)
        if len(self.Z_) == 0 or len(Z) == 0:
            return np.full(len(Z), np.inf)
        k = min(self.k, len(self.Z_))
        out = np.empty(len(Z))
        step = 8192  # bounded memory for large screening chunks
        b2 = (self.Z_ * self.Z_).sum(axis=1)[None, :]
        minus_2bt = np.ascontiguousarray(-2.0 * self.Z_.T)
        for s in range(0, len(Z), step):
            A = Z[s:s + step]
            sq = A @ minus_2bt  # squared distance minus |a|^2, which does not change a row's nearest neighbours
            sq += b2
            nearest = np.partition(sq, k - 1, axis=1)[:, :k] if k < sq.shape[1] else sq
            nearest += (A * A).sum(axis=1)[:, None]
            out[s:s + step] = np.sqrt(np.maximum(nearest, 0.0)).mean(axis=1)
        return out

    def novel(self, chemistry: Iterable[tuple[frozenset, frozenset]]) -> np.ndarray:
        """True where a metal, a donor kind or a metal-donor pair is absent from the training compounds."""
        metals, donors, pairs = set(self.metals_), set(self.donors_), set(self.pairs_)
        seen: dict[tuple, bool] = {}

        def one(m: frozenset, dk: frozenset) -> bool:
            key = (m, dk)
            hit = seen.get(key)
            if hit is None:
                hit = seen[key] = (bool(set(m) - metals) or bool(set(dk) - donors)
                                   or any(f"{a}|{b}" not in pairs for a in m for b in dk))
            return hit

        if isinstance(chemistry, np.ndarray) and chemistry.dtype == object and chemistry.ndim == 1:
            codes, uniques = pd.factorize(chemistry)  # screening batches repeat a few chemistries
            return np.array([one(m, dk) for m, dk in uniques], dtype=bool)[codes] if len(codes) else \
                np.zeros(0, dtype=bool)
        return np.array([one(m, dk) for m, dk in chemistry], dtype=bool)

    def assess(self, X: np.ndarray, chemistry: Sequence[tuple[frozenset, frozenset]],
               coverage: float | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(bins, half-widths degC, distances) in one pass (same as :meth:`classify` + :meth:`halfwidth`)."""
        from mlglass.models.boosting import conformal_quantile

        cov = self.coverage if coverage is None else coverage
        d = self.distance(X)
        novel = self.novel(chemistry)
        bins = np.where(d <= self.in_threshold_, "in", np.where(d <= self.near_threshold_, "near", "out"))
        bins = np.where(novel, "out", bins).astype(object)
        d_eff = np.where(novel, np.maximum(d, 2 * self.near_threshold_), d)
        q = conformal_quantile(self.scores_, cov)
        return bins, q * (1.0 + d_eff / self.in_threshold_), d

    def classify(self, X: np.ndarray, chemistry: Sequence[tuple[frozenset, frozenset]]
                 ) -> tuple[np.ndarray, np.ndarray]:
        """(bins, distances): ``in``/``near``/``out`` per row."""
        d = self.distance(X)
        bins = np.where(d <= self.in_threshold_, "in", np.where(d <= self.near_threshold_, "near", "out"))
        bins = np.where(self.novel(chemistry), "out", bins).astype(object)
        return bins, d

    def halfwidth(self, X: np.ndarray, chemistry: Sequence[tuple[frozenset, frozenset]],
                  coverage: float | None = None) -> np.ndarray:
        """Normalised conformal half-width (degC) per row."""
        from mlglass.models.boosting import conformal_quantile

        cov = self.coverage if coverage is None else coverage
        d = self.distance(X)
        d = np.where(self.novel(chemistry), np.maximum(d, 2 * self.near_threshold_), d)
        q = conformal_quantile(self.scores_, cov)
        return q * (1.0 + d / self.in_threshold_)

    # ----------------------------------------------------------- persistence
    def to_dict(self) -> dict[str, Any]:
        """JSON-safe state (stored in the model metadata; never pickled)."""
        return {"k": self.k, "coverage": self.coverage, "labels": self.labels_, "Z": self.Z_.tolist(),
                "center": self.center_.tolist(), "scale": self.scale_.tolist(), "metals": self.metals_,
                "donors": self.donors_, "pairs": self.pairs_, "in_threshold": self.in_threshold_,
                "near_threshold": self.near_threshold_, "scores": self.scores_.tolist(),
                "descriptors": list(DOMAIN_DESCRIPTORS)}

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> ApplicabilityDomain:
        self = cls(k=int(state["k"]), coverage=float(state["coverage"]))
        self.labels_ = list(state["labels"])
        self.Z_ = np.asarray(state["Z"], float).reshape(-1, len(DOMAIN_DESCRIPTORS))
        self.center_ = np.asarray(state["center"], float)
        self.scale_ = np.asarray(state["scale"], float)
        self.metals_ = list(state["metals"])
        self.donors_ = list(state["donors"])
        self.pairs_ = list(state.get("pairs", []))
        self.in_threshold_ = float(state["in_threshold"])
        self.near_threshold_ = float(state["near_threshold"])
        self.scores_ = np.asarray(state["scores"], float)
        return self


def grouped_cv_calibration(X: np.ndarray, y: np.ndarray, groups: np.ndarray, labels: Sequence[str], *,
                           make_model, n_splits: int = 5, seed: int = 0, k: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Held-out kNN distance and absolute residual of every row in a chemistry-grouped K-fold.

    ``make_model()`` returns an unfitted regressor with ``fit``/``predict``.
    """
    from sklearn.model_selection import GroupKFold

    n = len(y)
    dist = np.full(n, np.nan)
    res = np.full(n, np.nan)
    n_groups = len(np.unique(groups))
    if n_groups < 2:
        return dist, res
    splitter = GroupKFold(n_splits=max(2, min(n_splits, n_groups)), shuffle=True, random_state=seed)
    for tr, te in splitter.split(X, y, groups):
        model = make_model().fit(X[tr], y[tr])
        res[te] = np.abs(y[te] - model.predict(X[te]))
        Ztr, c, s = scaled_space(X[tr], labels)
        Zte, _, _ = scaled_space(X[te], labels, c, s)
        D = np.sort(_pairwise(Zte, Ztr), axis=1)[:, : min(k, len(tr))]
        dist[te] = D.mean(axis=1)
    return dist, res

