// The generic message-passing layer: argument checks, then the fused backend op; and the
// CPU path for user functors.
#include <mpe/graph_mp.hpp>
#include <mpe/ops.hpp>

#include <vector>

#include <fmt/format.h>

#include "backend.hpp"
#include "checks.hpp"
#include "kernel_enums.hpp"

namespace mpe {

namespace {
using namespace detail;

template <class E>
const char* name_of(E v, const char* const* names, int count) {
  const int i = static_cast<int>(v);
  return i >= 0 && i < count ? names[i] : "unknown";
}
constexpr const char* kMessageNames[] = {"copy", "edge_weight", "type_weight",
                                         "edge_and_type_weight"};
constexpr const char* kAggNames[] = {"sum", "mean", "max", "min", "logsumexp"};
constexpr const char* kActNames[] = {"none", "relu", "sigmoid", "tanh"};

template <class E, int N>
E parse_name(const std::string& name, const char* const (&names)[N], const char* what) {
  std::string list;
  for (int i = 0; i < N; ++i) {
    if (name == names[i]) return static_cast<E>(i);
    list += (i ? ", " : "") + std::string(names[i]);
  }
  throw Error(ErrorCode::invalid_argument,
              fmt::format("unknown {} '{}' (expected one of {})", what, name, list));
}

bool uses_edge_weights(MessageKind m) {
  return m == MessageKind::edge_weight || m == MessageKind::edge_and_type_weight;
}
bool uses_types(MessageKind m) {
  return m == MessageKind::type_weight || m == MessageKind::edge_and_type_weight;
}

// x of the fused layer: float32, bfloat16 or float16 features.
void check_x_any(const Csr& g, const Tensor& x, const char* op) {
  require_defined(op, x, "x");
  if (x.dtype() != DType::f32 && x.dtype() != DType::bf16 && x.dtype() != DType::f16) {
    throw Error(ErrorCode::dtype_mismatch,
                fmt::format("{}: x must be float32, bfloat16 or float16, got {}", op,
                            dtype_name(x.dtype())));
  }
  if (x.rank() != 2 || x.dim(0) != g.num_cols) {
    throw Error(ErrorCode::shape_mismatch, fmt::format("{}: x must be [num_cols = {}, F], got {}",
                                                       op, g.num_cols, shape_str(x.shape())));
  }
}

void check_x(const Csr& g, const Tensor& x, const char* op) {
  require_defined(op, x, "x");
  require_dtype(op, x, DType::f32, "x");
  if (x.rank() != 2 || x.dim(0) != g.num_cols) {
    throw Error(ErrorCode::shape_mismatch, fmt::format("{}: x must be [num_cols = {}, F], got {}",
                                                       op, g.num_cols, shape_str(x.shape())));
  }
}

void check_square(const Csr& g, const char* op, const char* why) {
  if (g.num_rows != g.num_cols) {
    throw Error(ErrorCode::shape_mismatch,
                fmt::format("{}: {} needs a square graph (num_rows == num_cols), got {} x {}", op,
                            why, g.num_rows, g.num_cols));
  }
}
}  // namespace

const char* message_kind_name(MessageKind m) noexcept { return name_of(m, kMessageNames, 4); }
const char* aggregation_name(Aggregation a) noexcept { return name_of(a, kAggNames, 5); }
const char* activation_name(Activation a) noexcept { return name_of(a, kActNames, 4); }
MessageKind parse_message_kind(const std::string& name) {
  return parse_name<MessageKind>(name, kMessageNames, "message kind");
}
Aggregation parse_aggregation(const std::string& name) {
  return parse_name<Aggregation>(name, kAggNames, "aggregation");
}
Activation parse_activation(const std::string& name) {
  return parse_name<Activation>(name, kActNames, "activation");
}

void message_passing(const Csr& graph, const Tensor& x, const MessagePassing& layer, Tensor& y,
                     const EdgeTypes& types) {
  constexpr const char* op = "message_passing";
  check_x_any(graph, x, op);
  const Device dev = x.device();
  check_csr(op, graph, dev);
  const std::int64_t width = x.dim(1);
  require_defined(op, y, "y");
  require_dtype(op, y, x.dtype(), "y (the dtype of x)");
  require_shape(op, y, {graph.num_rows, width}, "y");
  require_device(op, y, dev, "y");
  if (uses_edge_weights(layer.message) && !graph.weighted()) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("{}: message '{}' needs edge weights but the graph has none", op,
                            message_kind_name(layer.message)));
  }
  kernels::GraphMpArgs args;
  if (uses_types(layer.message)) {
    require_defined(op, types.types, "types.types");
    require_dtype(op, types.types, DType::i32, "types.types");
    require_shape(op, types.types, graph.col_indices.shape(), "types.types");
    require_device(op, types.types, dev, "types.types");
    require_defined(op, types.weights, "types.weights");
    require_dtype(op, types.weights, DType::f32, "types.weights");
    require_device(op, types.weights, dev, "types.weights");
    const Tensor& tw = types.weights;
    if (!(tw.rank() == 1 || (tw.rank() == 2 && tw.dim(1) == width))) {
      throw Error(
          ErrorCode::shape_mismatch,
          fmt::format("{}: types.weights must be [num_types] or [num_types, F = {}], got {}", op,
                      width, shape_str(tw.shape())));
    }
    const std::int64_t num_types = tw.dim(0);
    const std::vector<std::int32_t> t = types.types.to_vector<std::int32_t>();
    for (std::size_t e = 0; e < t.size(); ++e) {
      if (t[e] < 0 || t[e] >= num_types) {
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("{}: types.types[{}] = {} is out of range [0, {})", op, e, t[e],
                                num_types));
      }
    }
    args.edge_types = types.types.data<std::int32_t>();
    args.type_weights = tw.data<float>();
    args.type_width = tw.rank() == 1 ? 1 : width;
  }
  const Update& u = layer.update;
  if (u.self_scale != 0.0f) check_square(graph, op, "an update that reads x_i");
  if (u.bias.defined()) require_f32(op, u.bias, {width}, dev, "update.bias");
  require_finite(op, x, "x");
  if (uses_edge_weights(layer.message)) require_finite(op, graph.weights, "graph.weights");
  if (uses_types(layer.message)) require_finite(op, types.weights, "types.weights");
  require_finite(op, u.bias, "update.bias");
  args.agg = to_kernel(layer.aggregate, op);
  args.act = to_kernel(u.activation, op);
  args.row_offsets = graph.row_offsets.data<std::int64_t>();
  args.col_indices = graph.col_indices.data<std::int32_t>();
  args.weights = uses_edge_weights(layer.message) ? graph.weights.data<float>() : nullptr;
  args.x = x.raw();
  args.self = u.self_scale != 0.0f ? x.raw() : nullptr;
  args.bias = u.bias.defined() ? u.bias.data<float>() : nullptr;
  args.y = y.raw();
  args.storage = detail::storage_of(x.dtype());
  args.rows = graph.num_rows;
  args.width = width;
  args.self_scale = u.self_scale;
  args.agg_scale = u.agg_scale;
  if (args.y != nullptr && args.y == x.raw()) {
    throw Error(
        ErrorCode::invalid_argument,
        fmt::format("{}: y must not be x's storage (rows read x while others are written)", op));
  }
  detail::backend_for(dev).graph_mp(dev.index, args);
}

