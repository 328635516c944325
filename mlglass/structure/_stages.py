"""Named stages of the CIF pipeline, reported to whoever listens.

:func:`record_from_structure <mlglass.structure.record.record_from_structure>`
calls :func:`enter` at each step. An isolated worker
(:mod:`mlglass.structure._worker`) listens and forwards the stage to the
parent process, so that a file killed at the per-file limit gets an error row
that says *where* it was (and the benchmark can say where time goes). Without a
listener :func:`enter` costs one attribute lookup.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["STAGES", "enter", "set_listener"]

#: Stage names, in pipeline order (``resonance`` is the resonance step inside ``ligands``).
STAGES = ("read_cif", "bond_graph", "fragments", "ligands", "resonance", "network", "oxidation_state",
          "descriptors")

_listener: Callable[[str], None] | None = None


def set_listener(listener: Callable[[str], None] | None) -> None:
    """Call ``listener(stage)`` at every stage change (``None`` removes it)."""
    global _listener
    _listener = listener


def enter(stage: str) -> None:
    """Announce that the current file is now in ``stage``."""
    if _listener is not None:
        _listener(stage)
