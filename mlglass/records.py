"""The compound record: the one data object every part of mlglass passes around.

A record describes a coordination polymer / MOF by composition, in the
candidate-table notation of the dataset (see ``datasets/README.md``):

``metal``
    ``"Zn"`` or ``"Zn:0.8;Co:0.2"`` (fractions of the network-forming metal
    sites; normalised to sum to 1). Metals inside uncoordinated complex anions
    such as ``[CoCl4]2-`` belong to ``counter_ions``, not here.
``oxidation_state``
    ``2``, or per metal ``"Zn:2;Co:2"``; empty means the element's default
    (:func:`mlglass.chem.elements.default_oxidation_state`).
``ligands``
    ``"Im:1.75;bIm:0.25"``: coordinating species and moles per formula metal.
    Each item is a ligand-library name or a SMILES, then ``:`` and a number.
    Items split on ``;`` and the amount on the *last* ``:`` that is followed
    by a number, so SMILES containing ``:`` (aromatic bonds) still work.
``counter_ions``
    Non-coordinating ions and guests, same notation (optional).
``dimensionality``
    0-3, or empty for unknown.
``geometry``
    Optional coordination geometry of the metal (``"tetrahedral"``,
    ``"octahedral"``, ...), e.g. from a CIF.

Nothing here touches RDKit or the ligand library: names are resolved by the
featurizers (:mod:`mlglass.chem.ligands`). This module only parses and checks
the notation.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from mlglass.errors import (
    DimensionalityError,
    OxidationStateError,
    RecordError,
    StoichiometryError,
    UnknownElementError,
)
from mlglass.schema import RECORD_COLUMNS
from mlglass.schema import is_blank as _is_blank  # the one blank-cell rule (None, NaN of any float, NA, NaT, spaces)

__all__ = [
    "Component",
    "CompoundRecord",
    "parse_amounts",
    "format_amounts",
    "parse_metals",
    "parse_oxidation_states",
    "parse_dimensionality",
    "record_from_mapping",
    "validate_record",
    "RECORD_COLUMNS",
    "GEOMETRIES",
    "MAX_ITEMS",
    "MAX_FIELD_LENGTH",
    "parse_geometry",
]

#: Allowed values of the ``geometry`` field.
GEOMETRIES = ("tetrahedral", "octahedral", "square_planar", "linear", "trigonal", "trigonal_bipyramidal",
              "square_pyramidal", "other")

_NUMBER = re.compile(r"^[+]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_AMOUNT_TAIL = re.compile(r":\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*$")
#: Most items (``name:amount`` pairs) in one ``ligands``, ``counter_ions`` or ``metal`` field.
MAX_ITEMS = 64
#: Longest text field accepted (characters).
MAX_FIELD_LENGTH = 10_000


@dataclass(frozen=True)
class Component:
    """One species in a compound and its amount.

    Parameters
    ----------
    name : str
        Ligand-library name (e.g. ``"bIm"``) or a SMILES.
    amount : float
        Moles per formula metal (dimensionless, > 0).
    """

    name: str
    amount: float


@dataclass(frozen=True)
class CompoundRecord:
    """A compound described by composition.

    Parameters
    ----------
    metals : tuple of (str, float)
        Element symbols and site fractions (sum to 1).
    ligands : tuple of Component
        Coordinating species, moles per formula metal.
    counter_ions : tuple of Component
        Non-coordinating ions and guests, moles per formula metal.
    oxidation_states : tuple of (str, float), optional
        Per-element oxidation state; elements not listed take their default.
    dimensionality : int, optional
        Network dimensionality 0-3, ``None`` if unknown.
    geometry : str, optional
        Metal coordination geometry, one of :data:`GEOMETRIES`.
    id : str, optional
        Identifier.
    formula : str, optional
        The formula the record came from, if any.
    """

    metals: tuple[tuple[str, float], ...]
    ligands: tuple[Component, ...] = ()
    counter_ions: tuple[Component, ...] = ()
    oxidation_states: tuple[tuple[str, float], ...] = ()
    dimensionality: int | None = None
    geometry: str | None = None
    id: str | None = None
    formula: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)

    def oxidation_state_of(self, element: str) -> float | None:
        """Oxidation state given for ``element``, or ``None`` for the default."""
        for el, ox in self.oxidation_states:
            if el == element:
                return ox
        return None

    def key(self) -> tuple:
        """Hashable key of everything the featurizers read (not ``id``/``formula``)."""
        return (self.metals, self.oxidation_states, self.ligands, self.counter_ions, self.dimensionality,
                self.geometry)

    def to_row(self) -> dict[str, Any]:
        """The record in candidate-table notation (a dict of strings/numbers)."""
        ox = ""
        if self.oxidation_states:
            values = {v for _, v in self.oxidation_states}
            if len(values) == 1 and len(self.oxidation_states) == len(self.metals):
                ox = _fmt_num(values.pop())
            else:
                ox = ";".join(f"{el}:{_fmt_num(v)}" for el, v in self.oxidation_states)
        return {
            "id": self.id or "",
            "metal": self.metals[0][0] if len(self.metals) == 1 else format_amounts(self.metals),
            "oxidation_state": ox,
            "ligands": format_amounts((c.name, c.amount) for c in self.ligands),
            "counter_ions": format_amounts((c.name, c.amount) for c in self.counter_ions),
            "dimensionality": "" if self.dimensionality is None else self.dimensionality,
            "geometry": self.geometry or "",
            "formula": self.formula or "",
        }


def _fmt_num(x: float) -> str:
    if float(x).is_integer():
        return str(int(x))
    return f"{x:.6g}"


def format_amounts(items: Iterable[tuple[str, float]]) -> str:
    """Format ``[(name, amount), ...]`` as ``"name:amount;..."``."""
    items = list(items)
    return ";".join(f"{n}:{_fmt_num(a)}" for n, a in items)


def parse_amounts(text: Any, field_name: str, *, allow_bare: bool = False) -> tuple[tuple[str, float], ...]:
    """Parse ``"A:1.75;B:0.25"`` into ``(("A", 1.75), ("B", 0.25))`` (cached per distinct string).

    See :func:`_parse_amounts` for the rules and errors.
    """
    if isinstance(text, str) and len(text) <= MAX_FIELD_LENGTH:
        return _parse_amounts_cached(text, field_name, allow_bare)
    return _parse_amounts(text, field_name, allow_bare=allow_bare)


@lru_cache(maxsize=200_000)
def _parse_amounts_cached(text: str, field_name: str, allow_bare: bool) -> tuple[tuple[str, float], ...]:
    return _parse_amounts(text, field_name, allow_bare=allow_bare)


def _parse_amounts(text: Any, field_name: str, *, allow_bare: bool = False) -> tuple[tuple[str, float], ...]:
    """Parse ``"A:1.75;B:0.25"`` into ``(("A", 1.75), ("B", 0.25))``.

    Parameters
    ----------
    text : str
        The field value. Blank gives an empty tuple.
    field_name : str
        Column name, used in error messages.
    allow_bare : bool, default=False
        Accept an item without ``:amount`` (amount 1), as for a single metal.

    Raises
    ------
    StoichiometryError
        An amount is missing, not a number, not finite, zero or negative.
    RecordError
        The field is not a string or is absurdly long.
    """
    if _is_blank(text):
        return ()
    if not isinstance(text, str):
        raise RecordError(field_name, text, "expected text like 'Im:1.75;bIm:0.25'")
    if len(text) > MAX_FIELD_LENGTH:
        raise RecordError(field_name, text, f"field longer than {MAX_FIELD_LENGTH} characters")
    parts = [p.strip() for p in text.split(";")]
    parts = [p for p in parts if p]
    if len(parts) > MAX_ITEMS:
        raise RecordError(field_name, text, f"more than {MAX_ITEMS} items")
    out: dict[str, float] = {}
    order: list[str] = []
    for part in parts:
        m = _AMOUNT_TAIL.search(part)
        if m is None:
            if allow_bare and ":" not in part:
                name, amount = part, 1.0
            else:
                raise StoichiometryError(
                    field_name, text,
                    f"item {part!r} has no amount; write it as 'name:amount', e.g. 'Im:2'")
        else:
            name = part[: m.start()].strip()
            amount = float(m.group(1))
        if not name:
            raise RecordError(field_name, text, f"item {part!r} has an amount but no name")
        if not math.isfinite(amount) or amount < 0:
            raise StoichiometryError(field_name, text,
                                     f"amount of {name!r} must be a positive finite number, got {amount:g}")
        if amount == 0 and not re.search(r"[1-9]", re.split(r"[eE]", m.group(1))[0] if m else ""):
            continue  # 'bIm:0' (x = 0 of a composition series): the species is absent
        if amount < 1e-6:
            shown = m.group(1) if m else amount
            raise StoichiometryError(field_name, text, f"amount of {name!r} = {shown} is implausibly small "
                                                       "(below 1e-6); write 0 for an absent species")
        if amount > 1e4:
            raise StoichiometryError(field_name, text, f"amount of {name!r} = {amount:g} is implausibly large")
        if name in out:
            out[name] += amount
        else:
            out[name] = amount
            order.append(name)
    if parts and not order and field_name == "ligands":
        raise StoichiometryError(field_name, text, "every amount is 0; give at least one ligand with a positive "
                                                   "amount")
    return tuple((n, out[n]) for n in order)


def parse_metals(text: Any) -> tuple[tuple[str, float], ...]:
    """Parse the ``metal`` field (cached per distinct string); see :func:`_parse_metals`."""
    if isinstance(text, str) and len(text) <= MAX_FIELD_LENGTH:
        return _parse_metals_cached(text)
    return _parse_metals(text)


@lru_cache(maxsize=100_000)
def _parse_metals_cached(text: str) -> tuple[tuple[str, float], ...]:
    return _parse_metals(text)


def _parse_metals(text: Any) -> tuple[tuple[str, float], ...]:
    """Parse the ``metal`` field into element symbols and fractions summing to 1.

    Raises
    ------
    UnknownElementError
        A symbol is not a chemical element.
    RecordError
        The field is blank.
    """
    if _is_blank(text):
        raise RecordError("metal", text, "a metal is required, e.g. 'Zn' or 'Zn:0.8;Co:0.2'")
    items = parse_amounts(text, "metal", allow_bare=True)
    if len(items) > 1 and any(":" not in part for part in str(text).split(";") if part.strip()):
        raise RecordError("metal", text, "with several metals give every fraction, e.g. 'Zn:0.8;Co:0.2'")
    from mlglass.chem.elements import is_element

    for sym, _ in items:
        if not is_element(sym):
            raise UnknownElementError("metal", text, f"{sym!r} is not a chemical element symbol")
    total = sum(a for _, a in items)
    return tuple((sym, a / total) for sym, a in items)


def parse_oxidation_states(text: Any, metals: tuple[tuple[str, float], ...]) -> tuple[tuple[str, float], ...]:
    """Parse ``oxidation_state``: a number for every metal, or ``"Zn:2;Co:3"``.

    Raises
    ------
    OxidationStateError
        Not a number, or an element given that is not among the metals.
    """
    if _is_blank(text):
        return ()
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        try:
            value = float(text)
        except OverflowError:
            value = math.inf
        if not math.isfinite(value):
            raise OxidationStateError("oxidation_state", text, "must be a finite number such as 2")
        return tuple((sym, value) for sym, _ in metals)
    if not isinstance(text, str):
        raise OxidationStateError("oxidation_state", text, "expected a number such as 2 or 'Zn:2;Co:2'")
    s = text.strip().lstrip("+")
    if _NUMBER.match(s) or re.match(r"^-\d+$", text.strip()):
        return parse_oxidation_states(float(text), metals)
    out = []
    symbols = {sym for sym, _ in metals}
    for part in [p.strip() for p in text.split(";") if p.strip()]:
        sym, _, num = part.partition(":")
        sym = sym.strip()
        try:
            value = float(num)
        except (ValueError, OverflowError):
            raise OxidationStateError("oxidation_state", text,
                                      f"item {part!r} is not 'Element:number'") from None
        if sym not in symbols:
            raise OxidationStateError("oxidation_state", text, f"{sym!r} is not one of the metals {sorted(symbols)}")
        if not math.isfinite(value):
            raise OxidationStateError("oxidation_state", text, "must be finite")
        out.append((sym, value))
    return tuple(out)


def parse_dimensionality(value: Any) -> int | None:
    """Parse ``dimensionality``: 0-3, ``"2D"``, or blank for unknown.

    Raises
    ------
    DimensionalityError
        Outside 0-3 or not a whole number.
    """
    if _is_blank(value):
        return None
    raw = value
    if isinstance(value, str):
        v = value.strip().upper().removesuffix("D")
        try:
            value = float(v)
        except (ValueError, OverflowError):
            raise DimensionalityError("dimensionality", raw, "must be 0, 1, 2 or 3 (or blank if unknown)") from None
    if isinstance(value, bool):
        raise DimensionalityError("dimensionality", raw, "must be 0, 1, 2 or 3")
    try:
        f = float(value)
    except (TypeError, ValueError, OverflowError):
        raise DimensionalityError("dimensionality", raw, "must be 0, 1, 2 or 3 (or blank if unknown)") from None
    if not math.isfinite(f) or f != int(f) or not 0 <= f <= 3:
        raise DimensionalityError("dimensionality", raw, "must be 0, 1, 2 or 3 (or blank if unknown)")
    return int(f)


def validate_record(record: CompoundRecord) -> CompoundRecord:
    """Check a record built directly (not parsed): metals, amounts, dimensionality, geometry.

    Raises
    ------
    RecordError
        (or a subclass) naming the field and the value.
    """
    from mlglass.chem.elements import is_element

    if not record.metals:
        raise RecordError("metal", record.metals, "a record needs at least one metal")
    for sym, frac in record.metals:
        if not isinstance(sym, str) or not is_element(sym):
            raise UnknownElementError("metal", sym, "not a chemical element symbol")
        if not isinstance(frac, (int, float)) or isinstance(frac, bool) or not (0 < float(frac) <= 1):
            raise StoichiometryError("metal", frac, f"site fraction of {sym} must be in (0, 1]")
    for field_name, comps in (("ligands", record.ligands), ("counter_ions", record.counter_ions)):
        for c in comps:
            if not isinstance(c, Component) or not isinstance(c.name, str) or not c.name.strip():
                raise RecordError(field_name, c, "each item must be Component(name, amount) with a name")
            amt = c.amount
            if isinstance(amt, bool) or not isinstance(amt, (int, float)):
                raise StoichiometryError(field_name, amt, f"amount of {c.name!r} must be a number")
            try:
                amt = float(amt)
            except OverflowError:
                amt = math.inf
            if not math.isfinite(amt) or amt <= 0 or amt > 1e4:
                raise StoichiometryError(field_name, c.amount, f"amount of {c.name!r} must be in (0, 1e4]")
    dim = record.dimensionality
    if dim is not None and (isinstance(dim, bool) or not isinstance(dim, int) or not 0 <= dim <= 3):
        raise DimensionalityError("dimensionality", dim, "must be 0, 1, 2 or 3 (or None if unknown)")
    for sym, ox in record.oxidation_states:
        try:
            ok = not isinstance(ox, bool) and isinstance(ox, (int, float)) and math.isfinite(float(ox))
        except OverflowError:
            ok = False
        if not ok:
            raise OxidationStateError("oxidation_state", ox, f"oxidation state of {sym} must be a finite number")
    if record.geometry is not None and record.geometry not in GEOMETRIES:
        raise RecordError("geometry", record.geometry, f"must be one of {', '.join(GEOMETRIES)} (or None)")
    return record


def _components(text: Any, field_name: str) -> tuple[Component, ...]:
    return tuple(Component(n, a) for n, a in parse_amounts(text, field_name))


def record_from_mapping(row: Mapping[str, Any], *, row_label: Any = None) -> CompoundRecord:
    """Build a :class:`CompoundRecord` from a candidate-table row.

    If ``metal`` and ``ligands`` are blank but ``formula`` is given, the
    formula is parsed (:func:`mlglass.formula.parse_formula`).

    Raises
    ------
    RecordError
        (or a subclass) naming the field, the value and ``row_label``.
    """
    try:
        get = row.get
        ident = get("id")
        ident = None if _is_blank(ident) else str(ident)
        formula = get("formula")
        formula = None if _is_blank(formula) else str(formula)
        if _is_blank(get("metal")) and _is_blank(get("ligands")) and formula is not None:
            from mlglass.formula import parse_formula

            rec = parse_formula(formula)
            dim = parse_dimensionality(get("dimensionality"))
            ox = parse_oxidation_states(get("oxidation_state"), rec.metals) or rec.oxidation_states
            return CompoundRecord(metals=rec.metals, ligands=rec.ligands, counter_ions=rec.counter_ions,
                                  oxidation_states=ox, dimensionality=dim if dim is not None else rec.dimensionality,
                                  geometry=parse_geometry(get("geometry")), id=ident, formula=formula)
        metals = parse_metals(get("metal"))
        ox = parse_oxidation_states(get("oxidation_state"), metals)
        ligands = _components(get("ligands"), "ligands")
        counter = _components(get("counter_ions"), "counter_ions")
        dim = parse_dimensionality(get("dimensionality"))
        return CompoundRecord(metals=metals, ligands=ligands, counter_ions=counter, oxidation_states=ox,
                              dimensionality=dim, geometry=parse_geometry(get("geometry")), id=ident, formula=formula)
    except RecordError as err:
        if row_label is not None and err.row is None:
            raise err.with_row(row_label) from None
        raise


def parse_geometry(value: Any) -> str | None:
    """A ``geometry`` cell as one of :data:`GEOMETRIES` (case, spaces and hyphens folded), None when blank.

    Raises
    ------
    RecordError
        Any other value.
    """
    if _is_blank(value):
        return None
    v = str(value).strip().lower().replace("-", "_").replace(" ", "_")
    if v not in GEOMETRIES:
        raise RecordError("geometry", value, f"must be one of {', '.join(GEOMETRIES)} (or blank)")
    return v
