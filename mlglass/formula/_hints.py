"""Formula error hints: a best-effort reading of a formula outside the grammar as table columns."""

from __future__ import annotations

import math
import re

from mlglass.formula._grammar import (
    _BRIDGING_RE,
    _CLOSERS,
    _GENERIC_HINT,
    _NUMBER_RE,
    _OPENERS,
    _WORD_RE,
    _fmt_hint_num,
    _metal,
)


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
    head = _WORD_RE.match(s)
    if not (head and _metal(head.group())):
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
        sym = re.compile(r"[A-Z][a-z]?").match(s, i)
        if sym is None or not _metal(sym.group()):
            break
        c = _lenient_count(s, sym.end())
        metals.append((sym.group(), 1.0 if c is None else c))
        n = _NUMBER_RE.match(s, sym.end())
        i = n.end() if n else sym.end()
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
        for _opener, content, after in _scan_groups(s, 0, lo - 1) + _scan_groups(s, hi + 1, len(s)):
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


