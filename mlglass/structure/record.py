"""From a crystal structure to a :class:`~mlglass.records.CompoundRecord`.

Pipeline (each step documented in its module):

1. :mod:`~mlglass.structure.cif` reads the CIF and applies the disorder rule;
2. :mod:`~mlglass.structure.bonds` builds the periodic bond graph
   (covalent radii + 0.45 Å, metal-ligand + 0.60 Å; no metal-metal bonds);
3. :mod:`~mlglass.structure.fragments` removes the metals and unwraps the
   remaining connected fragments across the cell boundaries;
4. :mod:`~mlglass.structure.ligands` perceives each fragment with RDKit
   (bond orders, charge, canonical SMILES);
5. :mod:`~mlglass.structure.network` finds the metal-containing components,
   their dimensionality (pymatgen's Larsen algorithm) and the metal
   coordination geometry;
6. :mod:`~mlglass.structure.oxidation` assigns oxidation states;
7. :mod:`~mlglass.structure.descriptors` adds density, porosity, etc.

Network metals are the metals of the components with the highest
dimensionality; a metal in a lower-dimensional component (a discrete complex
ion next to a framework) goes into ``counter_ions`` as a dot-separated SMILES
of the metal ion (element default charge) and its ligands, with a warning.
Fragments bonded to a network metal are ``ligands``; fragments bonded to no
metal are ``counter_ions`` (ions and guests), except known solvents
(:data:`~mlglass.structure.ligands.SOLVENT_SMILES_RAW`), which are dropped
when ``drop_solvent`` is true. Amounts are moles per network metal.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mlglass.errors import NoMetalError, StructureError
from mlglass.records import Component, CompoundRecord, format_amounts
from mlglass.structure import _stages

__all__ = ["StructureRecord", "record_from_structure", "DESCRIPTOR_KEYS"]

#: Numeric structural descriptors (``struct_`` columns of the batch table).
DESCRIPTOR_KEYS = ("density_g_cm3", "metal_metal_min_distance_a", "porosity_fraction", "coordination_number_mean",
                   "n_atoms")


@dataclass(frozen=True)
class StructureRecord:
    """A compound record derived from a crystal structure, plus structural descriptors.

    Attributes
    ----------
    record : CompoundRecord
        Metals (fractions), ligands and counter-ions (canonical SMILES of the
        species as charged in the framework, moles per metal), oxidation
        states, dimensionality, majority metal geometry.
    descriptors : dict
        ``density_g_cm3``, ``metal_metal_min_distance_a``, ``porosity_fraction``,
        ``coordination_number_mean``, ``n_atoms`` (numbers), plus
        ``oxidation_state_method`` (``"given"``, ``"bond_valence"``, ``"guess"``,
        ``"default"``) and ``warnings`` (list of str).
    metal_sites : tuple
        Per network-metal site: index, element, coordination number, geometry.
    source : str
        The path (or label) of the structure.
    """

    record: CompoundRecord
    descriptors: Mapping[str, Any]
    metal_sites: tuple = ()
    source: str = ""
    ligand_charges: Mapping[str, int] = field(default_factory=dict)

    @property
    def warnings(self) -> list[str]:
        return list(self.descriptors.get("warnings", []))

    @property
    def oxidation_state_method(self) -> str:
        return str(self.descriptors.get("oxidation_state_method", ""))

    def to_row(self) -> dict[str, Any]:
        """One row of the candidate table (see :func:`mlglass.structure.records_from_cifs`)."""
        base = self.record.to_row()
        metals = self.record.metals
        metal = metals[0][0] if len(metals) == 1 else format_amounts(metals)
        row = {
            "id": base["id"],
            "cif": self.source,
            "metal": metal,
            "oxidation_state": base["oxidation_state"],
            "ligands": base["ligands"],
            "counter_ions": base["counter_ions"],
            "dimensionality": base["dimensionality"],
            "geometry": base["geometry"],
        }
        for key in DESCRIPTOR_KEYS:
            row[f"struct_{key}"] = self.descriptors.get(key, math.nan)
        row["oxidation_state_method"] = self.oxidation_state_method
        row["warnings"] = "; ".join(self.warnings)
        row["error"] = ""
        return row


def _metal_ion_smiles(symbol: str) -> tuple[str, int]:
    from mlglass.chem.elements import default_oxidation_state

    q = default_oxidation_state(symbol)
    return f"[{symbol}+{q}]" if q != 1 else f"[{symbol}+]", q


def record_from_structure(structure_or_path, *, oxidation_states=None, drop_solvent: bool = True,
                          id: str | None = None) -> StructureRecord:  # noqa: A002 - documented API name
    """Build a :class:`StructureRecord` from a CIF path, CIF text or pymatgen ``Structure``.

    Parameters
    ----------
    structure_or_path : str, path-like or pymatgen Structure
        The crystal structure.
    oxidation_states : number or mapping, optional
        Oxidation state of all metals, or per element (``{"Zn": 2, "In": 3}``).
        If omitted they are estimated (see :mod:`mlglass.structure.oxidation`).
    drop_solvent : bool, default=True
        Drop uncoordinated solvent molecules (water, DMF, ...), with a warning.
    id : str, optional
        Record id; default the file stem.

    Raises
    ------
    StructureError
        Unreadable CIF, overlapping atoms (unresolved disorder), an infinite
        non-metal chain, or a fragment RDKit cannot perceive (e.g. bare C-H
        positions: hydrogen atoms missing).
    NoMetalError
        The structure contains no metal site.
    """
    from pathlib import Path

    from mlglass.chem.elements import is_metal
    from mlglass.structure.bonds import build_bond_graph
    from mlglass.structure.cif import load_structure
    from mlglass.structure.descriptors import structure_descriptors
    from mlglass.structure.fragments import find_fragments
    from mlglass.structure.ligands import (
        FragmentPerceptionError,
        PerceivedFragment,
        fragment_formula,
        fragment_key,
        is_solvent,
        perceive_fragment,
    )
    from mlglass.structure.network import majority_geometry, metal_metal_min_distance, metal_sites, network_components
    from mlglass.structure.oxidation import assign_oxidation_states

    _stages.enter("read_cif")
    loaded = load_structure(structure_or_path)
    s = loaded.structure
    label = loaded.source
    warn = list(loaded.warnings)
    if id is None and isinstance(structure_or_path, (str, Path)) and label != "<CIF text>":
        id = Path(label).stem

    symbols = [site.specie.symbol for site in s]
    if not any(is_metal(x) for x in symbols):
        raise NoMetalError("cif", label, f"no metal site in {s.composition.reduced_formula}")
    if "C" in symbols and "H" not in symbols:
        warn.append("no hydrogen atoms in the file: ligands are perceived as H-free species (right for cyanide, "
                    "thiocyanate, oxalate; fragments with bare C-H positions are refused)")

    _stages.enter("bond_graph")
    graph = build_bond_graph(s)
    if graph.clashes:
        i, j, d = graph.clashes[0]
        raise StructureError("cif", label, f"{len(graph.clashes)} pairs of overlapping atoms, e.g. {symbols[i]}"
                                           f"{i} and {symbols[j]}{j} {d:.2f} Å apart: unresolved disorder "
                                           "(alternative positions both present)")

    _stages.enter("fragments")
    fragments = find_fragments(graph)
    for frag in fragments:
        if frag.periodic:
            formula = fragment_formula(frag, graph)
            raise StructureError("cif", label, f"non-metal fragment {formula} is bonded to its own periodic image "
                                               "(an infinite chain/layer without metal): it is not a discrete "
                                               "ligand")

    # perceive each distinct fragment once (keyed by its labelled bond graph)
    _stages.enter("ligands")
    perceived: list[PerceivedFragment] = []
    cache: dict[str, PerceivedFragment] = {}
    for frag in fragments:
        key = fragment_key(frag, graph)
        p = cache.get(key)
        if p is None:
            try:
                p = perceive_fragment(frag, s, graph)
            except FragmentPerceptionError as exc:
                raise StructureError("cif", label, str(exc)) from None
            if "/" not in p.smiles and "\\" not in p.smiles:  # E/Z depends on geometry: do not reuse
                cache[key] = p
        perceived.append(p)

    # network components and dimensionality
    _stages.enter("network")
    components = network_components(s, graph, fragments)
    max_dim = max(d for _, d in components)
    network_metals = sorted(set().union(*[m for m, d in components if d == max_dim]))
    complex_metals = {m for mset, d in components if d < max_dim for m in mset}
    network_set = set(network_metals)

    ligand_counts: Counter = Counter()
    counter_counts: Counter = Counter()
    solvent_counts: Counter = Counter()
    charges: dict[str, int] = {}
    complex_parts: dict[int, list[str]] = {}  # representative complex metal -> SMILES parts
    carbanions = set()
    for frag, p in zip(fragments, perceived):
        charges[p.smiles] = p.charge
        if p.carbanion:
            carbanions.add(p.smiles)
        contacts = {m for _, m, _ in frag.metal_contacts}
        if contacts & network_set:
            ligand_counts[p.smiles] += 1
        elif contacts:
            complex_parts.setdefault(min(contacts), []).append(p.smiles)
        else:
            name = is_solvent(p.smiles)
            if name is not None and drop_solvent:
                solvent_counts[name] += 1
            else:
                counter_counts[p.smiles] += 1
    if complex_metals:
        # group the complex metals by component
        for mset, d in components:
            if d == max_dim:
                continue
            parts = []
            for m in sorted(mset):
                smi, q = _metal_ion_smiles(symbols[m])
                charges[smi] = q
                parts.append(smi)
                parts.extend(complex_parts.get(m, []))
            from rdkit import Chem

            mol = Chem.MolFromSmiles(".".join(parts))
            smi = Chem.MolToSmiles(mol) if mol is not None else ".".join(sorted(parts))
            charges[smi] = sum(charges.get(x, 0) for x in parts)
            counter_counts[smi] += 1
        warn.append(f"{len(complex_metals)} metal sites form discrete complexes outside the {max_dim}D network; "
                    "they are listed in counter_ions with the element's default charge")
    if solvent_counts:
        warn.append("dropped uncoordinated solvent: " + ", ".join(f"{n} x {k}" for k, n in solvent_counts.items()))
    for smi in sorted({p.smiles for p in perceived if p.resonance_capped}):
        warn.append(f"resonance search for fragment {smi} was bounded (conjugated group too large, or step bound "
                    "reached): the charge placement is the best form found within the bound")
    for smi in sorted(carbanions):
        warn.append(f"fragment {smi} has a negatively charged carbon (metal-carbon bond, or a missing H atom?)")

    n_metal = len(network_metals)
    metal_weight: Counter = Counter()
    for i in network_metals:
        for el, frac in loaded.metal_site_mix.get(i, {symbols[i]: 1.0}).items():
            metal_weight[el] += frac
    metals = tuple((el, w / n_metal) for el, w in sorted(metal_weight.items(), key=lambda kv: (-kv[1], kv[0])))
    metal_counts = Counter({el: w for el, w in metal_weight.items()})

    charge_total = sum(charges[k] * n for k, n in ligand_counts.items())
    charge_total += sum(charges[k] * n for k, n in counter_counts.items())
    _stages.enter("oxidation_state")
    ox, method = assign_oxidation_states(s, metal_counts, charge_total, given=oxidation_states, warnings_out=warn)
    metal_charge = sum(ox[el] * n for el, n in metal_counts.items())
    if abs(metal_charge + charge_total) > 0.5 and method != "given":
        warn.append(f"charge imbalance: metals {metal_charge:+g}, ligands and counter-ions {charge_total:+g} per cell")

    _stages.enter("descriptors")
    sites = metal_sites(s, graph, network_metals)
    geometry = majority_geometry(sites)

    kept = [True] * len(s)
    if drop_solvent and solvent_counts:
        for frag, p in zip(fragments, perceived):
            if not frag.metal_contacts and is_solvent(p.smiles):
                for a in frag.atoms:
                    kept[a] = False
    desc: dict[str, Any] = structure_descriptors(s, kept)  # numbers, then the method name and the warnings
    desc["metal_metal_min_distance_a"] = metal_metal_min_distance(s, network_metals)
    desc["coordination_number_mean"] = (sum(x.coordination_number for x in sites) / len(sites)) if sites else math.nan
    desc["n_atoms"] = len(s)
    desc["oxidation_state_method"] = method
    desc["warnings"] = warn

    def per_metal(counts: Counter) -> tuple[Component, ...]:
        items = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        return tuple(Component(smi, n / n_metal) for smi, n in items)

    record = CompoundRecord(
        metals=metals,
        ligands=per_metal(ligand_counts),
        counter_ions=per_metal(counter_counts),
        oxidation_states=tuple((el, ox[el]) for el, _ in metals),
        dimensionality=int(max_dim),
        geometry=geometry,
        id=id,
        extra={"descriptors": desc, "source": label},
    )
    return StructureRecord(record=record, descriptors=desc, metal_sites=tuple(sites), source=label,
                           ligand_charges={k: charges[k] for k in list(ligand_counts) + list(counter_counts)})
