"""Error types raised by mlglass.

Every error a user can trigger is one of these classes. Each subclasses a
built-in exception (mostly ``ValueError``) so generic ``except ValueError``
code keeps working, and each message names the field, the value and, in a
batch, the row.

Hierarchy::

    MlglassError
    ├── InputError (field, value, reason, row)      bad user input
    │   ├── RecordError                            a record's field (FormulaError, UnknownSpeciesError, ...)
    │   ├── SchemaError                            a table's layout, a file or path
    │   └── OptionError                            an option (ScreenOptionError is an alias)
    └── ModelFileError                             a model bundle
"""

from __future__ import annotations

from typing import Any, Self, TypeVar

__all__ = [
    "MlglassError",
    "InputError",
    "RecordError",
    "OptionError",
    "FormulaError",
    "UnknownSpeciesError",
    "InvalidSmilesError",
    "UnknownElementError",
    "OxidationStateError",
    "StoichiometryError",
    "DimensionalityError",
    "SchemaError",
    "ModelFileError",
    "ScreenOptionError",
    "NoMetalError",
    "StructureError",
]


class MlglassError(Exception):
    """Base class of every documented mlglass error."""


class InputError(MlglassError, ValueError):
    """Base of every error about user input: one field has a value that is rejected for a reason.

    Record, schema and option errors are its siblings (:class:`RecordError`,
    :class:`SchemaError`, :class:`OptionError`); each keeps the three parts
    apart, so a batch can report bad rows as data and name the row only when it
    writes (:meth:`with_row`).

    Parameters
    ----------
    field : str
        Name of the offending field (column or option), e.g. ``"ligands"``.
    value : object
        The value that was given.
    reason : str
        Why it is rejected and, where possible, what to do instead.
    row : object, optional
        Row label (``id`` or index) in a batch; usually added late with :meth:`with_row`.
    """

    def __init__(self, field: str, value: object, reason: str, row: object = None):
        self.field = field
        self.value = value
        self.reason = reason
        self.row = row
        super().__init__(self._compose())

    def _compose(self) -> str:
        shown = repr(self.value)
        if len(shown) > 120:
            shown = shown[:117] + "...'"
        where = f"row {self.row!r}: " if self.row is not None else ""
        return f"{where}field {self.field!r} = {shown}: {self.reason}"

    def with_row(self, row: object) -> Self:
        """Return a copy of this error that names ``row``."""
        return _rebuild_input_error(self.__class__, self.field, self.value, self.reason, row)

    def __reduce__(self) -> tuple[Any, ...]:  # picklable across processes (dask, multiprocessing)
        return (_rebuild_input_error, (self.__class__, self.field, self.value, self.reason, self.row))


_E = TypeVar("_E", bound=InputError)


def _rebuild_input_error(cls: type[_E], field: str, value: object, reason: str, row: object) -> _E:
    err = cls.__new__(cls)
    err.field, err.value, err.reason, err.row = field, value, reason, row
    Exception.__init__(err, err._compose())
    return err


#: Former name of the rebuild helper (pickles written by older versions refer to it).
_rebuild_record_error = _rebuild_input_error


class RecordError(InputError):
    """A compound record (one row of a table, or one formula) has a bad field."""


class SchemaError(InputError):
    """A table or file is missing a required column, or has an unreadable layout or path."""


class OptionError(InputError):
    """An option of a function or command (objective, risk, spec entry, worker count, ...) is invalid.

    Options are not part of a record, so this is not a :class:`RecordError`.
    """


class FormulaError(RecordError):
    """A formula string is outside the supported grammar."""


class UnknownSpeciesError(RecordError):
    """A ligand, counter-ion or guest name is neither a library name nor a SMILES."""


class InvalidSmilesError(RecordError):
    """A SMILES string does not parse with RDKit."""


class UnknownElementError(RecordError):
    """A metal symbol is not a chemical element."""


class OxidationStateError(RecordError):
    """An oxidation state is impossible for the element."""


class StoichiometryError(RecordError):
    """An amount is missing, non-numeric, non-finite, zero or negative."""


class DimensionalityError(RecordError):
    """Network dimensionality outside 0-3."""


class NoMetalError(RecordError):
    """A structure or record contains no metal site."""


class StructureError(RecordError):
    """A crystal structure (CIF) cannot be turned into a compound record."""


class ModelFileError(MlglassError, ValueError):
    """A model bundle is missing, corrupted, tampered with or incompatible."""


#: Name used by :mod:`mlglass.screen` before the option errors moved here (kept importable).
ScreenOptionError = OptionError
