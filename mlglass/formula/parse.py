"""Formula parsing: tokens to a :class:`~mlglass.records.CompoundRecord` (:func:`parse_formula`)."""

from __future__ import annotations

import math

from mlglass.errors import FormulaError
from mlglass.formula._grammar import (
    _CLOSERS,
    _GENERIC_HINT,
    _MAX_AMOUNT,
    _MAX_FALLBACK_SPLITS,
    _MU,
    _OPENERS,
    _SEPARATORS,
    _SUBSCRIPTS,
    _VARIABLE_GUEST_RE,
    HALIDES,
    MAX_FORMULA_LENGTH,
    REVIEW_SPELLINGS,
    _content,
    _Fail,
    _is_ascii_name_char,
    _metal,
    _Parts,
    _show,
    _Unit,
)
from mlglass.formula._hints import (
    _table_hint,
)
from mlglass.formula._lexer import (
    _match_group,
    _name,
    _read_number,
    _starts_with_metal,
    _tokenize,
    _units,
)
from mlglass.records import Component, CompoundRecord

__all__ = ["parse_formula"]


# --------------------------------------------------------------------------- parsing


def _no_poly(unit: _Unit) -> None:
    if unit.count_tok is not None and unit.count_tok.kind == "poly":
        pos = unit.count_tok.pos
        raise _Fail(pos, f"'n' at position {pos + 1} is only accepted right after the framework bracket, "
                         "e.g. [Zn(Im)2]n")


def _parse_network(s: str, units: list[_Unit], *, bracketed: bool) -> _Parts:
    metals: list[tuple[str, float]] = []
    ligands: list[tuple[str, float]] = []
    anions: list[tuple[str, float]] = []
    halides: list[tuple[str, float]] = []
    state = "metal"
    for unit in units:
        tok = unit.tok
        _no_poly(unit)
        if tok.kind == "sym":
            sym = tok.text
            if state == "metal" and _metal(sym):
                metals.append((sym, unit.count))
            elif sym in HALIDES and state != "anion":
                state = "ligand"
                (ligands if bracketed else halides).append((sym, unit.count))
            elif _metal(sym):
                raise _Fail(tok.pos, f"metal {sym!r} at position {tok.pos + 1} follows the ligands; write all "
                                     "network metals first, e.g. Co0.2Zn0.8(Im)2")
            elif sym in HALIDES:
                raise _Fail(tok.pos, f"halide {sym!r} at position {tok.pos + 1} follows a complex anion: "
                                     "ligand or counter-ion? put ligands before the [anion]")
            else:
                raise _Fail(tok.pos, f"bare element {sym!r} at position {tok.pos + 1}: only the network metals "
                                     "and halides (F, Cl, Br, I) may stand without parentheses")
            continue
        lo, hi = _content(tok)
        if not metals:
            raise _Fail(tok.pos, f"group {_show(s[tok.pos:tok.end])} at position {tok.pos + 1} comes before "
                                 "any network metal; the framework must start with the metal, e.g. Zn(Im)2")
        if tok.text == "(" or bracketed:
            if state == "anion":
                raise _Fail(tok.pos, f"group {_show(s[tok.pos:tok.end])} at position {tok.pos + 1} follows a "
                                     "bracketed complex anion, so it is unclear which species coordinate; "
                                     "put the ligands before the [anion] or bracket the framework, "
                                     "e.g. [Zn(L)2](X)")
            state = "ligand"
            ligands.append((_name(s, lo, hi), unit.count))
        elif _starts_with_metal(s, tok) and state in ("ligand", "anion"):
            state = "anion"
            anions.append((_name(s, lo, hi), unit.count))
        else:
            shown = s[tok.pos:tok.end]
            later = "" if unit is units[-1] else " and is followed by more species"
            raise _Fail(tok.pos, f"bracketed group {_show(shown)} at position {tok.pos + 1} is ambiguous: without "
                                 "a bracketed framework, [...] marks an uncoordinated complex anion only when it "
                                 f"starts with a metal and follows all ligands; this one does not{later}. "
                                 f"Write a coordinated ligand in parentheses, ({_name(s, lo, hi)}), or")
    if not metals:
        raise _Fail(units[0].tok.pos if units else 0, "no network metal found; the framework must start with "
                                                      "a metal symbol, e.g. Zn(Im)2")
    if ligands:
        anions = halides + anions       # bare halides next to ligands: counter-ions (module docstring)
    else:
        ligands = halides
    if not ligands:
        pos = units[-1].tok.end if units else 0
        raise _Fail(pos, f"no ligands after the metal(s) ending at position {pos}; ligand names go in "
                         "parentheses, e.g. Zn(Im)2")
    return _Parts(metals, ligands, anions, 1.0)


