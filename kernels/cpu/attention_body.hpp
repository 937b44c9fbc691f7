#pragma once
// CPU attention forward, blocked online softmax. Included by kernels/cpu/attention.cpp (baseline
// build) and by kernels/cpu/isa/attention_x86_64_v*.cpp (AVX2 / AVX-512 builds, `kernels`
// renamed), so every function here is compiled once per instruction-set level.
//
// First K and V are packed once per call, block by block of kKeys keys: K transposed
// ([D][kKeys]) and V with rows padded to Dp, zeros past the last key (O(Nk·D) per head, the
// size of K and V; a strided transpose inside every task cost more than the products).
// When there are many (batch, kv head) pairs (short sequences, many heads), a task is one such
// pair instead: it packs its own K/V into a per-thread buffer and runs every query block of
// the heads that share it, so no thread waits at a barrier between packing and products (on a
// loaded machine a descheduled thread made short calls wait half their time there).
// Otherwise one task = (batch, head, block of kRows query rows): per key block it computes the
// scores with a register tile, updates each row's (m, l) and rescales its accumulator, and adds
// P·V. Memory per task: O(kRows·(D + kKeys)), never the Nq × Nk matrix. Loops are fixed-shape
// and branch-free so that GCC vectorises them (masks are 0/1 multipliers, invisible scores a
// finite sentinel). The AVX-512 build has its own forms of the hot parts (intrinsics): the two
// register tiles, the softmax update of a row whose block is fully visible (most rows; the
// accumulator is rescaled only when the row max moved), and with bf16 storage on a CPU with
// AVX512_BF16 the score tile in vdpbf16ps (twice the multiply-adds per instruction).
#include <algorithm>
#include <cstdint>
#include <vector>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif
#ifdef _OPENMP
#include <omp.h>
#endif

#include "attention.hpp"
#include "common/attention_math.hpp"
#include "common/storage.hpp"
#include "common/logspace.hpp"

