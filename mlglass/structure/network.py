"""Network analysis: dimensionality, metal coordination number and geometry.

Dimensionality
--------------
pymatgen's Larsen algorithm (``pymatgen.analysis.dimensionality``; Larsen et
al., Phys. Rev. Materials 3, 034003 (2019)): for each connected component of a
periodic ``StructureGraph`` it collects the lattice translations under which
the component reaches copies of one site; the rank of that set (0-3) is the
component's dimensionality, and ``get_dimensionality_larsen`` returns the
maximum over components.

pymatgen's implementation calls ``get_connected_sites`` for every site and is
slow on thousand-atom MOF cells, so it is run on a *contracted* graph with the
same topology: every finite (non-periodic) non-metal fragment bonded to a metal
is replaced by one node at its unwrapped centroid, bonded to the same metal
copies (contracting a finite, non-self-periodic subgraph does not change the
set of translations that connect a component to itself, hence not the rank).
Fragments bonded to no metal are left out (they are 0D guests); periodic
fragments keep their atoms. Each metal-containing component is a separate
``StructureGraph`` and ``calculate_dimensionality_of_site`` (the per-component
step of ``get_dimensionality_larsen``) gives its dimensionality.

Geometry
--------
From the bonded (non-metal) neighbours of each metal site:
CN 2 linear (angle > 150°) else other; CN 3 trigonal (T-shape with an angle
> 150° is other); CN 4 by the τ4 index of Yang, Powell & Houser (Dalton Trans.
2007, 955): τ4 = (360° − α − β)/141° with α, β the two largest angles,
τ4 ≥ 0.5 tetrahedral, otherwise square_planar; CN 5 by Addison's τ5 = (β − α)/60°,
> 0.5 trigonal_bipyramidal, otherwise square_pyramidal; CN 6 octahedral; other
CN other.
"""

from __future__ import annotations

import warnings
from collections import Counter
from dataclasses import dataclass

import numpy as np

from mlglass.structure.bonds import BondGraph
from mlglass.structure.fragments import Fragment

__all__ = ["MetalSite", "metal_sites", "classify_geometry", "network_components", "metal_metal_min_distance"]


@dataclass(frozen=True)
class MetalSite:
    index: int
    symbol: str
    coordination_number: int
    geometry: str


def classify_geometry(vectors: np.ndarray) -> str:
    """Geometry name (one of ``records.GEOMETRIES``) from metal→ligand vectors."""
    n = len(vectors)
    if n < 2:
        return "other"
    v = np.asarray(vectors, dtype=float)
    v = v / np.linalg.norm(v, axis=1)[:, None]
    cos = np.clip(v @ v.T, -1.0, 1.0)
    iu = np.triu_indices(n, 1)
    angles = np.sort(np.degrees(np.arccos(cos[iu])))[::-1]
    if n == 2:
        return "linear" if angles[0] > 150 else "other"
    if n == 3:
        return "other" if angles[0] > 150 else "trigonal"
    if n == 4:
        tau4 = (360.0 - angles[0] - angles[1]) / 141.0
        return "tetrahedral" if tau4 >= 0.5 else "square_planar"
    if n == 5:
        tau5 = (angles[0] - angles[1]) / 60.0
        return "trigonal_bipyramidal" if tau5 > 0.5 else "square_pyramidal"
    if n == 6:
        return "octahedral"
    return "other"


def metal_sites(structure, graph: BondGraph, indices) -> list[MetalSite]:
    """Coordination number and geometry of the metal sites ``indices``."""
    lattice = structure.lattice
    out = []
    for i in indices:
        nbrs = graph.neighbors[i]
        if nbrs:
            frac = np.array([structure[j].frac_coords + np.array(img) for j, img, _ in nbrs])
            vecs = lattice.get_cartesian_coords(frac) - structure[i].coords
        else:
            vecs = np.zeros((0, 3))
        out.append(MetalSite(int(i), graph.symbols[i], len(nbrs), classify_geometry(vecs)))
    return out


def majority_geometry(sites: list[MetalSite]) -> str | None:
    """Most common geometry (ties broken by the order of ``records.GEOMETRIES``)."""
    from mlglass.records import GEOMETRIES

    if not sites:
        return None
    counts = Counter(s.geometry for s in sites)
    best = max(counts.values())
    return next(g for g in GEOMETRIES if counts.get(g) == best)


