#include "checks.hpp"

#include <cstring>
#include <string>

#include <fmt/format.h>
#include <mpe/limits.hpp>

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

namespace {
// Index of the first element whose exponent bits are all ones (NaN or ±inf) and that is not an
// allowed -inf, or -1. Works on the bits so that the common all-finite pass vectorises.
template <class Bits>
std::int64_t first_non_finite(const Bits* b, std::int64_t n, Bits exp_mask, Bits neg_inf,
                              bool allow_neg_inf) {
  // Exponent all ones: NaN or ±inf (with allow_neg_inf, -inf excepted). Branch-free bit tests
  // so that the all-finite pass vectorises.
  unsigned any = 0;
  if (allow_neg_inf) {
    for (std::int64_t i = 0; i < n; ++i) {
      any |= static_cast<unsigned>((b[i] & exp_mask) == exp_mask) &
             static_cast<unsigned>(b[i] != neg_inf);
    }
  } else {
    for (std::int64_t i = 0; i < n; ++i) any |= static_cast<unsigned>((b[i] & exp_mask) == exp_mask);
  }
  if (any == 0) return -1;
  for (std::int64_t i = 0; i < n; ++i) {
    if ((b[i] & exp_mask) == exp_mask && !(allow_neg_inf && b[i] == neg_inf)) return i;
  }
  return -1;
}

std::string element_index(const Shape& shape, std::int64_t flat) {
  std::string s;
  for (int d = static_cast<int>(shape.size()) - 1; d >= 0; --d) {
    const std::int64_t extent = shape[static_cast<std::size_t>(d)];
    s = std::to_string(extent > 0 ? flat % extent : 0) + (s.empty() ? "" : ", ") + s;
    if (extent > 0) flat /= extent;
  }
  return "[" + s + "]";
}
}  // namespace

void require_finite(const char* op, const Tensor& t, const char* name, bool allow_neg_inf) {
  if (!check_finite() || !t.defined() || t.device().kind != DeviceKind::cpu) return;
  const std::int64_t n = t.numel();
  std::int64_t bad = -1;
  bool negative = false, is_nan = false;
  switch (t.dtype()) {
    case DType::f32: {
      const auto* b = static_cast<const std::uint32_t*>(t.raw());
      bad = first_non_finite<std::uint32_t>(b, n, 0x7f800000u, 0xff800000u, allow_neg_inf);
      if (bad >= 0) {
        negative = (b[bad] >> 31) != 0;
        is_nan = (b[bad] & 0x007fffffu) != 0;
      }
      break;
    }
    case DType::bf16:
    case DType::f16: {
      const bool bf = t.dtype() == DType::bf16;
      const std::uint16_t exp = bf ? 0x7f80u : 0x7c00u, ninf = bf ? 0xff80u : 0xfc00u;
      const auto* b = static_cast<const std::uint16_t*>(t.raw());
      bad = first_non_finite<std::uint16_t>(b, n, exp, ninf, allow_neg_inf);
      if (bad >= 0) {
        negative = (b[bad] >> 15) != 0;
        is_nan = (b[bad] & static_cast<std::uint16_t>(~exp & 0x7fffu)) != 0;
      }
      break;
    }
    default: return;
  }
  if (bad < 0) return;
  throw Error(ErrorCode::invalid_argument,
              fmt::format("{}: {}{} is {}{} (non-finite inputs are refused; "
                          "mpe::set_check_finite(false) lets them through)",
                          op, name, element_index(t.shape(), bad),
                          is_nan ? "nan" : (negative ? "-inf" : "+inf"),
                          allow_neg_inf ? "; only -inf (log-zero) is allowed here" : ""));
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
