"""Reading CIF files into ordered pymatgen structures (disorder rule).

Disorder rule (documented; every change is reported in ``warnings``)
---------------------------------------------------------------------
1. ``_atom_site_disorder_group``: atoms of groups other than ``.``/``0``/``1``
   (or negative groups, which denote disorder about a symmetry element) are
   removed: the first disorder group is taken as the major component.
2. Sites with total occupancy < 0.5 (minor components of positional
   disorder) are removed; sites with 0.5 <= occupancy < 1 are kept as full
   atoms.
3. A site shared by several species (substitutional disorder) is given its
   majority species. If the species are metals, the metal fractions reported
   for the record still come from the occupancies (e.g. ``Zn:0.8;Co:0.2``).
4. Atoms that still overlap (closer than 0.55 x the sum of covalent radii,
   :mod:`mlglass.structure.bonds`) mean an unresolved disorder model: the
   structure is refused with :class:`~mlglass.errors.StructureError`.

Missing hydrogen atoms are not a reading problem; see
:mod:`mlglass.structure.ligands` (a structure with carbon but no H at all is
processed with a warning, and fragments with bare C-H positions are refused).
"""

from __future__ import annotations

import hashlib
import io
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlglass.chem.elements import is_metal
from mlglass.errors import StructureError

if TYPE_CHECKING:
    from pymatgen.core import Structure

__all__ = ["LoadedStructure", "load_structure", "file_sha256"]

_KEEP_GROUPS = {".", "?", "0", "1", ""}
MIN_OCCUPANCY = 0.5


@dataclass
class LoadedStructure:
    """An ordered structure plus what the disorder rule did to it."""

    structure: Structure
    source: str
    warnings: list[str] = field(default_factory=list)
    #: site index -> {element: fraction} for metal sites that had several metal species
    metal_site_mix: dict[int, dict[str, float]] = field(default_factory=dict)


def file_sha256(path: str | os.PathLike) -> str:
    """SHA-256 hex digest of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _parse_cif(text: str, source: str) -> tuple[Structure, dict[str, Any], list[str]]:
    from pymatgen.io.cif import CifParser

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            parser = CifParser(io.StringIO(text))
        except Exception as exc:
            raise StructureError("cif", source, f"not a readable CIF: {type(exc).__name__}: {exc}") from None
        try:
            structures = parser.parse_structures(primitive=False, on_error="raise")
        except Exception as exc:
            raise StructureError("cif", source, f"pymatgen could not build a structure: "
                                                f"{type(exc).__name__}: {str(exc)[:300]}") from None
    if not structures:
        raise StructureError("cif", source, "the CIF contains no structure")
    notes = []
    if len(structures) > 1:
        notes.append(f"CIF has {len(structures)} data blocks; only the first is used")
    for w in caught:
        msg = str(w.message)
        if "occupanc" in msg.lower():
            notes.append("pymatgen: " + msg.splitlines()[0][:200])
    blocks = list(parser.as_dict().values())  # {block name: {CIF key: value}}; the disorder groups are only here
    return structures[0], (blocks[0] if blocks else {}), notes


def _disorder_drop_labels(block: dict) -> set[str]:
    labels = block.get("_atom_site_label")
    groups = block.get("_atom_site_disorder_group")
    if not labels or not groups or isinstance(labels, str) or isinstance(groups, str):
        return set()
    drop = set()
    for lab, grp in zip(labels, groups):
        g = str(grp).strip()
        if g in _KEEP_GROUPS or g.startswith("-"):
            continue
        drop.add(str(lab).strip())
    return drop


def apply_disorder_rule(structure: Structure, block: dict | None = None
                        ) -> tuple[Structure, list[str], dict[int, dict[str, float]]]:
    """Apply rules 1-3 of the module docstring. Returns (ordered structure, warnings, metal mixes)."""
    from pymatgen.core import Structure

    notes: list[str] = []
    drop_labels = _disorder_drop_labels(block or {})
    species: list[str] = []
    coords: list[Any] = []  # fractional coordinates (numpy arrays)
    labels: list[str | None] = []
    mixes: dict[int, dict[str, float]] = {}
    n_group, n_low, n_partial, n_mixed = 0, 0, 0, 0
    for site in structure:
        label = getattr(site, "label", None)
        if drop_labels and label in drop_labels:
            n_group += 1
            continue
        comp = site.species
        occ = float(comp.num_atoms)
        if occ < MIN_OCCUPANCY - 1e-6:
            n_low += 1
            continue
        if occ < 0.999:
            n_partial += 1
        items = sorted(((float(a), el.symbol) for el, a in comp.items()), reverse=True)
        if len(items) > 1:
            n_mixed += 1
            metal_items = [(a, s) for a, s in items if is_metal(s)]
            if len(metal_items) > 1:
                tot = sum(a for a, _ in metal_items)
                mixes[len(species)] = {s: a / tot for a, s in metal_items}
        species.append(items[0][1])
        coords.append(site.frac_coords)
        labels.append(label)
    if n_group:
        notes.append(f"disorder: removed {n_group} atoms of minor disorder groups (kept group 1)")
    if n_low:
        notes.append(f"disorder: removed {n_low} sites with occupancy < {MIN_OCCUPANCY:g} (minor component)")
    if n_partial:
        notes.append(f"disorder: kept {n_partial} partially occupied sites (occupancy >= {MIN_OCCUPANCY:g}) "
                     "as full atoms")
    if n_mixed:
        notes.append(f"disorder: {n_mixed} sites with mixed species take their majority species")
    if not (n_group or n_low or n_partial or n_mixed):
        return structure, notes, mixes
    ordered = Structure(structure.lattice, species, coords, labels=labels)
    return ordered, notes, mixes


def load_structure(source) -> LoadedStructure:
    """Load a CIF path (or CIF text, or a pymatgen ``Structure``) as an ordered structure.

    Raises
    ------
    StructureError
        Unreadable file, no structure, empty structure.
    """
    from pymatgen.core import Structure

    block: dict = {}
    notes: list[str] = []
    if isinstance(source, Structure):
        structure, label = source, source.formula
    elif isinstance(source, (str, os.PathLike)):
        if isinstance(source, str) and ("\n" in source and "_cell_length" in source):
            label = "<CIF text>"
            text = source
        else:
            path = Path(source)
            label = str(path)
            if not path.is_file():
                raise StructureError("cif", label, "no such file")
            try:
                raw = path.read_bytes()
            except OSError as exc:
                raise StructureError("cif", label, f"cannot read the file: {exc}") from None
            text = raw.decode("utf-8", errors="replace")
            if "\x00" in text:
                raise StructureError("cif", label, "binary data, not a CIF text file")
        structure, block, notes = _parse_cif(text, label)
    else:
        raise StructureError("cif", repr(source)[:100], "expected a CIF path, CIF text or a pymatgen Structure")
    if len(structure) == 0:
        raise StructureError("cif", label, "the structure has no atoms")
    structure, more, mixes = apply_disorder_rule(structure, block)
    if len(structure) == 0:
        raise StructureError("cif", label, "no atoms left after removing minor disorder components")
    return LoadedStructure(structure, label, notes + more, mixes)