def network_components(structure, graph: BondGraph, fragments: list[Fragment]
                       ) -> list[tuple[set[int], int]]:
    """Metal-containing components: ``[(metal site indices, dimensionality), ...]``."""
    from pymatgen.analysis.dimensionality import calculate_dimensionality_of_site
    from pymatgen.analysis.graphs import StructureGraph
    from pymatgen.core import Structure

    metal_idx = [int(i) for i in np.nonzero(graph.is_metal)[0]]
    # nodes: ("m", site) or ("f", fragment number) or ("a", site of a periodic fragment)
    node_pos: list[np.ndarray] = []
    node_species: list[str] = []
    node_key: dict[tuple[str, int], int] = {}
    edges: list[tuple[int, int, tuple[int, int, int]]] = []

    def add_node(key, frac, species):
        node_key[key] = len(node_pos)
        node_pos.append(np.asarray(frac, dtype=float))
        node_species.append(species)
        return node_key[key]

    for m in metal_idx:
        add_node(("m", m), structure[m].frac_coords, graph.symbols[m])

    for fi, frag in enumerate(fragments):
        if not frag.bonded_to_metal:
            continue
        if frag.periodic:
            for a in frag.atoms:
                add_node(("a", a), structure[a].frac_coords, graph.symbols[a])
            for a in frag.atoms:
                for b, img, _ in graph.neighbors[a]:
                    if graph.is_metal[b] or b < a or (b == a and img <= (0, 0, 0)):
                        continue
                    edges.append((node_key[("a", a)], node_key[("a", b)], img))
            for a in frag.atoms:
                for b, img, _ in graph.neighbors[a]:
                    if graph.is_metal[b]:
                        edges.append((node_key[("a", a)], node_key[("m", b)], img))
            continue
        frac = np.array([structure[a].frac_coords + np.array(frag.offsets[a]) for a in frag.atoms])
        centroid = frac.mean(axis=0)
        shift = np.floor(centroid).astype(int)
        k = add_node(("f", fi), centroid - shift, graph.symbols[frag.atoms[0]])
        for _atom, m, img in frag.metal_contacts:
            rel = np.array(img) - shift
            edges.append((k, node_key[("m", m)], (int(rel[0]), int(rel[1]), int(rel[2]))))

    # union-find over the contracted nodes
    parent = list(range(len(node_pos)))

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for u, v, _ in edges:
        ru, rv = find(u), find(v)
        if ru != rv:
            parent[ru] = rv
    groups: dict[int, list[int]] = {}
    for n in range(len(node_pos)):
        groups.setdefault(find(n), []).append(n)
    edges_by_root: dict[int, list[tuple[int, int, tuple[int, int, int]]]] = {}
    for u, v, img in edges:
        edges_by_root.setdefault(find(u), []).append((u, v, img))

    metal_nodes = {node_key[("m", m)]: m for m in metal_idx}
    results = []
    for root, nodes in groups.items():
        metals = {metal_nodes[n] for n in nodes if n in metal_nodes}
        if not metals:
            continue
        local = {n: k for k, n in enumerate(nodes)}
        sub = Structure(structure.lattice, [node_species[n] for n in nodes], [node_pos[n] for n in nodes])
        sg = StructureGraph.from_empty_graph(sub)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for u, v, img in edges_by_root.get(root, []):
                if u == v and img == (0, 0, 0):
                    continue
                sg.add_edge(local[u], local[v], from_jimage=(0, 0, 0), to_jimage=img)
        dim = int(calculate_dimensionality_of_site(sg, local[next(iter(nodes))]))
        results.append((metals, dim))
    return results


def metal_metal_min_distance(structure, indices) -> float:
    """Shortest distance (Å) between two metal sites, periodic images included; NaN if none within 50 Å."""
    from pymatgen.core import Structure

    indices = list(indices)
    if not indices:
        return float("nan")
    sub = Structure(structure.lattice, [structure[i].species for i in indices],
                    [structure[i].frac_coords for i in indices])
    r = 6.0
    while r <= 50.0:
        _, _, _, d = sub.get_neighbor_list(r)
        d = d[d > 1e-6]
        if len(d):
            return float(d.min())
        r *= 2
    return float("nan")
