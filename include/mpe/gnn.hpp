#pragma once
/// @file gnn.hpp
/// Graph neural network layers for inference: GCN, GraphSAGE (mean), GIN and GAT, on a pull
/// CSR (row i lists the in-edges of node i; an edge_index [2, E] of PyTorch Geometric maps to
/// COO rows = edge_index[1] (targets), cols = edge_index[0] (sources)). Each layer runs on the
/// device its tensors live on: sparse aggregation with the fused message-passing kernels, dense
/// transforms with a blocked GEMM on the CPU and cuBLAS on the GPU.
///
/// Weights load from a folder with one NumPy `.npy` file per tensor, named after the keys of
/// the PyTorch Geometric layer's state_dict (`<key>.npy`, float32 or float64):
///
/// - GCN: `lin.weight` [out, in]; `bias` [out] (optional).
/// - SAGE: `lin_l.weight` [out, in]; `lin_l.bias` [out] (optional); `lin_r.weight` [out, in].
/// - GIN (MLP = Linear, ReLU, Linear): `nn.0.weight` [hid, in]; `nn.0.bias` [hid];
///   `nn.2.weight` [out, hid]; `nn.2.bias` [out]; `eps` (one value, optional, else 0).
/// - GAT: `lin.weight` (or `lin_src.weight`) [H·C, in]; `att_src`, `att_dst` [1, H, C];
///   `bias` (optional) [H·C] for concatenated heads or [C] for averaged heads.
///
/// bench/peers/make_pyg_fixtures.py writes such folders from PyG layers.
#include <string>

#include <mpe/graph.hpp>
#include <mpe/graph_mp.hpp>
#include <mpe/tensor.hpp>

namespace mpe::gnn {

/// GCN's propagation matrix D^-1/2 (A + I) D^-1/2 as a weighted CSR on the graph's device.
/// Self-loops: every existing loop of a node is dropped and one loop is added, weighted like
/// the last dropped one (1 when there was none), as PyG's add_remaining_self_loops does;
/// d_i = Σ of row i's weights (1 per edge when unweighted). Duplicate edges are kept. Needs a
/// square, valid graph (Error(invalid_graph) otherwise).
Csr gcn_normalize(const Csr& graph);

/// The graph with exactly one self-loop per node (all existing loops removed first, weights
/// dropped), as GAT uses. Square, valid graph.
Csr with_self_loops(const Csr& graph);

/// Dense transform y = act(x · weightᵀ + bias): x float32 [N, in], weight [out, in] (PyTorch's
/// Linear layout), bias [out] or undefined. Same device for all.
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = {},
              Activation act = Activation::none);

/// GCN layer: y = act(Â · (x Wᵀ) + b), Â from gcn_normalize().
struct GcnConv {
  Tensor weight;  ///< [out, in]
  Tensor bias;    ///< [out] or undefined
  /// Loads `dir`/lin.weight.npy and `dir`/bias.npy (when present) onto `device`.
  static GcnConv load(const std::string& dir, Device device = Device::cpu());
  /// `normalized` must come from gcn_normalize() (or be an equivalent weighted CSR).
  Tensor forward(const Csr& normalized, const Tensor& x, Activation act = Activation::none) const;
};

/// GraphSAGE layer (mean aggregator): y = act(W_l · mean_{j in N(i)} x_j + b_l + W_r · x_i).
struct SageConv {
  Tensor lin_l_weight;  ///< [out, in]
  Tensor lin_l_bias;    ///< [out] or undefined
  Tensor lin_r_weight;  ///< [out, in]
  /// Loads lin_l.weight.npy, lin_r.weight.npy and lin_l.bias.npy (when present) from `dir`.
  static SageConv load(const std::string& dir, Device device = Device::cpu());
  /// y [N, out] for x [N, in] on a square graph (the raw graph: no self-loops added).
  Tensor forward(const Csr& graph, const Tensor& x, Activation act = Activation::none) const;
};

/// GIN layer: y = act(MLP((1 + eps) · x_i + Σ_{j in N(i)} x_j)), MLP = Linear, ReLU, Linear.
struct GinConv {
  float eps = 0.0f;  ///< weight of the node's own features is 1 + eps
  Tensor w1, b1;     ///< [hid, in], [hid]
  Tensor w2, b2;     ///< [out, hid], [out]
  /// Loads nn.0.weight/bias, nn.2.weight/bias and eps (when present) .npy files from `dir`.
  static GinConv load(const std::string& dir, Device device = Device::cpu());
  /// y [N, out] for x [N, in] on a square graph (the raw graph: no self-loops added).
  Tensor forward(const Csr& graph, const Tensor& x, Activation act = Activation::none) const;
};

/// GAT layer (multi-head): h = x Wᵀ split into H heads of C channels;
/// e_ij = LeakyReLU(att_src_h · h_j + att_dst_h · h_i); α = softmax of e over row i (edge
/// softmax); y_i = concat_h (or mean_h) Σ_j α_ij h_j, + bias, then act. Self-loops are not
/// added here: pass with_self_loops(graph) for PyG's default.
struct GatConv {
  Tensor weight;                ///< [H·C, in]
  Tensor att_src;               ///< [H·C] (any shape with H·C elements, read as [H, C])
  Tensor att_dst;               ///< [H·C]
  Tensor bias;                  ///< [H·C] when concat, [C] otherwise; or undefined
  std::int64_t heads = 1;       ///< H
  std::int64_t channels = 0;    ///< C, channels per head
  bool concat = true;           ///< concatenate the heads (else average them)
  float negative_slope = 0.2f;  ///< LeakyReLU slope of the attention scores
  /// Reads the files above; heads and channels come from att_src's shape [1, H, C]; concat is
  /// false when bias.npy has C (not H·C) entries, else true.
  static GatConv load(const std::string& dir, Device device = Device::cpu());
  /// y [N, H·C] (concat) or [N, C] for x [N, in] on a square graph.
  Tensor forward(const Csr& graph, const Tensor& x, Activation act = Activation::none) const;
};

}  // namespace mpe::gnn
