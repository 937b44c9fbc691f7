#include <mpe/error.hpp>

namespace mpe {

const char* error_code_name(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::invalid_argument: return "invalid_argument";
    case ErrorCode::shape_mismatch: return "shape_mismatch";
    case ErrorCode::dtype_mismatch: return "dtype_mismatch";
    case ErrorCode::device_mismatch: return "device_mismatch";
    case ErrorCode::invalid_graph: return "invalid_graph";
    case ErrorCode::parse_error: return "parse_error";
    case ErrorCode::io_error: return "io_error";
    case ErrorCode::out_of_memory: return "out_of_memory";
    case ErrorCode::device_unavailable: return "device_unavailable";
    case ErrorCode::device_error: return "device_error";
    case ErrorCode::not_supported: return "not_supported";
    case ErrorCode::cancelled: return "cancelled";
    case ErrorCode::busy: return "busy";
    case ErrorCode::internal: return "internal";
  }
  return "unknown";
}

Error::Error(ErrorCode code, const std::string& message)
    : std::runtime_error(std::string(error_code_name(code)) + ": " + message),
      code_(code),
      message_(message) {}

}  // namespace mpe
