// Public ops: check arguments (naming the one at fault), then hand plain pointers to the
// backend of the device the tensors live on.
#include <mpe/ops.hpp>

#include <fmt/format.h>

#include "backend.hpp"
#include "checks.hpp"
#include "kernel_enums.hpp"

namespace mpe {

using detail::require_defined;
using detail::require_device;
using detail::require_dtype;
using detail::require_shape;

// ---------------------------------------------------------------- lse_contract

void lse_contract(const Tensor& M, const Tensor& x, Tensor& y) {
  constexpr const char* op = "lse_contract";
  require_defined(op, M, "M");
  require_defined(op, x, "x");
  require_defined(op, y, "y");
  require_dtype(op, M, DType::f32, "M");
  require_dtype(op, x, DType::f32, "x");
  require_dtype(op, y, DType::f32, "y");
  if (x.rank() != 2) {
    throw Error(ErrorCode::shape_mismatch,
                fmt::format("{}: x must be [B, J], got {}", op, shape_str(x.shape())));
  }
  const std::int64_t batch = x.dim(0);
  const std::int64_t cols = x.dim(1);
  if (M.rank() != 2 && M.rank() != 3) {
    throw Error(ErrorCode::shape_mismatch,
                fmt::format("{}: M must be [I, J] or [B, I, J], got {}", op, shape_str(M.shape())));
  }
  const bool shared = M.rank() == 2;
  const std::int64_t rows = M.dim(-2);
  require_shape(op, M, shared ? Shape{rows, cols} : Shape{batch, rows, cols}, "M");
  require_shape(op, y, {batch, rows}, "y");
  require_device(op, x, M.device(), "x");
  require_device(op, y, M.device(), "y");
  detail::require_finite(op, M, "M", /*allow_neg_inf=*/true);  // -inf: log-zero
  detail::require_finite(op, x, "x", /*allow_neg_inf=*/true);

  kernels::LseContractArgs args;
  args.M = M.data<float>();
  args.x = x.data<float>();
  args.y = y.data<float>();
  args.batch = batch;
  args.rows = rows;
  args.cols = cols;
  args.shared_matrix = shared;
  detail::backend_for(M.device()).lse_contract(M.device().index, args);
}

Tensor lse_contract(const Tensor& M, const Tensor& x) {
  require_defined("lse_contract", M, "M");
  require_defined("lse_contract", x, "x");
  Tensor y = Tensor::empty({x.rank() > 0 ? x.dim(0) : 0, M.rank() > 1 ? M.dim(-2) : 0}, DType::f32,
                           M.device());
  lse_contract(M, x, y);
  return y;
}

// ---------------------------------------------------------------- csr_aggregate (graph_mp)

void csr_aggregate(const Csr& graph, const Tensor& x, Aggregation agg, Tensor& y) {
  constexpr const char* op = "csr_aggregate";
  require_defined(op, x, "x");
  require_defined(op, y, "y");
  const Device dev = x.device();
  detail::check_csr(op, graph, dev);
  require_dtype(op, x, DType::f32, "x");
  require_dtype(op, y, DType::f32, "y");
  if (x.rank() != 2 || x.dim(0) != graph.num_cols) {
    throw Error(ErrorCode::shape_mismatch, fmt::format("{}: x must be [num_cols = {}, F], got {}",
                                                       op, graph.num_cols, shape_str(x.shape())));
  }
  const std::int64_t width = x.dim(1);
  require_shape(op, y, {graph.num_rows, width}, "y");
  require_device(op, y, dev, "y");
  detail::require_finite(op, x, "x");
  detail::require_finite(op, graph.weights, "graph.weights");

  // The message-passing layer's kernels: weighted (or copied) messages, y = aggregate.
  kernels::GraphMpArgs args;
  args.row_offsets = graph.row_offsets.data<std::int64_t>();
  args.col_indices = graph.col_indices.data<std::int32_t>();
  args.weights = graph.weights.defined() ? graph.weights.data<float>() : nullptr;
  args.x = x.raw();
  args.y = y.raw();
  args.rows = graph.num_rows;
  args.width = width;
  args.agg = detail::to_kernel(agg, op);
  detail::backend_for(dev).graph_mp(dev.index, args);
}

Tensor csr_aggregate(const Csr& graph, const Tensor& x, Aggregation agg) {
  require_defined("csr_aggregate", x, "x");
  Tensor y = Tensor::empty({graph.num_rows, x.rank() == 2 ? x.dim(1) : 0}, DType::f32, x.device());
  csr_aggregate(graph, x, agg, y);
  return y;
}

}  // namespace mpe
