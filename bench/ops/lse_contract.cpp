// mpe-bench op lse_contract: batched log-space contraction y = logsumexp_j(M + x).
#include <memory>

#include <fmt/format.h>
#include <mpe/ops.hpp>

#include "ops/common.hpp"
#include "ops/registry.hpp"

namespace mpe::bench {

namespace {
PreparedCase prepare_lse(const CasePoint& p, const Device& device, std::uint64_t seed) {
  const std::int64_t B = param(p, "batch"), I = param(p, "rows"), J = param(p, "cols");
  const bool shared = param(p, "shared") != 0;
  const Shape m_shape = shared ? Shape{I, J} : Shape{B, I, J};
  auto M = std::make_shared<Tensor>(random_tensor(m_shape, -8.f, 2.f, seed, device));
  auto x = std::make_shared<Tensor>(random_tensor({B, J}, -5.f, 1.f, seed + 1, device));
  auto y = std::make_shared<Tensor>(Tensor::empty({B, I}, DType::f32, device));
  y->fill_bytes(0xFF);  // poison: NaN until written
  PreparedCase c;
  c.run = [M, x, y] { lse_contract(*M, *x, *y); };
  c.bytes = 4.0 * (double(M->numel()) + double(B * J) + double(B * I));
  c.flops = 0;  // exp-bound, not FLOP-bound
  c.shape = fmt::format("B={} I={} J={} M={}", B, I, J, shared ? "shared" : "per-batch");
  return c;
}
}  // namespace

MPE_BENCH_OP(OpSpec{
    "lse_contract",
    "log-space contraction y = logsumexp_j(M + x)",
    "M ((shared ? 1 : B)*I*J*4) + x (B*J*4) + y (B*I*4)",
    {int_param("batch", "lse_contract: batch B", {1, 64, 1024}, 1).quick({"1", "256"}),
     int_param("rows", "lse_contract: rows I", {192}, 1),
     int_param("cols", "lse_contract: contracted length J", {192}, 1),
     int_param("shared", "lse_contract: 1 = one M for the batch", {1}, 0, 1)},
    prepare_lse})

}  // namespace mpe::bench
