// GNN layers: graph preparation on the host (self-loops, GCN normalisation), weight loading
// from .npy folders, and forward passes built from the fused message-passing ops and the
// dense transform.
#include <mpe/gnn.hpp>
#include <mpe/npy.hpp>

#include <climits>
#include <cmath>
#include <filesystem>
#include <vector>

#include <fmt/format.h>

#include "backend.hpp"
#include "checks.hpp"
#include "kernel_enums.hpp"

namespace mpe::gnn {

namespace {
using namespace mpe::detail;

// The graph on the host as COO (validated), with every self-loop removed; the weight of each
// node's last removed loop goes to loop_w (NaN when it had none).
Coo without_loops(const Csr& graph, const char* op, std::vector<float>& loop_w) {
  if (graph.num_rows != graph.num_cols) {
    throw Error(ErrorCode::invalid_graph, fmt::format("{}: the graph must be square, got {} x {}",
                                                      op, graph.num_rows, graph.num_cols));
  }
  const Coo all =
      csr_to_coo(graph.device().kind == DeviceKind::cpu ? graph : graph.to(Device::cpu()));
  Coo out;
  out.num_rows = all.num_rows;
  out.num_cols = all.num_cols;
  loop_w.assign(static_cast<std::size_t>(all.num_rows), NAN);
  for (std::size_t e = 0; e < all.rows.size(); ++e) {
    const float w = all.weights.empty() ? 1.0f : all.weights[e];
    if (all.rows[e] == all.cols[e]) {
      loop_w[static_cast<std::size_t>(all.rows[e])] = w;
      continue;
    }
    out.rows.push_back(all.rows[e]);
    out.cols.push_back(all.cols[e]);
    out.weights.push_back(w);
  }
  return out;
}

Csr add_loops(Coo coo, const std::vector<float>& loop_w, bool keep_weights) {
  for (std::int64_t i = 0; i < coo.num_rows; ++i) {
    coo.rows.push_back(i);
    coo.cols.push_back(i);
    const float w = loop_w[static_cast<std::size_t>(i)];
    coo.weights.push_back(std::isnan(w) ? 1.0f : w);
  }
  if (!keep_weights) coo.weights.clear();
  return csr_from_coo(coo);  // sorted columns, duplicates kept
}

void check_int_range(const Tensor& x, const Tensor& w, const char* op) {
  if (x.dim(0) > INT_MAX || x.dim(1) > INT_MAX || w.dim(0) > INT_MAX) {
    throw Error(ErrorCode::not_supported, fmt::format("{}: dimensions above 2^31 - 1", op));
  }
}

void dense(const Tensor& x, const Tensor& weight, const Tensor& bias, Activation act, Tensor& y,
           bool accumulate, const char* op) {
  require_defined(op, x, "x");
  require_defined(op, weight, "weight");
  require_dtype(op, x, DType::f32, "x");
  require_dtype(op, weight, DType::f32, "weight");
  if (x.rank() != 2 || weight.rank() != 2 || weight.dim(1) != x.dim(1)) {
    throw Error(ErrorCode::shape_mismatch,
                fmt::format("{}: x [N, in] and weight [out, in] do not fit: x {}, weight {}", op,
                            shape_str(x.shape()), shape_str(weight.shape())));
  }
  const Device dev = x.device();
  require_device(op, weight, dev, "weight");
  if (bias.defined()) require_f32(op, bias, {weight.dim(0)}, dev, "bias");
  require_f32(op, y, {x.dim(0), weight.dim(0)}, dev, "y");
  check_int_range(x, weight, op);
  require_finite(op, x, "x");
  require_finite(op, weight, "weight");
  require_finite(op, bias, "bias");
  kernels::DenseLinearArgs a;
  a.x = x.data<float>();
  a.w = weight.data<float>();
  a.bias = bias.defined() ? bias.data<float>() : nullptr;
  a.y = y.data<float>();
  a.n = x.dim(0);
  a.k = x.dim(1);
  a.m = weight.dim(0);
  a.accumulate = accumulate;
  a.act = to_kernel(act, op);
  backend_for(dev).dense_linear(dev.index, a);
}

std::string file_in(const std::string& dir, const std::string& key) {
  return (std::filesystem::path(dir) / (key + ".npy")).string();
}

bool has(const std::string& dir, const std::string& key) {
  return std::filesystem::exists(file_in(dir, key));
}

// Reads `key`.npy as float32 and checks its rank (0 = any).
Tensor load_npy(const std::string& dir, const std::string& key, int rank, Device device) {
  const std::string path = file_in(dir, key);
  if (!std::filesystem::exists(path)) {
    throw Error(ErrorCode::io_error, fmt::format("weight file {} does not exist", path));
  }
  Tensor t = read_npy_f32(path);
  if (rank && t.rank() != rank) {
    throw Error(ErrorCode::parse_error, fmt::format("{}: expected a {}-D array, got shape {}", path,
                                                    rank, shape_str(t.shape())));
  }
  for (float v : t.to_vector<float>()) {
    if (!std::isfinite(v)) {
      throw Error(ErrorCode::parse_error, fmt::format("{}: holds a non-finite value", path));
    }
  }
  return t.to(device);
}

void expect_len(const Tensor& t, std::int64_t n, const std::string& what) {
  if (t.rank() != 1 || t.dim(0) != n) {
    throw Error(ErrorCode::shape_mismatch,
                fmt::format("{}: expected [{}], got {}", what, n, shape_str(t.shape())));
  }
}

void check_square(const Csr& g, const char* op) {
  if (g.num_rows != g.num_cols) {
    throw Error(ErrorCode::invalid_graph, fmt::format("{}: the graph must be square, got {} x {}",
                                                      op, g.num_rows, g.num_cols));
  }
}
}  // namespace

Csr gcn_normalize(const Csr& graph) {
  std::vector<float> loop_w;
  Csr g = add_loops(without_loops(graph, "gcn_normalize", loop_w), loop_w, true);
  const auto off = g.row_offsets.to_vector<std::int64_t>();
  const auto cols = g.col_indices.to_vector<std::int32_t>();
  // csr_from_coo stores no weights when all are 1.
  std::vector<float> w = g.weighted() ? g.weights.to_vector<float>()
                                      : std::vector<float>(static_cast<std::size_t>(g.nnz()), 1.0f);
  std::vector<double> dinv(static_cast<std::size_t>(g.num_rows));
  for (std::int64_t i = 0; i < g.num_rows; ++i) {
    double d = 0;
    for (std::int64_t e = off[i]; e < off[i + 1]; ++e) d += w[static_cast<std::size_t>(e)];
    dinv[static_cast<std::size_t>(i)] = d > 0 ? 1.0 / std::sqrt(d) : 0.0;
  }
  for (std::int64_t i = 0; i < g.num_rows; ++i) {
    for (std::int64_t e = off[i]; e < off[i + 1]; ++e) {
      auto& we = w[static_cast<std::size_t>(e)];
      we = static_cast<float>(dinv[static_cast<std::size_t>(i)] * we *
                              dinv[static_cast<std::size_t>(cols[e])]);
    }
  }
  g.weights = Tensor::from_vector(w, {g.nnz()});
  return g.to(graph.device());
}

Csr with_self_loops(const Csr& graph) {
  std::vector<float> loop_w;
  Coo coo = without_loops(graph, "with_self_loops", loop_w);
  std::fill(loop_w.begin(), loop_w.end(), 1.0f);
  return add_loops(std::move(coo), loop_w, false).to(graph.device());
}

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias, Activation act) {
  require_defined("linear", x, "x");
  require_defined("linear", weight, "weight");
  Tensor y = Tensor::empty({x.rank() == 2 ? x.dim(0) : 0, weight.rank() == 2 ? weight.dim(0) : 0},
                           DType::f32, x.device());
  dense(x, weight, bias, act, y, false, "linear");
  return y;
}

