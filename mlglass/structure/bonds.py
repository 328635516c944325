"""Periodic bond graph of a crystal structure from covalent radii.

Rule (documented, used everywhere in :mod:`mlglass.structure`)
------------------------------------------------------------------
Two atoms *i*, *j* are bonded when their distance (minimum over periodic
images, every image within the cutoff counted separately) satisfies

    d(i, j) < r_cov(i) + r_cov(j) + BOND_TOLERANCE_A        (0.45 Å)

with the covalent radii of Cordero et al., Dalton Trans. 2008, 2832 (as
shipped by pymatgen, ``CovalentRadius.radius``). For a metal–non-metal pair the
tolerance is ``METAL_TOLERANCE_A`` (0.60 Å) instead: coordination bonds of
large, soft or lone-pair cations are long (Pb(II)–O up to 2.7 Å in MOF-70,
Cd–O 2.7 Å in MOF-72, both missed with 0.45 Å); the chelate-ring rule below
removes the M···C contacts this would otherwise add. Exceptions:

* **metal–metal contacts are not bonds.** Paddle-wheel Cu···Cu, aurophilic
  Au···Au (3.1 Å in AuCN) or argentophilic contacts would otherwise merge
  1D chains into 3D nets. They are reported as ``metal_metal_min_distance_a``.
* **H–H contacts are not bonds** (no H2 in a framework; disordered methyl
  groups put H atoms close together).
* **an H atom keeps only its shortest bond** (relative to the sum of radii):
  hydrogen is monovalent, and long M···H–C or O–H···O contacts must not
  glue fragments together.
* **chelate-ring artefact:** if a metal M is bonded to two atoms X, Y that are
  bonded to each other (a 3-membered M-X-Y ring) and d(M-X) exceeds d(M-Y) by
  more than ``TRIANGLE_SLACK_A`` (0.25 Å), the M-X contact is dropped. This
  removes the M···C "bond" to the carbon of a chelating carboxylate while
  keeping genuine side-on (eta-2) bonds, whose two distances are similar.
* **3-ring artefact among non-metals:** a bond that closes a 3-membered ring
  of non-metals and is longer than the sum of covalent radii + 0.25 Å is
  dropped (a distorted 5-ring in a UFF/RASPA model put C2···C4 of
  imidazole-2-carboxaldehyde at 1.8 Å; real 3-rings such as cyclopropane or
  epoxide bonds are within 0.1 Å of the radius sum).
* **clashes:** two atoms closer than ``CLASH_FRACTION`` (0.55) times the sum
  of their covalent radii (or closer than 0.5 Å) are overlapping positions of
  an unresolved disorder model; :func:`build_bond_graph` reports them and the
  caller refuses the structure.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mlglass.chem.elements import is_metal

__all__ = ["BOND_TOLERANCE_A", "METAL_TOLERANCE_A", "BondGraph", "build_bond_graph", "covalent_radius"]

BOND_TOLERANCE_A = 0.45
METAL_TOLERANCE_A = 0.60
TRIANGLE_SLACK_A = 0.25
CLASH_FRACTION = 0.55
CLASH_MIN_A = 0.5

_DEFAULT_RADIUS = 1.5


def covalent_radius(symbol: str) -> float:
    """Cordero covalent radius in Å (pymatgen table; 1.5 Å if the element is missing)."""
    from pymatgen.analysis.molecule_structure_comparator import CovalentRadius

    return float(CovalentRadius.radius.get(symbol, _DEFAULT_RADIUS))


Image = tuple[int, int, int]


@dataclass
class BondGraph:
    """Bonds of a periodic structure.

    ``neighbors[i]`` lists ``(j, image, distance)``: atom *j* translated by the
    lattice vector ``image`` is bonded to atom *i* in the home cell. Every bond
    appears in both directions (the reverse with ``-image``).
    """

    symbols: list[str]
    is_metal: np.ndarray
    neighbors: list[list[tuple[int, Image, float]]]
    clashes: list[tuple[int, int, float]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.symbols)

    def edges(self):
        """Each bond once: ``(i, j, image, distance)`` with ``i <= j``."""
        for i, nbrs in enumerate(self.neighbors):
            for j, img, d in nbrs:
                if i < j or (i == j and img > (0, 0, 0)):
                    yield i, j, img, d

    def n_bonds(self) -> int:
        return sum(len(n) for n in self.neighbors) // 2


def build_bond_graph(structure, tolerance: float = BOND_TOLERANCE_A,
                     metal_tolerance: float = METAL_TOLERANCE_A) -> BondGraph:
    """Bond graph of ``structure`` (an ordered pymatgen ``Structure``) by the rule above."""
    symbols = [site.specie.symbol for site in structure]
    n = len(symbols)
    radii = np.array([covalent_radius(s) for s in symbols])
    metal = np.array([is_metal(s) for s in symbols], dtype=bool)
    is_h = np.array([s == "H" for s in symbols], dtype=bool)
    if n == 0:
        return BondGraph(symbols, metal, [])
    # every bond has at least one non-metal end: the search radius need not cover metal-metal pairs
    r_nonmetal = float(radii[~metal].max()) if (~metal).any() else float(radii.max())
    rmax = float(radii.max()) + r_nonmetal + max(tolerance, metal_tolerance)
    centers, points, images, dists = structure.get_neighbor_list(rmax)
    images = np.rint(images).astype(int)
    keep = centers <= points
    centers, points, images, dists = centers[keep], points[keep], images[keep], dists[keep]
    # self-pairs across images appear twice (+img, -img): keep one
    self_pair = centers == points
    if self_pair.any():
        img_key = images[:, 0] * 10000 + images[:, 1] * 100 + images[:, 2]
        drop = self_pair & (img_key < 0)
        centers, points, images, dists = centers[~drop], points[~drop], images[~drop], dists[~drop]
    rsum = radii[centers] + radii[points]
    clash_mask = (dists < CLASH_FRACTION * rsum) | (dists < CLASH_MIN_A)
    clashes = [(int(a), int(b), float(d))
               for a, b, d in zip(centers[clash_mask], points[clash_mask], dists[clash_mask])]
    one_metal = metal[centers] ^ metal[points]
    bonded = dists < rsum + np.where(one_metal, metal_tolerance, tolerance)
    bonded &= ~(metal[centers] & metal[points])
    bonded &= ~(is_h[centers] & is_h[points])
    c, p, im, d, rs = centers[bonded], points[bonded], images[bonded], dists[bonded], rsum[bonded]

    # hydrogen keeps only its shortest bond (relative to the radius sum)
    ratio = d / rs
    best_h: dict[int, tuple[float, int]] = {}
    for k in np.nonzero(is_h[c] | is_h[p])[0].tolist():
        h = int(c[k]) if is_h[c[k]] else int(p[k])
        if h not in best_h or ratio[k] < best_h[h][0]:
            best_h[h] = (float(ratio[k]), int(k))
    keep_idx = [k for k in range(len(c))
                if not (is_h[c[k]] or is_h[p[k]])
                or best_h[int(c[k]) if is_h[c[k]] else int(p[k])][1] == k]

    neighbors: list[list[tuple[int, Image, float]]] = [[] for _ in range(n)]
    for k in keep_idx:
        img: Image = (int(im[k, 0]), int(im[k, 1]), int(im[k, 2]))
        i, j, dist = int(c[k]), int(p[k]), float(d[k])
        neighbors[i].append((j, img, dist))
        neighbors[j].append((i, (-img[0], -img[1], -img[2]), dist))
    graph = BondGraph(symbols, metal, neighbors, clashes)
    _drop_chelate_artefacts(graph)
    _drop_long_triangle_bonds(graph, radii)
    return graph


def _drop_long_triangle_bonds(graph: BondGraph, radii: np.ndarray) -> None:
    """Apply the non-metal 3-ring rule."""
    metal = graph.is_metal
    drop: set[tuple[int, int, Image]] = set()
    for i in range(len(graph)):
        if metal[i]:
            continue
        nbrs = [(j, img, d) for j, img, d in graph.neighbors[i] if not metal[j]]
        if len(nbrs) < 2:
            continue
        keys = {(j, img): d for j, img, d in nbrs}
        for j, img_j, d_ij in nbrs:
            for k, img_jk, d_jk in graph.neighbors[j]:
                if metal[k]:
                    continue
                img_k = _add3(img_j, img_jk)
                d_ik = keys.get((k, img_k))
                if d_ik is None or (k, img_k) == (i, (0, 0, 0)):
                    continue
                # triangle i-j-k: drop the longest edge if it is a tolerance artefact
                edges = [(d_ij, i, j, img_j), (d_jk, j, k, img_jk), (d_ik, i, k, img_k)]
                d, a, b, img = max(edges)
                if d > radii[a] + radii[b] + TRIANGLE_SLACK_A:
                    drop.add((a, b, img))
    if not drop:
        return
    for a, b, img in drop:
        back = (-img[0], -img[1], -img[2])
        graph.neighbors[a] = [(k, im, d) for k, im, d in graph.neighbors[a] if not (k == b and im == img)]
        graph.neighbors[b] = [(k, im, d) for k, im, d in graph.neighbors[b] if not (k == a and im == back)]


def _add3(a: Image, b: Image) -> Image:
    return (a[0] + b[0], a[1] + b[1], a[2] + b[2])


def _drop_chelate_artefacts(graph: BondGraph) -> None:
    """Apply the 3-ring rule: drop a metal's long contact X when it is bonded to a shorter partner Y of X."""
    metal = graph.is_metal
    for m in np.nonzero(metal)[0].tolist():
        nbrs = graph.neighbors[m]
        if len(nbrs) < 2:
            continue
        pos = {(j, img): d for j, img, d in nbrs}
        drop = set()
        for j, img, d in nbrs:
            for k, img2, _ in graph.neighbors[j]:
                if metal[k]:
                    continue
                key = (k, (img[0] + img2[0], img[1] + img2[1], img[2] + img2[2]))
                d_other = pos.get(key)
                if d_other is not None and d > d_other + TRIANGLE_SLACK_A:
                    drop.add((j, img))
        if not drop:
            continue
        graph.neighbors[m] = [(j, img, d) for j, img, d in nbrs if (j, img) not in drop]
        for j, img in drop:
            back = (-img[0], -img[1], -img[2])
            graph.neighbors[j] = [(k, im, d) for k, im, d in graph.neighbors[j] if not (k == m and im == back)]
