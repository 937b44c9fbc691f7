// BERT forward pass: dense layers on the engine's GEMM kernel (W packed once at load; bias,
// residual and GELU applied as the GEMM stores), self-attention on the engine's attention
// kernel with the padding mask; embeddings, LayerNorm and pooling on the host. The kernels are
// called through the backend directly: their inputs are built here from weights that were
// checked at load (finite, shapes), so the public ops' per-call checks and scans are skipped.
#include <algorithm>
#include <cmath>
#include <memory>
#include <numeric>

#include <fmt/format.h>
#include <mpe/error.hpp>
#include <mpe/text.hpp>

#include "backend.hpp"
#include "common/hd.hpp"
#include "text/encoder_weights.hpp"

namespace mpe::text {

namespace {
constexpr std::int64_t kParallelRows = 16;  // rows of host work worth a parallel region

// Which token rows a forward pass computes: sentence b's first len[b] positions, packed one
// sentence after another from row off[b]. encode() and forward() compute only the real tokens
// (a batch of sentences of different lengths pads them to its longest for attention alone, so
// no dense layer works on padding); hidden_states() computes every position (len[b] = L).
struct RowPlan {
  std::int64_t B = 0, L = 0, n = 0;
  std::vector<std::int64_t> len, off;
};

RowPlan plan_rows(const TokenBatch& t, bool real_tokens_only) {
  RowPlan p;
  p.B = t.batch;
  p.L = t.length;
  p.len.assign(static_cast<std::size_t>(p.B), p.L);
  p.off.resize(static_cast<std::size_t>(p.B));
  if (real_tokens_only)
    for (std::int64_t b = 0; b < p.B; ++b) {
      std::int64_t l = 0;  // the leading run of real tokens ...
      while (l < p.L && t.mask[static_cast<std::size_t>(b * p.L + l)]) ++l;
      std::int64_t rest = l;  // ... is all when no real token follows the padding
      while (rest < p.L && !t.mask[static_cast<std::size_t>(b * p.L + rest)]) ++rest;
      if (rest == p.L) p.len[static_cast<std::size_t>(b)] = l;
    }
  for (std::int64_t b = 0; b < p.B; ++b) {
    p.off[static_cast<std::size_t>(b)] = p.n;
    p.n += p.len[static_cast<std::size_t>(b)];
  }
  return p;
}

// The activations of one forward pass, reused by every layer and by every batch of an
// encode() call (fresh buffers per layer cost page faults: ~6% of a 256-sentence batch).
class Workspace {
 public:
  // Room for n token rows of width H, MLP width I, and `padded` rows per attention operand.
  void fit(std::int64_t n, std::int64_t padded, std::int64_t H, std::int64_t I) {
    const std::int64_t need = n * (5 * H + I) + 4 * padded * H;
    if (need > size_) {
      buf_.reset(new float[static_cast<std::size_t>(need)]);
      size_ = need;
    }
    x = buf_.get();            // [n, H]: the hidden state
    qkv = x + n * H;           // [n, 3H]
    ctx = qkv + 3 * n * H;     // [n, H]
    up = ctx + n * H;          // [n, I]
    q = up + n * I;            // [B, heads, L, D] each: q, k, v and the attention output
    k = q + padded * H;
    v = k + padded * H;
    o = v + padded * H;
  }
  float *x = nullptr, *qkv = nullptr, *ctx = nullptr, *up = nullptr, *q = nullptr,
        *k = nullptr, *v = nullptr, *o = nullptr;