GcnConv GcnConv::load(const std::string& dir, Device device) {
  GcnConv l;
  l.weight = load_npy(dir, "lin.weight", 2, device);
  if (has(dir, "bias")) {
    l.bias = load_npy(dir, "bias", 1, device);
    expect_len(l.bias, l.weight.dim(0), file_in(dir, "bias"));
  }
  return l;
}

Tensor GcnConv::forward(const Csr& normalized, const Tensor& x, Activation act) const {
  const Tensor h = linear(x, weight);
  MessagePassing mp;
  mp.message = normalized.weighted() ? MessageKind::edge_weight : MessageKind::copy;
  mp.aggregate = Aggregation::sum;
  mp.update = Update{0.0f, 1.0f, act, bias};
  return message_passing(normalized, h, mp);
}

SageConv SageConv::load(const std::string& dir, Device device) {
  SageConv l;
  l.lin_l_weight = load_npy(dir, "lin_l.weight", 2, device);
  l.lin_r_weight = load_npy(dir, "lin_r.weight", 2, device);
  if (l.lin_r_weight.shape() != l.lin_l_weight.shape()) {
    throw Error(
        ErrorCode::shape_mismatch,
        fmt::format("{}: shape {} differs from lin_l.weight's {}", file_in(dir, "lin_r.weight"),
                    shape_str(l.lin_r_weight.shape()), shape_str(l.lin_l_weight.shape())));
  }
  if (has(dir, "lin_l.bias")) {
    l.lin_l_bias = load_npy(dir, "lin_l.bias", 1, device);
    expect_len(l.lin_l_bias, l.lin_l_weight.dim(0), file_in(dir, "lin_l.bias"));
  }
  return l;
}