namespace mpe::kernels {
namespace attn_cpu {

// Tuning constants of the CPU kernel (one place).
constexpr int kRows = 128;    // query rows per task (32 measured 10-30% slower: K/V re-read)
constexpr int kMinRows = 16;  // ... halved down to this while there are too few tasks
constexpr int kKeys = 64;     // keys per block
#if defined(__AVX512F__)
constexpr int kQkRows = 4;   // register tile of the score product: rows ...
constexpr int kQkCols = 64;  // ... x key columns (16 zmm accumulators)
constexpr int kPvRows = 4;   // register tile of P·V: rows ...
constexpr int kPvCols = 64;  // ... x head-dim columns
#elif defined(__AVX2__)
constexpr int kQkRows = 3;  // 12 ymm accumulators
constexpr int kQkCols = 32;
constexpr int kPvRows = 3;
constexpr int kPvCols = 32;
#else
constexpr int kQkRows = 2;  // 8 xmm accumulators
constexpr int kQkCols = 16;
constexpr int kPvRows = 2;
constexpr int kPvCols = 16;
#endif
// Below this many multiply-adds one thread does the whole call (waking a team costs more).
constexpr double kParallelWork = 1 << 20;

#if defined(__AVX512F__)
// GCC 12 flags the `undefined` pass-through operand inside its own AVX-512 intrinsics as
// (maybe-)uninitialized, a false positive; silenced for this file's intrinsic functions only.
#if !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
// The two register tiles below in AVX-512 intrinsics: the accumulators as named zmm values.
// GCC's scalar-replacement of the float arrays of the plain form is fragile: a change elsewhere
// in run_task once left the P·V tile scalar with its accumulators in memory (5x slower).
template <int RG, int NC>
inline void qk_tile_avx512(const float* __restrict qs, std::int64_t D, const float* __restrict kt,
                           float* __restrict s) {
  constexpr int kV = NC / 16;
  __m512 acc[RG][kV];
  MPE_UNROLL
  for (int r = 0; r < RG; ++r)
    MPE_UNROLL
    for (int v = 0; v < kV; ++v) acc[r][v] = _mm512_setzero_ps();
  for (std::int64_t d = 0; d < D; ++d) {
    __m512 kr[kV];
    MPE_UNROLL
    for (int v = 0; v < kV; ++v) kr[v] = _mm512_loadu_ps(kt + d * kKeys + 16 * v);
    MPE_UNROLL
    for (int r = 0; r < RG; ++r) {
      const __m512 qv = _mm512_set1_ps(qs[r * D + d]);
      MPE_UNROLL
      for (int v = 0; v < kV; ++v) acc[r][v] = _mm512_fmadd_ps(qv, kr[v], acc[r][v]);
    }
  }
  MPE_UNROLL
  for (int r = 0; r < RG; ++r)
    MPE_UNROLL
    for (int v = 0; v < kV; ++v) _mm512_storeu_ps(s + r * kKeys + 16 * v, acc[r][v]);
}

template <int RG, int NC>
inline void pv_tile_avx512(const float* __restrict p, const float* __restrict vb, std::int64_t Dp,
                           float* __restrict o) {
  constexpr int kV = NC / 16;
  __m512 acc[RG][kV];
  MPE_UNROLL
  for (int r = 0; r < RG; ++r)
    MPE_UNROLL
    for (int v = 0; v < kV; ++v) acc[r][v] = _mm512_loadu_ps(o + r * Dp + 16 * v);
  for (int j = 0; j < kKeys; ++j) {
    __m512 vr[kV];
    MPE_UNROLL
    for (int v = 0; v < kV; ++v) vr[v] = _mm512_loadu_ps(vb + j * Dp + 16 * v);
    MPE_UNROLL
    for (int r = 0; r < RG; ++r) {
      const __m512 pv = _mm512_set1_ps(p[r * kKeys + j]);
      MPE_UNROLL
      for (int v = 0; v < kV; ++v) acc[r][v] = _mm512_fmadd_ps(pv, vr[v], acc[r][v]);
    }
  }
  MPE_UNROLL
  for (int r = 0; r < RG; ++r)
    MPE_UNROLL
    for (int v = 0; v < kV; ++v) _mm512_storeu_ps(o + r * Dp + 16 * v, acc[r][v]);
}
#if !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#endif

// s[r][c] (row stride kKeys) = Σ_d qs[r][d] · kt[d][c] for RG rows and NC columns.
template <int RG, int NC>
inline void qk_tile(const float* __restrict qs, std::int64_t D, const float* __restrict kt,
                    float* __restrict s) {
#if defined(__AVX512F__)
  if constexpr (NC % 16 == 0) return qk_tile_avx512<RG, NC>(qs, D, kt, s);
#endif
  float acc[RG][NC];
  MPE_UNROLL
  for (int r = 0; r < RG; ++r)
    for (int c = 0; c < NC; ++c) acc[r][c] = 0.0f;
  for (std::int64_t d = 0; d < D; ++d) {
    const float* __restrict kr = kt + d * kKeys;
    MPE_UNROLL
    for (int r = 0; r < RG; ++r) {
      const float qv = qs[r * D + d];
      for (int c = 0; c < NC; ++c) acc[r][c] += qv * kr[c];
    }
  }
  MPE_UNROLL
  for (int r = 0; r < RG; ++r)
    for (int c = 0; c < NC; ++c) s[r * kKeys + c] = acc[r][c];
}

// o[r][d0 .. d0+NC) (row stride Dp) += Σ_c p[r][c] · vb[c][d0 ..] for RG rows.
template <int RG, int NC>
inline void pv_tile(const float* __restrict p, const float* __restrict vb, std::int64_t Dp,
                    float* __restrict o) {
#if defined(__AVX512F__)
  if constexpr (NC % 16 == 0) return pv_tile_avx512<RG, NC>(p, vb, Dp, o);
#endif
  float acc[RG][NC];
  MPE_UNROLL
  for (int r = 0; r < RG; ++r)
    for (int c = 0; c < NC; ++c) acc[r][c] = o[r * Dp + c];
  for (int j = 0; j < kKeys; ++j) {
    const float* __restrict vr = vb + j * Dp;
    MPE_UNROLL
    for (int r = 0; r < RG; ++r) {
      const float pv = p[r * kKeys + j];
      for (int c = 0; c < NC; ++c) acc[r][c] += pv * vr[c];
    }
  }
  MPE_UNROLL
  for (int r = 0; r < RG; ++r)
    for (int c = 0; c < NC; ++c) o[r * Dp + c] = acc[r][c];
}

#if defined(__AVX512F__)
#if !defined(__clang__)  // as for the tiles above
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
// lse_exp on 16 lanes for x <= 0 (a score minus its row's running max): the same range
// reduction and series (the same float32 accuracy), with 2^k applied by vscalefps instead of
// the clamp-convert-shift-multiply sequence GCC makes of the scalar form. The row update as GCC
// vectorised it (masks, exps, a lane-by-lane sum) was a quarter of the kernel's time at
// N = 1024, D = 64; in this form it is under a tenth.
inline __m512 exp16(__m512 x) {
  using namespace lse_exp_c;  // lse_exp's constants (common/logspace.hpp)
  x = _mm512_max_ps(x, _mm512_set1_ps(-87.0f));
  const __m512 shift = _mm512_set1_ps(kShift);
  const __m512 k = _mm512_sub_ps(_mm512_fmadd_ps(x, _mm512_set1_ps(kLog2e), shift), shift);
  __m512 r = _mm512_fnmadd_ps(k, _mm512_set1_ps(kLn2Hi), x);
  r = _mm512_fnmadd_ps(k, _mm512_set1_ps(kLn2Lo), r);
  __m512 p = _mm512_set1_ps(kC7);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kC6));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kC5));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kC4));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kC3));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kC2));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  return _mm512_scalef_ps(p, k);
}

