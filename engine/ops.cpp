// Public ops: check arguments (naming the one at fault), then hand plain pointers to the
// backend of the device the tensors live on.
#include <mpe/ops.hpp>

#include <fmt/format.h>

#include "backend.hpp"

namespace mpe {

namespace {
void require_defined(const Tensor& t, const char* op, const char* name) {
  if (!t.defined()) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("{}: {} is an undefined tensor", op, name));
  }
}

void require_dtype(const Tensor& t, DType want, const char* op, const char* name) {
  if (t.dtype() != want) {
    throw Error(ErrorCode::dtype_mismatch, fmt::format("{}: {} must be {}, got {}", op, name,
                                                       dtype_name(want), dtype_name(t.dtype())));
  }
}

void require_shape(const Tensor& t, const Shape& want, const char* op, const char* name) {
  if (t.shape() != want) {
    throw Error(ErrorCode::shape_mismatch,
                fmt::format("{}: {} must have shape {}, got {}", op, name, shape_str(want),
                            shape_str(t.shape())));
  }
}

void require_device(const Tensor& t, const Device& want, const char* op, const char* name) {
  if (t.device() != want) {
    throw Error(ErrorCode::device_mismatch,
                fmt::format("{}: {} is on {} but the other inputs are on {}", op, name,
                            t.device().str(), want.str()));
  }
}
}  // namespace

// ---------------------------------------------------------------- lse_contract

void lse_contract(const Tensor& M, const Tensor& x, Tensor& y) {
  constexpr const char* op = "lse_contract";
  require_defined(M, op, "M");
  require_defined(x, op, "x");
  require_defined(y, op, "y");
  require_dtype(M, DType::f32, op, "M");
  require_dtype(x, DType::f32, op, "x");
  require_dtype(y, DType::f32, op, "y");
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
  require_shape(M, shared ? Shape{rows, cols} : Shape{batch, rows, cols}, op, "M");
  require_shape(y, {batch, rows}, op, "y");
  require_device(x, M.device(), op, "x");
  require_device(y, M.device(), op, "y");

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
  require_defined(M, "lse_contract", "M");
  require_defined(x, "lse_contract", "x");
  Tensor y = Tensor::empty({x.rank() > 0 ? x.dim(0) : 0, M.rank() > 1 ? M.dim(-2) : 0}, DType::f32,
                           M.device());
  lse_contract(M, x, y);
  return y;
}

// ---------------------------------------------------------------- csr_aggregate

const char* aggregation_name(Aggregation a) noexcept {
  switch (a) {
    case Aggregation::sum: return "sum";
    case Aggregation::mean: return "mean";
    case Aggregation::max: return "max";
    case Aggregation::min: return "min";
  }
  return "unknown";
}

Aggregation parse_aggregation(const std::string& name) {
  for (Aggregation a : {Aggregation::sum, Aggregation::mean, Aggregation::max, Aggregation::min}) {
    if (name == aggregation_name(a)) return a;
  }
  throw Error(ErrorCode::invalid_argument,
              fmt::format("unknown aggregation '{}' (expected sum, mean, max or min)", name));
}

void csr_aggregate(const Csr& graph, const Tensor& x, Aggregation agg, Tensor& y) {
  constexpr const char* op = "csr_aggregate";
  require_defined(graph.row_offsets, op, "graph.row_offsets");
  require_defined(graph.col_indices, op, "graph.col_indices");
  require_defined(x, op, "x");
  require_defined(y, op, "y");
  require_dtype(graph.row_offsets, DType::i64, op, "graph.row_offsets");
  require_dtype(graph.col_indices, DType::i32, op, "graph.col_indices");
  require_dtype(x, DType::f32, op, "x");
  require_dtype(y, DType::f32, op, "y");
  require_shape(graph.row_offsets, {graph.num_rows + 1}, op, "graph.row_offsets");
  if (graph.weights.defined()) {
    require_dtype(graph.weights, DType::f32, op, "graph.weights");
    require_shape(graph.weights, graph.col_indices.shape(), op, "graph.weights");
  }
  if (x.rank() != 2 || x.dim(0) != graph.num_cols) {
    throw Error(ErrorCode::shape_mismatch, fmt::format("{}: x must be [num_cols = {}, F], got {}",
                                                       op, graph.num_cols, shape_str(x.shape())));
  }
  const std::int64_t width = x.dim(1);
  require_shape(y, {graph.num_rows, width}, op, "y");
  const Device dev = x.device();
  require_device(graph.row_offsets, dev, op, "graph.row_offsets");
  require_device(graph.col_indices, dev, op, "graph.col_indices");
  if (graph.weights.defined()) require_device(graph.weights, dev, op, "graph.weights");
  require_device(y, dev, op, "y");
  if (dev.kind == DeviceKind::cpu) {  // cheap structural check; validate() does the full one
    const std::int64_t* off = graph.row_offsets.data<std::int64_t>();
    if (off[0] != 0 || off[graph.num_rows] != graph.col_indices.numel()) {
      throw Error(ErrorCode::invalid_graph,
                  fmt::format("{}: row_offsets must run from 0 to nnz = {}, got {} .. {}", op,
                              graph.col_indices.numel(), off[0], off[graph.num_rows]));
    }
  }

  kernels::CsrAggregateArgs args;
  args.row_offsets = graph.row_offsets.data<std::int64_t>();
  args.col_indices = graph.col_indices.data<std::int32_t>();
  args.weights = graph.weights.defined() ? graph.weights.data<float>() : nullptr;
  args.x = x.data<float>();
  args.y = y.data<float>();
  args.rows = graph.num_rows;
  args.width = width;
  args.agg = static_cast<kernels::AggKind>(static_cast<int>(agg));
  detail::backend_for(dev).csr_aggregate(dev.index, args);
}

Tensor csr_aggregate(const Csr& graph, const Tensor& x, Aggregation agg) {
  require_defined(x, "csr_aggregate", "x");
  Tensor y = Tensor::empty({graph.num_rows, x.rank() == 2 ? x.dim(1) : 0}, DType::f32, x.device());
  csr_aggregate(graph, x, agg, y);
  return y;
}

}  // namespace mpe
