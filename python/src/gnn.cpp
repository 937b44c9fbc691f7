// GNN layers: GCN, GraphSAGE, GIN and GAT with PyTorch Geometric's weights (include/mpe/gnn.hpp).
#include <string>

#include <nanobind/stl/string.h>

#include <mpe/gnn.hpp>

#include "arrays.hpp"
#include "bindings.hpp"

namespace mpe::py {
namespace {

Device load_device(DeviceArg device) {
  return device.is_none() ? Device::cpu() : device_arg(device);
}

// Runs a layer's forward without the GIL and returns the result in x's framework.
template <class Layer, class Fn>
nb::object forward(const Layer& layer, Array x, LikeArg like, Fn&& fn) {
  const Tensor xt = arg_tensor(x, "x", DType::f32, 2);
  Tensor y;
  {
    nb::gil_scoped_release release;
    y = fn(layer, xt);
  }
  return to_array(y, result_framework(like, x, y));
}

constexpr const char* kCallDoc =
    "y = layer(graph, x, activation='none'): graph a Csr (pull: row i lists i's in-edges;\n"
    "Csr.from_edge_index for a PyG edge_index), x float32 [N, in]; the GIL is released.";

}  // namespace

void bind_gnn(nb::module_& m) {
  m.def("gcn_normalize", &gnn::gcn_normalize, nb::arg("graph"),
        "D^-1/2 (A + I) D^-1/2 as a weighted Csr (PyG's add_remaining_self_loops rule).");
  m.def("with_self_loops", &gnn::with_self_loops, nb::arg("graph"),
        "The graph with exactly one self-loop per node (as GAT uses).");
  m.def("linear",
        [](Array x, Array weight, OptArray bias, const std::string& activation,
           LikeArg like) {
          const Tensor xt = arg_tensor(x, "x", DType::f32, 2);
          const Tensor w = arg_tensor(weight, "weight", DType::f32, 2);
          const Tensor b = optional_tensor(bias, "bias", DType::f32, 1);
          const Activation act = parse_activation(activation);
          Tensor y;
          {
            nb::gil_scoped_release release;
            y = gnn::linear(xt, w, b, act);
          }
          return to_array(y, result_framework(like, x, y));
        },
        nb::arg("x"), nb::arg("weight"), nb::arg("bias") = nb::none(), nb::kw_only(),
        nb::arg("activation") = "none", nb::arg("like") = nb::none(),
        "y = act(x @ weight.T + bias), weight [out, in] as torch.nn.Linear.");

  nb::class_<gnn::GcnConv>(m, "GCNConv", "GCN layer: y = act(A_hat (x W^T) + b).")
      .def("__init__",
           [](gnn::GcnConv* self, Array weight, OptArray bias) {
             new (self) gnn::GcnConv{arg_tensor(weight, "weight", DType::f32, 2),
                                     optional_tensor(bias, "bias", DType::f32, 1)};
           },
           nb::arg("weight"), nb::arg("bias") = nb::none(),
           "weight [out, in] (PyG's lin.weight), bias [out] or None.")
      .def_static("load", [](const std::string& dir, DeviceArg device) {
        return gnn::GcnConv::load(dir, load_device(device));
      }, nb::arg("dir"), nb::arg("device") = nb::none(),
      "Reads lin.weight.npy and bias.npy from a folder of a PyG state_dict.")
      .def_prop_ro("weight", [](const gnn::GcnConv& l) { return to_array(l.weight); })
      .def_prop_ro("bias", [](const gnn::GcnConv& l) { return to_array_or_none(l.bias); })
      .def("__call__",
           [](const gnn::GcnConv& l, const Csr& graph, Array x, const std::string& activation,
              bool normalize, LikeArg like) {
             const Activation act = parse_activation(activation);
             return forward(l, x, like, [&](const gnn::GcnConv& c, const Tensor& xt) {
               return c.forward(normalize ? gnn::gcn_normalize(graph) : graph, xt, act);
             });
           },
           nb::arg("graph"), nb::arg("x"), nb::kw_only(), nb::arg("activation") = "none",
           nb::arg("normalize") = true, nb::arg("like") = nb::none(),
           "normalize=True applies gcn_normalize to the graph first (pass an already\n"
           "normalised graph with normalize=False to skip it).");

  nb::class_<gnn::SageConv>(m, "SAGEConv",
      "GraphSAGE (mean): y = act(W_l mean_j x_j + b_l + W_r x_i).")
      .def("__init__",
           [](gnn::SageConv* self, Array lin_l_weight, Array lin_r_weight,
              OptArray lin_l_bias) {
             new (self) gnn::SageConv{arg_tensor(lin_l_weight, "lin_l_weight", DType::f32, 2),
                                      optional_tensor(lin_l_bias, "lin_l_bias", DType::f32, 1),
                                      arg_tensor(lin_r_weight, "lin_r_weight", DType::f32, 2)};
           },
           nb::arg("lin_l_weight"), nb::arg("lin_r_weight"), nb::arg("lin_l_bias") = nb::none())
      .def_static("load", [](const std::string& dir, DeviceArg device) {
        return gnn::SageConv::load(dir, load_device(device));
      }, nb::arg("dir"), nb::arg("device") = nb::none())
      .def("__call__",
           [](const gnn::SageConv& l, const Csr& graph, Array x,
              const std::string& activation, LikeArg like) {
             const Activation act = parse_activation(activation);
             return forward(l, x, like, [&](const gnn::SageConv& c, const Tensor& xt) {
               return c.forward(graph, xt, act);
             });
           },
           nb::arg("graph"), nb::arg("x"), nb::kw_only(), nb::arg("activation") = "none",
           nb::arg("like") = nb::none(), kCallDoc);

  nb::class_<gnn::GinConv>(m, "GINConv",
      "GIN: y = act(MLP((1 + eps) x_i + sum_j x_j)), MLP = Linear, ReLU, Linear.")
      .def("__init__",
           [](gnn::GinConv* self, Array w1, Array b1, Array w2, Array b2,
              float eps) {
             new (self) gnn::GinConv{eps, arg_tensor(w1, "w1", DType::f32, 2),
                                     arg_tensor(b1, "b1", DType::f32, 1),
                                     arg_tensor(w2, "w2", DType::f32, 2),
                                     arg_tensor(b2, "b2", DType::f32, 1)};
           },
           nb::arg("w1"), nb::arg("b1"), nb::arg("w2"), nb::arg("b2"), nb::arg("eps") = 0.0f)
      .def_static("load", [](const std::string& dir, DeviceArg device) {
        return gnn::GinConv::load(dir, load_device(device));
      }, nb::arg("dir"), nb::arg("device") = nb::none())
      .def_ro("eps", &gnn::GinConv::eps)
      .def("__call__",
           [](const gnn::GinConv& l, const Csr& graph, Array x,
              const std::string& activation, LikeArg like) {
             const Activation act = parse_activation(activation);
             return forward(l, x, like, [&](const gnn::GinConv& c, const Tensor& xt) {
               return c.forward(graph, xt, act);
             });
           },
           nb::arg("graph"), nb::arg("x"), nb::kw_only(), nb::arg("activation") = "none",
           nb::arg("like") = nb::none(), kCallDoc);

  nb::class_<gnn::GatConv>(m, "GATConv",
      "GAT (multi-head): edge softmax of LeakyReLU(att_src h_j + att_dst h_i).")
      .def("__init__",
           [](gnn::GatConv* self, Array weight, Array att_src, Array att_dst,
              OptArray bias, std::int64_t heads, bool concat, float negative_slope) {
             gnn::GatConv c;
             c.weight = arg_tensor(weight, "weight", DType::f32, 2);
             // PyG keeps att_src / att_dst as [1, H, C]; the layer reads them flat.
             c.att_src = arg_tensor(att_src, "att_src", DType::f32);
             c.att_src = c.att_src.reshape({c.att_src.numel()});
             c.att_dst = arg_tensor(att_dst, "att_dst", DType::f32);
             c.att_dst = c.att_dst.reshape({c.att_dst.numel()});
             c.bias = optional_tensor(bias, "bias", DType::f32, 1);
             if (heads < 1 || c.weight.dim(0) % heads != 0) {
               throw Error(ErrorCode::invalid_argument,
                           "GATConv: heads must be >= 1 and divide weight's rows (" +
                               std::to_string(c.weight.dim(0)) + ")");
             }
             c.heads = heads;
             c.channels = c.weight.dim(0) / heads;
             c.concat = concat;
             c.negative_slope = negative_slope;
             new (self) gnn::GatConv(std::move(c));
           },
           nb::arg("weight"), nb::arg("att_src"), nb::arg("att_dst"), nb::arg("bias") = nb::none(),
           nb::kw_only(), nb::arg("heads") = 1, nb::arg("concat") = true,
           nb::arg("negative_slope") = 0.2f,
           "weight [H*C, in] (PyG's lin.weight), att_src / att_dst [1, H, C], bias or None.")
      .def_static("load", [](const std::string& dir, DeviceArg device) {
        return gnn::GatConv::load(dir, load_device(device));
      }, nb::arg("dir"), nb::arg("device") = nb::none())
      .def_ro("heads", &gnn::GatConv::heads)
      .def_ro("channels", &gnn::GatConv::channels)
      .def_ro("concat", &gnn::GatConv::concat)
      .def("__call__",
           [](const gnn::GatConv& l, const Csr& graph, Array x, const std::string& activation,
              bool add_self_loops, LikeArg like) {
             const Activation act = parse_activation(activation);
             return forward(l, x, like, [&](const gnn::GatConv& c, const Tensor& xt) {
               return c.forward(add_self_loops ? gnn::with_self_loops(graph) : graph, xt, act);
             });
           },
           nb::arg("graph"), nb::arg("x"), nb::kw_only(), nb::arg("activation") = "none",
           nb::arg("add_self_loops") = true, nb::arg("like") = nb::none(),
           "add_self_loops=True: PyG's default (with_self_loops(graph) first).");
}

}  // namespace mpe::py
