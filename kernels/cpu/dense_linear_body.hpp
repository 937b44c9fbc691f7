#pragma once
// The CPU body of the dense transform y = act(x·Wᵀ + bias [+ y]), included by
// kernels/cpu/dense_linear.cpp (baseline build) and kernels/cpu/isa/dense_linear_x86_64_v3.cpp
// and _v4.cpp (AVX2 / AVX-512, with `kernels` renamed). W is packed once per call into panels of kCols output
// columns, each [k, kCols] contiguous; a kRows x kCols tile of y is then summed in registers over
// all of k (each W load serves kRows rows, each x value kCols columns). Rows are taken in chunks
// of kChunkRows so that one W panel is reused from cache by the chunk's tiles.
#include <algorithm>
#include <vector>

#include "graph_mp.hpp"

namespace mpe::kernels {

namespace dense_linear_detail {
// Tuning: a kRows x kCols tile of sums fills most of the vector registers of each build
// (AVX-512: 12 of 32 zmm; AVX2: 12 of 16 ymm; SSE2: 16 xmm), leaving room for W and x.
#if defined(__AVX512F__)
constexpr std::int64_t kRows = 6;
constexpr std::int64_t kCols = 32;
#elif defined(__AVX2__)
constexpr std::int64_t kRows = 6;
constexpr std::int64_t kCols = 16;
#else
constexpr std::int64_t kRows = 4;
constexpr std::int64_t kCols = 16;
#endif
constexpr std::int64_t kChunkRows = 16 * kRows;  // tuning: rows sharing a panel while cached
constexpr std::int64_t kParallelWork = std::int64_t(1) << 21;  // multiply-adds

// One tile: rows r0 .. r0 + rn, panel columns j0 .. j0 + cn (rn <= kRows, cn <= kCols).
inline void tile(const DenseLinearArgs& a, const float* panel, std::int64_t r0, std::int64_t rn,
                 std::int64_t j0, std::int64_t cn) {
  const std::int64_t k = a.k;
  float acc[kRows][kCols] = {};
  const float* x0 = a.x + r0 * k;
  if (rn == kRows) {  // the full tile: fixed trip counts, so the sums stay in registers
    for (std::int64_t c = 0; c < k; ++c) {
      const float* wp = panel + c * kCols;
      for (std::int64_t r = 0; r < kRows; ++r) {
        const float xv = x0[r * k + c];
        MPE_SIMD
        for (std::int64_t j = 0; j < kCols; ++j) acc[r][j] += xv * wp[j];
      }
    }
  } else {
    for (std::int64_t c = 0; c < k; ++c) {
      const float* wp = panel + c * kCols;
      for (std::int64_t r = 0; r < rn; ++r) {
        const float xv = x0[r * k + c];
        MPE_SIMD
        for (std::int64_t j = 0; j < kCols; ++j) acc[r][j] += xv * wp[j];
      }
    }
  }
  for (std::int64_t r = 0; r < rn; ++r) {
    float* y = a.y + (r0 + r) * a.m + j0;
    for (std::int64_t j = 0; j < cn; ++j) {
      float v = acc[r][j] + (a.bias ? a.bias[j0 + j] : 0.0f);
      if (a.accumulate) v += y[j];
      y[j] = mp_activate(a.act, v);
    }
  }
}
}  // namespace dense_linear_detail

inline void dense_linear_cpu_body(const DenseLinearArgs& a) {
  using namespace dense_linear_detail;
  const std::int64_t n = a.n, k = a.k, m = a.m;
  if (n == 0 || m == 0) return;
  const std::int64_t panels = (m + kCols - 1) / kCols;
  // packed[p][c][j] = W[p·kCols + j][c], zero past the last column.
  std::vector<float> packed(static_cast<std::size_t>(panels * k * kCols), 0.0f);
#pragma omp parallel for schedule(static) if (n * k * m > kParallelWork)
  for (std::int64_t p = 0; p < panels; ++p) {
    const std::int64_t cn = std::min(kCols, m - p * kCols);
    float* dst = packed.data() + p * k * kCols;
    for (std::int64_t j = 0; j < cn; ++j) {
      const float* wr = a.w + (p * kCols + j) * k;
      for (std::int64_t c = 0; c < k; ++c) dst[c * kCols + j] = wr[c];
    }
  }
  const std::int64_t chunks = (n + kChunkRows - 1) / kChunkRows;
  // Work items: (row chunk, panel) pairs, so that a few rows still spread over the threads.
#pragma omp parallel for schedule(static) if (n * k * m > kParallelWork)
  for (std::int64_t item = 0; item < chunks * panels; ++item) {
    const std::int64_t ch = item / panels, p = item % panels;
    const std::int64_t r_end = std::min(n, (ch + 1) * kChunkRows);
    const std::int64_t cn = std::min(kCols, m - p * kCols);
    for (std::int64_t r0 = ch * kChunkRows; r0 < r_end; r0 += kRows)
      tile(a, packed.data() + p * k * kCols, r0, std::min(kRows, r_end - r0), p * kCols, cn);
  }
}

}  // namespace mpe::kernels