Tensor SageConv::forward(const Csr& graph, const Tensor& x, Activation act) const {
  check_square(graph, "SageConv");
  MessagePassing mp;
  mp.aggregate = Aggregation::mean;
  const Tensor mean = message_passing(graph, x, mp);
  Tensor y = linear(mean, lin_l_weight, lin_l_bias);
  dense(x, lin_r_weight, {}, act, y, true, "SageConv");
  return y;
}

GinConv GinConv::load(const std::string& dir, Device device) {
  GinConv l;
  l.w1 = load_npy(dir, "nn.0.weight", 2, device);
  l.b1 = load_npy(dir, "nn.0.bias", 1, device);
  l.w2 = load_npy(dir, "nn.2.weight", 2, device);
  l.b2 = load_npy(dir, "nn.2.bias", 1, device);
  expect_len(l.b1, l.w1.dim(0), file_in(dir, "nn.0.bias"));
  expect_len(l.b2, l.w2.dim(0), file_in(dir, "nn.2.bias"));
  if (l.w2.dim(1) != l.w1.dim(0)) {
    throw Error(ErrorCode::shape_mismatch,
                fmt::format("{}: expected [out, {}], got {}", file_in(dir, "nn.2.weight"),
                            l.w1.dim(0), shape_str(l.w2.shape())));
  }
  if (has(dir, "eps")) {
    const Tensor e = load_npy(dir, "eps", 0, Device::cpu());
    if (e.numel() != 1) {
      throw Error(ErrorCode::shape_mismatch,
                  fmt::format("{}: expected one value, got shape {}", file_in(dir, "eps"),
                              shape_str(e.shape())));
    }
    l.eps = e.to_vector<float>()[0];
  }
  return l;
}

Tensor GinConv::forward(const Csr& graph, const Tensor& x, Activation act) const {
  check_square(graph, "GinConv");
  MessagePassing mp;
  mp.aggregate = Aggregation::sum;
  mp.update = Update{1.0f + eps, 1.0f, Activation::none, {}};
  const Tensor a = message_passing(graph, x, mp);
  return linear(linear(a, w1, b1, Activation::relu), w2, b2, act);
}

