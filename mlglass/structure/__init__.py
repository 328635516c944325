"""Crystal structures (CIF) to compound records.

:func:`record_from_structure` turns one CIF or pymatgen ``Structure`` into a
:class:`StructureRecord` (a :class:`~mlglass.records.CompoundRecord` plus
structural descriptors); :func:`records_from_cifs` processes many files in
parallel, with a cache, into a candidate table. The chemistry rules (bond
tolerance, charge assignment, disorder) are documented in the submodules.
"""

from mlglass.structure.batch import DEFAULT_TIMEOUT_S, default_cache_dir, records_from_cifs
from mlglass.structure.record import DESCRIPTOR_KEYS, StructureRecord, record_from_structure

__all__ = [
    "record_from_structure",
    "records_from_cifs",
    "StructureRecord",
    "DESCRIPTOR_KEYS",
    "default_cache_dir",
    "DEFAULT_TIMEOUT_S",
]