// Online-softmax update of one row of kKeys scores that are all visible (no mask, no causal
// cut, a full block; the common case): scores -> weights in sr, (m, l) updated. Returns the
// factor the row's accumulator is to be scaled by (exactly 1 when the max did not move).
inline float softmax_row_visible(float* __restrict sr, float& m, float& l) {
  static_assert(kKeys % 16 == 0, "kKeys is a multiple of 16 lanes");
  constexpr int kV = kKeys / 16;
  __m512 s[kV];
  MPE_UNROLL
  for (int v = 0; v < kV; ++v) s[v] = _mm512_loadu_ps(sr + 16 * v);
  __m512 mx = s[0];
  MPE_UNROLL
  for (int v = 1; v < kV; ++v) mx = _mm512_max_ps(mx, s[v]);
  const float mn = attn_new_max(m, _mm512_reduce_max_ps(mx));
  const __m512 mv = _mm512_set1_ps(mn);
  __m512 sum = _mm512_setzero_ps();
  MPE_UNROLL
  for (int v = 0; v < kV; ++v) {
    const __m512 p = exp16(_mm512_sub_ps(s[v], mv));
    _mm512_storeu_ps(sr + 16 * v, p);
    sum = _mm512_add_ps(sum, p);
  }
  const float alpha = mn == m ? 1.0f : lse_exp(m - mn);
  l = l * alpha + _mm512_reduce_add_ps(sum);
  m = mn;
  return alpha;
}

// bfloat16 storage on a CPU with AVX512_BF16 (checked at run time): the scores come from
// vdpbf16ps on the stored bits (products of two bf16 are exact in float32, sums in float32),
// twice the multiply-adds per instruction of the float32 tile; the scale is applied to the
// sums. q2: RG rows of D2 bf16 pairs (d, d + 1), unscaled; kt2: [D2][kKeys] pairs.
template <int RG>
__attribute__((target("avx512bf16"))) void qk_tile_bf16(const std::uint32_t* __restrict q2,
                                                        std::int64_t D2,
                                                        const std::uint32_t* __restrict kt2,
                                                        float scale, float* __restrict s) {
  constexpr int kV = kQkCols / 16;
  __m512 acc[RG][kV];
  MPE_UNROLL
  for (int r = 0; r < RG; ++r)
    MPE_UNROLL
    for (int v = 0; v < kV; ++v) acc[r][v] = _mm512_setzero_ps();
  for (std::int64_t dp = 0; dp < D2; ++dp) {
    __m512bh kr[kV];
    MPE_UNROLL
    for (int v = 0; v < kV; ++v) kr[v] = (__m512bh)_mm512_loadu_si512(kt2 + dp * kKeys + 16 * v);
    MPE_UNROLL
    for (int r = 0; r < RG; ++r) {
      const __m512bh qv = (__m512bh)_mm512_set1_epi32(static_cast<int>(q2[r * D2 + dp]));
      MPE_UNROLL
      for (int v = 0; v < kV; ++v) acc[r][v] = _mm512_dpbf16_ps(acc[r][v], qv, kr[v]);
    }
  }
  const __m512 sc = _mm512_set1_ps(scale);
  MPE_UNROLL
  for (int r = 0; r < RG; ++r)
    MPE_UNROLL
    for (int v = 0; v < kV; ++v) _mm512_storeu_ps(s + r * kKeys + 16 * v, _mm512_mul_ps(acc[r][v], sc));
}
#if !defined(__clang__)
#pragma GCC diagnostic pop
#endif

