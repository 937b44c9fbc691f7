#pragma once
/// @file error.hpp
/// The one exception type mpengine throws for bad input, missing devices and device failures.

#include <stdexcept>
#include <string>

namespace mpe {

/// What went wrong, for programs that react to errors by kind.
enum class ErrorCode {
  invalid_argument,    ///< a value outside its allowed range or a malformed option
  shape_mismatch,      ///< tensor shapes that do not fit together
  dtype_mismatch,      ///< a tensor of the wrong element type
  device_mismatch,     ///< tensors on different devices, or on a device the op cannot use
  invalid_graph,       ///< a CSR/COO graph that fails validation
  parse_error,         ///< a malformed input file (message names file and line)
  io_error,            ///< a file that cannot be opened, read or written
  out_of_memory,       ///< host or device allocation failed; the engine stays usable
  device_unavailable,  ///< a device was asked for but none answers (or CUDA is not built)
  device_error,        ///< a CUDA/cuBLAS call failed (message names the call and CUDA's error)
  not_supported,       ///< a valid request this build or backend does not implement
  cancelled,           ///< a queued request was cancelled, or the engine shut down first
  busy,                ///< the engine's queue is full (back-pressure) or it is shutting down
  internal,            ///< a broken invariant inside mpengine (please report it)
};

/// Short stable name of an error code, e.g. "shape_mismatch".
const char* error_code_name(ErrorCode code) noexcept;

/// Exception thrown by every public mpengine entry point. what() is a full sentence that names
/// the argument, file, line or CUDA call at fault and what was expected.
class Error : public std::runtime_error {
 public:
  /// Makes an error with a code and a message; what() is "<code name>: <message>".
  Error(ErrorCode code, const std::string& message);
  /// The kind of failure.
  ErrorCode code() const noexcept { return code_; }
  /// The message without the code prefix.
  const std::string& message() const noexcept { return message_; }

 private:
  ErrorCode code_;
  std::string message_;
};

}  // namespace mpe
