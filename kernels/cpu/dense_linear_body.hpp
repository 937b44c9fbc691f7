#pragma once
// The CPU body of the dense transform y = act(x·Wᵀ + bias [+ y]), included by
// kernels/cpu/dense_linear.cpp (baseline build) and kernels/cpu/isa/dense_linear_x86_64_v3.cpp
// and _v4.cpp (AVX2 / AVX-512, with `kernels` renamed). W is packed into panels of kCols output
// columns, each [k, kCols] contiguous: once per call, or once for all calls by the caller
// (dense_linear_pack_body, passed as w_packed; the text encoder does this at load). A
// kRows x kCols tile of y is summed in registers over all of k (each W load serves kRows rows,
// each x value kCols columns); the row count of a tile is a template parameter, so that the
// last, shorter tile of a few-row call stays in registers too. Rows are taken in chunks of
// kChunkRows so that one W panel is reused from cache by the chunk's tiles. Bias, the
// residual (accumulate) and the activation are applied as each tile is stored.
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

// y[0 .. cn) = act(s + bias (+ y)), one row of a tile; the activation's branch is taken once.
template <bool kFull>
inline void store_row(const DenseLinearArgs& a, const float* s, float* y, const float* bias,
                      std::int64_t cn) {
  const std::int64_t n = kFull ? kCols : cn;
  float v[kCols];
  MPE_SIMD
  for (std::int64_t j = 0; j < n; ++j)
    v[j] = s[j] + (bias ? bias[j] : 0.0f) + (a.accumulate ? y[j] : 0.0f);
  switch (a.act) {
    case MpAct::none:
      MPE_SIMD
      for (std::int64_t j = 0; j < n; ++j) y[j] = v[j];
      break;
    case MpAct::gelu:
      MPE_SIMD
      for (std::int64_t j = 0; j < n; ++j) y[j] = gelu_erf(v[j]);
      break;
    default:
      for (std::int64_t j = 0; j < n; ++j) y[j] = mp_activate(a.act, v[j]);
  }
}

// One tile of R rows (r0 .. r0 + R) and panel columns j0 .. j0 + cn (cn <= kCols). Fixed trip
// counts, so that the sums stay in registers.
template <int R>
inline void tile(const DenseLinearArgs& a, const float* panel, std::int64_t r0, std::int64_t j0,
                 std::int64_t cn) {
  const std::int64_t k = a.k;
  float acc[R][kCols] = {};
  const float* x0 = a.x + r0 * k;
  for (std::int64_t c = 0; c < k; ++c) {
    const float* wp = panel + c * kCols;
    for (int r = 0; r < R; ++r) {
      const float xv = x0[r * k + c];
      MPE_SIMD
      for (std::int64_t j = 0; j < kCols; ++j) acc[r][j] += xv * wp[j];
    }
  }
  const float* bias = a.bias ? a.bias + j0 : nullptr;
  for (int r = 0; r < R; ++r) {
    float* y = a.y + (r0 + r) * a.m + j0;
    if (cn == kCols)
      store_row<true>(a, acc[r], y, bias, cn);
    else
      store_row<false>(a, acc[r], y, bias, cn);
  }
}

// Rows r0 .. r0 + rn (rn <= kRows) against one panel.
inline void tile_rows(const DenseLinearArgs& a, const float* panel, std::int64_t r0,
                      std::int64_t rn, std::int64_t j0, std::int64_t cn) {
  switch (rn) {
    case 1: return tile<1>(a, panel, r0, j0, cn);
    case 2: return tile<2>(a, panel, r0, j0, cn);
    case 3: return tile<3>(a, panel, r0, j0, cn);
    case 4: return tile<4>(a, panel, r0, j0, cn);
#if !defined(__AVX512F__) && !defined(__AVX2__)
    default: return tile<4>(a, panel, r0, j0, cn);  // kRows = 4
#else
    case 5: return tile<5>(a, panel, r0, j0, cn);
    default: return tile<6>(a, panel, r0, j0, cn);  // kRows = 6
#endif
  }
}
}  // namespace dense_linear_detail

// packed[p][c][j] = W[p·kCols + j][c] for W [m, k], zero past the last column:
// ceil(m / kCols) · kCols · k floats.
inline void dense_linear_pack_body(const float* w, std::int64_t m, std::int64_t k,
                                   float* packed) {
  using namespace dense_linear_detail;
  const std::int64_t panels = (m + kCols - 1) / kCols;
#pragma omp parallel for schedule(static) if (k * m > kParallelWork / 8)
  for (std::int64_t p = 0; p < panels; ++p) {
    const std::int64_t cn = std::min(kCols, m - p * kCols);
    float* dst = packed + p * k * kCols;
    std::fill(dst, dst + k * kCols, 0.0f);
    for (std::int64_t j = 0; j < cn; ++j) {
      const float* wr = w + (p * kCols + j) * k;
      for (std::int64_t c = 0; c < k; ++c) dst[c * kCols + j] = wr[c];
    }
  }
}

inline void dense_linear_cpu_body(const DenseLinearArgs& a) {
  using namespace dense_linear_detail;
  const std::int64_t n = a.n, k = a.k, m = a.m;
  if (n == 0 || m == 0) return;
  const std::int64_t panels = (m + kCols - 1) / kCols;
  std::vector<float> own;
  const float* packed = a.w_packed;
  if (!packed || a.w_panel_cols != kCols) {  // not packed by the caller for this build
    own.resize(static_cast<std::size_t>(panels * k * kCols));
    dense_linear_pack_body(a.w, m, k, own.data());
    packed = own.data();
  }
  const std::int64_t chunks = (n + kChunkRows - 1) / kChunkRows;
  // Work items: (row chunk, panel) pairs, so that a few rows still spread over the threads.
#pragma omp parallel for schedule(static) if (n * k * m > kParallelWork)
  for (std::int64_t item = 0; item < chunks * panels; ++item) {
    const std::int64_t ch = item / panels, p = item % panels;
    const std::int64_t r_end = std::min(n, (ch + 1) * kChunkRows);
    const std::int64_t cn = std::min(kCols, m - p * kCols);
    for (std::int64_t r0 = ch * kChunkRows; r0 < r_end; r0 += kRows)
      tile_rows(a, packed + p * k * kCols, r0, std::min(kRows, r_end - r0), p * kCols, cn);
  }
}

}  // namespace mpe::kernels