def _parse_main(s: str, lo: int, hi: int) -> _Parts:
    toks = _tokenize(s, lo, hi)
    if not toks:
        raise _Fail(lo, f"no framework before position {hi + 1}")
    units = _units(s, toks)
    first = units[0].tok
    k = 0
    while k < len(units) and units[k].tok.kind == "sym" and _metal(units[k].tok.text):
        k += 1
    plain = k > 0 and not (k < len(units) and units[k].tok.text == "[" and _starts_with_metal(s, units[k].tok))
    if plain:
        return _parse_network(s, units, bracketed=False)
    fw_index = next((n for n, u in enumerate(units) if u.tok.text == "[" and _starts_with_metal(s, u.tok)), None)
    if fw_index is None:
        raise _Fail(first.pos, "no network metal found: start the formula with the metal (e.g. Zn(Im)2) or "
                               "put the framework in brackets (e.g. (TPrA)[Mn(dca)3])")
    fw = units[fw_index]
    clo, chi = _content(fw.tok)
    inner = _parse_network(s, _units(s, _tokenize(s, clo, chi)), bracketed=True)
    counters: list[tuple[str, float]] = []
    for n, unit in enumerate(units):
        if n == fw_index:
            continue
        tok = unit.tok
        _no_poly(unit)
        if tok.kind == "sym":
            if not (_metal(tok.text) or tok.text in HALIDES):
                raise _Fail(tok.pos, f"bare element {tok.text!r} at position {tok.pos + 1}: outside the "
                                     "framework only metal cations and halides may stand without parentheses")
            counters.append((tok.text, unit.count))
        else:
            counters.append((_name(s, *_content(tok)), unit.count))
    return _Parts(inner.metals, inner.ligands, counters, fw.count)


def _parse_guests(s: str, i: int, hi: int) -> list[tuple[str, float]]:
    """Guests after the first separator; ``s[i]`` is a separator."""
    out: list[tuple[str, float]] = []
    while i < hi:
        sep_pos = i
        i += 1
        while i < hi and s[i].isspace():
            i += 1
        if i >= hi:
            raise _Fail(sep_pos, f"nothing after separator {s[sep_pos]!r} at position {sep_pos + 1}")
        count = 1.0
        num = _read_number(s, i, hi)
        if num is not None and not (num[1] < hi and s[num[1]] in ",-'"):
            count, i = num[0], num[1]
            while i < hi and s[i].isspace():
                i += 1
            if i >= hi:
                raise _Fail(sep_pos, f"count after separator at position {sep_pos + 1} has no species")
        start = i
        if s[i] in _OPENERS:
            j = _match_group(s, i, hi)
            name = _name(s, i + 1, j)
            i = j + 1
            mult = _read_number(s, i, hi)
            if mult is not None:
                count *= mult[0]
                i = mult[1]
        else:
            while i < hi and not s[i].isspace() and s[i] not in _SEPARATORS:
                ch = s[i]
                if ch in _OPENERS:
                    i = _match_group(s, i, hi) + 1
                elif ch in _CLOSERS:
                    raise _Fail(i, f"unmatched {ch!r} at position {i + 1}")
                elif ch in _MU or not _is_ascii_name_char(ch):
                    raise _Fail(i, f"character {ch!r} at position {i + 1} is not allowed in a guest name")
                else:
                    i += 1
            raw = s[start:i]
            if not raw or not raw[0].isalnum():
                raise _Fail(start, f"expected a guest name at position {start + 1}, got "
                                   f"{_show(s[start:start + 1] or 'nothing')}")
            if _VARIABLE_GUEST_RE.match(raw):
                raise _Fail(start, f"variable {raw[0]!r} at position {start + 1} (in {_show(raw)}): counts "
                                   "must be plain positive numbers; give the numeric value, e.g. 2H2O")
            name = _name(s, start, i)
        while i < hi and s[i].isspace():
            i += 1
        if i < hi and s[i] not in _SEPARATORS:
            raise _Fail(i, f"unexpected {s[i]!r} at position {i + 1} after guest {_show(name)}")
        if not math.isfinite(count):
            raise _Fail(start, f"count of guest {_show(name)} at position {start + 1} is too large")
        out.append((name, count))
    return out


def _merge(items: list[tuple[str, float]], divisor: float, what: str) -> tuple[Component, ...]:
    merged: dict[str, float] = {}
    for name, count in items:
        name = REVIEW_SPELLINGS.get(name, name)
        merged[name] = merged.get(name, 0.0) + count / divisor
    for name, amount in merged.items():
        if not (0 < amount <= _MAX_AMOUNT) or not math.isfinite(amount):
            raise _Fail(0, f"{what} {name!r} has {amount:g} per network metal, outside (0, {_MAX_AMOUNT:g}]")
    return tuple(Component(n, a) for n, a in merged.items())


