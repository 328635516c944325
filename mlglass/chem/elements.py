"""Metal-ion chemistry derived from pymatgen's element data.

Nothing here is a hand-typed periodic table: d-electron counts come from the
group number and the ion's charge, radii from pymatgen's copy of Shannon's table
(*ionic* radii at a stated coordination number; a charge or coordination number
missing from the table gives NaN, never another charge's value), electronegativity
and ionisation energies from pymatgen's element data.
The only hand-written knowledge is Pearson's qualitative hard/soft
classification of common cations, which no library ships (cited below).

References
----------
R. G. Pearson, "Hard and soft acids and bases", J. Am. Chem. Soc. 85, 3533 (1963).
R. G. Parr, R. G. Pearson, "Absolute hardness: companion parameter to absolute
electronegativity", J. Am. Chem. Soc. 105, 7512 (1983).
R. D. Shannon, Acta Cryst. A32, 751 (1976).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache, lru_cache

from pymatgen.core.periodic_table import Element

from mlglass.errors import OxidationStateError, UnknownElementError

__all__ = [
    "is_element",
    "is_metal",
    "default_oxidation_state",
    "MetalIon",
    "metal_ion",
    "d_electron_count",
    "cfse",
    "pearson_hardness_ev",
    "shannon_ionic_radius",
    "HSAB_CLASS_VALUE",
    "DELTA_T_OVER_DELTA_O",
]

#: Numeric value of the HSAB classes (0 hard, 0.5 borderline, 1 soft).
HSAB_CLASS_VALUE = {"hard": 0.0, "borderline": 0.5, "soft": 1.0}

# Pearson (1963), Table I and later compilations: cations as Lewis acids.
# Keys are (symbol, charge). Ions not listed are classed from their absolute
# hardness (see ``_class_from_hardness``).
_PEARSON_ACIDS = {
    ("H", 1): "hard", ("Li", 1): "hard", ("Na", 1): "hard", ("K", 1): "hard",
    ("Be", 2): "hard", ("Mg", 2): "hard", ("Ca", 2): "hard", ("Sr", 2): "hard", ("Mn", 2): "hard",
    ("Al", 3): "hard", ("Sc", 3): "hard", ("Ga", 3): "hard", ("In", 3): "hard", ("La", 3): "hard",
    ("Gd", 3): "hard", ("Lu", 3): "hard", ("Cr", 3): "hard", ("Co", 3): "hard", ("Fe", 3): "hard",
    ("As", 3): "hard", ("Ce", 3): "hard", ("Eu", 3): "hard", ("Si", 4): "hard", ("Ti", 4): "hard",
    ("Zr", 4): "hard", ("Th", 4): "hard", ("U", 4): "hard", ("Pu", 4): "hard", ("Ce", 4): "hard",
    ("Hf", 4): "hard", ("V", 4): "hard", ("Sn", 4): "hard",
    ("Fe", 2): "borderline", ("Co", 2): "borderline", ("Ni", 2): "borderline", ("Cu", 2): "borderline",
    ("Zn", 2): "borderline", ("Pb", 2): "borderline", ("Sn", 2): "borderline", ("Sb", 3): "borderline",
    ("Bi", 3): "borderline", ("Rh", 3): "borderline", ("Ir", 3): "borderline", ("Ru", 2): "borderline",
    ("Os", 2): "borderline",
    ("Cu", 1): "soft", ("Ag", 1): "soft", ("Au", 1): "soft", ("Tl", 1): "soft", ("Hg", 1): "soft",
    ("Pd", 2): "soft", ("Cd", 2): "soft", ("Pt", 2): "soft", ("Hg", 2): "soft", ("Tl", 3): "soft",
    ("Au", 3): "soft", ("Pt", 4): "soft",
}


@cache
def is_element(symbol: str) -> bool:
    """True if ``symbol`` is a chemical element symbol (case-sensitive, e.g. ``"Zn"``)."""
    if not isinstance(symbol, str) or not symbol.isascii() or not symbol.isalpha() or len(symbol) > 3:
        return False
    try:
        Element(symbol)
    except (ValueError, KeyError, AttributeError):
        return False
    return True


@cache
def is_metal(symbol: str) -> bool:
    """True for metals (pymatgen ``is_metal``); metalloids such as B and Si are not network metals."""
    if not is_element(symbol):
        return False
    return bool(Element(symbol).is_metal)


def _element(symbol: str, field: str = "metal") -> Element:
    if not is_element(symbol):
        raise UnknownElementError(field, symbol, f"{symbol!r} is not a chemical element symbol")
    return Element(symbol)


@cache
def default_oxidation_state(symbol: str) -> int:
    """Lowest positive common oxidation state of an element (pymatgen), e.g. Zn 2, Co 2, Cu 2, Au 3.

    Raises
    ------
    UnknownElementError
        Not an element.
    OxidationStateError
        The element has no positive common oxidation state (e.g. a noble gas).
    """
    el = _element(symbol)
    positive = [s for s in el.common_oxidation_states if s > 0] or [s for s in el.oxidation_states if s > 0]
    if not positive:
        raise OxidationStateError("oxidation_state", symbol,
                                  f"{symbol} has no positive oxidation state; it cannot be a network metal")
    return int(min(positive))


def _valence_counts(el: Element) -> tuple[int, int, int]:
    """(d, f, s) electrons of the open valence shells of the neutral atom."""
    config = el.full_electronic_structure
    max_n = max(n for n, _, _ in config)
    s = sum(occ for n, sub, occ in config if sub == "s" and n == max_n)
    d_shells = [(n, occ) for n, sub, occ in config if sub == "d"]
    f_shells = [(n, occ) for n, sub, occ in config if sub == "f"]
    d = max(d_shells)[1] if d_shells and max(d_shells)[0] == max_n - 1 else 0
    f = max(f_shells)[1] if f_shells and max(f_shells)[0] == max_n - 2 else 0
    return d, f, s


@cache
def d_electron_count(symbol: str, oxidation_state: float) -> int:
    """Number of d electrons of the ion M^(ox+).

    d-block metals: group number minus the oxidation state, clipped to 0-10
    (the ion's configuration, not the neutral atom's: Pd is 4d10 5s0 as an atom,
    but Pd2+ is d8). p-block metals with a filled (n-1)d shell (Ga, In, Sn, Pb, ...)
    keep d10. s- and f-block metals: 0.

    Examples
    --------
    >>> d_electron_count("Zn", 2), d_electron_count("Co", 2), d_electron_count("Cu", 1), d_electron_count("Pd", 2)
    (10, 7, 10, 8)
    """
    el = _element(symbol)
    ox = float(oxidation_state)
    if el.block == "d":
        return int(min(10, max(0, round(int(el.group) - ox))))
    if el.block == "p":
        d, _, _ = _valence_counts(el)
        return 10 if d == 10 else 0
    return 0


#: Delta_t / Delta_o for the same metal and ligands (point-charge crystal-field theory).
DELTA_T_OVER_DELTA_O = 4.0 / 9.0


def cfse(d_count: int, geometry: str = "octahedral", *, unit: str = "own") -> float:
    """High-spin crystal-field stabilisation energy (negative = stabilised).

    Octahedral: t2g at -0.4 Delta_o, eg at +0.6 Delta_o. Tetrahedral: e at -0.6 Delta_t,
    t2 at +0.4 Delta_t. Electrons fill high spin (weak-field ligands, as in most CPs).

    Parameters
    ----------
    unit : {"own", "delta_o"}, default="own"
        ``"own"``: in units of the geometry's own splitting (Delta_o or Delta_t);
        ``"delta_o"``: both geometries in units of Delta_o, with
        Delta_t = 4/9 Delta_o (:data:`DELTA_T_OVER_DELTA_O`), so the values share one axis.

    Examples
    --------
    >>> cfse(10, "octahedral"), cfse(7, "octahedral"), cfse(7, "tetrahedral")
    (0.0, -0.8, -1.2)
    >>> round(cfse(7, "tetrahedral", unit="delta_o"), 4)
    -0.5333
    """
    if not 0 <= d_count <= 10:
        raise ValueError(f"d_count must be 0-10, got {d_count}")
    if geometry == "tetrahedral":
        lower, upper, e_lower, e_upper = 2, 3, -0.6, 0.4
    else:
        lower, upper, e_lower, e_upper = 3, 2, -0.4, 0.6
    occ_lower = [0] * lower
    occ_upper = [0] * upper
    orbitals = [("l", i) for i in range(lower)] + [("u", i) for i in range(upper)]
    remaining = d_count
    for _spin_pass in range(2):  # high spin: one electron per orbital first
        for kind, i in orbitals:
            if remaining == 0:
                break
            if kind == "l":
                occ_lower[i] += 1
            else:
                occ_upper[i] += 1
            remaining -= 1
    value = sum(occ_lower) * e_lower + sum(occ_upper) * e_upper
    if unit == "delta_o" and geometry == "tetrahedral":
        value *= DELTA_T_OVER_DELTA_O
    return round(value, 6) + 0.0


@cache
def pearson_hardness_ev(symbol: str, oxidation_state: float) -> float:
    """Absolute (Parr-Pearson) hardness of the cation M^(z+) in eV: (I_(z+1) - I_z) / 2.

    For a neutral atom (z = 0) this is (I_1 - A) / 2. Non-integer oxidation
    states are interpolated. Returns NaN when pymatgen lacks the energies.
    """
    el = _element(symbol)
    z = float(oxidation_state)
    ies = [float(x) for x in el.ionization_energies if x is not None]

    def eta(zi: int) -> float:
        if zi <= 0:
            ea = el.electron_affinity if el.electron_affinity is not None else 0.0
            return (ies[0] - max(float(ea), 0.0)) / 2 if ies else math.nan
        if zi >= len(ies):
            return math.nan
        return (ies[zi] - ies[zi - 1]) / 2

    lo = int(math.floor(z))
    if lo == z:
        return eta(lo)
    w = z - lo
    return (1 - w) * eta(lo) + w * eta(lo + 1)


@cache
def shannon_ionic_radius(symbol: str, oxidation_state: float, coordination: str = "VI") -> float:
    """Shannon (1976) *ionic* radius of M^(ox+) at a coordination number, in angstrom.

    Read from pymatgen's copy of Shannon's table (``Element.data["Shannon radii"]``),
    column ``ionic_radius`` (not the crystal radius, which is 0.14 A larger for
    cations). Where the table lists high- and low-spin values the high-spin one is
    used (weak-field ligands, as in :func:`cfse`). A charge or coordination number
    that the table does not list gives NaN: a radius is never borrowed from
    another charge or coordination number.

    Parameters
    ----------
    coordination : str, default="VI"
        Roman numeral as in Shannon's table (``"IV"`` tetrahedral, ``"VI"`` octahedral).

    Examples
    --------
    >>> shannon_ionic_radius("Zn", 2, "VI"), shannon_ionic_radius("Zn", 2, "IV")
    (0.74, 0.6)
    """
    el = _element(symbol)
    ox = float(oxidation_state)
    if not ox.is_integer():
        return math.nan
    table = (el.data.get("Shannon radii") or {}).get(str(int(ox)), {})
    entry = table.get(coordination)
    if not entry:
        return math.nan
    for spin in ("High Spin", ""):
        if spin in entry and "ionic_radius" in entry[spin]:
            return float(entry[spin]["ionic_radius"])
    first = next(iter(entry.values()))
    return float(first.get("ionic_radius", math.nan))


def _class_from_hardness(eta: float, charge: float) -> str:
    # Thresholds chosen so that the classes of the tabulated ions are mostly reproduced:
    # soft ions (Cu+, Ag+, Cd2+) have eta < ~6.5 eV; hard ions (Li+, Mg2+, Cr3+) eta > ~10 eV.
    if math.isnan(eta):
        return "borderline"
    if charge >= 3:
        return "hard"
    if eta < 6.5:
        return "soft"
    if eta > 10.5:
        return "hard"
    return "borderline"


@dataclass(frozen=True)
class MetalIon:
    """Descriptors of one metal ion.

    Attributes
    ----------
    symbol : str
    oxidation_state : float
    d_electrons : int
    cfse_oct, cfse_tet : float
        High-spin CFSE, both in units of Delta_o (Delta_t = 4/9 Delta_o).
    ionic_radius_vi_a, ionic_radius_iv_a : float
        Shannon ionic radius in angstrom at coordination number VI / IV
        (:func:`shannon_ionic_radius`; NaN where Shannon lists none).
    electronegativity : float
        Pauling electronegativity.
    hardness_ev : float
        Absolute Pearson hardness in eV.
    hsab_class : str
        ``"hard"``, ``"borderline"`` or ``"soft"``.
    period, group : int
    atomic_mass : float
        g/mol.
    """

    symbol: str
    oxidation_state: float
    d_electrons: int
    cfse_oct: float
    cfse_tet: float
    ionic_radius_vi_a: float
    ionic_radius_iv_a: float
    electronegativity: float
    hardness_ev: float
    hsab_class: str
    period: int
    group: int
    atomic_mass: float

    @property
    def hsab_value(self) -> float:
        """0 hard, 0.5 borderline, 1 soft."""
        return HSAB_CLASS_VALUE[self.hsab_class]


@lru_cache(maxsize=4096)
def metal_ion(symbol: str, oxidation_state: float | None = None) -> MetalIon:
    """Descriptors of ``symbol`` in ``oxidation_state`` (default: :func:`default_oxidation_state`).

    Raises
    ------
    UnknownElementError
        Not an element.
    OxidationStateError
        Oxidation state not positive, not a half-integer multiple, or more than the
        element's valence electrons allow.
    """
    el = _element(symbol)
    if not is_metal(symbol):
        raise UnknownElementError("metal", symbol, f"{symbol} is not a metal; give the network-forming metal")
    ox = float(default_oxidation_state(symbol) if oxidation_state is None else oxidation_state)
    max_ox = max([s for s in el.oxidation_states] or [default_oxidation_state(symbol)])
    if not math.isfinite(ox) or ox <= 0 or ox > max(max_ox, 1) or ox * 2 != int(ox * 2):
        raise OxidationStateError(
            "oxidation_state", oxidation_state,
            f"{symbol} cannot be in oxidation state {ox:g} (known states: "
            f"{', '.join(f'+{s}' for s in sorted(set(el.oxidation_states)) if s > 0)})")
    d = d_electron_count(symbol, ox)
    eta = pearson_hardness_ev(symbol, ox)
    cls = _PEARSON_ACIDS.get((symbol, int(round(ox))), None) or _class_from_hardness(eta, ox)
    return MetalIon(
        symbol=symbol, oxidation_state=ox, d_electrons=d, cfse_oct=cfse(d, "octahedral"),
        cfse_tet=cfse(d, "tetrahedral", unit="delta_o"), ionic_radius_vi_a=shannon_ionic_radius(symbol, ox, "VI"),
        ionic_radius_iv_a=shannon_ionic_radius(symbol, ox, "IV"), electronegativity=float(el.X),
        hardness_ev=eta, hsab_class=cls, period=int(el.row), group=int(el.group),
        atomic_mass=float(el.atomic_mass),
    )
