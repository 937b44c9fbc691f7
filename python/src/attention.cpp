// Dense scaled dot-product attention (include/mpe/attention.hpp).
#include <nanobind/stl/string.h>

#include <mpe/attention.hpp>

#include "arrays.hpp"
#include "bindings.hpp"

namespace mpe::py {

void bind_attention(nb::module_& m) {
  m.def("attention",
        [](Array q, Array k, Array v, bool causal, float scale,
           OptArray key_mask, const Csr* graph, bool return_lse, LikeArg like) {
          const Tensor qt = arg_tensor_any(q, "q", 4);
          const Tensor kt = arg_tensor_any(k, "k", 4);
          const Tensor vt = arg_tensor_any(v, "v", 4);
          const Tensor mask = optional_tensor(key_mask, "key_mask", DType::i32, 2);
          AttentionOptions o;
          o.causal = causal;
          o.scale = scale;
          AttentionOutput r;
          if (graph != nullptr) {
            if (mask.defined()) {
              throw Error(ErrorCode::invalid_argument,
                          "attention: give key_mask= or graph=, not both (the graph is the mask)");
            }
            const Csr& g = *graph;
            nb::gil_scoped_release release;
            r = attention_csr(qt, kt, vt, g, o);
          } else {
            nb::gil_scoped_release release;
            r = attention(qt, kt, vt, o, mask);
          }
          const Framework f = result_framework(like, q, r.out);
          nb::object out = to_array(r.out, f);
          if (!return_lse) return out;
          return nb::object(nb::make_tuple(out, to_array(r.lse, f)));
        },
        nb::arg("q"), nb::arg("k"), nb::arg("v"), nb::kw_only(), nb::arg("causal") = false,
        nb::arg("scale") = 0.0f, nb::arg("key_mask") = nb::none(), nb::arg("graph") = nb::none(),
        nb::arg("return_lse") = false, nb::arg("like") = nb::none(),
        "O = softmax(scale q k^T) v per (batch, head). q [B, Hq, Nq, D], k and v [B, Hkv, Nk, D]\n"
        "(Hkv divides Hq: grouped-query attention), float32 or bfloat16/float16 storage.\n"
        "causal: bottom-right aligned mask; scale 0: 1/sqrt(D); key_mask int32 [B, Nk]\n"
        "(0 = padding); graph: a Csr [Nq rows, Nk cols] each query attends to its row only.\n"
        "return_lse: also the float32 [B, Hq, Nq] log-sum-exp of the scores.");
}

}  // namespace mpe::py
