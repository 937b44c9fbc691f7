"""Exceptions raised by mpengine.

Every ``mpe::Error`` thrown by the C++ library becomes one of these classes, chosen by its
code, with the C++ message intact (``"<code>: <message>"``). Errors about bad input are also
``ValueError`` (or ``TypeError``, ``OSError``, ... where that is the natural kind), so code
written against the standard exceptions keeps working.
"""


class Error(Exception):
    """Base class of every error mpengine raises from the engine (``mpe::Error``)."""

    #: The ``mpe::ErrorCode`` name, e.g. ``"shape_mismatch"``.
    code = "internal"


class InvalidArgumentError(Error, ValueError):
    """A value outside its allowed range or a malformed option."""

    code = "invalid_argument"


class ShapeError(Error, ValueError):
    """Tensor shapes that do not fit together."""

    code = "shape_mismatch"


class DTypeError(Error, TypeError, ValueError):
    """A tensor of the wrong element type."""

    code = "dtype_mismatch"


class DeviceMismatchError(Error, ValueError):
    """Tensors on different devices, or on a device the op cannot use."""

    code = "device_mismatch"


class GraphError(Error, ValueError):
    """A CSR/COO graph that fails validation."""

    code = "invalid_graph"


class ParseError(Error, ValueError):
    """A malformed input file (the message names the file and line)."""

    code = "parse_error"


class FileError(Error, OSError):
    """A file that cannot be opened, read or written."""

    code = "io_error"


class OutOfMemoryError(Error, MemoryError):
    """A host or device allocation failed; the engine stays usable."""

    code = "out_of_memory"


class DeviceUnavailableError(Error, RuntimeError):
    """A device was asked for but none answers (or CUDA is not built)."""

    code = "device_unavailable"


class DeviceFailureError(Error, RuntimeError):
    """A CUDA/cuBLAS call failed."""

    code = "device_error"


class NotSupportedError(Error, NotImplementedError):
    """A valid request this build or backend does not implement."""

    code = "not_supported"


class CancelledError(Error):
    """A queued request was cancelled, or the engine shut down first."""

    code = "cancelled"


class BusyError(Error, RuntimeError):
    """The engine's queue is full, or it is shutting down."""

    code = "busy"


class InternalError(Error, RuntimeError):
    """A broken invariant inside mpengine (please report it)."""

    code = "internal"


#: Class raised for each error code.
BY_CODE = {
    cls.code: cls
    for cls in (InvalidArgumentError, ShapeError, DTypeError, DeviceMismatchError, GraphError,
                ParseError, FileError, OutOfMemoryError, DeviceUnavailableError,
                DeviceFailureError, NotSupportedError, CancelledError, BusyError, InternalError)
}
