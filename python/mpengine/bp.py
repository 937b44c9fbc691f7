"""Loopy belief propagation: ``bp.run(graph, ...)`` for one run, ``bp.run_batch`` for many
evidence vectors of one graph in one go. Graphs: :class:`mpengine.FactorGraph` (``.load`` for
libDAI ``.fg`` and UAI files, built with ``add_variable`` / ``add_factor``, or
:func:`from_tables` from NumPy tables)."""

import numpy as np

from ._mpengine import BPResult, FactorGraph
from ._mpengine import bp_run as run
from ._mpengine import bp_run_batch as run_batch


def from_tables(cardinalities, factors, *, log=False):
    """A FactorGraph from NumPy tables: ``factors`` is a list of ``(vars, table)`` where
    ``table[x_0, x_1, ...]`` is the potential of the states of ``vars`` (shape = their
    cardinalities; probabilities, or log-potentials with ``log=True``). The tables are flattened
    in the engine's order (the first variable fastest)."""
    g = FactorGraph()
    for c in cardinalities:
        g.add_variable(int(c))
    for i, (vars_, table) in enumerate(factors):
        t = np.asarray(table, np.float64)
        want = tuple(int(cardinalities[v]) for v in vars_)
        if t.shape != want:
            raise ValueError(f"factor {i}: table shape {t.shape}, the variables' "
                             f"cardinalities are {want}")
        flat = t.ravel(order="F").tolist()
        if log:
            g.add_log_factor(list(vars_), flat)
        else:
            g.add_factor(list(vars_), flat)
    return g


__all__ = ["run", "run_batch", "from_tables", "FactorGraph", "BPResult"]
