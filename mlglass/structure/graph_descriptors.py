"""Structure descriptors of a CIF for the decomposition (Td) models, computed without the compound record.

:func:`graph_descriptors` needs only the crystal structure: it works on files
whose record extraction fails (ligand perception, oxidation states,
timeouts), so the Td model's structure-only view can still answer. The same
function serves the thermal table (:mod:`mlglass.thermal`) and user CIFs
(:mod:`mlglass.models.cif_input`). Every value is a float (NaN when undefined);
the keys are :data:`GRAPH_COLUMNS` (all prefixed ``sg_``).

Groups
------
* **Composition** (``sg_frac_*``): atom fractions of C, H, N, O, S, P,
  halogens (F, Cl, Br, I), metals and the rest.
* **Packing**: volume per atom (Å^3), density (g/cm^3), geometric void
  fraction, largest included sphere diameter (``sg_lcd_a``, Å) and the
  fraction of the cell where a 1.3 Å probe's centre fits
  (``sg_probe_fraction``), all from one distance field: a grid of about
  :data:`PORE_GRID_POINTS` points and, for each point, the distance to the
  nearest van der Waals surface (pymatgen radii, periodic neighbour search;
  distances are capped at :data:`PORE_MAX_A`). Zeo++ gives the exact
  Voronoi-network values; the grid misses the pore centre by up to half a
  grid diagonal, so ``sg_lcd_a`` runs low (ZIF-8 10.6 Å against Zeo++'s
  11.4 Å; MOF-5 13.1 Å against 15.2 Å) but orders frameworks the same way.
* **Metal sites**, from the bond graph of :func:`mlglass.structure.bonds.build_bond_graph`:
  coordination number (mean, min, max), metal–donor bond lengths (mean,
  min, max, Å) and the mean ratio of bond length to the sum of covalent radii,
  donor-element fractions (O, N, S, halogen, C, other), metal element
  properties (mean Pauling electronegativity, Z, group, period, covalent
  radius; number of distinct metal elements).
* **Revised autocorrelations** (RACs; Janet & Kulik 2017, as adapted to MOFs
  by Nandy, Duan & Kulik 2021/2022 in MOFSimplify): for atomic properties
  P in {χ (Pauling electronegativity), Z, S (covalent radius), T (number of
  bonds), I (identity, 1)} and graph distance d = 0…3,

  - metal-centred products ``sg_mc_P_d`` = mean over metal atoms i of
    Σ_{j: dist(i, j) = d} P_i P_j,
  - metal-centred differences ``sg_Dmc_P_d`` (d ≥ 1, P ≠ I) = mean over metal
    atoms i of Σ_{j: dist(i, j) = d} (P_i − P_j),
  - whole-structure products ``sg_f_P_d`` = Σ over ordered atom pairs at
    distance d of P_i P_j, divided by the number of atoms (per-atom, so cells
    of different size compare).

  Graph distances are taken on the bond graph of the cell's atoms with
  periodic bonds folded back into the cell (for d ≤ 3 this equals the
  periodic graph unless the cell is less than about three bonds across).

References
----------
J. P. Janet, H. J. Kulik, "Resolving transition metal chemical space: feature selection for machine learning
and structure-property relationships", J. Phys. Chem. A 2017, 121, 8939.
A. Nandy, C. Duan, H. J. Kulik, "Using machine learning and data mining to leverage community knowledge for the
engineering of stable metal-organic frameworks", J. Am. Chem. Soc. 2021, 143, 17535.
A. Nandy, G. Terrones, N. Arunachalam, C. Duan, D. W. Kastner, H. J. Kulik, Sci. Data 2022, 9, 74.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "GRAPH_COLUMNS",
    "GRAPH_DESCRIPTOR_VERSION",
    "PORE_GRID_POINTS",
    "PORE_MAX_A",
    "PROBE_RADIUS_A",
    "RAC_DEPTH",
    "RAC_PROPERTIES",
    "default_graph_cache_dir",
    "graph_descriptors",
    "graph_descriptors_for_cifs",
]

#: Bump whenever a rule here changes (keys the per-CIF cache).
GRAPH_DESCRIPTOR_VERSION = "mlglass.structure.graph_descriptors/1"
PORE_GRID_POINTS = 8000
PORE_MAX_A = 12.0
PROBE_RADIUS_A = 1.3
RAC_PROPERTIES = ("chi", "Z", "S", "T", "I")
RAC_DEPTH = 3
_HALOGENS = frozenset({"F", "Cl", "Br", "I"})
_COMPOSITION = ("C", "H", "N", "O", "S", "P", "halogen", "metal", "other")
_DONORS = ("O", "N", "S", "halogen", "C", "other")


def _columns() -> tuple[str, ...]:
    cols = [f"sg_frac_{k}" for k in _COMPOSITION]
    cols += ["sg_volume_per_atom_a3", "sg_density_g_cm3", "sg_void_fraction", "sg_lcd_a", "sg_probe_fraction"]
    cols += ["sg_metal_cn_mean", "sg_metal_cn_min", "sg_metal_cn_max", "sg_md_bond_mean_a", "sg_md_bond_min_a",
             "sg_md_bond_max_a", "sg_md_bond_ratio_mean"]
    cols += [f"sg_donor_frac_{k}" for k in _DONORS]
    cols += ["sg_metal_chi_mean", "sg_metal_z_mean", "sg_metal_group_mean", "sg_metal_period_mean",
             "sg_metal_rcov_mean", "sg_n_metal_elements"]
    for p in RAC_PROPERTIES:
        cols += [f"sg_mc_{p}_{d}" for d in range(RAC_DEPTH + 1)]
    for p in RAC_PROPERTIES:
        if p != "I":
            cols += [f"sg_Dmc_{p}_{d}" for d in range(1, RAC_DEPTH + 1)]
    for p in RAC_PROPERTIES:
        cols += [f"sg_f_{p}_{d}" for d in range(RAC_DEPTH + 1)]
    return tuple(cols)


#: Keys of :func:`graph_descriptors`, in order.
GRAPH_COLUMNS = _columns()


@cache
def _element_props(symbol: str) -> tuple[float, float, float, float, float]:
    """(Pauling electronegativity, Z, covalent radius Å, group, row) from pymatgen (NaN when unknown)."""
    from pymatgen.core import Element

    from mlglass.structure.bonds import covalent_radius

    try:
        el = Element(symbol)
    except ValueError:
        return (math.nan, math.nan, covalent_radius(symbol), math.nan, math.nan)
    chi = float(el.X) if el.X and math.isfinite(float(el.X)) else math.nan
    return (chi, float(el.Z), covalent_radius(symbol), float(el.group), float(el.row))


def _distance_field(structure, n_points: int = PORE_GRID_POINTS) -> np.ndarray:
    """Distance (Å) from each grid point to the nearest van der Waals surface (negative inside an atom)."""
    from mlglass.structure.descriptors import vdw_grid

    grid = vdw_grid(structure, n_points=n_points)
    points, radii = grid.points, grid.radii
    field = np.full(len(points), PORE_MAX_A)
    todo = np.arange(len(points))
    rmax = float(radii.max())
    for reach in (3.0, 6.0, PORE_MAX_A):  # most points are near an atom: search wider only where needed
        if len(todo) == 0:
            break
        centers, neighbours, dists = grid.neighbours(points[todo], reach + rmax)
        surface = dists - radii[neighbours]
        best = np.full(len(todo), np.inf)
        np.minimum.at(best, centers, surface)
        found = best <= reach
        field[todo[found]] = best[found]
        todo = todo[~found]
    return field


def _hop_matrices(n: int, pairs: list[tuple[int, int]]) -> list[Any]:
    """Boolean sparse matrices R_d (d = 0..RAC_DEPTH): atoms exactly d bonds apart (cell-folded graph)."""
    from scipy import sparse

    eye = sparse.identity(n, dtype=np.int8, format="csr")
    if pairs:
        i, j = np.array(pairs, dtype=np.int64).T
        adj = sparse.coo_matrix((np.ones(len(i), np.int8), (i, j)), shape=(n, n)).tocsr()
        adj = ((adj + adj.T) > 0).astype(np.int8)
        adj.setdiag(0)
        adj.eliminate_zeros()
    else:
        adj = sparse.csr_matrix((n, n), dtype=np.int8)
    out = [eye]
    reached = eye.copy()
    frontier = eye
    for _ in range(RAC_DEPTH):
        nxt = ((frontier @ adj) > 0).astype(np.int8)
        nxt = (nxt - nxt.multiply(reached)).tocsr()
        nxt.eliminate_zeros()
        out.append(nxt)
        reached = ((reached + nxt) > 0).astype(np.int8)
        frontier = nxt
    return out


def graph_descriptors(source: Any) -> dict[str, float]:
    """Descriptors :data:`GRAPH_COLUMNS` of one CIF path, CIF text or pymatgen ``Structure``.

    Raises
    ------
    StructureError
        Unreadable CIF or empty structure (:func:`mlglass.structure.cif.load_structure`).
    NoMetalError
        No metal atom in the structure.
    """
    from mlglass.chem.elements import is_metal
    from mlglass.errors import NoMetalError
    from mlglass.structure.bonds import build_bond_graph
    from mlglass.structure.cif import load_structure

    loaded = load_structure(source)
    s: Any = loaded.structure
    symbols = [site.specie.symbol for site in s]
    n = len(symbols)
    metal = np.array([is_metal(x) for x in symbols], dtype=bool)
    if not metal.any():
        raise NoMetalError("cif", loaded.source, f"no metal site in {s.composition.reduced_formula}")
    out: dict[str, float] = dict.fromkeys(GRAPH_COLUMNS, math.nan)
    sym = np.array(symbols)
    kind = np.where(metal, "metal", np.where(np.isin(sym, list(_HALOGENS)), "halogen",
                                             np.where(np.isin(sym, ["C", "H", "N", "O", "S", "P"]), sym, "other")))
    for k in _COMPOSITION:
        out[f"sg_frac_{k}"] = float(np.mean(kind == k))
    volume = float(s.lattice.volume)
    out["sg_volume_per_atom_a3"] = volume / n
    mass = sum(float(site.specie.atomic_mass) for site in s)
    out["sg_density_g_cm3"] = float(mass) / volume * 1.66053906660
    field = _distance_field(s)
    out["sg_void_fraction"] = float(np.mean(field > 0))
    out["sg_lcd_a"] = float(2 * max(field.max(), 0.0))
    out["sg_probe_fraction"] = float(np.mean(field >= PROBE_RADIUS_A))

    graph = build_bond_graph(s)
    props = np.array([_element_props(x) for x in symbols])  # chi, Z, S, group, row
    degree = np.array([len(nb) for nb in graph.neighbors], dtype=float)
    pvals = {"chi": props[:, 0], "Z": props[:, 1], "S": props[:, 2], "T": degree, "I": np.ones(n)}
    m_idx = np.flatnonzero(metal)
    cn = degree[m_idx]
    out["sg_metal_cn_mean"], out["sg_metal_cn_min"], out["sg_metal_cn_max"] = (float(cn.mean()), float(cn.min()),
                                                                               float(cn.max()))
    bond_d, bond_ratio, donors = [], [], []
    for i in m_idx:
        for j, _img, d in graph.neighbors[i]:
            if metal[j]:
                continue
            bond_d.append(d)
            bond_ratio.append(d / (props[i, 2] + props[j, 2]))
            donors.append(kind[j] if kind[j] in _DONORS else "other")
    if bond_d:
        out["sg_md_bond_mean_a"] = float(np.mean(bond_d))
        out["sg_md_bond_min_a"] = float(np.min(bond_d))
        out["sg_md_bond_max_a"] = float(np.max(bond_d))
        out["sg_md_bond_ratio_mean"] = float(np.mean(bond_ratio))
        don = np.array(donors)
        for k in _DONORS:
            out[f"sg_donor_frac_{k}"] = float(np.mean(don == k))
    mp = props[m_idx]
    with np.errstate(all="ignore"):
        out["sg_metal_chi_mean"] = float(np.nanmean(mp[:, 0])) if np.isfinite(mp[:, 0]).any() else math.nan
    out["sg_metal_z_mean"] = float(mp[:, 1].mean())
    out["sg_metal_group_mean"] = float(mp[:, 3].mean())
    out["sg_metal_period_mean"] = float(mp[:, 4].mean())
    out["sg_metal_rcov_mean"] = float(mp[:, 2].mean())
    out["sg_n_metal_elements"] = float(len(set(sym[m_idx])))

    pairs = [(i, j) for i, j, _img, _d in graph.edges() if i != j]
    hops = _hop_matrices(n, pairs)
    for p in RAC_PROPERTIES:
        v = np.nan_to_num(pvals[p], nan=0.0)
        for d, R in enumerate(hops):
            Rv = R @ v  # Σ_j at distance d of P_j, per atom
            out[f"sg_mc_{p}_{d}"] = float(np.mean(v[m_idx] * Rv[m_idx]))
            out[f"sg_f_{p}_{d}"] = float(v @ Rv) / n
            if d >= 1 and p != "I":
                cnt = np.asarray(R.sum(axis=1)).ravel()
                out[f"sg_Dmc_{p}_{d}"] = float(np.mean(v[m_idx] * cnt[m_idx] - Rv[m_idx]))
    return out


# ------------------------------------------------------------------ many files, cached
def default_graph_cache_dir() -> Path:
    """``<record cache>/graph_descriptors`` (see :func:`mlglass.structure.default_cache_dir`)."""
    from mlglass.structure.batch import default_cache_dir

    return default_cache_dir() / "graph_descriptors"


def _cache_key(file_hash: str) -> str:
    return hashlib.sha256(f"{GRAPH_DESCRIPTOR_VERSION}|{file_hash}".encode()).hexdigest()


def _one(args: tuple[str, float | None]) -> tuple[dict[str, float], str, bool]:
    """(descriptors, error, cacheable) of one file, in this process."""
    from mlglass.errors import MlglassError
    from mlglass.structure._timeout import TimeLimitExceeded, time_limit

    path, timeout = args
    try:
        with time_limit(timeout):
            return graph_descriptors(path), "", True
    except TimeLimitExceeded:
        return {}, f"timeout: structure descriptors not finished within {timeout:g} s", False
    except MlglassError as exc:
        return {}, str(exc), True
    except Exception as exc:  # noqa: BLE001 - one bad file must not stop the batch
        return {}, f"unexpected {type(exc).__name__}: {exc}", False


def graph_descriptors_for_cifs(paths: Iterable[str | os.PathLike], *, n_jobs: int = 1, timeout: float | None = 60.0,
                               cache_dir: str | os.PathLike | None = None, use_cache: bool = True,
                               progress: bool = False) -> pd.DataFrame:
    """:func:`graph_descriptors` of many files, cached per file (SHA-256 of the content and the version).

    Parameters
    ----------
    paths : iterable of path
        CIF files.
    n_jobs : int, default=1
        Worker processes for the files not in the cache.
    timeout : float, optional
        Seconds per file (``SIGALRM`` in the worker); a timed-out file is not cached.
    cache_dir : path, optional
        Default :func:`default_graph_cache_dir`.
    use_cache, progress : bool

    Returns
    -------
    pandas.DataFrame
        One row per path, in order: ``cif``, :data:`GRAPH_COLUMNS` and ``graph_error`` (empty on success).
    """
    import pandas as pd

    from mlglass.io import atomic_write_text
    from mlglass.structure.cif import file_sha256

    path_list = [str(p) for p in paths]
    cdir = Path(cache_dir) if cache_dir is not None else default_graph_cache_dir()
    results: list[tuple[dict[str, float], str] | None] = [None] * len(path_list)
    keys: list[str | None] = [None] * len(path_list)
    todo: list[int] = []
    for k, p in enumerate(path_list):
        try:
            keys[k] = _cache_key(file_sha256(p))
        except OSError as exc:
            results[k] = ({}, f"field 'cif' = {p!r}: cannot read the file: {exc}")
            continue
        if use_cache:
            f = cdir / f"{keys[k]}.json"
            if f.is_file():
                try:
                    data = json.loads(f.read_text(encoding="utf-8"))
                    if data.get("version") == GRAPH_DESCRIPTOR_VERSION:
                        results[k] = ({c: (math.nan if v is None else float(v)) for c, v in data["row"].items()},
                                      str(data.get("error", "")))
                        continue
                except (OSError, ValueError, KeyError, TypeError, AttributeError):
                    pass
        todo.append(k)

    def store(k: int, res: tuple[dict[str, float], str, bool]) -> None:
        desc, err, cacheable = res
        results[k] = (desc, err)
        if use_cache and cacheable and keys[k] is not None:
            row = {c: (None if not math.isfinite(desc.get(c, math.nan)) else desc[c]) for c in GRAPH_COLUMNS} \
                if desc else {}
            cdir.mkdir(parents=True, exist_ok=True)
            atomic_write_text(cdir / f"{keys[k]}.json",
                              json.dumps({"version": GRAPH_DESCRIPTOR_VERSION, "row": row, "error": err}))

    jobs = [(path_list[k], timeout) for k in todo]
    if n_jobs > 1 and len(jobs) > 1:
        import multiprocessing as mp

        with mp.get_context("fork").Pool(n_jobs, maxtasksperchild=200) as pool:
            for done, (k, res) in enumerate(zip(todo, pool.imap(_one, jobs, chunksize=4))):
                store(k, res)
                if progress and done % 100 == 0:
                    print(f"graph descriptors: {done + 1}/{len(jobs)}", flush=True)
    else:
        for done, (k, job) in enumerate(zip(todo, jobs)):
            store(k, _one(job))
            if progress and done % 100 == 0:
                print(f"graph descriptors: {done + 1}/{len(jobs)}", flush=True)
    rows = []
    for p, got in zip(path_list, results):
        desc, err = got if got is not None else ({}, "not processed")
        rows.append({"cif": p, **{c: desc.get(c, math.nan) for c in GRAPH_COLUMNS}, "graph_error": err})
    return pd.DataFrame(rows, columns=["cif", *GRAPH_COLUMNS, "graph_error"])
