// CPU dense transform y = act(x·Wᵀ + bias [+ y]): W is transposed once into [k, m] panels so
// the inner loop streams contiguous rows of both operands; rows of x are taken kRowBlock at a
// time (each loaded W panel row serves all of them) and k in kKBlock slices that stay in cache.
#include <algorithm>
#include <vector>

#include "graph_mp.hpp"

namespace mpe::kernels {

namespace {
constexpr std::int64_t kRowBlock = 4;  // tuning: rows of x sharing each W load
constexpr std::int64_t kKBlock = 256;  // tuning: k slice kept in cache
constexpr std::int64_t kParallelWork = std::int64_t(1) << 21;  // multiply-adds
}  // namespace

void dense_linear_cpu(const DenseLinearArgs& a) {
  const std::int64_t n = a.n, k = a.k, m = a.m;
  if (n == 0 || m == 0) return;
  std::vector<float> wt(static_cast<std::size_t>(k * m));  // [k, m]
  for (std::int64_t r = 0; r < m; ++r)
    for (std::int64_t c = 0; c < k; ++c) wt[static_cast<std::size_t>(c * m + r)] = a.w[r * k + c];
  const std::int64_t blocks = (n + kRowBlock - 1) / kRowBlock;
#pragma omp parallel if (n * k * m > kParallelWork)
  {
    std::vector<float> acc(static_cast<std::size_t>(kRowBlock * m));
#pragma omp for schedule(static)
    for (std::int64_t b = 0; b < blocks; ++b) {
      const std::int64_t r0 = b * kRowBlock;
      const std::int64_t rn = std::min(kRowBlock, n - r0);
      std::fill(acc.begin(), acc.end(), 0.0f);
      for (std::int64_t k0 = 0; k0 < k; k0 += kKBlock) {
        const std::int64_t k1 = std::min(k, k0 + kKBlock);
        for (std::int64_t c = k0; c < k1; ++c) {
          const float* wr = wt.data() + c * m;
          for (std::int64_t r = 0; r < rn; ++r) {
            float* out = acc.data() + r * m;
            const float xv = a.x[(r0 + r) * k + c];
            MPE_SIMD
            for (std::int64_t j = 0; j < m; ++j) out[j] += xv * wr[j];
          }
        }
      }
      for (std::int64_t r = 0; r < rn; ++r) {
        float* y = a.y + (r0 + r) * m;
        const float* s = acc.data() + r * m;
        for (std::int64_t j = 0; j < m; ++j) {
          float v = s[j] + (a.bias ? a.bias[j] : 0.0f);
          if (a.accumulate) v += y[j];
          y[j] = mp_activate(a.act, v);
        }
      }
    }
  }
}

}  // namespace mpe::kernels
