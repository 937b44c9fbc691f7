#include "checks.hpp"

#include <fmt/format.h>

namespace mpe::detail {

void require_defined(const char* op, const Tensor& t, const char* name) {
  if (!t.defined()) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("{}: {} is an undefined tensor", op, name));
  }
}

void require_dtype(const char* op, const Tensor& t, DType want, const char* name) {
  if (t.dtype() != want) {
    throw Error(ErrorCode::dtype_mismatch, fmt::format("{}: {} must be {}, got {}", op, name,
                                                       dtype_name(want), dtype_name(t.dtype())));
  }
}

void require_rank(const char* op, const Tensor& t, int rank, const char* name, const char* layout) {
  if (t.rank() != rank) {
    throw Error(ErrorCode::shape_mismatch,
                fmt::format("{}: {} must be {}, got {}", op, name, layout, shape_str(t.shape())));
  }
}

void require_shape(const char* op, const Tensor& t, const Shape& want, const char* name,
                   const char* layout) {
  if (t.shape() == want) return;
  if (layout) {
    throw Error(ErrorCode::shape_mismatch,
                fmt::format("{}: {} must be {} = {}, got {}", op, name, layout, shape_str(want),
                            shape_str(t.shape())));
  }
  throw Error(ErrorCode::shape_mismatch, fmt::format("{}: {} must have shape {}, got {}", op, name,
                                                     shape_str(want), shape_str(t.shape())));
}

void require_device(const char* op, const Tensor& t, const Device& want, const char* name,
                    const char* other) {
  if (t.device() != want) {
    throw Error(ErrorCode::device_mismatch, fmt::format("{}: {} is on {} but {} on {}", op, name,
                                                        t.device().str(), other, want.str()));
  }
}

void require_f32(const char* op, const Tensor& t, const Shape& want, const Device& dev,
                 const char* name) {
  require_defined(op, t, name);
  require_dtype(op, t, DType::f32, name);
  require_shape(op, t, want, name);
  require_device(op, t, dev, name);
}

[[noreturn]] void throw_unknown_enum(const char* op, const char* what) {
  throw Error(ErrorCode::invalid_argument, fmt::format("{}: unknown {}", op, what));
}

void check_csr(const char* op, const Csr& g, const Device& dev) {
  require_defined(op, g.row_offsets, "graph.row_offsets");
  require_defined(op, g.col_indices, "graph.col_indices");
  require_dtype(op, g.row_offsets, DType::i64, "graph.row_offsets");
  require_dtype(op, g.col_indices, DType::i32, "graph.col_indices");
  require_shape(op, g.row_offsets, {g.num_rows + 1}, "graph.row_offsets");
  if (g.col_indices.rank() != 1) {
    throw Error(ErrorCode::invalid_graph, fmt::format("{}: graph.col_indices must be 1-D, got {}",
                                                      op, shape_str(g.col_indices.shape())));
  }
  require_device(op, g.row_offsets, dev, "graph.row_offsets");
  require_device(op, g.col_indices, dev, "graph.col_indices");
  if (g.weights.defined()) {
    require_dtype(op, g.weights, DType::f32, "graph.weights");
    require_shape(op, g.weights, g.col_indices.shape(), "graph.weights");
    require_device(op, g.weights, dev, "graph.weights");
  }
  if (dev.kind == DeviceKind::cpu) {
    const std::int64_t* off = g.row_offsets.data<std::int64_t>();
    if (off[0] != 0 || off[g.num_rows] != g.col_indices.numel()) {
      throw Error(ErrorCode::invalid_graph,
                  fmt::format("{}: row_offsets must run from 0 to nnz = {}, got {} .. {}", op,
                              g.col_indices.numel(), off[0], off[g.num_rows]));
    }
  }
}

}  // namespace mpe::detail
