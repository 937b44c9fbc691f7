#pragma once
/// @file graph_mp.hpp
/// The generic message-passing layer over a pull CSR (row i lists the in-edges of node i):
///
///     m_e   = MESSAGE(x[col_e], e)                     for every edge e of row i
///     a_i   = AGGREGATE_{e in row i} m_e               (feature by feature)
///     y_i   = UPDATE(x_i, a_i)
///
/// Built-in choices run as one fused kernel on the CPU and CUDA backends (deterministic: each
/// output element is reduced in edge order by one owner, no atomics). User functors run on the
/// CPU path.
#include <cstdint>
#include <functional>
#include <string>

#include <mpe/graph.hpp>
#include <mpe/tensor.hpp>

namespace mpe {

/// MESSAGE: what an edge e = (j -> i) carries.
enum class MessageKind {
  copy,                 ///< x[j]
  edge_weight,          ///< w_e · x[j] (the CSR's weights; 1 when it has none)
  type_weight,          ///< t[type_e] ⊙ x[j] (per-type scalar or per-feature weights)
  edge_and_type_weight  ///< w_e · t[type_e] ⊙ x[j]
};

/// Deprecated: the aggregation enum of the message-passing layer is mpe::Aggregation
/// (graph.hpp), the one csr_aggregate takes too.
using MpAggregation [[deprecated("use mpe::Aggregation")]] = Aggregation;

/// Elementwise activation.
enum class Activation { none, relu, sigmoid, tanh };

/// "copy", "edge_weight", "type_weight", "edge_and_type_weight".
const char* message_kind_name(MessageKind m) noexcept;
/// Deprecated: aggregation_name (graph.hpp).
[[deprecated("use mpe::aggregation_name")]] inline const char* mp_aggregation_name(
    Aggregation a) noexcept {
  return aggregation_name(a);
}
/// "none", "relu", "sigmoid", "tanh".
const char* activation_name(Activation a) noexcept;
/// The parsers below throw Error(invalid_argument) listing the accepted names.
/// Parses a message kind name.
MessageKind parse_message_kind(const std::string& name);
/// Deprecated: parse_aggregation (graph.hpp).
[[deprecated("use mpe::parse_aggregation")]] inline Aggregation parse_mp_aggregation(
    const std::string& name) {
  return parse_aggregation(name);
}
/// Parses an activation name.
Activation parse_activation(const std::string& name);

/// UPDATE: y_i = act(self_scale · x_i + agg_scale · a_i + bias). x_i is node i's own input
/// row, so self_scale != 0 needs a square graph (num_rows == num_cols).
struct Update {
  float self_scale = 0.0f;  ///< weight of the node's own features
  float agg_scale = 1.0f;   ///< weight of the aggregate
  Activation activation = Activation::none;
  Tensor bias;  ///< float32 [F] added before the activation, or undefined

  /// y = act(a).
  static Update replace(Activation act = Activation::none) { return {0.0f, 1.0f, act, {}}; }
  /// Residual mix: y = act((1 − alpha) · x + alpha · a).
  static Update residual(float alpha, Activation act = Activation::none) {
    return {1.0f - alpha, alpha, act, {}};
  }
};

/// Per-edge types and their weights (for MessageKind::type_weight and edge_and_type_weight).
struct EdgeTypes {
  Tensor types;    ///< int32 [nnz]: the type of each CSR entry, in [0, num_types)
  Tensor weights;  ///< float32 [num_types] (one scalar per type) or [num_types, F] (per feature)
};

/// One message-passing layer: MESSAGE, AGGREGATE and UPDATE picked from the built-ins.
struct MessagePassing {
  MessageKind message = MessageKind::copy;       ///< MESSAGE
  Aggregation aggregate = Aggregation::sum;  ///< AGGREGATE
  Update update = Update::replace();             ///< UPDATE
};

/// Runs one layer: x is [num_cols, F] float32, or bf16 / f16 storage (read into float32
/// arithmetic: messages, aggregate and update are float32; y is rounded to x's dtype once, at
/// the end); y is [num_rows, F] of x's dtype and is overwritten. Weights, type weights and the
/// bias stay float32.
/// The graph, x, y, the types and the bias share one device. Throws Error naming the argument
/// for a wrong dtype, shape or device, a weight message on an unweighted CSR, a type message
/// without types, an edge type out of range (checked on the host; device types are copied
/// there to check) or a residual update on a non-square graph; y is untouched then. The CSR
/// must be valid (validate()): column indices are not re-checked.
void message_passing(const Csr& graph, const Tensor& x, const MessagePassing& layer, Tensor& y,
                     const EdgeTypes& types = {});
/// As above, allocating y on x's device.
Tensor message_passing(const Csr& graph, const Tensor& x, const MessagePassing& layer,
                       const EdgeTypes& types = {});

/// User MESSAGE: writes the F-wide message of edge `edge` (= j -> i, j = src, i = dst) into
/// `out`, given the source's and the destination's input rows.
using MessageFn = std::function<void(std::int64_t dst, std::int64_t src, std::int64_t edge,
                                     const float* x_src, const float* x_dst, float* out)>;
/// User UPDATE: writes node i's output row (F wide) from its input row (nullptr when the
/// graph is not square) and its aggregate.
using UpdateFn =
    std::function<void(std::int64_t node, const float* x_self, const float* agg, float* out)>;

/// The same layer with user functors, on the CPU (host tensors; a device tensor gives
/// Error(not_supported)). An empty `message` means copy; an empty `update` means replace.
/// x_dst is nullptr for a non-square graph. Runs on one thread, in row and edge order.
Tensor message_passing(const Csr& graph, const Tensor& x, const MessageFn& message,
                       Aggregation aggregate, const UpdateFn& update = {});

}  // namespace mpe