inline bool cpu_has_bf16_dot() {
  static const bool has = __builtin_cpu_supports("avx512bf16");
  return has;
}
#endif

// Whether this call's scores take qk_tile_bf16 (K is then packed as bf16 pairs).
inline bool use_bf16_dot(const AttentionArgs& a) {
#if defined(__AVX512F__)
  return a.store == Storage::bf16 && cpu_has_bf16_dot();
#else
  (void)a;
  return false;
#endif
}

// dst[e] = mul · x[off + e] for e < n, converting 16-bit storage to float32 on the way
// (one switch per row; the loops are plain so the float32 one still vectorises).
template <Storage S>
inline void load_row_as(const void* x, std::int64_t off, std::int64_t n, float mul,
                        float* __restrict dst) {
  using Tr = StorageTraits<S>;
  const auto* p = static_cast<const typename Tr::T*>(x) + off;
  for (std::int64_t e = 0; e < n; ++e) dst[e] = Tr::load(p[e]) * mul;
}

inline void load_row(Storage st, const void* x, std::int64_t off, std::int64_t n, float mul,
                     float* __restrict dst) {
  switch (st) {
    case Storage::f32: return load_row_as<Storage::f32>(x, off, n, mul, dst);
    case Storage::bf16: return load_row_as<Storage::bf16>(x, off, n, mul, dst);
    case Storage::f16: return load_row_as<Storage::f16>(x, off, n, mul, dst);
  }
}

// out[off + e] = src[e] · mul for e < n, rounded to the output's storage.
template <Storage S>
inline void store_row_as(void* out, std::int64_t off, std::int64_t n,
                         const float* __restrict src, float mul) {
  using Tr = StorageTraits<S>;
  auto* p = static_cast<typename Tr::T*>(out) + off;
  for (std::int64_t e = 0; e < n; ++e) p[e] = Tr::store(src[e] * mul);
}

inline void store_row(const AttentionArgs& a, std::int64_t off, std::int64_t n,
                      const float* __restrict src, float mul) {
  switch (a.store) {
    case Storage::f32: return store_row_as<Storage::f32>(a.out, off, n, src, mul);
    case Storage::bf16: return store_row_as<Storage::bf16>(a.out, off, n, src, mul);
    case Storage::f16: return store_row_as<Storage::f16>(a.out, off, n, src, mul);
  }
}

struct Scratch {
  std::int64_t Dp = 0;     // head dim rounded up to kPvCols
  std::vector<float> qs;   // [kRows][D] scaled queries
  std::vector<float> s;    // [kRows][kKeys] scores, then weights
  std::vector<float> o;    // [kRows][Dp] unnormalised output
  std::vector<float> vis;  // [kKeys] 1 for a key inside the block and not padded, else 0
  std::vector<std::uint32_t> q2;  // [kRows][(D + 1) / 2] bf16 pairs (use_bf16_dot only)
  float m[kRows], l[kRows];

  explicit Scratch(std::int64_t D, bool bf16_dot = false)
      : Dp((D + kPvCols - 1) / kPvCols * kPvCols),
        qs(static_cast<std::size_t>(bf16_dot ? 0 : kRows * D)),
        s(static_cast<std::size_t>(kRows * kKeys)),
        o(static_cast<std::size_t>(kRows * Dp)),
        vis(kKeys),
        q2(static_cast<std::size_t>(bf16_dot ? kRows * ((D + 1) / 2) : 0)) {}
};

// Packed K/V of one key block: kt [D][kKeys] then vb [kKeys][Dp].
inline std::int64_t packed_block_floats(std::int64_t D, std::int64_t Dp) {
  return D * kKeys + kKeys * Dp;
}

