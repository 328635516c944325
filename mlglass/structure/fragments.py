"""Non-metal fragments of a periodic bond graph, unwrapped across cell boundaries.

Removing the metal sites from the bond graph leaves the organic linkers, bridging
O/OH, counter-ions and guests as connected components. Each is found by a
breadth-first search over the bonds that carries the lattice translation
("image") of every atom, so a linker cut by the cell boundary is rebuilt whole
with Cartesian coordinates. A component that reaches an atom again with a
*different* image is connected to its own periodic copy: it is an infinite
chain, layer or net without metals (e.g. a polymeric anion) and is flagged
``periodic``; it cannot be written as one molecule.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np

from mlglass.structure.bonds import BondGraph, Image

__all__ = ["Fragment", "find_fragments"]


def _add(a: Image, b: Image) -> Image:
    return (a[0] + b[0], a[1] + b[1], a[2] + b[2])


@dataclass
class Fragment:
    """A connected set of non-metal atoms.

    Attributes
    ----------
    atoms : list of int
        Site indices, in BFS order.
    offsets : dict
        Lattice translation of each atom that makes the fragment whole.
    periodic : bool
        Connected to its own periodic image (infinite, not a molecule).
    metal_contacts : list of (atom, metal, image)
        Bonds from a fragment atom (at its offset) to metal ``metal`` at lattice
        translation ``image`` (relative to the home cell).
    """

    atoms: list[int]
    offsets: dict[int, Image]
    periodic: bool = False
    metal_contacts: list[tuple[int, int, Image]] = field(default_factory=list)

    @property
    def bonded_to_metal(self) -> bool:
        return bool(self.metal_contacts)

    def cart_coords(self, structure) -> np.ndarray:
        """Unwrapped Cartesian coordinates (Å), one row per atom of :attr:`atoms`."""
        frac = np.array([structure[i].frac_coords + np.array(self.offsets[i]) for i in self.atoms])
        return structure.lattice.get_cartesian_coords(frac)

    def internal_bonds(self, graph: BondGraph) -> list[tuple[int, int]]:
        """Bonds within the unwrapped fragment as pairs of positions in :attr:`atoms`."""
        pos = {a: k for k, a in enumerate(self.atoms)}
        out = []
        for a in self.atoms:
            for b, img, _ in graph.neighbors[a]:
                if b in pos and pos[a] < pos[b] and _add(self.offsets[a], img) == self.offsets[b]:
                    out.append((pos[a], pos[b]))
        return out


def find_fragments(graph: BondGraph) -> list[Fragment]:
    """Connected components of the non-metal atoms (one per molecule in the cell)."""
    metal = graph.is_metal
    seen: dict[int, Image] = {}
    fragments: list[Fragment] = []
    for start in range(len(graph)):
        if metal[start] or start in seen:
            continue
        frag = Fragment(atoms=[start], offsets={start: (0, 0, 0)})
        seen[start] = (0, 0, 0)
        queue = deque([start])
        while queue:
            a = queue.popleft()
            oa = frag.offsets[a]
            for b, img, _ in graph.neighbors[a]:
                ob = _add(oa, img)
                if metal[b]:
                    # the metal copy bonded to this atom sits at translation ob
                    frag.metal_contacts.append((a, b, ob))
                    continue
                if b in frag.offsets:
                    if frag.offsets[b] != ob:
                        frag.periodic = True
                    continue
                frag.offsets[b] = ob
                seen[b] = ob
                frag.atoms.append(b)
                queue.append(b)
        fragments.append(frag)
    return fragments
