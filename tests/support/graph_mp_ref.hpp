#pragma once
// Float64 references for the message-passing layer, the GNN layers and bioelectric diffusion,
// written from the definitions (dense loops over a host CSR), independent of the kernels.
#include <cstdint>
#include <vector>

#include <mpe/graph.hpp>
#include <mpe/graph_mp.hpp>

namespace mpe::test {

struct CsrHost {
  std::int64_t rows = 0, cols = 0;
  std::vector<std::int64_t> off;
  std::vector<std::int32_t> col;
  std::vector<float> w;  // empty when unweighted
};
CsrHost host_csr(const Csr& g);

double act_ref(Activation a, double v);

// y = act(self_scale·x_i + agg_scale·AGG(messages) + bias); type weights [T] or [T, F] (tw_width).
std::vector<double> mp_ref(const Csr& g, const std::vector<float>& x, std::int64_t width,
                           MessageKind message, Aggregation agg, float self_scale,
                           float agg_scale, Activation act, const std::vector<float>& bias,
                           const std::vector<std::int32_t>& types = {},
                           const std::vector<float>& type_w = {}, std::int64_t tw_width = 1);

// y = act(x Wᵀ + b): x [n, k], w [m, k].
std::vector<double> linear_ref(const std::vector<double>& x, std::int64_t n, std::int64_t k,
                               const std::vector<float>& w, std::int64_t m,
                               const std::vector<float>& b, Activation act = Activation::none);

std::vector<double> to_double(const std::vector<float>& v);

// The layers from their definitions on a square host CSR `g` (the raw graph: the references
// add self-loops / normalise themselves).
std::vector<double> gcn_ref(const Csr& g, const std::vector<float>& x, std::int64_t in,
                            const std::vector<float>& w, std::int64_t out,
                            const std::vector<float>& b);
std::vector<double> sage_ref(const Csr& g, const std::vector<float>& x, std::int64_t in,
                             const std::vector<float>& wl, const std::vector<float>& bl,
                             const std::vector<float>& wr, std::int64_t out);
std::vector<double> gin_ref(const Csr& g, const std::vector<float>& x, std::int64_t in, float eps,
                            const std::vector<float>& w1, const std::vector<float>& b1,
                            std::int64_t hid, const std::vector<float>& w2,
                            const std::vector<float>& b2, std::int64_t out);
// GAT with PyG's default self-loop handling (existing loops dropped, one added per node).
std::vector<double> gat_ref(const Csr& g, const std::vector<float>& x, std::int64_t in,
                            const std::vector<float>& w, const std::vector<float>& att_src,
                            const std::vector<float>& att_dst, const std::vector<float>& bias,
                            std::int64_t heads, std::int64_t channels, bool concat, double slope);

// `steps` Euler steps of gap-junction diffusion.
std::vector<double> diffuse_ref(const Csr& g, std::vector<double> v, double dt, double leak,
                                double v_rest, std::int64_t steps,
                                const std::vector<std::uint8_t>& clamped);

}  // namespace mpe::test
