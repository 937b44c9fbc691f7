// BERT forward pass: dense layers on the engine's GEMM (gnn::linear), self-attention on
// mpe::attention with the padding mask; embeddings, LayerNorm, GELU and pooling on the host.
#include <algorithm>
#include <cmath>
#include <numeric>

#include <fmt/format.h>
#include <mpe/attention.hpp>
#include <mpe/error.hpp>
#include <mpe/gnn.hpp>
#include <mpe/text.hpp>

#include "common/logspace.hpp"
#include "text/encoder_weights.hpp"

namespace mpe::text {

namespace {
constexpr std::int64_t kParallelRows = 16;  // rows of host work worth a parallel region

// x[r] = LayerNorm(x[r] (+ add[r])) · g + b, row by row over [rows, h].
void add_layer_norm(float* x, const float* add, std::int64_t rows, std::int64_t h,
                    const std::vector<float>& g, const std::vector<float>& b, double eps) {
#pragma omp parallel for schedule(static) if (rows > kParallelRows)
  for (std::int64_t r = 0; r < rows; ++r) {
    float* v = x + r * h;
    if (add)
      for (std::int64_t j = 0; j < h; ++j) v[j] += add[r * h + j];
    double mean = 0;
    for (std::int64_t j = 0; j < h; ++j) mean += v[j];
    mean /= static_cast<double>(h);
    double var = 0;
    for (std::int64_t j = 0; j < h; ++j) var += (v[j] - mean) * (v[j] - mean);
    var /= static_cast<double>(h);
    const double inv = 1.0 / std::sqrt(var + eps);
    for (std::int64_t j = 0; j < h; ++j)
      v[j] = static_cast<float>((v[j] - mean) * inv) * g[static_cast<std::size_t>(j)] +
             b[static_cast<std::size_t>(j)];
  }
}

// erf by Abramowitz and Stegun's formula 7.1.26 (|error| < 1.5e-7, below float32's rounding of
// GELU's output); std::erf is a library call per element and was a tenth of the encoder's time.
// The exp is the log-sum-exp kernels' branch-free one, so that the GELU loop vectorises.
inline float erf_as(float x) {
  const float a = std::fabs(x);
  const float t = 1.0f / (1.0f + 0.3275911f * a);
  const float p =
      t * (0.254829592f +
           t * (-0.284496736f + t * (1.421413741f + t * (-1.453152027f + t * 1.061405429f))));
  return std::copysign(1.0f - p * kernels::lse_exp(-a * a), x);
}

// GELU with erf (BERT's "gelu", not the tanh approximation), in place.
void gelu(float* x, std::int64_t n) {
#pragma omp parallel for schedule(static) if (n > kParallelRows * 1024)
  for (std::int64_t k = 0; k < n; ++k)
    x[k] = 0.5f * x[k] * (1.0f + erf_as(x[k] * static_cast<float>(M_SQRT1_2)));
}

// [B·L, 3H] (q | k | v per row) into three [B, heads, L, D] tensors.
void split_heads(const float* qkv, std::int64_t B, std::int64_t L, std::int64_t heads,
                 std::int64_t D, Tensor& q, Tensor& k, Tensor& v) {
  const std::int64_t H = heads * D;
  float* dst[3] = {q.data<float>(), k.data<float>(), v.data<float>()};
#pragma omp parallel for collapse(2) schedule(static) if (B * L > kParallelRows)
  for (std::int64_t b = 0; b < B; ++b)
    for (std::int64_t l = 0; l < L; ++l) {
      const float* row = qkv + (b * L + l) * 3 * H;
      for (int part = 0; part < 3; ++part)
        for (std::int64_t h = 0; h < heads; ++h)
          std::copy_n(row + part * H + h * D, D, dst[part] + ((b * heads + h) * L + l) * D);
    }
}

// [B, heads, L, D] back into [B·L, H].
void merge_heads(const float* o, std::int64_t B, std::int64_t L, std::int64_t heads,
                 std::int64_t D, float* out) {
#pragma omp parallel for collapse(2) schedule(static) if (B * L > kParallelRows)
  for (std::int64_t b = 0; b < B; ++b)
    for (std::int64_t l = 0; l < L; ++l)
      for (std::int64_t h = 0; h < heads; ++h)
        std::copy_n(o + ((b * heads + h) * L + l) * D, D, out + (b * L + l) * heads * D + h * D);
}
}  // namespace

Tensor SentenceEncoder::hidden_states(const TokenBatch& t) const {
  const BertConfig& c = config_;
  const Weights& w = *w_;
  const std::int64_t B = t.batch, L = t.length, H = c.hidden_size;
  const std::int64_t heads = c.num_heads, D = H / heads;
  const auto cells = static_cast<std::size_t>(B * L);
  if (B < 0 || L < 0 || t.ids.size() != cells || t.mask.size() != cells ||
      (!t.type_ids.empty() && t.type_ids.size() != cells))
    throw Error(ErrorCode::shape_mismatch,
                fmt::format("SentenceEncoder: token batch of {} x {} has {} ids, {} mask and {} "
                            "type entries",
                            B, L, t.ids.size(), t.mask.size(), t.type_ids.size()));
  if (L > c.max_positions)
    throw Error(ErrorCode::invalid_argument,
                fmt::format("SentenceEncoder: {} tokens exceed the model's {} positions", L,
                            c.max_positions));
  for (std::size_t k = 0; k < cells; ++k) {
    if (t.ids[k] < 0 || t.ids[k] >= c.vocab_size)
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("SentenceEncoder: token id {} at [{}, {}] is outside the vocab "
                              "[0, {})",
                              t.ids[k], k / std::size_t(L), k % std::size_t(L), c.vocab_size));
    if (!t.type_ids.empty() && (t.type_ids[k] < 0 || t.type_ids[k] >= c.type_vocab_size))
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("SentenceEncoder: token type {} outside [0, {})", t.type_ids[k],
                              c.type_vocab_size));
  }
  const std::int64_t n = B * L;
  Tensor x = Tensor::empty({n, H}, DType::f32);
  if (n == 0) return x.reshape({B, L, H});
  float* xp = x.data<float>();
  for (std::int64_t r = 0; r < n; ++r) {
    const std::int64_t id = t.ids[static_cast<std::size_t>(r)];
    const std::int64_t ty = t.type_ids.empty() ? 0 : t.type_ids[static_cast<std::size_t>(r)];
    const float* we = w.word.data() + id * H;
    const float* pe = w.pos.data() + (r % L) * H;
    const float* te = w.type.data() + ty * H;
    for (std::int64_t j = 0; j < H; ++j) xp[r * H + j] = we[j] + pe[j] + te[j];
  }
  add_layer_norm(xp, nullptr, n, H, w.ln_g, w.ln_b, c.layer_norm_eps);

  const Tensor mask = Tensor::from_vector(t.mask, {B, L});
  Tensor q = Tensor::empty({B, heads, L, D}, DType::f32);
  Tensor k = Tensor::empty({B, heads, L, D}, DType::f32);
  Tensor v = Tensor::empty({B, heads, L, D}, DType::f32);
  Tensor o = Tensor::empty({B, heads, L, D}, DType::f32);
  Tensor ctx = Tensor::empty({n, H}, DType::f32);
  Tensor no_lse;
  AttentionOptions opt;
  opt.scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(D)));
  for (const Layer& layer : w.layers) {
    const Tensor qkv = gnn::linear(x, layer.qkv_w, layer.qkv_b);
    split_heads(qkv.data<float>(), B, L, heads, D, q, k, v);
    attention(q, k, v, mask, opt, o, no_lse);
    merge_heads(o.data<float>(), B, L, heads, D, ctx.data<float>());
    Tensor a = gnn::linear(ctx, layer.out_w, layer.out_b);
    add_layer_norm(a.data<float>(), xp, n, H, layer.ln1_g, layer.ln1_b, c.layer_norm_eps);
    Tensor up = gnn::linear(a, layer.up_w, layer.up_b);
    gelu(up.data<float>(), up.numel());
    x = gnn::linear(up, layer.down_w, layer.down_b);
    xp = x.data<float>();
    add_layer_norm(xp, a.data<float>(), n, H, layer.ln2_g, layer.ln2_b, c.layer_norm_eps);
  }
  return x.reshape({B, L, H});
}

