"""Axes of a candidate space: metals, ligands, counter-ions, dimensionality and geometry as cell strings and
id tokens (see :mod:`mlglass.screen.enumeration`)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from typing import Any

from mlglass.screen.scoring import ScreenOptionError
from mlglass.screen.spec import (
    _as_list,
    _fmt,
    _roman_or_int,
    mix_grid,
)

_AMOUNT_TAIL = re.compile(r":\s*[+]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$")
_SAFE_NAME = re.compile(r"^[A-Za-z0-9().,'+\-]+$")
_MAX_AXIS = 1_000_000


def _check_species(name: str, field: str) -> str:
    from mlglass.chem.ligands import resolve_species

    name = str(name).strip()
    resolve_species(name, field)  # raises UnknownSpeciesError / InvalidSmilesError
    return name


def _is_library_name(name: str) -> bool:
    from mlglass.chem.ligands import is_library_name

    return is_library_name(name)


def _name_token(name: str) -> str:
    if not _is_library_name(name) and not _SAFE_NAME.match(name):
        return "L" + hashlib.sha1(name.encode()).hexdigest()[:8]
    return name


def _item_token(name: str, amount: float) -> str:
    tok = _name_token(name)
    sep = "_" if tok[-1:].isdigit() or tok.endswith(")") else ""
    return f"{tok}{sep}{_fmt(amount)}"


def _formula_item(name: str, amount: float) -> str:
    return f"({name})" + ("" if _fmt(amount) == "1" else _fmt(amount))


def _metal_axis(spec: Mapping[str, Any]) -> list[tuple[str, str, str, str]]:
    """(metal field, oxidation_state field, id token, formula part) per metal composition."""
    from mlglass.records import parse_metals

    bases: list[tuple[tuple[tuple[str, float], ...], int | None]] = []
    for entry in _as_list(spec["metals"], "metals"):
        ox: int | None = None
        if isinstance(entry, Mapping):
            unknown = set(entry) - {"symbol", "metal", "oxidation_state"}
            if unknown:
                raise ScreenOptionError("metals", dict(entry), f"unknown key(s) {sorted(unknown)}; "
                                                                "use symbol and oxidation_state")
            text = entry.get("symbol", entry.get("metal"))
            if entry.get("oxidation_state") not in (None, ""):
                ox = _roman_or_int(str(entry["oxidation_state"]), "metals", entry)
        else:
            text = str(entry).strip()
            m = re.match(r"^(.*?)\(([^()]*)\)$", text)
            if m:
                text, ox = m.group(1), _roman_or_int(m.group(2), "metals", entry)
        metals = parse_metals(str(text))
        bases.append((metals, ox))
    mixes = []
    for entry in _as_list(spec.get("metal_mix"), "metal_mix"):
        if not isinstance(entry, Mapping) or "metal" not in entry:
            raise ScreenOptionError("metal_mix", entry, "each entry needs metal, start, stop, step")
        parsed = parse_metals(str(entry["metal"]))
        if len(parsed) != 1:
            raise ScreenOptionError("metal_mix", entry, "metal must be one element symbol")
        ox = None if entry.get("oxidation_state") in (None, "") else \
            _roman_or_int(str(entry["oxidation_state"]), "metal_mix", entry)
        grid = mix_grid(entry.get("start", 0), entry.get("stop", 1), entry.get("step", 0.1), field="metal_mix")
        mixes.append((parsed[0][0], ox, grid))
    comps: list[tuple[tuple[tuple[str, float], ...], tuple[tuple[str, int], ...]]] = []
    seen: set = set()

    def add(metals: tuple[tuple[str, float], ...], oxs: tuple[tuple[str, int], ...]) -> None:
        key = (tuple((s, round(f, 6)) for s, f in metals), oxs)
        if key not in seen:
            seen.add(key)
            comps.append((metals, oxs))

    for metals, ox in bases:
        add(metals, tuple((s, ox) for s, _ in metals) if ox is not None else ())
        if len(metals) != 1:
            continue
        base_sym = metals[0][0]
        for sym, mox, grid in mixes:
            if sym == base_sym:
                continue
            for y in grid:
                if y <= 0:
                    continue
                oxs: tuple[tuple[str, int], ...] = ()
                if ox is not None or mox is not None:
                    oxs = ((base_sym, ox),) if ox is not None else ()
                    mix_ox = mox if mox is not None else ox
                    if mix_ox is not None:
                        oxs = (*oxs, (sym, mix_ox))
                if y >= 1:
                    add(((sym, 1.0),), tuple(o for o in oxs if o[0] == sym))
                else:
                    add(((base_sym, 1 - y), (sym, y)), oxs)
    # which metal strings appear with several oxidation states -> put the state into the id
    by_metal: dict[str, set] = {}
    for metals, oxs in comps:
        by_metal.setdefault(_metal_field(metals), set()).add(oxs)
    out = []
    for metals, oxs in comps:
        field_ = _metal_field(metals)
        ox_field = _ox_field(metals, oxs)
        tok = "".join(s if len(metals) == 1 else f"{s}{_fmt(f)}" for s, f in metals)
        if len(by_metal[field_]) > 1:
            tok += f"({ox_field or 'default'})".replace(";", ",").replace(":", "")
        formula = "".join(s if len(metals) == 1 else f"{s}{_fmt(f)}" for s, f in metals)
        out.append((field_, ox_field, tok, formula))
    return out


def _metal_field(metals: Sequence[tuple[str, float]]) -> str:
    if len(metals) == 1:
        return metals[0][0]
    return ";".join(f"{s}:{_fmt(f)}" for s, f in metals)


def _ox_field(metals: Sequence[tuple[str, float]], oxs: Sequence[tuple[str, int]]) -> str:
    if not oxs:
        return ""
    values = {v for _, v in oxs}
    if len(values) == 1 and len(oxs) == len(metals):
        return str(values.pop())
    return ";".join(f"{s}:{v}" for s, v in oxs)


def _amounts(text: str, field: str) -> tuple[tuple[str, float], ...]:
    from mlglass.records import parse_amounts

    items = parse_amounts(text, field)
    for name, _ in items:
        _check_species(name, field)
    return items


def _ligand_axis(spec: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """(ligands field, id token, formula part) per ligand composition."""
    base = float(spec["base_amount"])
    mixes = []
    for entry in _as_list(spec.get("mix"), "mix"):
        if not isinstance(entry, Mapping) or "ligand" not in entry:
            raise ScreenOptionError("mix", entry, "each entry needs ligand, start, stop, step")
        unknown = set(entry) - {"ligand", "start", "stop", "step"}
        if unknown:
            raise ScreenOptionError("mix", dict(entry), f"unknown key(s) {sorted(unknown)}")
        name = _check_species(entry["ligand"], "mix")
        mixes.append((name, mix_grid(entry.get("start", 0), entry.get("stop", 1), entry.get("step", 0.1))))
    comps: list[tuple[tuple[str, float], ...]] = []
    seen: set = set()

    def add(items: tuple[tuple[str, float], ...]) -> None:
        key = tuple((n, _fmt(a)) for n, a in items)
        if key not in seen:
            seen.add(key)
            comps.append(items)

    for entry in _as_list(spec["linkers"], "linkers"):
        if isinstance(entry, Mapping):
            if set(entry) != {"ligands"}:
                raise ScreenOptionError("linkers", dict(entry), "a mapping entry must be {ligands: 'A:1;B:2'}")
            add(_amounts(str(entry["ligands"]), "linkers"))
            continue
        text = str(entry).strip()
        if ";" in text or _AMOUNT_TAIL.search(text):
            add(_amounts(text, "linkers"))
            continue
        name = _check_species(text, "linkers")
        add(((name, base),))
        for other, grid in mixes:
            if other == name:
                continue
            for x in grid:
                if x <= 0:
                    continue
                if x >= 1:
                    add(((other, base),))
                else:
                    add(((name, base * (1 - x)), (other, base * x)))
    out = []
    for items in comps:
        field_ = ";".join(f"{n}:{_fmt(a)}" for n, a in items)
        tok = "-".join(_item_token(n, a) for n, a in items)
        formula = "".join(_formula_item(n, a) for n, a in items)
        out.append((field_, tok, formula))
    return out


def _counter_axis(spec: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    values = _as_list(spec.get("counter_ions"), "counter_ions") or [""]
    out, seen = [], set()
    for v in values:
        text = "" if v is None else str(v).strip()
        items = _amounts(text, "counter_ions") if text else ()
        field_ = ";".join(f"{n}:{_fmt(a)}" for n, a in items)
        if field_ in seen:
            continue
        seen.add(field_)
        tok = "".join("+" + _item_token(n, a) for n, a in items)
        formula = "".join(_formula_item(n, a) for n, a in items)
        out.append((field_, tok, formula))
    return out


def _dim_axis(spec: Mapping[str, Any]) -> list[tuple[str, str]]:
    from mlglass.records import parse_dimensionality

    values = _as_list(spec.get("dimensionality"), "dimensionality") or [""]
    out, seen = [], set()
    for v in values:
        d = parse_dimensionality(v)
        field_ = "" if d is None else str(d)
        if field_ not in seen:
            seen.add(field_)
            out.append((field_, "" if d is None else f"-{d}D"))
    return out


def _geometry_axis(spec: Mapping[str, Any]) -> list[tuple[str, str]]:
    from mlglass.records import GEOMETRIES

    values = _as_list(spec.get("geometry"), "geometry") or [""]
    out, seen = [], set()
    for v in values:
        g = "" if v is None else str(v).strip().lower().replace("-", "_").replace(" ", "_")
        if g and g not in GEOMETRIES:
            raise ScreenOptionError("geometry", v, f"must be one of {', '.join(GEOMETRIES)} (or blank)")
        field_ = g or ""
        if field_ not in seen:
            seen.add(field_)
            out.append((field_, f"-{g}" if g else ""))
    return out


