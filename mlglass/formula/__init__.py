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

from mlglass.formula._grammar import HALIDES, MAX_FORMULA_LENGTH, MAX_NESTING, REVIEW_SPELLINGS
from mlglass.formula.format import format_formula
from mlglass.formula.parse import parse_formula

__all__ = ["parse_formula", "format_formula", "MAX_FORMULA_LENGTH", "MAX_NESTING", "HALIDES", "REVIEW_SPELLINGS"]