// Packs key block `kblock` of (batch, kv head) `bkv` into `dst`.
inline void pack_block(const AttentionArgs& a, std::int64_t bkv, std::int64_t kblock,
                       std::int64_t Dp, float* dst) {
  const std::int64_t D = a.head_dim, Nk = a.k_len, kb = kblock * kKeys;
  const int jn = static_cast<int>(std::min<std::int64_t>(kKeys, Nk - kb));
  const std::int64_t base = (bkv * Nk + kb) * D;
  float* kt = dst;
  float* vb = dst + D * kKeys;
  std::fill(kt, kt + D * kKeys, 0.0f);
  if (use_bf16_dot(a)) {  // kt as [(D + 1) / 2][kKeys] pairs of the stored bf16 bits
    auto* kt2 = reinterpret_cast<std::uint32_t*>(kt);
    const auto* k16 = static_cast<const std::uint16_t*>(a.k) + base;
    for (int c = 0; c < jn; ++c) {
      const std::uint16_t* kr = k16 + c * D;
      for (std::int64_t d = 0; d < D; d += 2) {
        const std::uint32_t hi = d + 1 < D ? kr[d + 1] : 0u;
        kt2[(d / 2) * kKeys + c] = kr[d] | (hi << 16);
      }
    }
  } else {
    // Each key row is loaded (converted from 16-bit storage) into the first V row slot, which
    // is rewritten below, then transposed into kt.
    for (int c = 0; c < jn; ++c) {
      load_row(a.store, a.k, base + c * D, D, 1.0f, vb);
      for (std::int64_t d = 0; d < D; ++d) kt[d * kKeys + c] = vb[d];
    }
  }
  for (int c = 0; c < kKeys; ++c) {
    float* vr = vb + c * Dp;
    if (c < jn) load_row(a.store, a.v, base + c * D, D, 1.0f, vr);
    std::fill(vr + (c < jn ? D : 0), vr + Dp, 0.0f);
  }
}

// Packs every key block of (batch, kv head) `bkv` into `dst` (k_blocks × packed_block_floats).
inline void pack_head(const AttentionArgs& a, std::int64_t bkv, std::int64_t Dp, float* dst) {
  const std::int64_t k_blocks = (a.k_len + kKeys - 1) / kKeys;
  const std::int64_t block_floats = packed_block_floats(a.head_dim, Dp);
  for (std::int64_t kb = 0; kb < k_blocks; ++kb) pack_block(a, bkv, kb, Dp, dst + kb * block_floats);
}

// The (batch, kv head) pair that task `task` (of q_blocks query blocks per head) reads.
inline std::int64_t task_kv_pair(const AttentionArgs& a, std::int64_t task, std::int64_t q_blocks) {
  const std::int64_t bh = task / q_blocks;
  return (bh / a.q_heads) * a.kv_heads + attn_kv_head(bh % a.q_heads, a.q_heads, a.kv_heads);
}

