"""Loopy belief propagation: ``bp.run(graph, ...)`` for one run, ``bp.run_batch`` for many
evidence vectors of one graph in one go. Graphs: :class:`mpengine.FactorGraph` (``.load`` for
libDAI ``.fg`` and UAI files, or built with ``add_variable`` / ``add_factor``)."""

from ._mpengine import BPResult, FactorGraph
from ._mpengine import bp_run as run
from ._mpengine import bp_run_batch as run_batch

__all__ = ["run", "run_batch", "FactorGraph", "BPResult"]