 private:
  std::unique_ptr<float[]> buf_;
  std::int64_t size_ = 0;
};

// y[n, out] = act(x·wᵀ + b (+ y when `residual`)) on the CPU dense kernel.
void dense(const float* x, std::int64_t n, const DenseWeights& d, float* y, bool residual,
           kernels::MpAct act = kernels::MpAct::none) {
  kernels::DenseLinearArgs a;
  a.x = x;
  a.w = d.w.data<float>();
  a.bias = d.b.data<float>();
  a.y = y;
  a.n = n;
  a.k = d.w.dim(1);
  a.m = d.w.dim(0);
  a.accumulate = residual;
  a.act = act;
  a.w_packed = d.packed.data();
  a.w_panel_cols = d.panel_cols;
  detail::cpu_backend().dense_linear(0, a);
}

// x[r] = LayerNorm(x[r]) · g + b, row by row over [rows, h].
void layer_norm(float* x, std::int64_t rows, std::int64_t h, const std::vector<float>& g,
                const std::vector<float>& b, double eps) {
  const float* gp = g.data();
  const float* bp = b.data();
#pragma omp parallel for schedule(static) if (rows > kParallelRows)
  for (std::int64_t r = 0; r < rows; ++r) {
    float* v = x + r * h;
    double mean = 0;
    MPE_SIMD_SUM(mean)
    for (std::int64_t j = 0; j < h; ++j) mean += v[j];
    mean /= static_cast<double>(h);
    double var = 0;
    MPE_SIMD_SUM(var)
    for (std::int64_t j = 0; j < h; ++j) var += (v[j] - mean) * (v[j] - mean);
    var /= static_cast<double>(h);
    const double inv = 1.0 / std::sqrt(var + eps);
    MPE_SIMD
    for (std::int64_t j = 0; j < h; ++j)
      v[j] = static_cast<float>((v[j] - mean) * inv) * gp[j] + bp[j];
  }
}

// Packed rows [n, 3H] (q | k | v per row) into three [B, heads, L, D] arrays; positions past
// a sentence's rows stay as they are (zero: fit_padding).
void split_heads(const float* qkv, const RowPlan& p, std::int64_t heads, std::int64_t D,
                 float* q, float* k, float* v) {
  const std::int64_t H = heads * D, L = p.L;
  float* dst[3] = {q, k, v};
#pragma omp parallel for schedule(static) if (p.n > kParallelRows)
  for (std::int64_t b = 0; b < p.B; ++b)
    for (std::int64_t l = 0; l < p.len[static_cast<std::size_t>(b)]; ++l) {
      const float* row = qkv + (p.off[static_cast<std::size_t>(b)] + l) * 3 * H;
      for (int part = 0; part < 3; ++part)
        for (std::int64_t h = 0; h < heads; ++h)
          std::copy_n(row + part * H + h * D, D, dst[part] + ((b * heads + h) * L + l) * D);
    }
}

// [B, heads, L, D] back into the packed rows [n, H].
void merge_heads(const float* o, const RowPlan& p, std::int64_t heads, std::int64_t D,
                 float* out) {
  const std::int64_t L = p.L;
#pragma omp parallel for schedule(static) if (p.n > kParallelRows)
  for (std::int64_t b = 0; b < p.B; ++b)
    for (std::int64_t l = 0; l < p.len[static_cast<std::size_t>(b)]; ++l)
      for (std::int64_t h = 0; h < heads; ++h)
        std::copy_n(o + ((b * heads + h) * L + l) * D, D,
                    out + (p.off[static_cast<std::size_t>(b)] + l) * heads * D + h * D);
}

void check_batch(const BertConfig& c, const TokenBatch& t) {
  const std::int64_t B = t.batch, L = t.length;
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
}

// The last layer's vectors of the plan's token rows of a checked batch, left in ws.x ([n, H]).
void run_layers(const BertConfig& c, const SentenceEncoder::Weights& w, const TokenBatch& t,
                const RowPlan& p, Workspace& ws) {
  const std::int64_t B = p.B, L = p.L, H = c.hidden_size, n = p.n;
  const std::int64_t heads = c.num_heads, D = H / heads;
  ws.fit(n, B * L, H, c.intermediate_size);
  if (n < B * L)  // keys past a sentence's rows are masked: zeros keep 0 · v finite
    std::fill(ws.q, ws.q + 3 * B * L * H, 0.0f);
  float* x = ws.x;
  for (std::int64_t b = 0; b < B; ++b)
    for (std::int64_t l = 0; l < p.len[static_cast<std::size_t>(b)]; ++l) {
      const auto cell = static_cast<std::size_t>(b * L + l);
      const std::int64_t ty = t.type_ids.empty() ? 0 : t.type_ids[cell];
      const float* we = w.word.data() + std::int64_t(t.ids[cell]) * H;
      const float* pe = w.pos.data() + l * H;
      const float* te = w.type.data() + ty * H;
      float* xr = x + (p.off[static_cast<std::size_t>(b)] + l) * H;
      for (std::int64_t j = 0; j < H; ++j) xr[j] = we[j] + pe[j] + te[j];
    }
  layer_norm(x, n, H, w.ln_g, w.ln_b, c.layer_norm_eps);

  kernels::AttentionArgs att;
  att.q = ws.q;
  att.k = ws.k;
  att.v = ws.v;
  att.out = ws.o;
  att.key_mask = t.mask.data();
  att.store = kernels::Storage::f32;
  att.batch = B;
  att.q_heads = att.kv_heads = heads;
  att.q_len = att.k_len = L;
  att.head_dim = D;
  att.scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(D)));
  for (const SentenceEncoder::Layer& layer : w.layers) {
    dense(x, n, layer.qkv, ws.qkv, false);
    split_heads(ws.qkv, p, heads, D, ws.q, ws.k, ws.v);
    detail::cpu_backend().attention(0, att);
    merge_heads(ws.o, p, heads, D, ws.ctx);
    dense(ws.ctx, n, layer.out, x, true);  // x += ctx·Woᵀ + b: the residual
    layer_norm(x, n, H, layer.ln1_g, layer.ln1_b, c.layer_norm_eps);
    dense(x, n, layer.up, ws.up, false, kernels::MpAct::gelu);
    dense(ws.up, n, layer.down, x, true);  // x += gelu(...)·Wdᵀ + b
    layer_norm(x, n, H, layer.ln2_g, layer.ln2_b, c.layer_norm_eps);
  }
}