GatConv GatConv::load(const std::string& dir, Device device) {
  GatConv l;
  l.weight = load_npy(
      dir, has(dir, "lin.weight") || !has(dir, "lin_src.weight") ? "lin.weight" : "lin_src.weight",
      2, device);
  const Tensor src = load_npy(dir, "att_src", 3, device);
  if (src.dim(0) != 1 || src.dim(1) * src.dim(2) != l.weight.dim(0)) {
    throw Error(ErrorCode::shape_mismatch,
                fmt::format("{}: expected [1, H, C] with H·C = {} (rows of the weight), got {}",
                            file_in(dir, "att_src"), l.weight.dim(0), shape_str(src.shape())));
  }
  l.heads = src.dim(1);
  l.channels = src.dim(2);
  const Tensor dst = load_npy(dir, "att_dst", 3, device);
  if (dst.shape() != src.shape()) {
    throw Error(ErrorCode::shape_mismatch,
                fmt::format("{}: expected {} like att_src, got {}", file_in(dir, "att_dst"),
                            shape_str(src.shape()), shape_str(dst.shape())));
  }
  l.att_src = src.reshape({l.heads * l.channels});
  l.att_dst = dst.reshape({l.heads * l.channels});
  if (has(dir, "bias")) {
    l.bias = load_npy(dir, "bias", 1, device);
    l.concat = l.bias.dim(0) != l.channels || l.heads == 1;
    expect_len(l.bias, l.concat ? l.heads * l.channels : l.channels, file_in(dir, "bias"));
  }
  return l;
}

Tensor GatConv::forward(const Csr& graph, const Tensor& x, Activation act) const {
  constexpr const char* op = "GatConv";
  check_square(graph, op);
  if (heads <= 0 || channels <= 0 || weight.rank() != 2 || weight.dim(0) != heads * channels) {
    throw Error(
        ErrorCode::shape_mismatch,
        fmt::format("{}: weight must be [heads·channels = {}, in], got {}", op, heads * channels,
                    weight.defined() ? shape_str(weight.shape()) : "none"));
  }
  const Tensor h = linear(x, weight);
  const Device dev = h.device();
  check_csr(op, graph, dev);
  if (graph.num_rows != h.dim(0)) {
    throw Error(ErrorCode::shape_mismatch, fmt::format("{}: x has {} rows for a graph of {} nodes",
                                                       op, h.dim(0), graph.num_rows));
  }
  require_f32(op, att_src, {heads * channels}, dev, "att_src");
  require_f32(op, att_dst, {heads * channels}, dev, "att_dst");
  const std::int64_t out_w = concat ? heads * channels : channels;
  if (bias.defined()) require_f32(op, bias, {out_w}, dev, "bias");
  require_finite(op, att_src, "att_src");
  require_finite(op, att_dst, "att_dst");
  require_finite(op, bias, "bias");
  require_finite(op, graph.weights, "graph.weights");
  const std::int64_t n = graph.num_rows;
  Tensor s_src = Tensor::empty({n, heads}, DType::f32, dev);
  Tensor s_dst = Tensor::empty({n, heads}, DType::f32, dev);
  Tensor y = Tensor::empty({n, out_w}, DType::f32, dev);
  Backend& be = backend_for(dev);
  kernels::GatScoreArgs sa;
  sa.feat = h.data<float>();
  sa.nodes = n;
  sa.heads = heads;
  sa.channels = channels;
  sa.att = att_src.data<float>();
  sa.score = s_src.data<float>();
  be.gat_scores(dev.index, sa);
  sa.att = att_dst.data<float>();
  sa.score = s_dst.data<float>();
  be.gat_scores(dev.index, sa);
  kernels::GatAggregateArgs ga;
  ga.row_offsets = graph.row_offsets.data<std::int64_t>();
  ga.col_indices = graph.col_indices.data<std::int32_t>();
  ga.feat = h.data<float>();
  ga.s_src = s_src.data<float>();
  ga.s_dst = s_dst.data<float>();
  ga.bias = bias.defined() ? bias.data<float>() : nullptr;
  ga.y = y.data<float>();
  ga.rows = n;
  ga.heads = heads;
  ga.channels = channels;
  ga.negative_slope = negative_slope;
  ga.concat = concat;
  ga.act = to_kernel(act, op);
  be.gat_aggregate(dev.index, ga);
  return y;
}

}  // namespace mpe::gnn
