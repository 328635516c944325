"""Enumerate a combinatorial candidate space and stream it to CSV/Parquet.

A *spec* (dict, or a YAML / TOML / JSON file holding the same keys) describes
the space as a product of axes::

    metals:                      # required; symbols, metal-field strings or dicts
      - Zn
      - {symbol: Co, oxidation_state: 2}
      - "Zn:0.8;Co:0.2"
    metal_mix:                   # optional: metal X replaces a fraction y of each single base metal
      - {metal: Co, start: 0, stop: 0.5, step: 0.1}
    linkers: [Im, bIm, "c1cc[n-]c1"]   # required; library names or SMILES (base linkers), or
                                       # fixed ligand sets such as "SCN-:1.5;C2bpy:0.5"
    base_amount: 2               # moles of base linker per metal (default 2)
    mix:                         # optional: ligand S replaces a fraction x of the base amount
      - {ligand: bIm, start: 0, stop: 0.5, step: 0.05}   # -> Im:2(1-x);bIm:2x
    counter_ions: ["", "TPrA:1"] # optional (default [""]: none)
    dimensionality: [3]          # optional (default [""]: unknown)
    geometry: [""]               # optional (default [""]: unspecified)

Axes (each de-duplicated, so the product has no duplicate compositions):

* metal axis: every ``metals`` entry; plus, for each single-element base
  metal M and each ``metal_mix`` entry X != M, ``M:(1-y);X:y`` for every grid
  value 0 < y < 1 (``y = 1`` gives pure X). The oxidation state of an entry
  applies to every metal of the row unless the mixing metal has its own.
* ligand axis: for every base linker L, ``L:b`` (``b = base_amount``), and for
  every ``mix`` entry S != L and grid value 0 < x < 1, ``L:b(1-x);S:bx``
  (``x = 1`` gives ``S:b``). Fixed ligand sets are used as given.
* then ``counter_ions`` x ``dimensionality`` x ``geometry``.

Grids are ``start, start + step, ..., stop`` (inclusive, fractions 0-1).
Amounts are written with up to 6 significant digits. Rows stream out in the
nested order metal, ligands, counter-ions, dimensionality, geometry, chunk by
chunk, to a temporary file that is renamed over the output at the end.

Ids are deterministic, e.g. ``Zn-Im1.75-bIm0.25-3D``, ``Zn0.8Co0.2-Im2``,
``Mn-dca3+TPrA1-3D``: metal token, ``-`` ligand tokens (``name`` + amount;
``name_amount`` when the name ends in a digit or ``)``; SMILES are replaced
by ``L`` + 8 hex digits of their SHA-1), ``+`` counter-ion tokens, ``-<d>D``,
``-<geometry>``; the oxidation state is added (``Cu(1)``) only when the same
metal appears with several oxidation states.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from mlglass._progress import row_progress
from mlglass.io import atomic_write, terminate_cleanly
from mlglass.schema import COMPOSITION_COLUMNS
from mlglass.screen.axes import (
    _MAX_AXIS,
    _counter_axis,
    _dim_axis,
    _geometry_axis,
    _ligand_axis,
    _metal_axis,
)
from mlglass.screen.scoring import ScreenOptionError
from mlglass.screen.spec import (
    SPEC_KEYS,
    from_cli,
    load_spec,
    mix_grid,
)

__all__ = ["enumerate_candidates", "count_candidates", "LARGE_SPACE_ROWS", "from_cli", "load_spec", "mix_grid",
           "SPEC_KEYS", "ENUMERATED_COLUMNS"]

#: Spaces larger than this (rows) are refused unless ``allow_large=True`` (CLI ``--allow-large``).
LARGE_SPACE_ROWS = 10_000_000
#: Columns of the enumerated table (candidate schema).
ENUMERATED_COLUMNS = ("id", *COMPOSITION_COLUMNS)


class _Space:
    def __init__(self, spec: Mapping[str, Any] | str | os.PathLike):
        s = load_spec(spec)
        self.metals = _metal_axis(s)
        self.ligands = _ligand_axis(s)
        self.counters = _counter_axis(s)
        self.dims = _dim_axis(s)
        self.geoms = _geometry_axis(s)
        for name, axis in (("metals", self.metals), ("linkers", self.ligands)):
            if len(axis) > _MAX_AXIS:
                raise ScreenOptionError(name, len(axis), f"more than {_MAX_AXIS} values on one axis")
        self.shape = (len(self.metals), len(self.ligands), len(self.counters), len(self.dims), len(self.geoms))
        self.size = int(np.prod(np.array(self.shape, dtype=object)))

    def columns(self, start: int, stop: int) -> dict[str, np.ndarray]:
        idx = np.arange(start, stop, dtype=np.int64)
        i, j, k, l_, m = np.unravel_index(idx, self.shape)

        def col(axis: list, pos: int, sel: np.ndarray) -> np.ndarray:
            arr = np.empty(len(axis), dtype=object)
            arr[:] = [a[pos] for a in axis]
            return arr[sel]

        metal, ox, mtok, mform = (col(self.metals, p, i) for p in range(4))
        lig, ltok, lform = (col(self.ligands, p, j) for p in range(3))
        ctr, ctok, cform = (col(self.counters, p, k) for p in range(3))
        dim, dtok = (col(self.dims, p, l_) for p in range(2))
        geo, gtok = (col(self.geoms, p, m) for p in range(2))
        ids = mtok + "-" + ltok + ctok + dtok + gtok
        framework = mform + lform
        has_ctr = ctr != ""
        formula = np.where(has_ctr, "[" + framework + "]" + cform, framework)
        return {"id": ids, "metal": metal, "oxidation_state": ox, "ligands": lig, "counter_ions": ctr,
                "dimensionality": dim, "geometry": geo, "formula": formula}


def count_candidates(spec: Mapping[str, Any] | str | os.PathLike) -> int:
    """Number of rows :func:`enumerate_candidates` writes for ``spec`` (without enumerating them)."""
    return _Space(spec).size


def enumerate_candidates(spec: Mapping[str, Any] | str | os.PathLike, output_path: str | os.PathLike, *,
                         chunk_size: int = 100_000, progress: bool = True, allow_large: bool = False) -> int:
    """Stream the candidate space of ``spec`` to a CSV or Parquet file.

    Parameters
    ----------
    spec : dict or path-like
        See the module docstring (or build one with :func:`from_cli`).
    output_path : path-like
        ``.csv`` or ``.parquet``; columns :data:`ENUMERATED_COLUMNS` (candidate
        schema). Written chunk by chunk to a temporary file that replaces
        ``output_path`` atomically at the end (never all rows in memory).
    chunk_size : int, default=100_000
        Rows generated and written per step.
    progress : bool, default=True
        Show a rich progress bar (rows, rows/s) on stderr.
    allow_large : bool, default=False
        Required for spaces of more than :data:`LARGE_SPACE_ROWS` (10 million)
        rows; use :func:`count_candidates` to see the size first.

    Returns
    -------
    int
        Rows written (= :func:`count_candidates`).

    Raises
    ------
    ScreenOptionError
        Bad spec, or a space above :data:`LARGE_SPACE_ROWS` without ``allow_large``.

    Notes
    -----
    SIGTERM during the run (main thread) removes the temporary file before exiting.
    """
    from mlglass.io import table_format

    if isinstance(chunk_size, bool) or not isinstance(chunk_size, (int, np.integer)) or chunk_size < 1:
        raise ScreenOptionError("chunk_size", chunk_size, "must be a whole number >= 1")
    space = _Space(spec)
    if space.size > LARGE_SPACE_ROWS and not allow_large:
        raise ScreenOptionError("spec", f"{space.size:,} rows", f"the space is larger than {LARGE_SPACE_ROWS:,} rows; "
                                                                "pass allow_large=True (CLI --allow-large) to write it")
    output_path = Path(output_path)
    fmt = table_format(output_path, "output_path")
    schema = pa.schema([pa.field(c, pa.string()) for c in ENUMERATED_COLUMNS])
    written = 0
    with terminate_cleanly(), row_progress(progress, "enumerating", total=space.size) as bar, \
            atomic_write(output_path, "wb") as fh:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            writer: Any = pq.ParquetWriter(fh, schema, compression="zstd")
        else:
            import pyarrow.csv as pacsv

            writer = pacsv.CSVWriter(fh, schema, write_options=pacsv.WriteOptions(
                include_header=True, delimiter="\t" if fmt == "tsv" else ","))
        for start in range(0, space.size, chunk_size):
            stop = min(space.size, start + chunk_size)
            cols = space.columns(start, stop)
            table = pa.table({c: pa.array(cols[c], type=pa.string()) for c in ENUMERATED_COLUMNS}, schema=schema)
            writer.write_table(table)
            written += stop - start
            bar.advance(stop - start)
            _test_terminate_hook(start // chunk_size + 1)
        writer.close()
    return written


#: Environment variable of the interruption-test hook: ``chunk:K`` makes ``enumerate`` send itself
#: ``SIGTERM`` right after its K-th chunk reached the temporary output (an event, not a time).
TERM_AT_ENV = "MLGLASS_ENUMERATE_TERM_AT"


def _test_terminate_hook(chunks_written: int) -> None:
    spec = os.environ.get(TERM_AT_ENV, "")
    if spec.startswith("chunk:") and spec[6:].isdigit() and chunks_written == int(spec[6:]):
        import signal

        os.kill(os.getpid(), signal.SIGTERM)
