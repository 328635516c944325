r"""Formula strings in the notation of the review (Ma & Horike, Chem. Rev. 2022).

:func:`parse_formula` turns ``"Zn(Im)1.75(bIm)0.25"`` or
``"(TPrA)[Mn(dca)3]"`` into a :class:`~mlglass.records.CompoundRecord` whose
amounts are **moles per formula network metal**; :func:`format_formula` writes
a record back as a formula that parses to the same record.

Grammar
-------
EBNF-ish; whitespace is allowed between top-level tokens but not inside names.
Character positions in error messages are 1-based positions in the given text.

.. code-block:: ebnf

    formula    = main , { separator , guest } , [ "/" , label ] ;
    separator  = "·" | "*" | "." ;         (* "." only where it is not a decimal point *)
    label      = ? anything; ignored, e.g. "Zn(Im)2/ZIF-4" ? ;

    main       = network                                        (* form B *)
               | { outer } , framework , [ multiplier ] , { outer } ;  (* form A *)
    framework  = "[" , network , "]" ;  (* the first top-level [...] that starts with a metal *)
    multiplier = number | "n" ;         (* "n" (polymer) is ignored *)
    outer      = ( group | METAL | HALIDE ) , [ number ] ;     (* -> counter_ions *)

    network    = metal , { metal } , { ligand } , { anion } ;
    metal      = METAL , [ number ] ;   (* network metals: counts or fractions *)
    ligand     = "(" , name , ")" , [ number ]
               | HALIDE , [ number ]    (* bare F, Cl, Br, I: see Semantics *)
               | "[" , name , "]" , [ number ] ;   (* only inside a framework bracket *)
    anion      = "[" , METAL , name-rest , "]" , [ number ] ;
                 (* form B only, after all ligands: uncoordinated complex anion,
                    e.g. Co(bba)3[CoCl4] -> counter_ions CoCl4:1 *)

    guest      = [ number ] , ( group , [ number ] | bare-name ) ;   (* -> counter_ions *)
    group      = "(" , name , ")" | "[" , name , "]" ;
    name       = name-char , { name-char | group } ;   (* kept as written *)
    name-char  = ASCII letter | digit | one of - , ' _ + = # @ % : . * / \ $ ;
    number     = digit , { digit } , [ "." , digit , { digit } ] | "." , digit , { digit } ;
    METAL      = element symbol with is_metal ;   HALIDE = "F" | "Cl" | "Br" | "I" ;

Semantics
---------
* The network metals are the metal symbols at the start of the framework (the
  bracketed framework in form A, else the start of the formula). Their counts
  are normalised to fractions summing to 1.
* Every ligand count is divided by the total metal count (``Cu2(SCN)3(C2bpy)``
  gives ``SCN-:1.5;C2bpy:0.5``). Counter-ions (groups outside the framework
  bracket, trailing complex anions, guests after a separator) are divided by the
  total metal count times the framework multiplier
  (``[Ag(mL1)(CF3SO3)]2·2C6H6`` gives ``C6H6:1``).
* Names are kept as written (aliases are resolved by the featurizers); only the
  bridging prefixes ``μ-``, ``μ3-``, ``mu-`` are removed. ``µ`` (micro sign,
  NFKC-identical to ``μ``) is read as ``μ``.
* Bare halides (``Cl``, not ``(Cl)``) in an unbracketed network are
  **counter-ions**, as the dataset writes them: ``Mg(bba)3Cl2`` gives ligands
  ``bba:3`` and counter-ions ``Cl-:2``, the same record as the table row. Write a
  coordinated halide in parentheses, ``Cu(Cl)(pyz)``, or inside a bracketed
  framework, ``[ZnCl2(L)]``. A network of metal and halides only (``ZnCl2``) keeps
  them as ligands.
* Formula names are the review's abbreviations, not SMILES: the abbreviations
  that are also valid SMILES of another species (``SCN``, ``NCS``, ``CN``, ``SN``,
  ``O``, ``Cl``, ``Br``, ``F``, ``I``, ``FSI``) are written into the record under
  their unambiguous library spellings (:data:`REVIEW_SPELLINGS`; see
  :mod:`mlglass.chem.ligands` for the names/SMILES rule).
* Duplicate names are summed, order of first appearance is kept.
* Unicode subscript digits (``₂``) are read as ASCII digits; ``·`` and ``μ`` are
  the only other non-ASCII characters accepted.
* ``"Zn(Im)2/ZIF-4"``: everything from the first top-level ``/`` on is a name
  and ignored.
* A ``.`` followed by a digit is first read as a decimal point; only if that
  fails is it tried as a solvate separator (``[Ag(mL1)(CF3SO3)]2.2C6H6``).

Not supported (:class:`~mlglass.errors.FormulaError` with a table-form hint):
variables and arithmetic in counts (``Zn(Im)2-x(bIm)x``, ``Zn1-xCox``), charges,
zero or negative counts, empty groups, unbalanced brackets, nesting deeper than
:data:`MAX_NESTING`, text longer than :data:`MAX_FORMULA_LENGTH`, and a
``[...]`` in an unbracketed formula that does not start with a metal or is
followed by ligands. The last rule covers ``Li[N(SO2F)2](NCCH2CH2CN)2``: the
bracket precedes the ligands, so it cannot be told whether ``N(SO2F)2`` is a
coordinated ligand or an uncoordinated anion; the error suggests writing a
ligand in parentheses (``Li(N(SO2F)2)(NCCH2CH2CN)2``) or the table form.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from typing import NamedTuple

from mlglass.chem.elements import is_element, is_metal
from mlglass.errors import FormulaError
from mlglass.records import Component, CompoundRecord

__all__ = ["parse_formula", "format_formula", "MAX_FORMULA_LENGTH", "MAX_NESTING", "HALIDES"]

#: Longest formula accepted (characters).
MAX_FORMULA_LENGTH = 2000
#: Deepest bracket nesting accepted, counting the outermost bracket as 1.
MAX_NESTING = 10
#: Bare element symbols that may stand in a formula as ligands / counter-ions.
HALIDES = frozenset({"F", "Cl", "Br", "I"})
#: Review abbreviations that are valid SMILES of another species -> library spelling.
REVIEW_SPELLINGS = {"SCN": "SCN-", "NCS": "SCN-", "CN": "CN-", "SN": "succinonitrile", "O": "O2-", "F": "F-",
                    "Cl": "Cl-", "Br": "Br-", "I": "I-", "FSI": "FSA"}

_MAX_AMOUNT = 1e4  # same plausibility limit as mlglass.records.parse_amounts
_MAX_FALLBACK_SPLITS = 8
_SUBSCRIPTS = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")
_MU = "μµ"
_SEPARATORS = "·*."
_OPENERS = {"(": ")", "[": "]"}
_CLOSERS = {")": "(", "]": "["}
_NAME_PUNCT = frozenset("-,'_+=#@%:.*/\\$")
_NUMBER_RE = re.compile(r"\d+(?:\.\d+)?|\.\d+")
_WORD_RE = re.compile(r"[A-Z][a-z]*")
_LOWER_RE = re.compile(r"[a-z]+")
_BRIDGING_RE = re.compile(r"(?<![^(\[])(?:[μµ]|mu)\d*-")
_COUNT_LIKE_RE = re.compile(r"[0-9.+\-*/xyzn]+")
_VARIABLE_GUEST_RE = re.compile(r"[xyzn](?:[A-Z(\[]|$)")
_GENERIC_HINT = "e.g. metal='Zn', ligands='Im:1.75;bIm:0.25'"


class _Tok(NamedTuple):
    kind: str  # "group", "num", "sym", "poly"
    text: str  # opener for groups, literal text otherwise
    pos: int  # index of the first character in the normalised text
    end: int  # index after the last character
    value: float = 0.0


class _Unit(NamedTuple):
    tok: _Tok
    count: float
    count_tok: _Tok | None


class _Parts(NamedTuple):
    metals: list[tuple[str, float]]
    ligands: list[tuple[str, float]]
    counters: list[tuple[str, float]]  # raw counts, per formula unit (divided later)
    multiplier: float


# --------------------------------------------------------------------------- errors and hints


def _is_ascii_name_char(ch: str) -> bool:
    return ch.isascii() and (ch.isalnum() or ch in _NAME_PUNCT)


def _fmt_hint_num(x: float) -> str:
    if x.is_integer():
        return str(int(x))
    return f"{x:.6g}"


def _scan_groups(s: str, lo: int, hi: int) -> list[tuple[str, str, int]]:
    """Top-level groups of s[lo:hi] as (opener, content, index after closer); lenient."""
    out = []
    depth = 0
    start = lo
    opener = ""
    for i in range(lo, hi):
        ch = s[i]
        if ch in _OPENERS:
            if depth == 0:
                start, opener = i, ch
            depth += 1
        elif ch in _CLOSERS and depth > 0:
            depth -= 1
            if depth == 0:
                out.append((opener, s[start + 1:i], i + 1))
                if len(out) > 12:
                    break
    return out


def _lenient_count(s: str, i: int) -> float | None | str:
    """Count after index i: a float, None (no count: 1) or "?" (not a plain number)."""
    m = _NUMBER_RE.match(s, i)
    if m is None:
        if i < len(s) and (s[i].islower() or s[i] in "-+"):
            return "?"
        return None
    j = m.end()
    value = float(m.group())
    if (j < len(s) and (s[j].islower() or s[j] in "-+*/")) or not 0 < value < math.inf:
        return "?"
    return value


def _table_hint(s: str) -> str:
    """Best-effort table-row form of a (broken) formula, for error messages."""
    cut = s.find("/")
    if cut >= 0:
        s = s[:cut]
    s = s.strip()
    # Framework: bracketed group starting with a metal, else the whole text.
    lo, hi = 0, len(s)
    if not (_WORD_RE.match(s) and _metal(_WORD_RE.match(s).group())):
        for m in re.finditer(r"\[([A-Z][a-z]*)", s):
            if _metal(m.group(1)):
                lo = m.start() + 1
                depth, hi = 1, len(s)
                for k in range(lo, len(s)):
                    if s[k] in _OPENERS:
                        depth += 1
                    elif s[k] in _CLOSERS:
                        depth -= 1
                        if depth == 0:
                            hi = k
                            break
                break
    metals: list[tuple[str, float | str]] = []
    i = lo
    while i < hi and len(metals) < 6:
        m = re.compile(r"[A-Z][a-z]?").match(s, i)
        if m is None or not _metal(m.group()):
            break
        c = _lenient_count(s, m.end())
        metals.append((m.group(), 1.0 if c is None else c))
        n = _NUMBER_RE.match(s, m.end())
        i = n.end() if n else m.end()
        junk = re.compile(r"[-+*/a-z0-9.]+").match(s, i)
        if junk:
            i = junk.end()
    ligands: list[tuple[str, float | str]] = []
    counters: list[tuple[str, float | str]] = []
    for opener, content, after in _scan_groups(s, i, hi):
        if not content:
            continue
        c = _lenient_count(s, after)
        target = counters if (opener == "[" and lo == 0) else ligands
        target.append((_BRIDGING_RE.sub("", content)[:40], 1.0 if c is None else c))
    if lo > 0:
        for opener, content, after in _scan_groups(s, 0, lo - 1) + _scan_groups(s, hi + 1, len(s)):
            if not content:
                continue
            c = _lenient_count(s, after)
            counters.append((content[:40], 1.0 if c is None else c))
    if not metals and not ligands:
        return _GENERIC_HINT
    total: float | None = None
    if metals and all(isinstance(a, float) for _, a in metals):
        total = sum(a for _, a in metals)  # type: ignore[misc]

    def per_metal(a: float | str, placeholder: str = "<number>") -> str:
        if isinstance(a, str) or total is None or total <= 0:
            return placeholder
        return _fmt_hint_num(a / total)

    if not metals:
        metal_txt = "<metal>"
    elif len(metals) == 1 and isinstance(metals[0][1], float):
        metal_txt = metals[0][0]
    else:
        metal_txt = ";".join(f"{el}:{_fmt_hint_num(a) if isinstance(a, float) else '<fraction>'}"
                             for el, a in metals)
    parts = [f"metal='{metal_txt}'"]
    parts.append("ligands='" + (";".join(f"{n}:{per_metal(a)}" for n, a in ligands[:8]) or "<name>:<number>") + "'")
    if counters:
        parts.append("counter_ions='" + ";".join(f"{n}:{per_metal(a)}" for n, a in counters[:8]) + "'")
    return ", ".join(parts)


class _Fail(Exception):
    """Internal: a grammar violation at a position (turned into FormulaError)."""

    def __init__(self, pos: int, message: str):
        super().__init__(message)
        self.pos = pos
        self.message = message


def _show(token: str) -> str:
    return repr(token if len(token) <= 40 else token[:37] + "...")


# --------------------------------------------------------------------------- lexing


def _read_number(s: str, i: int, hi: int) -> tuple[float, int, str] | None:
    m = _NUMBER_RE.match(s, i, hi)
    if m is None:
        return None
    text = m.group()
    value = float(text)
    if not math.isfinite(value):
        raise _Fail(i, f"count {_show(text)} at position {i + 1} is too large")
    if value <= 0:
        raise _Fail(i, f"count {_show(text)} at position {i + 1} must be positive (zero is not a count)")
    return value, m.end(), text


def _match_group(s: str, i: int, hi: int) -> int:
    """Index of the bracket closing the one at ``s[i]``; validates the characters in between."""
    stack = [s[i]]
    j = i + 1
    while j < hi:
        ch = s[j]
        if ch in _OPENERS:
            if len(stack) >= MAX_NESTING:
                raise _Fail(j, f"{ch!r} at position {j + 1} nests brackets deeper than {MAX_NESTING} levels")
            stack.append(ch)
        elif ch in _CLOSERS:
            if stack[-1] != _CLOSERS[ch]:
                raise _Fail(j, f"{ch!r} at position {j + 1} does not match {stack[-1]!r}")
            if s[j - 1] == stack[-1]:
                raise _Fail(j - 1, f"empty group {s[j - 1:j + 1]!r} at position {j}")
            stack.pop()
            if not stack:
                return j
        elif ch in _MU:
            pass  # checked when the name is built
        elif ch.isspace():
            raise _Fail(j, f"whitespace at position {j + 1} inside the group opened at position {i + 1}; "
                           "names must not contain spaces")
        elif ch == "·":
            raise _Fail(j, f"separator '·' at position {j + 1} inside brackets is not supported; "
                           "put guests after the framework, e.g. [Zn(Im)2]·H2O")
        elif not _is_ascii_name_char(ch):
            raise _Fail(j, f"character {ch!r} at position {j + 1} is not allowed in a name")
        j += 1
    raise _Fail(i, f"unbalanced {s[i]!r} at position {i + 1}: no matching {_OPENERS[stack[0]]!r}")


def _name(s: str, lo: int, hi: int) -> str:
    """The species name in s[lo:hi], bridging prefixes removed, validated."""
    raw = s[lo:hi]
    name = _BRIDGING_RE.sub("", raw)
    stripped = {m.start() for m in _BRIDGING_RE.finditer(raw)}
    for k, ch in enumerate(raw):
        if ch in _MU and k not in stripped:
            pos = lo + k
            raise _Fail(pos, f"{ch!r} at position {pos + 1}: μ is only accepted as a bridging prefix "
                             "at the start of a name, e.g. (μ-NCS) or (μ3-OH)")
    if not name:
        raise _Fail(lo, f"group {_show(raw)} at position {lo + 1} has no species name")
    if _COUNT_LIKE_RE.fullmatch(name):
        raise _Fail(lo, f"group {_show(raw)} at position {lo + 1} holds a number or variable, not a "
                        "species name; counts go after the group as plain numbers, e.g. (Im)2")
    return name


def _tokenize(s: str, lo: int, hi: int) -> list[_Tok]:
    """Tokens of s[lo:hi] at bracket depth 0 (groups are single tokens)."""
    toks: list[_Tok] = []
    i = lo
    while i < hi:
        ch = s[i]
        if ch.isspace():
            i += 1
        elif ch in _OPENERS:
            j = _match_group(s, i, hi)
            toks.append(_Tok("group", ch, i, j + 1))
            i = j + 1
        elif ch in _CLOSERS:
            raise _Fail(i, f"unmatched {ch!r} at position {i + 1}")
        elif ch.isdigit() or (ch == "." and i + 1 < hi and s[i + 1].isdigit()):
            value, j, text = _read_number(s, i, hi)  # type: ignore[misc]
            toks.append(_Tok("num", text, i, j, value))
            i = j
        elif "A" <= ch <= "Z":
            m = _WORD_RE.match(s, i, hi)
            word = m.group()
            if len(word) > 3 or not is_element(word):
                raise _Fail(i, f"{_show(word)} at position {i + 1} is not an element symbol; ligand and ion "
                               "names go in parentheses, e.g. Zn(Im)2")
            toks.append(_Tok("sym", word, i, m.end()))
            i = m.end()
        elif "a" <= ch <= "z":
            m = _LOWER_RE.match(s, i, hi)
            if m.group() == "n" and i > lo and s[i - 1] == "]":
                toks.append(_Tok("poly", "n", i, i + 1))
                i += 1
                continue
            raise _Fail(i, f"{_show(m.group())} at position {i + 1} is not a number or an element symbol: "
                           "variables such as x are not supported, give the numeric value; ligand names go "
                           "in parentheses")
        elif ch in "-+":
            start = toks[-1].pos if toks and toks[-1].kind == "num" and toks[-1].end == i else i
            m = re.compile(r"[-+]?[0-9.a-z+\-]*").match(s, i + 1, hi)
            expr = s[start:m.end()]
            raise _Fail(i, f"{ch!r} at position {i + 1} (in {_show(expr)}): arithmetic, variables, charges "
                           "and signed counts are not supported; give the plain positive numeric value")
        elif ch in _MU:
            raise _Fail(i, f"{ch!r} at position {i + 1}: bridging prefixes go inside the parentheses, "
                           "e.g. (μ-NCS)")
        elif ch in _SEPARATORS or ch == "/":
            raise _Fail(i, f"{ch!r} at position {i + 1} is not allowed here")
        else:
            raise _Fail(i, f"unexpected character {ch!r} at position {i + 1}")
    return toks


def _units(s: str, toks: list[_Tok]) -> list[_Unit]:
    """Attach each count to the species before it."""
    units: list[_Unit] = []
    k = 0
    while k < len(toks):
        tok = toks[k]
        if tok.kind == "num":
            raise _Fail(tok.pos, f"number {_show(tok.text)} at position {tok.pos + 1} does not follow a "
                                 "species; counts go after the metal or group, e.g. Zn(Im)2")
        count, count_tok = 1.0, None
        if k + 1 < len(toks) and toks[k + 1].kind in ("num", "poly"):
            count_tok = toks[k + 1]
            if count_tok.kind == "num":
                count = count_tok.value
            k += 1
        units.append(_Unit(tok, count, count_tok))
        k += 1
    return units


def _content(tok: _Tok) -> tuple[int, int]:
    return tok.pos + 1, tok.end - 1


def _metal(word: str) -> bool:
    # Length check first: is_metal caches every argument, keep that cache small.
    return len(word) <= 3 and is_metal(word)


def _starts_with_metal(s: str, tok: _Tok) -> bool:
    if tok.kind != "group":
        return False
    lo, hi = _content(tok)
    m = _WORD_RE.match(s, lo, hi)
    return bool(m) and _metal(m.group())


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


# --------------------------------------------------------------------------- formatting


def _format_number(x: float) -> str:
    """Plain decimal text that parses back to exactly ``x`` (no exponent)."""
    x = float(x)
    if x.is_integer() and abs(x) < 1e16:
        return str(int(x))
    r = repr(float(x))
    if "e" in r or "E" in r:
        r = format(Decimal(r), "f")
    return r


def _count(x: float) -> str:
    return "" if x == 1 else _format_number(x)


def _group(name: str, *, counter_ion: bool = False) -> str:
    # Ligands always go in parentheses ([...] after an unbracketed network is an anion);
    # counter-ions with brackets in the name go in square brackets, e.g. [Co(NCS)4].
    if counter_ion and ("(" in name or "[" in name):
        return f"[{name}]"
    return f"({name})"


def _merged(items) -> list[tuple[str, float]]:
    out: dict[str, float] = {}
    for name, amount in items:
        out[name] = out.get(name, 0.0) + amount
    return list(out.items())


def format_formula(record: CompoundRecord) -> str:
    """Write a record as a formula that :func:`parse_formula` reads back to the same composition.

    Ligand-only records give the unbracketed form (``Co0.2Zn0.8(Im)1.95(bIm)0.025``);
    with counter-ions the framework is bracketed and the counter-ions follow it
    (``[Zn(HPO4)(H2PO4)2](ImH2)2``), names containing brackets in square brackets
    (``[Co(hmba)3][Co(NCS)4]``). Amounts are written exactly (shortest
    round-tripping decimal). Oxidation states, dimensionality and geometry are
    not part of a formula and are not written.

    Parameters
    ----------
    record : CompoundRecord

    Returns
    -------
    str

    Raises
    ------
    FormulaError
        The record cannot be written in the grammar (no metal or ligand, a
        non-positive or non-finite amount, or a name the parser would read
        differently, e.g. one containing ``;`` or spaces).
    TypeError
        ``record`` is not a :class:`CompoundRecord`.

    Examples
    --------
    >>> rec = parse_formula("[Zn(HPO4)(H2PO4)2](ImH2)2")
    >>> format_formula(rec)
    '[Zn(HPO4)(H2PO4)2](ImH2)2'
    """
    if not isinstance(record, CompoundRecord):
        raise TypeError(f"expected a CompoundRecord, got {type(record).__name__}")
    shown = f"metals={record.metals!r}, ligands={record.ligands!r}, counter_ions={record.counter_ions!r}"
    metals = _merged(record.metals)
    ligands = _merged((c.name, c.amount) for c in record.ligands)
    counters = _merged((c.name, c.amount) for c in record.counter_ions)
    if not metals or not ligands:
        raise FormulaError("formula", shown, "a formula needs at least one metal and one ligand")
    for name, amount in metals + ligands + counters:
        if not isinstance(name, str) or not name:
            raise FormulaError("formula", shown, f"name {name!r} must be a non-empty string")
        if (isinstance(amount, bool) or not isinstance(amount, (int, float)) or not math.isfinite(amount)
                or amount <= 0):
            raise FormulaError("formula", shown, f"amount of {name!r} must be a positive finite number")
    row = record.to_row()
    shown = f"metal={row['metal']!r}, ligands={row['ligands']!r}, counter_ions={row['counter_ions']!r}"
    total = math.fsum(a for _, a in metals)
    if len(metals) == 1:
        metal_txt = metals[0][0]
    else:
        metal_txt = "".join(sym + _count(a if total == 1.0 else a / total) for sym, a in metals)
    body = metal_txt + "".join(_group(n) + _count(a) for n, a in ligands)
    if counters:
        out = "[" + body + "]" + "".join(_group(n, counter_ion=True) + _count(a) for n, a in counters)
    else:
        out = body
    try:
        back = parse_formula(out)
    except FormulaError as err:
        raise FormulaError("formula", shown, f"cannot be written as a formula: {err.reason}") from None
    want_metals = [(sym, a / total) for sym, a in metals]
    same = (_same(back.metals, want_metals) and _same([(c.name, c.amount) for c in back.ligands], ligands)
            and _same([(c.name, c.amount) for c in back.counter_ions], counters))
    if not same:
        raise FormulaError("formula", shown, f"cannot be written as a formula: {out!r} reads back as "
                                             f"{back.to_row()['ligands']!r} / {back.to_row()['counter_ions']!r} "
                                             "(a name is not representable, e.g. it starts with a bridging "
                                             "prefix 'mu-')")
    return out


def _same(got, want) -> bool:
    if len(got) != len(want):
        return False
    return all(gn == wn and math.isclose(ga, wa, rel_tol=1e-9) for (gn, ga), (wn, wa) in zip(got, want))
