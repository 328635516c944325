"""Formula grammar: limits, spellings, token types and the internal failure (see :mod:`mlglass.formula`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

from mlglass.chem.elements import is_metal

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


@dataclass(frozen=True, slots=True)
class _Unit:
    tok: _Tok
    count: float
    count_tok: _Tok | None


class _Parts(NamedTuple):
    metals: list[tuple[str, float]]
    ligands: list[tuple[str, float]]
    counters: list[tuple[str, float]]  # raw counts, per formula unit (divided later)
    multiplier: float


def _is_ascii_name_char(ch: str) -> bool:
    return ch.isascii() and (ch.isalnum() or ch in _NAME_PUNCT)


def _fmt_hint_num(x: float) -> str:
    if x.is_integer():
        return str(int(x))
    return f"{x:.6g}"


class _Fail(Exception):
    """Internal: a grammar violation at a position (turned into FormulaError)."""

    def __init__(self, pos: int, message: str):
        super().__init__(message)
        self.pos = pos
        self.message = message


def _show(token: str) -> str:
    return repr(token if len(token) <= 40 else token[:37] + "...")


def _content(tok: _Tok) -> tuple[int, int]:
    return tok.pos + 1, tok.end - 1


def _metal(word: str) -> bool:
    # Length check first: is_metal caches every argument, keep that cache small.
    return len(word) <= 3 and is_metal(word)