Tensor SentenceEncoder::forward(const TokenBatch& t) const {
  const std::int64_t B = t.batch, L = t.length, H = config_.hidden_size;
  const Tensor x = hidden_states(t);
  Tensor out = Tensor::zeros({B, H}, DType::f32);
  const float* xp = x.data<float>();
  float* op = out.data<float>();
  for (std::int64_t b = 0; b < B; ++b) {
    std::vector<double> acc(static_cast<std::size_t>(H), 0.0);
    double count = 0;
    for (std::int64_t l = 0; l < L; ++l) {
      if (!t.mask[static_cast<std::size_t>(b * L + l)]) continue;
      if (pooling_ == Pooling::cls && l > 0) break;
      for (std::int64_t j = 0; j < H; ++j) acc[static_cast<std::size_t>(j)] += xp[(b * L + l) * H + j];
      count += 1;
    }
    double norm = 0;
    for (double& a : acc) {
      a /= std::max(count, 1.0);
      norm += a * a;
    }
    const double scale = normalize_ && norm > 0 ? 1.0 / std::sqrt(norm) : 1.0;
    for (std::int64_t j = 0; j < H; ++j)
      op[b * H + j] = static_cast<float>(acc[static_cast<std::size_t>(j)] * scale);
  }
  return out;
}

