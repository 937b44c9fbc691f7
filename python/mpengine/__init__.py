"""mpengine: a message-passing inference engine (active-inference planning, GNN layers, loopy
belief propagation, relevance propagation, attention) with a CPU and a CUDA backend.

Arrays go in as any DLPack array (NumPy, PyTorch, JAX, CuPy), without a copy when dtype,
layout and device fit (else a ``TypeError`` naming the argument); results come back as views
on memory the engine owns, NumPy by default (``like=`` or the input's framework otherwise).
The GIL is released while the engine computes. Errors from the engine are
:class:`mpengine.Error` subclasses (see :mod:`mpengine.errors`).
"""

from . import _mpengine
from . import errors
from .errors import (BusyError, CancelledError, DTypeError, DeviceFailureError,
                     DeviceMismatchError, DeviceUnavailableError, Error, FileError, GraphError,
                     InternalError, InvalidArgumentError, NotSupportedError, OutOfMemoryError,
                     ParseError, ShapeError)

_mpengine._set_error_classes(dict(errors.BY_CODE, __base__=errors.Error))

from ._mpengine import (BPResult, Csr, EvalResult, FactorGraph, GATConv, GCNConv, GINConv,
                        LearnReport, Model, Plan, PlanRequest, QueryResult, SAGEConv, Store,
                        attention, csr_aggregate, cuda_built, default_device, environment_names,
                        evaluate, gcn_normalize, graph_mp, linear, load_requests,
                        validate_request, with_self_loops)
from ._mpengine import plan as _plan
from . import bp
from .engine import Engine

__version__ = _mpengine.__version__


def _as_request(request):
    """A PlanRequest from a PlanRequest or a dict of its fields."""
    if isinstance(request, PlanRequest):
        return request
    if isinstance(request, dict):
        return PlanRequest(**request)
    raise TypeError("a request is a PlanRequest or a dict of its fields, got "
                    f"{type(request).__name__}")


def plan(model, requests, *, device=None):
    """Plans every request with one model in one batched call (the GIL is released).

    ``requests`` is a :class:`PlanRequest`, a dict of its fields (the JSON request format's
    names: q0, q_theta, horizon, iterations, damping, method, observation_path, damping_kind,
    dynamics, tolerance, theta, return_channels), or a list of them. Returns a list of
    :class:`Plan` in request order. ``device``: None (the default device), 'cpu', 'cuda[:N]'
    or 'auto'.
    """
    return _plan(model, requests, device=device)


def info():
    """The version, how libmpengine was built, and the devices it sees, as a dict."""
    return {
        "version": __version__,
        "build": _mpengine.build_info(),
        "default_device": _mpengine.default_device(),
        "devices": _mpengine.devices(),
    }


__all__ = [
    "__version__", "info", "plan", "Engine", "Error", "errors", "bp",
    "Model", "PlanRequest", "Plan", "load_requests", "validate_request",
    "evaluate", "EvalResult", "environment_names",
    "Csr", "csr_aggregate", "graph_mp", "gcn_normalize", "with_self_loops", "linear",
    "GCNConv", "SAGEConv", "GINConv", "GATConv",
    "FactorGraph", "BPResult", "Store", "QueryResult", "LearnReport", "attention",
    "cuda_built", "default_device",
    "InvalidArgumentError", "ShapeError", "DTypeError", "DeviceMismatchError", "GraphError",
    "ParseError", "FileError", "OutOfMemoryError", "DeviceUnavailableError",
    "DeviceFailureError", "NotSupportedError", "CancelledError", "BusyError", "InternalError",
]
