"""Candidate-space specs: reading and checking a spec (dict, YAML, TOML or JSON) and building one from
command-line strings (see :mod:`mlglass.screen.enumeration` for the spec keys)."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from mlglass.errors import SchemaError
from mlglass.screen.scoring import ScreenOptionError

__all__ = ["load_spec", "from_cli", "mix_grid", "SPEC_KEYS", "MAX_SPEC_BYTES", "MAX_BASE_AMOUNT"]

#: Largest spec file read (bytes).
MAX_SPEC_BYTES = 1_000_000
#: Largest ``base_amount`` (the same plausibility limit as amounts in a candidate table).
MAX_BASE_AMOUNT = 1e4
#: Keys a spec may have.
SPEC_KEYS = ("metals", "metal_mix", "linkers", "base_amount", "mix", "counter_ions", "dimensionality", "geometry")
_MAX_GRID = 100_000


# ------------------------------------------------------------------ helpers
def _fmt(x: float) -> str:
    x = round(float(x), 6)
    if x == 0:
        return "0"
    if float(x).is_integer():
        return str(int(x))
    return f"{x:.6g}"


def mix_grid(start: float, stop: float, step: float, *, field: str = "mix") -> list[float]:
    """Grid ``start, start+step, ..., stop`` (inclusive; values rounded to 10 decimals).

    Raises
    ------
    ScreenOptionError
        Not ``0 <= start <= stop <= 1`` or ``step <= 0``, or more than 100 000 values.
    """
    try:
        start, stop, step = float(start), float(stop), float(step)
    except (TypeError, ValueError):
        raise ScreenOptionError(field, (start, stop, step), "start, stop and step must be numbers") from None
    if not all(math.isfinite(v) for v in (start, stop, step)):
        raise ScreenOptionError(field, (start, stop, step), "start, stop and step must be finite")
    if not 0 <= start <= stop <= 1:
        raise ScreenOptionError(field, (start, stop, step), "need 0 <= start <= stop <= 1 (fractions)")
    if step <= 0:
        if start == stop:
            return [round(start, 10)]
        raise ScreenOptionError(field, step, "step must be > 0")
    n = int(math.floor((stop - start) / step + 1e-9)) + 1
    if n > _MAX_GRID:
        raise ScreenOptionError(field, (start, stop, step), f"grid has {n} values (limit {_MAX_GRID})")
    return [round(start + i * step, 10) for i in range(n)]


def _as_list(value: Any, field: str) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (str, int, float, Mapping)):
        return [value]
    if isinstance(value, Iterable):
        return list(value)
    raise ScreenOptionError(field, value, "expected a list")


def _roman_or_int(text: str, field: str, raw: Any) -> int:
    romans = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5, "VI": 6, "VII": 7, "VIII": 8}
    t = text.strip().upper().lstrip("+")
    if t in romans:
        return romans[t]
    try:
        return int(t)
    except ValueError:
        raise ScreenOptionError(field, raw, "oxidation state must be a whole number or a Roman numeral") from None


# ------------------------------------------------------------------ spec
def _load_yaml(text: str) -> Any:
    """``yaml.safe_load`` that refuses aliases (``*name``): no alias bomb can expand in memory."""
    import yaml

    class NoAliasLoader(yaml.SafeLoader):
        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                event = self.peek_event()
                raise yaml.composer.ComposerError(None, None, "aliases (*name) are not allowed in a spec",
                                                  event.start_mark)
            return super().compose_node(parent, index)

    loader = NoAliasLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def load_spec(spec: Mapping[str, Any] | str | os.PathLike) -> dict[str, Any]:
    """Read and validate a spec (dict, or a ``.yaml``/``.yml``/``.toml``/``.json`` file).

    Returns
    -------
    dict
        The spec with defaults filled in.

    Raises
    ------
    SchemaError
        Unreadable file or unknown extension.
    ScreenOptionError
        Unknown keys, missing ``metals``/``linkers``, bad grid, bad amount.
    RecordError
        (subclasses) Unknown element or species name.
    """
    if isinstance(spec, (str, os.PathLike)):
        path = Path(spec)
        suffix = path.suffix.lower()
        try:
            if path.stat().st_size > MAX_SPEC_BYTES:
                raise SchemaError("spec", str(path), f"spec file larger than {MAX_SPEC_BYTES:,} bytes")
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise SchemaError("spec", str(path), f"cannot read the spec file: {err}") from None
        try:
            if suffix in (".yaml", ".yml"):
                data = _load_yaml(text)
            elif suffix == ".toml":
                import tomllib

                data = tomllib.loads(text)
            elif suffix == ".json":
                data = json.loads(text)
            else:
                raise SchemaError("spec", str(path), "expected a .yaml, .yml, .toml or .json file")
        except SchemaError:
            raise
        except Exception as err:  # yaml.YAMLError, tomllib.TOMLDecodeError, JSONDecodeError
            raise SchemaError("spec", str(path), f"cannot parse the spec file: {err}") from None
    else:
        data = spec
    if not isinstance(data, Mapping):
        raise ScreenOptionError("spec", type(data).__name__, "a spec must be a mapping of the keys "
                                                              + ", ".join(SPEC_KEYS))
    unknown = sorted(set(data) - set(SPEC_KEYS))
    if unknown:
        raise ScreenOptionError("spec", unknown, f"unknown key(s); allowed: {', '.join(SPEC_KEYS)}")
    out = {k: data.get(k) for k in SPEC_KEYS}
    if not _as_list(out["metals"], "metals"):
        raise ScreenOptionError("metals", out["metals"], "list at least one metal, e.g. ['Zn', 'Co']")
    if not _as_list(out["linkers"], "linkers"):
        raise ScreenOptionError("linkers", out["linkers"], "list at least one linker, e.g. ['Im']")
    base = 2.0 if out["base_amount"] is None else out["base_amount"]
    try:
        base = float(base)
    except (TypeError, ValueError):
        raise ScreenOptionError("base_amount", base, "must be a positive number") from None
    if not (math.isfinite(base) and 1e-6 <= base <= MAX_BASE_AMOUNT):
        raise ScreenOptionError("base_amount", base, f"must be a number between 1e-6 and {MAX_BASE_AMOUNT:g} "
                                                     "(moles of linker per metal)")
    out["base_amount"] = base
    return out


def from_cli(*, metals: Sequence[str], linkers: Sequence[str], mix: Sequence[str] = (),
             metal_mix: Sequence[str] = (), counter_ions: Sequence[str] = ("",),
             dimensionality: Sequence[str | int] = (), geometry: Sequence[str] = (),
             base_amount: float = 2.0) -> dict[str, Any]:
    """Build a spec from command-line strings.

    Parameters
    ----------
    metals : list of str
        ``"Zn"``, ``"Cu(1)"``/``"Cu(I)"`` (with oxidation state), or a metal field
        such as ``"Zn:0.8;Co:0.2"``.
    linkers : list of str
        Base linkers (library names or SMILES) or fixed sets ``"SCN-:1.5;C2bpy:0.5"``.
    mix : list of str
        ``"LIGAND:START:STOP:STEP"``, e.g. ``"bIm:0:0.5:0.05"`` (fraction of ``base_amount``).
    metal_mix : list of str
        ``"METAL:START:STOP:STEP"``, e.g. ``"Co:0:0.5:0.1"``.
    counter_ions : list of str
        Counter-ion fields, ``""`` for none, e.g. ``["", "TPrA:1"]``.
    dimensionality : list of str or int
    geometry : list of str
    base_amount : float, default=2
        Moles of base linker per metal.

    Returns
    -------
    dict
        A spec for :func:`enumerate_candidates` / :func:`count_candidates`.
    """
    def grids(values: Sequence[str], key: str, field: str) -> list[dict[str, Any]]:
        out = []
        for v in values:
            parts = str(v).rsplit(":", 3)
            if len(parts) != 4 or not parts[0].strip():
                raise ScreenOptionError(field, v, f"expected '{key.upper()}:START:STOP:STEP', e.g. 'bIm:0:0.5:0.05'")
            try:
                start, stop, step = (float(p) for p in parts[1:])
            except ValueError:
                raise ScreenOptionError(field, v, "START, STOP and STEP must be numbers") from None
            out.append({key: parts[0].strip(), "start": start, "stop": stop, "step": step})
        return out

    spec: dict[str, Any] = {"metals": list(metals), "linkers": list(linkers), "base_amount": base_amount,
                            "mix": grids(mix, "ligand", "mix"), "metal_mix": grids(metal_mix, "metal", "metal_mix"),
                            "counter_ions": list(counter_ions) or [""],
                            "dimensionality": list(dimensionality) or [""], "geometry": list(geometry) or [""]}
    load_spec(spec)
    return spec


