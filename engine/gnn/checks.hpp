#pragma once
// Argument checks shared by the message-passing entry points (graph_mp, gnn, bioelectric):
// each throws mpe::Error naming the op and the argument at fault.
#include <string>

#include <fmt/format.h>
#include <mpe/graph.hpp>
#include <mpe/tensor.hpp>

namespace mpe::detail {

inline void mp_require_defined(const Tensor& t, const char* op, const char* name) {
  if (!t.defined()) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("{}: {} is an undefined tensor", op, name));
  }
}

inline void mp_require_dtype(const Tensor& t, DType want, const char* op, const char* name) {
  if (t.dtype() != want) {
    throw Error(ErrorCode::dtype_mismatch, fmt::format("{}: {} must be {}, got {}", op, name,
                                                       dtype_name(want), dtype_name(t.dtype())));
  }
}

inline void mp_require_shape(const Tensor& t, const Shape& want, const char* op, const char* name) {
  if (t.shape() != want) {
    throw Error(ErrorCode::shape_mismatch,
                fmt::format("{}: {} must have shape {}, got {}", op, name, shape_str(want),
                            shape_str(t.shape())));
  }
}

inline void mp_require_device(const Tensor& t, const Device& want, const char* op,
                              const char* name) {
  if (t.device() != want) {
    throw Error(ErrorCode::device_mismatch,
                fmt::format("{}: {} is on {} but the other inputs are on {}", op, name,
                            t.device().str(), want.str()));
  }
}

// A float32 tensor `name` of shape `want` on `dev`.
inline void mp_require_f32(const Tensor& t, const Shape& want, const Device& dev, const char* op,
                           const char* name) {
  mp_require_defined(t, op, name);
  mp_require_dtype(t, DType::f32, op, name);
  mp_require_shape(t, want, op, name);
  mp_require_device(t, dev, op, name);
}

// The CSR's arrays: dtypes, sizes and device; on the host also row_offsets[0] == 0 and
// row_offsets[rows] == nnz (validate() does the full check).
void mp_check_csr(const Csr& g, const Device& dev, const char* op);

}  // namespace mpe::detail