Tensor message_passing(const Csr& graph, const Tensor& x, const MessagePassing& layer,
                       const EdgeTypes& types) {
  check_x_any(graph, x, "message_passing");
  Tensor y = Tensor::empty({graph.num_rows, x.dim(1)}, x.dtype(), x.device());
  message_passing(graph, x, layer, y, types);
  return y;
}

Tensor message_passing(const Csr& graph, const Tensor& x, const MessageFn& message,
                       Aggregation aggregate, const UpdateFn& update) {
  constexpr const char* op = "message_passing (user functors)";
  check_x(graph, x, op);
  if (!x.is_cpu()) {
    throw Error(ErrorCode::not_supported,
                fmt::format("{}: user functors run on the CPU; x is on {}", op, x.device().str()));
  }
  check_csr(op, graph, x.device());
  require_finite(op, x, "x");
  const std::int64_t width = x.dim(1);
  const kernels::MpAgg agg = to_kernel(aggregate, op);
  const std::int64_t* off = graph.row_offsets.data<std::int64_t>();
  const std::int32_t* cols = graph.col_indices.data<std::int32_t>();
  const float* xv = x.data<float>();
  const bool square = graph.num_rows == graph.num_cols;
  Tensor y = Tensor::empty({graph.num_rows, width}, DType::f32);
  float* yv = y.data<float>();
  std::vector<kernels::MpAcc> acc(static_cast<std::size_t>(width));
  std::vector<float> msg(static_cast<std::size_t>(width)), a(static_cast<std::size_t>(width));
  for (std::int64_t i = 0; i < graph.num_rows; ++i) {
    for (auto& s : acc) s = kernels::mp_init(agg);
    const float* self = square ? xv + i * width : nullptr;
    for (std::int64_t e = off[i]; e < off[i + 1]; ++e) {
      const float* src = xv + static_cast<std::int64_t>(cols[e]) * width;
      const float* m = src;
      if (message) {
        message(i, cols[e], e, src, self, msg.data());
        m = msg.data();
      }
      for (std::int64_t f = 0; f < width; ++f) acc[f] = kernels::mp_step(agg, acc[f], m[f]);
    }
    for (std::int64_t f = 0; f < width; ++f)
      a[f] = kernels::mp_finish(agg, acc[f], off[i + 1] - off[i]);
    if (update) {
      update(i, self, a.data(), yv + i * width);
    } else {
      std::copy(a.begin(), a.end(), yv + i * width);
    }
  }
  return y;
}

}  // namespace mpe
