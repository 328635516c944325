"""Formula lexing: numbers, bracketed groups, species names and element symbols as tokens."""

from __future__ import annotations

import math
import re

from mlglass.chem.elements import is_element
from mlglass.formula._grammar import (
    _BRIDGING_RE,
    _CLOSERS,
    _COUNT_LIKE_RE,
    _LOWER_RE,
    _MU,
    _NUMBER_RE,
    _OPENERS,
    _SEPARATORS,
    _WORD_RE,
    MAX_NESTING,
    _content,
    _Fail,
    _is_ascii_name_char,
    _metal,
    _show,
    _Tok,
    _Unit,
)

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


def _must_match(pattern: re.Pattern[str], s: str, pos: int, endpos: int) -> re.Match[str]:
    """``pattern.match(s, pos, endpos)`` where the caller has checked the first character, so it cannot fail."""
    m = pattern.match(s, pos, endpos)
    if m is None:  # pragma: no cover - guarded by the caller
        raise _Fail(pos, f"unexpected character {s[pos]!r} at position {pos + 1}")
    return m


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
            m = _must_match(_WORD_RE, s, i, hi)
            word = m.group()
            if len(word) > 3 or not is_element(word):
                raise _Fail(i, f"{_show(word)} at position {i + 1} is not an element symbol; ligand and ion "
                               "names go in parentheses, e.g. Zn(Im)2")
            toks.append(_Tok("sym", word, i, m.end()))
            i = m.end()
        elif "a" <= ch <= "z":
            m = _must_match(_LOWER_RE, s, i, hi)
            if m.group() == "n" and i > lo and s[i - 1] == "]":
                toks.append(_Tok("poly", "n", i, i + 1))
                i += 1
                continue
            raise _Fail(i, f"{_show(m.group())} at position {i + 1} is not a number or an element symbol: "
                           "variables such as x are not supported, give the numeric value; ligand names go "
                           "in parentheses")
        elif ch in "-+":
            start = toks[-1].pos if toks and toks[-1].kind == "num" and toks[-1].end == i else i
            m = _must_match(re.compile(r"[-+]?[0-9.a-z+\-]*"), s, i + 1, hi)
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


def _starts_with_metal(s: str, tok: _Tok) -> bool:
    if tok.kind != "group":
        return False
    lo, hi = _content(tok)
    m = _WORD_RE.match(s, lo, hi)
    return m is not None and _metal(m.group())


