// CSR graphs, csr_aggregate and the generic message-passing layer (include/mpe/graph.hpp,
// ops.hpp, graph_mp.hpp).
#include <algorithm>
#include <cstdint>
#include <string>

#include <nanobind/stl/string.h>

#include <mpe/graph.hpp>
#include <mpe/graph_mp.hpp>
#include <mpe/ops.hpp>

#include "arrays.hpp"
#include "bindings.hpp"

namespace mpe::py {
namespace {

Csr make_csr(Array indptr, Array indices, OptArray weights, std::int64_t num_cols,
             bool copy) {
  Csr g;
  g.row_offsets = arg_tensor(indptr, "indptr", DType::i64, 1);
  g.col_indices = arg_tensor(indices, "indices", DType::i32, 1);
  g.weights = optional_tensor(weights, "weights", DType::f32, 1);
  if (g.row_offsets.numel() < 1) {
    throw Error(ErrorCode::invalid_graph, "indptr needs num_rows + 1 >= 1 entries, got 0");
  }
  g.num_rows = g.row_offsets.numel() - 1;
  g.num_cols = num_cols >= 0 ? num_cols : g.num_rows;
  if (copy) {
    g.row_offsets = g.row_offsets.clone();
    g.col_indices = g.col_indices.clone();
    if (g.weights.defined()) g.weights = g.weights.clone();
  }
  validate(g);
  return g;
}

// A CSR from a PyTorch Geometric edge_index [2, E] (row 0 sources, row 1 targets): pull
// direction, so CSR row = target, column = source.
Csr from_edge_index(Array edge_index, std::int64_t num_nodes, OptArray weights,
                    bool symmetrize, bool self_loops, const std::string& duplicates) {
  const Tensor ei = arg_tensor(edge_index, "edge_index", DType::i64, 2).to(Device::cpu());
  if (ei.dim(0) != 2) {
    throw Error(ErrorCode::shape_mismatch,
                "edge_index must be [2, E], got " + shape_str(ei.shape()));
  }
  const std::int64_t E = ei.dim(1);
  const std::int64_t* p = ei.data<std::int64_t>();
  Coo coo;
  coo.rows.assign(p + E, p + 2 * E);
  coo.cols.assign(p, p + E);
  std::int64_t n = num_nodes;
  if (n < 0) {
    n = 0;
    for (std::int64_t k = 0; k < 2 * E; ++k) n = std::max(n, p[k] + 1);
  }
  coo.num_rows = coo.num_cols = n;
  if (!weights.is_none()) {
    coo.weights = arg_tensor(weights, "weights", DType::f32, 1).to_vector<float>();
  }
  CsrBuildOptions o;
  o.symmetrize = symmetrize;
  o.add_self_loops = self_loops;
  if (duplicates == "keep") o.duplicates = Duplicates::keep;
  else if (duplicates == "sum") o.duplicates = Duplicates::sum;
  else if (duplicates == "max") o.duplicates = Duplicates::max;
  else if (duplicates == "first") o.duplicates = Duplicates::first;
  else throw Error(ErrorCode::invalid_argument,
                   "duplicates is '" + duplicates + "', expected keep, sum, max or first");
  return csr_from_coo(coo, o);
}

nb::object result(const Tensor& y, LikeArg like, Array x) {
  return to_array(y, result_framework(like, x, y));
}

}  // namespace

void bind_graph(nb::module_& m) {
  nb::class_<Csr>(m, "Csr",
      "A graph in pull CSR form (row i lists the in-edges of node i): indptr int64 [N+1],\n"
      "indices int32 [nnz], weights float32 [nnz] or None. Taken without a copy (copy=False):\n"
      "the arrays must then stay unchanged while the graph is used. Validated on creation.")
      .def("__init__",
           [](Csr* self, Array indptr, Array indices, OptArray weights,
              std::int64_t num_cols, bool copy) {
             new (self) Csr(make_csr(indptr, indices, weights, num_cols, copy));
           },
           nb::arg("indptr"), nb::arg("indices"), nb::arg("weights") = nb::none(), nb::kw_only(),
           nb::arg("num_cols") = -1, nb::arg("copy") = false)
      .def_static("from_edge_index", &from_edge_index, nb::arg("edge_index"),
                  nb::arg("num_nodes") = -1, nb::kw_only(), nb::arg("weights") = nb::none(),
                  nb::arg("symmetrize") = false, nb::arg("self_loops") = false,
                  nb::arg("duplicates") = "keep",
                  "A CSR from a PyG edge_index int64 [2, E] (sources, targets): row = target.\n"
                  "num_nodes -1: max id + 1. Columns are sorted within each row.")
      .def_static("read_matrix_market", [](const std::string& path, bool transpose) {
        const Coo coo = read_matrix_market(path);
        return csr_from_coo(transpose ? transposed(coo) : coo);
      }, nb::arg("path"), nb::arg("transpose") = false,
      "Reads a Matrix Market file (row = matrix row; transpose=True pulls along its edges).")
      .def_ro("num_rows", &Csr::num_rows)
      .def_ro("num_cols", &Csr::num_cols)
      .def_prop_ro("nnz", &Csr::nnz)
      .def_prop_ro("weighted", &Csr::weighted)
      .def_prop_ro("device", [](const Csr& g) { return g.device().str(); })
      .def_prop_ro("indptr", [](const Csr& g) { return to_array(g.row_offsets); })
      .def_prop_ro("indices", [](const Csr& g) { return to_array(g.col_indices); })
      .def_prop_ro("weights", [](const Csr& g) { return to_array_or_none(g.weights); })
      .def("to", [](const Csr& g, DeviceArg device) { return g.to(device_arg(device)); },
           nb::arg("device"), "A deep copy on another device.")
      .def("__repr__", [](const Csr& g) {
        return "Csr(num_rows=" + std::to_string(g.num_rows) + ", num_cols=" +
               std::to_string(g.num_cols) + ", nnz=" + std::to_string(g.nnz()) +
               (g.weighted() ? ", weighted" : "") + ", device=" + g.device().str() + ")";
      });

  m.def("csr_aggregate",
        [](const Csr& g, Array x, const std::string& agg, OptArray out, LikeArg like) {
          const Tensor xt = arg_tensor(x, "x", DType::f32, 2);
          const Aggregation a = parse_aggregation(agg);
          if (!out.is_none()) {
            Tensor yt = arg_tensor(out, "out", DType::f32, 2);
            {
              nb::gil_scoped_release release;
              csr_aggregate(g, xt, a, yt);
            }
            return nb::borrow<nb::object>(out);
          }
          Tensor y;
          {
            nb::gil_scoped_release release;
            y = csr_aggregate(g, xt, a);
          }
          return result(y, like, x);
        },
        nb::arg("graph"), nb::arg("x"), nb::arg("agg") = "sum", nb::kw_only(),
        nb::arg("out") = nb::none(), nb::arg("like") = nb::none(),
        "y[i] = AGG over row i of w_e * x[col_e] (agg: sum, mean, max, min, logsumexp).\n"
        "x float32 [num_cols, F]; out= float32 [num_rows, F] is written in place and returned;\n"
        "else a new array in x's framework (or like=).");

  m.def("graph_mp",
        [](const Csr& g, Array x, const std::string& message, const std::string& aggregate,
           float self_scale, float agg_scale, const std::string& activation, OptArray bias,
           OptArray edge_types, OptArray type_weights, OptArray out, LikeArg like) {
          const Tensor xt = arg_tensor_any(x, "x", 2);
          MessagePassing layer;
          layer.message = parse_message_kind(message);
          layer.aggregate = parse_aggregation(aggregate);
          layer.update.self_scale = self_scale;
          layer.update.agg_scale = agg_scale;
          layer.update.activation = parse_activation(activation);
          layer.update.bias = optional_tensor(bias, "bias", DType::f32, 1);
          EdgeTypes types;
          types.types = optional_tensor(edge_types, "edge_types", DType::i32, 1);
          types.weights = optional_tensor(type_weights, "type_weights", DType::f32);
          if (!out.is_none()) {
            Tensor yt = arg_tensor_any(out, "out", 2);
            {
              nb::gil_scoped_release release;
              message_passing(g, xt, layer, yt, types);
            }
            return nb::borrow<nb::object>(out);
          }
          Tensor y;
          {
            nb::gil_scoped_release release;
            y = message_passing(g, xt, layer, types);
          }
          return result(y, like, x);
        },
        nb::arg("graph"), nb::arg("x"), nb::kw_only(), nb::arg("message") = "copy",
        nb::arg("aggregate") = "sum", nb::arg("self_scale") = 0.0f, nb::arg("agg_scale") = 1.0f,
        nb::arg("activation") = "none", nb::arg("bias") = nb::none(),
        nb::arg("edge_types") = nb::none(), nb::arg("type_weights") = nb::none(),
        nb::arg("out") = nb::none(), nb::arg("like") = nb::none(),
        "One message-passing layer (mpe::message_passing):\n"
        "y_i = act(self_scale * x_i + agg_scale * AGG_e MESSAGE(x[col_e], e) + bias).\n"
        "message: copy, edge_weight, type_weight, edge_and_type_weight; aggregate: sum, mean,\n"
        "max, min, logsumexp; activation: none, relu, sigmoid, tanh. x float32 (or bfloat16 /\n"
        "float16 storage) [num_cols, F]; edge_types int32 [nnz]; type_weights float32 [T] or\n"
        "[T, F]; bias float32 [F].");
}

}  // namespace mpe::py