// Task `task` = (batch·head, query block) with `rows` rows per block; head_packed is its kv
// head's packed K/V (pack_head).
inline void run_task(const AttentionArgs& a, std::int64_t task, int rows, const float* head_packed,
                     Scratch& w) {
  const std::int64_t D = a.head_dim, Dp = w.Dp, Nq = a.q_len, Nk = a.k_len;
  const std::int64_t q_blocks = (Nq + rows - 1) / rows;
  const std::int64_t bh = task / q_blocks;
  const std::int64_t q0 = (task % q_blocks) * rows;
  const std::int64_t b = bh / a.q_heads;
  const int nr = static_cast<int>(std::min<std::int64_t>(rows, Nq - q0));
  const std::int64_t diag = Nk - Nq;
  const std::int64_t q_off = (bh * Nq + q0) * D;
  const std::int64_t block_floats = packed_block_floats(D, Dp);
  const std::int32_t* mask = a.key_mask ? a.key_mask + b * Nk : nullptr;

  const bool bf16_dot = use_bf16_dot(a);
  const std::int64_t D2 = (D + 1) / 2;
  if (bf16_dot) {  // unscaled bf16 pairs, a zero after an odd last element
    const auto* q16 = static_cast<const std::uint16_t*>(a.q) + q_off;
    for (int r = 0; r < nr; ++r) {
      for (std::int64_t d = 0; d < D; d += 2) {
        const std::uint32_t hi = d + 1 < D ? q16[r * D + d + 1] : 0u;
        w.q2[r * D2 + d / 2] = q16[r * D + d] | (hi << 16);
      }
    }
  } else {
    load_row(a.store, a.q, q_off, nr * D, a.scale, w.qs.data());
  }
  std::fill(w.o.begin(), w.o.end(), 0.0f);
  for (int r = 0; r < kRows; ++r) {
    w.m[r] = kAttnNoScore;
    w.l[r] = 0.0f;
  }
  // Keys past the causal limit of the block's last row are invisible to every row.
  const std::int64_t kv_end = a.causal ? attn_causal_limit(q0 + nr - 1, Nk, diag) : Nk;
  for (std::int64_t kb = 0; kb < kv_end; kb += kKeys) {
    const int jn = static_cast<int>(std::min<std::int64_t>(kKeys, kv_end - kb));
    const float* kt = head_packed + (kb / kKeys) * block_floats;
    const float* vb = kt + D * kKeys;
    for (int c = 0; c < kKeys; ++c) {
      w.vis[c] = (c < jn && (!mask || mask[kb + c] != 0)) ? 1.0f : 0.0f;
    }
    // Scores.
    int r = 0;
#if defined(__AVX512F__)
    if (bf16_dot) {
      const auto* kt2 = reinterpret_cast<const std::uint32_t*>(kt);
      for (; r + kQkRows <= nr; r += kQkRows) {
        for (int c0 = 0; c0 < kKeys; c0 += kQkCols) {
          qk_tile_bf16<kQkRows>(w.q2.data() + r * D2, D2, kt2 + c0, a.scale,
                                w.s.data() + r * kKeys + c0);
        }
      }
      for (; r < nr; ++r) {
        for (int c0 = 0; c0 < kKeys; c0 += kQkCols) {
          qk_tile_bf16<1>(w.q2.data() + r * D2, D2, kt2 + c0, a.scale, w.s.data() + r * kKeys + c0);
        }
      }
    }
#endif
    for (; r + kQkRows <= nr; r += kQkRows) {
      for (int c0 = 0; c0 < kKeys; c0 += kQkCols) {
        qk_tile<kQkRows, kQkCols>(w.qs.data() + r * D, D, kt + c0, w.s.data() + r * kKeys + c0);
      }
    }
    for (; r < nr; ++r) {
      for (int c0 = 0; c0 < kKeys; c0 += kQkCols) {
        qk_tile<1, kQkCols>(w.qs.data() + r * D, D, kt + c0, w.s.data() + r * kKeys + c0);
      }
    }
    // Online softmax update per row: weights into s, rescale factor into alpha.
#if defined(__AVX512F__)
    const bool block_visible = jn == kKeys && !mask;
#endif
    for (r = 0; r < nr; ++r) {
      float* sr = w.s.data() + r * kKeys;
      float* orow = w.o.data() + r * Dp;
      const std::int64_t lim = a.causal ? attn_causal_limit(q0 + r, Nk, diag) - kb : kKeys;
#if defined(__AVX512F__)
      if (block_visible && lim >= kKeys) {
        const float alpha = softmax_row_visible(sr, w.m[r], w.l[r]);
        if (alpha != 1.0f) {
          for (std::int64_t d = 0; d < Dp; ++d) orow[d] *= alpha;
        }
        continue;
      }
#endif
      float bmax = kAttnNoScore;
      MPE_SIMD_MAX(bmax)
      for (int c = 0; c < kKeys; ++c) {
        const float visible = (c < lim) ? w.vis[c] : 0.0f;
        const float sc = visible > 0.0f ? sr[c] : kAttnNoScore;
        sr[c] = sc;
        bmax = bmax > sc ? bmax : sc;
      }
      const float mn = attn_new_max(w.m[r], bmax);
      float sum = 0.0f;
      MPE_SIMD_SUM(sum)
      for (int c = 0; c < kKeys; ++c) {
        const float visible = (c < lim) ? w.vis[c] : 0.0f;
        const float p = lse_exp(sr[c] - mn) * visible;
        sr[c] = p;
        sum += p;
      }
      const float alpha = lse_exp(w.m[r] - mn);
      w.l[r] = w.l[r] * alpha + sum;
      w.m[r] = mn;
      if (alpha != 1.0f) {  // the max moved (alpha is exactly 1 when it did not)
        for (std::int64_t d = 0; d < Dp; ++d) orow[d] *= alpha;
      }
    }
    // O += P · V.
    for (r = 0; r + kPvRows <= nr; r += kPvRows) {
      for (std::int64_t d0 = 0; d0 < Dp; d0 += kPvCols) {
        pv_tile<kPvRows, kPvCols>(w.s.data() + r * kKeys, vb + d0, Dp, w.o.data() + r * Dp + d0);
      }
    }
    for (; r < nr; ++r) {
      for (std::int64_t d0 = 0; d0 < Dp; d0 += kPvCols) {
        pv_tile<1, kPvCols>(w.s.data() + r * kKeys, vb + d0, Dp, w.o.data() + r * Dp + d0);
      }
    }
  }
  for (int r = 0; r < nr; ++r) {
    const float inv = attn_inv_denominator(w.l[r]);
    store_row(a, q_off + r * D, D, w.o.data() + r * Dp, inv);
    if (a.lse) a.lse[bh * Nq + q0 + r] = attn_row_lse(w.m[r], w.l[r]);
  }
}

}  // namespace attn_cpu

