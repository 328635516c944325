"""Enumerate a combinatorial candidate space and stream it to CSV/Parquet.

A *spec* (dict, or a YAML / TOML / JSON file holding the same keys) describes
the space as a product of axes::

    metals:                      # required; symbols, metal-field strings or dicts
      - Zn
      - {symbol: Co, oxidation_state: 2}
      - "Zn:0.8;Co:0.2"
    metal_mix:                   # optional: metal X replaces a fraction y of each single base metal
      - {metal: Co, start: 0, stop: 0.5, step: 0.1}
    linkers: [Im, bIm, "c1cc[n-]c1"]   # required; library names or SMILES (base linkers), or
                                       # fixed ligand sets such as "SCN-:1.5;C2bpy:0.5"
    base_amount: 2               # moles of base linker per metal (default 2)
    mix:                         # optional: ligand S replaces a fraction x of the base amount
      - {ligand: bIm, start: 0, stop: 0.5, step: 0.05}   # -> Im:2(1-x);bIm:2x
    counter_ions: ["", "TPrA:1"] # optional (default [""]: none)
    dimensionality: [3]          # optional (default [""]: unknown)
    geometry: [""]               # optional (default [""]: unspecified)

Axes (each de-duplicated, so the product has no duplicate compositions):

* metal axis: every ``metals`` entry; plus, for each single-element base
  metal M and each ``metal_mix`` entry X != M, ``M:(1-y);X:y`` for every grid
  value 0 < y < 1 (``y = 1`` gives pure X). The oxidation state of an entry
  applies to every metal of the row unless the mixing metal has its own.
* ligand axis: for every base linker L, ``L:b`` (``b = base_amount``), and for
  every ``mix`` entry S != L and grid value 0 < x < 1, ``L:b(1-x);S:bx``
  (``x = 1`` gives ``S:b``). Fixed ligand sets are used as given.
* then ``counter_ions`` x ``dimensionality`` x ``geometry``.

Grids are ``start, start + step, ..., stop`` (inclusive, fractions 0-1).
Amounts are written with up to 6 significant digits. Rows stream out in the
nested order metal, ligands, counter-ions, dimensionality, geometry, chunk by
chunk, to a temporary file that is renamed over the output at the end.

Ids are deterministic, e.g. ``Zn-Im1.75-bIm0.25-3D``, ``Zn0.8Co0.2-Im2``,
``Mn-dca3+TPrA1-3D``: metal token, ``-`` ligand tokens (``name`` + amount;
``name_amount`` when the name ends in a digit or ``)``; SMILES are replaced
by ``L`` + 8 hex digits of their SHA-1), ``+`` counter-ion tokens, ``-<d>D``,
``-<geometry>``; the oxidation state is added (``Cu(1)``) only when the same
metal appears with several oxidation states.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pyarrow as pa

from mlglass.io import atomic_write, terminate_cleanly
from mlglass.errors import SchemaError
from mlglass.schema import COMPOSITION_COLUMNS
from mlglass._progress import row_progress
from mlglass.screen.scoring import ScreenOptionError

__all__ = ["enumerate_candidates", "count_candidates", "LARGE_SPACE_ROWS", "from_cli", "load_spec", "mix_grid", "SPEC_KEYS",
           "ENUMERATED_COLUMNS"]

#: Keys a spec may have.
#: Spaces larger than this (rows) are refused unless ``allow_large=True`` (CLI ``--allow-large``).
LARGE_SPACE_ROWS = 10_000_000
#: Largest spec file read (bytes).
MAX_SPEC_BYTES = 1_000_000
#: Largest ``base_amount`` (the same plausibility limit as amounts in a candidate table).
MAX_BASE_AMOUNT = 1e4

SPEC_KEYS = ("metals", "metal_mix", "linkers", "base_amount", "mix", "counter_ions", "dimensionality", "geometry")
#: Columns of the enumerated table (candidate schema).
ENUMERATED_COLUMNS = ("id", *COMPOSITION_COLUMNS)
_AMOUNT_TAIL = re.compile(r":\s*[+]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$")
_SAFE_NAME = re.compile(r"^[A-Za-z0-9().,'+\-]+$")
_MAX_GRID = 100_000
_MAX_AXIS = 1_000_000


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
        sym = parse_metals(str(entry["metal"]))
        if len(sym) != 1:
            raise ScreenOptionError("metal_mix", entry, "metal must be one element symbol")
        ox = None if entry.get("oxidation_state") in (None, "") else \
            _roman_or_int(str(entry["oxidation_state"]), "metal_mix", entry)
        grid = mix_grid(entry.get("start", 0), entry.get("stop", 1), entry.get("step", 0.1), field="metal_mix")
        mixes.append((sym[0][0], ox, grid))
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
                    oxs = oxs + (((sym, mox if mox is not None else ox),) if (mox if mox is not None else ox)
                                 is not None else ())
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


class _Space:
    def __init__(self, spec: Mapping[str, Any] | str | os.PathLike):
        s = load_spec(spec)
        self.metals = _metal_axis(s)
        self.ligands = _ligand_axis(s)
        self.counters = _counter_axis(s)
        self.dims = _dim_axis(s)
        self.geoms = _geometry_axis(s)
        for name, axis in (("metals", self.metals), ("linkers", self.ligands)):
            if len(axis) > _MAX_AXIS:
                raise ScreenOptionError(name, len(axis), f"more than {_MAX_AXIS} values on one axis")
        self.shape = (len(self.metals), len(self.ligands), len(self.counters), len(self.dims), len(self.geoms))
        self.size = int(np.prod(np.array(self.shape, dtype=object)))

    def columns(self, start: int, stop: int) -> dict[str, np.ndarray]:
        idx = np.arange(start, stop, dtype=np.int64)
        i, j, k, l_, m = np.unravel_index(idx, self.shape)

        def col(axis: list, pos: int, sel: np.ndarray) -> np.ndarray:
            arr = np.empty(len(axis), dtype=object)
            arr[:] = [a[pos] for a in axis]
            return arr[sel]

        metal, ox, mtok, mform = (col(self.metals, p, i) for p in range(4))
        lig, ltok, lform = (col(self.ligands, p, j) for p in range(3))
        ctr, ctok, cform = (col(self.counters, p, k) for p in range(3))
        dim, dtok = (col(self.dims, p, l_) for p in range(2))
        geo, gtok = (col(self.geoms, p, m) for p in range(2))
        ids = mtok + "-" + ltok + ctok + dtok + gtok
        framework = mform + lform
        has_ctr = ctr != ""
        formula = np.where(has_ctr, "[" + framework + "]" + cform, framework)
        return {"id": ids, "metal": metal, "oxidation_state": ox, "ligands": lig, "counter_ions": ctr,
                "dimensionality": dim, "geometry": geo, "formula": formula}


def count_candidates(spec: Mapping[str, Any] | str | os.PathLike) -> int:
    """Number of rows :func:`enumerate_candidates` writes for ``spec`` (without enumerating them)."""
    return _Space(spec).size


def enumerate_candidates(spec: Mapping[str, Any] | str | os.PathLike, output_path: str | os.PathLike, *,
                         chunk_size: int = 100_000, progress: bool = True, allow_large: bool = False) -> int:
    """Stream the candidate space of ``spec`` to a CSV or Parquet file.

    Parameters
    ----------
    spec : dict or path-like
        See the module docstring (or build one with :func:`from_cli`).
    output_path : path-like
        ``.csv`` or ``.parquet``; columns :data:`ENUMERATED_COLUMNS` (candidate
        schema). Written chunk by chunk to a temporary file that replaces
        ``output_path`` atomically at the end (never all rows in memory).
    chunk_size : int, default=100_000
        Rows generated and written per step.
    progress : bool, default=True
        Show a rich progress bar (rows, rows/s) on stderr.
    allow_large : bool, default=False
        Required for spaces of more than :data:`LARGE_SPACE_ROWS` (10 million)
        rows; use :func:`count_candidates` to see the size first.

    Returns
    -------
    int
        Rows written (= :func:`count_candidates`).

    Raises
    ------
    ScreenOptionError
        Bad spec, or a space above :data:`LARGE_SPACE_ROWS` without ``allow_large``.

    Notes
    -----
    SIGTERM during the run (main thread) removes the temporary file before exiting.
    """
    from mlglass.io import table_format

    if isinstance(chunk_size, bool) or not isinstance(chunk_size, (int, np.integer)) or chunk_size < 1:
        raise ScreenOptionError("chunk_size", chunk_size, "must be a whole number >= 1")
    space = _Space(spec)
    if space.size > LARGE_SPACE_ROWS and not allow_large:
        raise ScreenOptionError("spec", f"{space.size:,} rows", f"the space is larger than {LARGE_SPACE_ROWS:,} rows; "
                                                                "pass allow_large=True (CLI --allow-large) to write it")
    output_path = Path(output_path)
    fmt = table_format(output_path, "output_path")
    schema = pa.schema([pa.field(c, pa.string()) for c in ENUMERATED_COLUMNS])
    written = 0
    with terminate_cleanly(), row_progress(progress, "enumerating", total=space.size) as bar, \
            atomic_write(output_path, "wb") as fh:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            writer: Any = pq.ParquetWriter(fh, schema, compression="zstd")
        else:
            import pyarrow.csv as pacsv

            writer = pacsv.CSVWriter(fh, schema, write_options=pacsv.WriteOptions(
                include_header=True, delimiter="\t" if fmt == "tsv" else ","))
        for start in range(0, space.size, chunk_size):
            stop = min(space.size, start + chunk_size)
            cols = space.columns(start, stop)
            table = pa.table({c: pa.array(cols[c], type=pa.string()) for c in ENUMERATED_COLUMNS}, schema=schema)
            writer.write_table(table)
            written += stop - start
            bar.advance(stop - start)
        writer.close()
    return written


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