Tensor SentenceEncoder::encode(const std::vector<std::string>& texts,
                               std::int64_t batch_size) const {
  if (batch_size < 1)
    throw Error(ErrorCode::invalid_argument,
                fmt::format("SentenceEncoder::encode: batch_size {} must be >= 1", batch_size));
  const std::int64_t N = static_cast<std::int64_t>(texts.size()), H = config_.hidden_size;
  std::vector<std::vector<std::int32_t>> ids(texts.size());
  for (std::size_t k = 0; k < texts.size(); ++k) ids[k] = tokenizer_.encode(texts[k], max_length_);
  // Similar lengths share a batch, so that little work goes to padding.
  std::vector<std::size_t> order(texts.size());
  std::iota(order.begin(), order.end(), std::size_t(0));
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return ids[a].size() < ids[b].size(); });
  Tensor out = Tensor::empty({N, H}, DType::f32);
  for (std::int64_t s = 0; s < N; s += batch_size) {
    const std::int64_t e = std::min(N, s + batch_size);
    TokenBatch tb;
    tb.batch = e - s;
    for (std::int64_t r = s; r < e; ++r)
      tb.length = std::max<std::int64_t>(tb.length, std::int64_t(ids[order[std::size_t(r)]].size()));
    const auto cells = static_cast<std::size_t>(tb.batch * tb.length);
    tb.ids.assign(cells, tokenizer_.pad_id());
    tb.mask.assign(cells, 0);
    for (std::int64_t r = s; r < e; ++r) {
      const auto& v = ids[order[std::size_t(r)]];
      const auto row = static_cast<std::size_t>((r - s) * tb.length);
      std::copy(v.begin(), v.end(), tb.ids.begin() + static_cast<std::ptrdiff_t>(row));
      std::fill_n(tb.mask.begin() + static_cast<std::ptrdiff_t>(row), v.size(), 1);
      tb.lengths.push_back(static_cast<std::int64_t>(v.size()));
    }
    const Tensor y = forward(tb);
    for (std::int64_t r = s; r < e; ++r)
      std::copy_n(y.data<float>() + (r - s) * H, H,
                  out.data<float>() + static_cast<std::int64_t>(order[std::size_t(r)]) * H);
  }
  return out;
}

std::vector<float> SentenceEncoder::encode(const std::string& text) const {
  return encode(std::vector<std::string>{text}, 1).to_vector<float>();
}

}  // namespace mpe::text
