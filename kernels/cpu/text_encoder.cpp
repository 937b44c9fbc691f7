// CPU twins of the sentence encoder's glue kernels (kernels/text_encoder.hpp): OpenMP over token
// rows or sentences; the per-element math is common/text_encoder.hpp's, as on the GPU.
#include "text_encoder.hpp"

#include <algorithm>
#include <vector>

#include "common/text_encoder.hpp"

namespace mpe::kernels {

namespace {
constexpr std::int64_t kParallelRows = 16;  // rows of work worth a parallel region
}

void text_layer_norm_cpu(const TextLayerNormArgs& a) {
  const std::int64_t h = a.h;
  const TextRows& t = a.rows;
#pragma omp parallel for schedule(static) if (t.n > kParallelRows)
  for (std::int64_t r = 0; r < t.n; ++r) {
    float* v = a.x + r * h;
    if (a.word) {
      const float* we = a.word + std::int64_t(t.ids[r]) * h;
      const float* pe = a.position + std::int64_t(t.pos[r]) * h;
      const float* te = a.type + std::int64_t(t.types[r]) * h;
      MPE_SIMD
      for (std::int64_t j = 0; j < h; ++j) v[j] = we[j] + pe[j] + te[j];
    }
    double mean = 0;  // float64 sums on the host: cheap here, and no cancellation in var
    MPE_SIMD_SUM(mean)
    for (std::int64_t j = 0; j < h; ++j) mean += v[j];
    mean /= static_cast<double>(h);
    double var = 0;
    MPE_SIMD_SUM(var)
    for (std::int64_t j = 0; j < h; ++j) var += (v[j] - mean) * (v[j] - mean);
    const float m = static_cast<float>(mean);
    const float inv = text_inv_std(static_cast<float>(var / static_cast<double>(h)), a.eps);
    MPE_SIMD
    for (std::int64_t j = 0; j < h; ++j) v[j] = text_layer_norm(v[j], m, inv, a.gamma[j], a.beta[j]);
  }
}

void text_heads_cpu(const TextHeadsArgs& a) {
  const TextRows& t = a.rows;
  const std::int64_t D = a.head_dim, H = a.heads * D, L = t.length;
#pragma omp parallel for schedule(static) if (t.n > kParallelRows)
  for (std::int64_t r = 0; r < t.n; ++r) {
    const std::int64_t b = t.sent[r], l = t.pos[r];
    for (std::int64_t h = 0; h < a.heads; ++h) {
      const std::int64_t cell = ((b * a.heads + h) * L + l) * D;
      if (a.merge) {
        std::copy_n(a.src + cell, D, a.q + r * H + h * D);
      } else {
        const float* row = a.src + r * 3 * H + h * D;
        std::copy_n(row, D, a.q + cell);
        std::copy_n(row + H, D, a.k + cell);
        std::copy_n(row + 2 * H, D, a.v + cell);
      }
    }
  }
}

void text_pool_cpu(const TextPoolArgs& a) {
  const TextRows& t = a.rows;
  const std::int64_t h = a.h;
#pragma omp parallel if (t.batch > kParallelRows)
  {
    std::vector<double> acc(static_cast<std::size_t>(h));
#pragma omp for schedule(static)
    for (std::int64_t b = 0; b < t.batch; ++b) {
      std::fill(acc.begin(), acc.end(), 0.0);
      double count = 0;
      for (std::int64_t r = t.off[b]; r < t.off[b + 1]; ++r) {
        const std::int64_t l = t.pos[r];
        if (!a.mask[b * t.length + l] || (a.cls && l > 0)) continue;
        for (std::int64_t j = 0; j < h; ++j) acc[static_cast<std::size_t>(j)] += a.x[r * h + j];
        count += 1;
      }
      double sum_sq = 0;
      for (double s : acc) sum_sq += s * s;
      const float scale =
          text_pool_scale(static_cast<float>(count), static_cast<float>(sum_sq), a.normalize);
      for (std::int64_t j = 0; j < h; ++j)
        a.out[b * h + j] = static_cast<float>(acc[static_cast<std::size_t>(j)]) * scale;
    }
  }
}

void text_convert_cpu(const TextConvertArgs& a) {
  auto* d = static_cast<std::uint16_t*>(a.dst);
  if (a.store == Storage::bf16) {
    for (std::int64_t i = 0; i < a.count; ++i) d[i] = StorageTraits<Storage::bf16>::store(a.src[i]);
  } else if (a.store == Storage::f16) {
    for (std::int64_t i = 0; i < a.count; ++i) d[i] = StorageTraits<Storage::f16>::store(a.src[i]);
  } else {
    std::copy_n(a.src, a.count, static_cast<float*>(a.dst));
  }
}

}  // namespace mpe::kernels