inline void attention_cpu_body(const AttentionArgs& a) {
  using namespace attn_cpu;
  const std::int64_t bh = a.batch * a.q_heads;
  if (bh == 0 || a.q_len == 0) return;
#ifdef _OPENMP
  const std::int64_t threads = omp_get_max_threads();
#else
  const std::int64_t threads = 1;
#endif
  const std::int64_t D = a.head_dim;
  const std::int64_t Dp = (D + kPvCols - 1) / kPvCols * kPvCols;
  const std::int64_t k_blocks = (a.k_len + kKeys - 1) / kKeys;
  const std::int64_t block_floats = packed_block_floats(D, Dp);
  const std::int64_t head_floats = k_blocks * block_floats;
  const std::int64_t kv_pairs = a.batch * a.kv_heads;
  const double work = static_cast<double>(a.batch * a.q_heads) * static_cast<double>(a.q_len) *
                      static_cast<double>(a.k_len) * static_cast<double>(D + 1);
  const bool parallel = work > kParallelWork;
  // Reused across calls on each thread (grow-only), so repeated calls skip the page faults.
  thread_local std::vector<float> packed;
  const auto buffer = [](std::int64_t floats) {
    if (packed.size() < static_cast<std::size_t>(floats)) packed.resize(static_cast<std::size_t>(floats));
    return packed.data();
  };

  if (kv_pairs >= 4 * threads) {  // one task per (batch, kv head): no barrier
    const std::int64_t group = a.q_heads / a.kv_heads;
    const std::int64_t q_blocks = (a.q_len + kRows - 1) / kRows;
#pragma omp parallel if (parallel && kv_pairs > 1)
    {
      Scratch w(D, use_bf16_dot(a));
      float* pk = buffer(head_floats);
#pragma omp for schedule(dynamic, 1)
      for (std::int64_t p = 0; p < kv_pairs; ++p) {
        pack_head(a, p, Dp, pk);
        const std::int64_t b = p / a.kv_heads, h0 = (p % a.kv_heads) * group;
        for (std::int64_t h = h0; h < h0 + group; ++h) {
          for (std::int64_t qb = 0; qb < q_blocks; ++qb) {
            run_task(a, (b * a.q_heads + h) * q_blocks + qb, kRows, pk, w);
          }
        }
      }
    }
    return;
  }

  int rows = kRows;  // fewer rows per task when that leaves too few tasks for the threads
  while (rows > kMinRows && bh * ((a.q_len + rows - 1) / rows) < 4 * threads) rows /= 2;
  const std::int64_t q_blocks = (a.q_len + rows - 1) / rows;
  const std::int64_t tasks = bh * q_blocks;
  const std::int64_t packs = kv_pairs * k_blocks;
  float* pk = buffer(packs * block_floats);
#pragma omp parallel if (parallel && tasks > 1)
  {
#pragma omp for schedule(static)
    for (std::int64_t p = 0; p < packs; ++p) {
      pack_block(a, p / k_blocks, p % k_blocks, Dp, pk + p * block_floats);
    }
    Scratch w(D, use_bf16_dot(a));
#pragma omp for schedule(dynamic, 1)
    for (std::int64_t t = 0; t < tasks; ++t) {
      run_task(a, t, rows, pk + task_kv_pair(a, t, q_blocks) * head_floats, w);
    }
  }
}

}  // namespace mpe::kernels