def _assemble(s: str, lo: int, main_end: int, hi: int) -> tuple:
    parts = _parse_main(s, lo, main_end)
    guests = _parse_guests(s, main_end, hi) if main_end < hi else []
    metal_counts: dict[str, float] = {}
    for sym, count in parts.metals:
        metal_counts[sym] = metal_counts.get(sym, 0.0) + count
    total = math.fsum(metal_counts.values())
    if not math.isfinite(total):
        raise _Fail(lo, "metal counts are too large")
    metals = tuple((sym, c / total) for sym, c in metal_counts.items())
    ligands = _merge(parts.ligands, total, "ligand")
    counters = _merge(parts.counters + guests, total * parts.multiplier, "counter-ion")
    return metals, ligands, counters


def _split_points(s: str, lo: int, hi: int) -> tuple[int, int, list[int]]:
    """(end of label-free text, first certain separator, ambiguous '.' positions before it)."""
    depth = 0
    end = hi
    for i in range(lo, hi):
        ch = s[i]
        if ch in _OPENERS:
            depth += 1
        elif ch in _CLOSERS:
            depth = max(depth - 1, 0)
        elif ch == "/" and depth == 0:
            end = i
            break
    depth = 0
    ambiguous: list[int] = []
    for i in range(lo, end):
        ch = s[i]
        if ch in _OPENERS:
            depth += 1
        elif ch in _CLOSERS:
            depth = max(depth - 1, 0)
        elif depth == 0 and ch in _SEPARATORS:
            if ch == "." and i + 1 < end and s[i + 1].isdigit():
                if len(ambiguous) < _MAX_FALLBACK_SPLITS:
                    ambiguous.append(i)
                continue
            return end, i, ambiguous
    return end, end, ambiguous


def parse_formula(text: str) -> CompoundRecord:
    """Parse a CP/MOF formula into a compound record (amounts per network metal).

    Parameters
    ----------
    text : str
        A formula such as ``"Zn(Im)1.75(bIm)0.25"``, ``"(TPrA)[Mn(dca)3]"`` or
        ``"[Ag(mL1)(CF3SO3)]2·2C6H6"``; see the module docstring for the grammar.

    Returns
    -------
    CompoundRecord
        ``metals`` as fractions summing to 1, ``ligands`` and ``counter_ions``
        in moles per formula network metal, ``formula=text``;
        ``dimensionality`` is None and ``oxidation_states`` empty.

    Raises
    ------
    FormulaError
        The text is outside the grammar. The message names the offending token
        and its 1-based position and ends with the equivalent table-row form.

    Examples
    --------
    >>> parse_formula("Cu2(SCN)3(C2bpy)").to_row()["ligands"]
    'SCN-:1.5;C2bpy:0.5'
    >>> parse_formula("Co(bba)3[CoCl4]").to_row()["counter_ions"]
    'CoCl4:1'
    """
    if not isinstance(text, str):
        raise FormulaError("formula", text, "expected a formula string such as 'Zn(Im)2'")
    if len(text) > MAX_FORMULA_LENGTH:
        raise FormulaError("formula", text, f"formula has {len(text)} characters, more than the "
                                            f"{MAX_FORMULA_LENGTH} accepted; use the table form instead: "
                                            + _GENERIC_HINT)
    s = text.translate(_SUBSCRIPTS)
    try:
        for i, ch in enumerate(s):
            if ch.isspace() and ch.isascii():
                continue
            if not ch.isprintable() or (not ch.isascii() and ch not in "·" + _MU):
                code = f"U+{ord(ch):04X}"
                raise _Fail(i, f"character {ch!r} ({code}) at position {i + 1} is not accepted; use ASCII "
                               "(only subscript digits, '·' and 'μ' may be non-ASCII)")
        lo = len(s) - len(s.lstrip())
        hi = len(s.rstrip())
        if lo >= hi:
            raise _Fail(0, "the formula is empty")
        end, main_end, ambiguous = _split_points(s, lo, hi)
        end = len(s[:end].rstrip())
        if end <= lo:
            raise _Fail(lo, f"nothing before the label separator '/' at position {lo + 1}")
        main_end = min(main_end, end)
        try:
            metals, ligands, counters = _assemble(s, lo, main_end, end)
        except _Fail as first:
            # A '.' followed by a digit was read as a decimal point; try it as a separator.
            result = None
            for p in (p for p in ambiguous if p < main_end):
                try:
                    result = _assemble(s, lo, p, end)
                except _Fail:
                    continue
                break
            if result is None:
                raise first
            metals, ligands, counters = result
    except _Fail as fail:
        reason = fail.message.rstrip()
        joiner = " use the table form instead: " if reason.endswith(", or") else "; use the table form instead: "
        raise FormulaError("formula", text, reason + joiner + _table_hint(s)) from None
    return CompoundRecord(metals=metals, ligands=ligands, counter_ions=counters, formula=text)


