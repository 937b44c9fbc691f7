// mpe-bench op copy: the device's copy bandwidth, the reference of memory-bound figures.
#include <memory>

#include <fmt/format.h>
#include <mpe/tensor.hpp>

#include "ops/common.hpp"
#include "ops/registry.hpp"

namespace mpe::bench {

namespace {
// One buffer copied to another on the device (bytes counted as read + written).
PreparedCase prepare_copy(const CasePoint& p, const Device& device, std::uint64_t seed) {
  const std::int64_t n = param(p, "mib") * (std::int64_t(1) << 20) / 4;
  auto src = std::make_shared<Tensor>(random_tensor({n}, -1.f, 1.f, seed, device));
  auto dst = std::make_shared<Tensor>(Tensor::empty({n}, DType::f32, device));
  PreparedCase c;
  c.run = [src, dst] { dst->copy_from(*src); };
  c.bytes = 2.0 * 4.0 * double(n);
  c.shape = fmt::format("{} MiB", param(p, "mib"));
  return c;
}
}  // namespace

MPE_BENCH_OP(OpSpec{"copy",
                    "device copy: the bandwidth reference",
                    "source read + destination written (2*size)",
                    {int_param("mib", "copy: buffer size in MiB", {1024}, 1).quick({"64"})},
                    prepare_copy})

}  // namespace mpe::bench