// Masked mean (or CLS) pooling of the plan's rows x [n, H], L2-normalised when asked.
void pool(const float* x, const TokenBatch& t, const RowPlan& p, std::int64_t H,
          Pooling pooling, bool normalize, float* out) {
  std::vector<double> acc(static_cast<std::size_t>(H));
  for (std::int64_t b = 0; b < p.B; ++b) {
    std::fill(acc.begin(), acc.end(), 0.0);
    double count = 0;
    for (std::int64_t l = 0; l < p.len[static_cast<std::size_t>(b)]; ++l) {
      if (!t.mask[static_cast<std::size_t>(b * p.L + l)]) continue;
      if (pooling == Pooling::cls && l > 0) break;
      const float* xr = x + (p.off[static_cast<std::size_t>(b)] + l) * H;
      for (std::int64_t j = 0; j < H; ++j) acc[static_cast<std::size_t>(j)] += xr[j];
      count += 1;
    }
    double norm = 0;
    for (double& a : acc) {
      a /= std::max(count, 1.0);
      norm += a * a;
    }
    const double scale = normalize && norm > 0 ? 1.0 / std::sqrt(norm) : 1.0;
    for (std::int64_t j = 0; j < H; ++j)
      out[b * H + j] = static_cast<float>(acc[static_cast<std::size_t>(j)] * scale);
  }
}
}  // namespace

Tensor SentenceEncoder::hidden_states(const TokenBatch& t) const {
  check_batch(config_, t);
  const std::int64_t B = t.batch, L = t.length, H = config_.hidden_size;
  Tensor out = Tensor::empty({B, L, H}, DType::f32);
  if (B * L == 0) return out;
  Workspace ws;
  run_layers(config_, *w_, t, plan_rows(t, false), ws);  // every position: rows are [b, l]
  std::copy_n(ws.x, B * L * H, out.data<float>());
  return out;
}

Tensor SentenceEncoder::forward(const TokenBatch& t) const {
  check_batch(config_, t);
  const std::int64_t B = t.batch, H = config_.hidden_size;
  Tensor out = Tensor::zeros({B, H}, DType::f32);
  if (B * t.length == 0) return out;
  Workspace ws;
  const RowPlan p = plan_rows(t, true);
  run_layers(config_, *w_, t, p, ws);
  pool(ws.x, t, p, H, pooling_, normalize_, out.data<float>());
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
  Workspace ws;
  std::vector<float> pooled(static_cast<std::size_t>(std::min(N, batch_size) * H));
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
    check_batch(config_, tb);
    const RowPlan p = plan_rows(tb, true);
    run_layers(config_, *w_, tb, p, ws);
    pool(ws.x, tb, p, H, pooling_, normalize_, pooled.data());
    for (std::int64_t r = s; r < e; ++r)
      std::copy_n(pooled.data() + (r - s) * H, H,
                  out.data<float>() + static_cast<std::int64_t>(order[std::size_t(r)]) * H);
  }
  return out;
}

std::vector<float> SentenceEncoder::encode(const std::string& text) const {
  return encode(std::vector<std::string>{text}, 1).to_vector<float>();
}

}  // namespace mpe::text
