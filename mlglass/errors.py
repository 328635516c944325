"""Error types raised by mlglass.

Every error a user can trigger is one of these classes. Each subclasses a
built-in exception (mostly ``ValueError``) so generic ``except ValueError``
code keeps working, and each message names the field, the value and, in a
batch, the row.
"""

from __future__ import annotations

__all__ = [
    "MlglassError",
    "RecordError",
    "FormulaError",
    "UnknownSpeciesError",
    "InvalidSmilesError",
    "UnknownElementError",
    "OxidationStateError",
    "StoichiometryError",
    "DimensionalityError",
    "SchemaError",
    "ModelFileError",
    "NoMetalError",
    "StructureError",
]


class MlglassError(Exception):
    """Base class of every documented mlglass error."""


class RecordError(MlglassError, ValueError):
    """A compound record has a bad field.

    Parameters
    ----------
    field : str
        Name of the offending field (column), e.g. ``"ligands"``.
    value : object
        The value that was given.
    reason : str
        Why it is rejected and, where possible, what to do instead.
    row : object, optional
        Row label (``id`` or index) in a batch.
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

    def with_row(self, row: object) -> "RecordError":
        """Return a copy of this error that names ``row``."""
        err = self.__class__.__new__(self.__class__)
        err.field, err.value, err.reason, err.row = self.field, self.value, self.reason, row
        Exception.__init__(err, err._compose())
        return err

    def __reduce__(self):  # picklable across processes (dask, multiprocessing)
        return (_rebuild_record_error, (self.__class__, self.field, self.value, self.reason, self.row))


def _rebuild_record_error(cls, field, value, reason, row):
    err = cls.__new__(cls)
    err.field, err.value, err.reason, err.row = field, value, reason, row
    Exception.__init__(err, err._compose())
    return err


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


class SchemaError(RecordError):
    """A table is missing a required column or has an unreadable layout."""


class NoMetalError(RecordError):
    """A structure or record contains no metal site."""


class StructureError(RecordError):
    """A crystal structure (CIF) cannot be turned into a compound record."""


class ModelFileError(MlglassError, ValueError):
    """A model bundle is missing, corrupted, tampered with or incompatible."""
