"""Formula formatting: a :class:`~mlglass.records.CompoundRecord` as a formula string (:func:`format_formula`)."""

from __future__ import annotations

import math
from decimal import Decimal

from mlglass.errors import FormulaError
from mlglass.formula.parse import (
    parse_formula,
)
from mlglass.records import CompoundRecord

__all__ = ["format_formula"]


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

