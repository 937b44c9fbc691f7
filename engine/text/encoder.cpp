// BERT forward pass on one backend (the CPU, or a CUDA device): dense layers on the engine's
// GEMM (kernels::dense_linear: on the CPU W packed once at load; cuBLAS on the GPU; bias,
// residual and GELU applied as the GEMM stores), self-attention on the engine's attention
// kernel with the padding mask, embeddings, LayerNorm, head layout and pooling on the
// text_encoder kernels. The kernels are called through the backend directly: their inputs are
// built here from weights that were checked at load (finite, shapes), so the public ops'
// per-call checks and scans are skipped.
#include <algorithm>
#include <cmath>
#include <memory>
#include <numeric>

#include <fmt/format.h>
#include <mpe/error.hpp>
#include <mpe/text.hpp>

#include "backend.hpp"
#include "text/encoder_weights.hpp"

namespace mpe::text {

namespace {
// Which token rows a forward pass computes: sentence b's first len[b] positions, packed one
// sentence after another. encode() and forward() compute only the real tokens (a batch of
// sentences of different lengths pads them to its longest for attention alone, so no dense
// layer works on padding); hidden_states() computes every position (len[b] = L).
struct RowPlan {
  std::int64_t B = 0, L = 0;
  std::vector<std::int32_t> ids, types, pos, sent;  // per row
  std::vector<std::int64_t> off;                    // [B + 1]
  std::int64_t n() const { return off.back(); }
};

RowPlan plan_rows(const TokenBatch& t, bool real_tokens_only) {
  RowPlan p;
  p.B = t.batch;
  p.L = t.length;
  p.off.assign(1, 0);
  for (std::int64_t b = 0; b < p.B; ++b) {
    std::int64_t len = p.L;
    if (real_tokens_only) {
      std::int64_t l = 0;  // the leading run of real tokens ...
      while (l < p.L && t.mask[static_cast<std::size_t>(b * p.L + l)]) ++l;
      std::int64_t rest = l;  // ... is all when no real token follows the padding
      while (rest < p.L && !t.mask[static_cast<std::size_t>(b * p.L + rest)]) ++rest;
      if (rest == p.L) len = l;
    }
    for (std::int64_t l = 0; l < len; ++l) {
      const auto cell = static_cast<std::size_t>(b * p.L + l);
      p.ids.push_back(t.ids[cell]);
      p.types.push_back(t.type_ids.empty() ? 0 : t.type_ids[cell]);
      p.pos.push_back(static_cast<std::int32_t>(l));
      p.sent.push_back(static_cast<std::int32_t>(b));
    }
    p.off.push_back(static_cast<std::int64_t>(p.ids.size()));
  }
  return p;
}

// Memory of the encoder's device: host arrays, or device tensors (kept alive here).
class Arena {
 public:
  explicit Arena(const Device& d) : dev_(d) {}
  template <class T>
  const T* put(const std::vector<T>& v) {
    if (dev_.kind == DeviceKind::cpu) return v.data();
    keep_.push_back(Tensor::from_vector(v, {static_cast<std::int64_t>(v.size())}, dev_));
    return keep_.back().data<T>();
  }

 private:
  Device dev_;
  std::vector<Tensor> keep_;
};

// The activations of one forward pass on the encoder's device, reused by every layer and by
// every batch of an encode() call (fresh buffers per layer cost page faults: ~6% of a
// 256-sentence batch on the CPU).
class Workspace {
 public:
  explicit Workspace(const Device& d) : dev_(d) {}
  // Room for n token rows of width H, MLP width I, and `padded` rows per attention operand.
  void fit(std::int64_t n, std::int64_t padded, std::int64_t H, std::int64_t I) {
    // + the 16-bit copy of a GEMM's input rows (at most n x max(H, I) halves).
    const std::int64_t need = n * (5 * H + I) + 4 * padded * H + (n * std::max(H, I) + 1) / 2;
    if (need > size_) {
      buf_ = Tensor::empty({need}, DType::f32, dev_);
      size_ = need;
    }
    x = buf_.data<float>();    // [n, H]: the hidden state
    qkv = x + n * H;           // [n, 3H]
    ctx = qkv + 3 * n * H;     // [n, H]
    up = ctx + n * H;          // [n, I]
    q = up + n * I;            // [B, heads, L, D] each: q, k, v and the attention output
    k = q + padded * H;
    v = k + padded * H;
    o = v + padded * H;
    x16 = o + padded * H;
  }
  float *x = nullptr, *qkv = nullptr, *ctx = nullptr, *up = nullptr, *q = nullptr,
        *k = nullptr, *v = nullptr, *o = nullptr;
  void* x16 = nullptr;

 private:
  Device dev_;
  Tensor buf_;
  std::int64_t size_ = 0;
};

// y[n, out] = act(x·wᵀ + b (+ y when `residual`)). With 16-bit weights (d.w16) x is first
// rounded to the same storage into x16.
void dense(detail::Backend& be, int index, const float* x, std::int64_t n, const DensePtrs& d,
           float* y, bool residual, kernels::MpAct act, kernels::Storage store, void* x16) {
  kernels::DenseLinearArgs a;
  if (d.w16) {
    kernels::TextConvertArgs cv;
    cv.src = x;
    cv.dst = x16;
    cv.count = n * d.in;
    cv.store = store;
    be.text_convert(index, cv);
    a.operands = store;
    a.x16 = x16;
    a.w16 = d.w16;
  }
  a.x = x;
  a.w = d.w;
  a.bias = d.b;
  a.y = y;
  a.n = n;
  a.k = d.in;
  a.m = d.out;
  a.accumulate = residual;
  a.act = act;
  a.w_packed = d.packed;
  a.w_panel_cols = d.panel_cols;
  be.dense_linear(index, a);
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

// One pass over a checked batch on `dev`: the last layer's vectors of the plan's rows are left
// in ws.x ([n, H]); with `pooled` set, the pooled vectors [B, H] are written there too (device
// memory on a GPU).
void run(const BertConfig& c, const NetPtrs& w, DType storage, const Device& dev,
         const TokenBatch& t, const RowPlan& p, Workspace& ws, Pooling pooling, bool normalize,
         float* pooled) {
  detail::Backend& be = detail::backend_for(dev);
  const int idx = dev.index;
  const std::int64_t B = p.B, L = p.L, H = c.hidden_size, n = p.n();
  const std::int64_t heads = c.num_heads, D = H / heads;
  const float eps = static_cast<float>(c.layer_norm_eps);
  Arena arena(dev);
  kernels::TextRows rows;
  rows.ids = arena.put(p.ids);
  rows.types = arena.put(p.types);
  rows.pos = arena.put(p.pos);
  rows.sent = arena.put(p.sent);
  rows.off = arena.put(p.off);
  rows.n = n;
  rows.batch = B;
  rows.length = L;
  const std::int32_t* mask = arena.put(t.mask);
  ws.fit(n, B * L, H, c.intermediate_size);
  if (n < B * L)  // keys past a sentence's rows are masked: zeros keep 0 · v finite
    be.fill_bytes(idx, ws.q, 0, static_cast<std::size_t>(3 * B * L * H) * sizeof(float));

  kernels::TextLayerNormArgs ln;
  ln.rows = rows;
  ln.x = ws.x;
  ln.h = H;
  ln.eps = eps;
  ln.word = w.word;
  ln.position = w.pos;
  ln.type = w.type;
  ln.gamma = w.ln_g;
  ln.beta = w.ln_b;
  be.text_layer_norm(idx, ln);  // embeddings
  ln.word = ln.position = ln.type = nullptr;

  kernels::AttentionArgs att;
  att.q = ws.q;
  att.k = ws.k;
  att.v = ws.v;
  att.out = ws.o;
  att.key_mask = mask;
  att.store = kernels::Storage::f32;
  att.batch = B;
  att.q_heads = att.kv_heads = heads;
  att.q_len = att.k_len = L;
  att.head_dim = D;
  att.scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(D)));
  kernels::TextHeadsArgs split;
  split.rows = rows;
  split.heads = heads;
  split.head_dim = D;
  split.src = ws.qkv;
  split.q = ws.q;
  split.k = ws.k;
  split.v = ws.v;
  kernels::TextHeadsArgs merge = split;
  merge.merge = true;
  merge.src = ws.o;
  merge.q = ws.ctx;
  merge.k = merge.v = nullptr;
  const kernels::Storage st =
      storage == DType::f32 ? kernels::Storage::f32
                            : (storage == DType::bf16 ? kernels::Storage::bf16 : kernels::Storage::f16);
  constexpr kernels::MpAct kNone = kernels::MpAct::none;
  for (const LayerPtrs& layer : w.layers) {
    dense(be, idx, ws.x, n, layer.qkv, ws.qkv, false, kNone, st, ws.x16);
    be.text_heads(idx, split);
    be.attention(idx, att);
    be.text_heads(idx, merge);
    dense(be, idx, ws.ctx, n, layer.out, ws.x, true, kNone, st, ws.x16);  // x += ctx·Woᵀ + b
    ln.gamma = layer.ln1_g;
    ln.beta = layer.ln1_b;
    be.text_layer_norm(idx, ln);
    dense(be, idx, ws.x, n, layer.up, ws.up, false, kernels::MpAct::gelu, st, ws.x16);
    dense(be, idx, ws.up, n, layer.down, ws.x, true, kNone, st, ws.x16);  // x += gelu(..)·Wdᵀ + b
    ln.gamma = layer.ln2_g;
    ln.beta = layer.ln2_b;
    be.text_layer_norm(idx, ln);
  }
  if (pooled) {
    kernels::TextPoolArgs pa;
    pa.rows = rows;
    pa.mask = mask;
    pa.x = ws.x;
    pa.out = pooled;
    pa.h = H;
    pa.cls = pooling == Pooling::cls;
    pa.normalize = normalize;
    be.text_pool(idx, pa);
  }
  if (dev.kind != DeviceKind::cpu) be.synchronize(idx);  // before `arena` frees the row arrays
}
}  // namespace

void place_weights(SentenceEncoder::Weights& w, const Device& device, DType storage) {
  const bool host = device.kind == DeviceKind::cpu;
  w.storage = storage;
  auto put = [&](const std::vector<float>& v) -> const float* {
    if (host) return v.data();
    w.on_device.push_back(Tensor::from_vector(v, {static_cast<std::int64_t>(v.size())}, device));
    return w.on_device.back().data<float>();
  };
  auto put_t = [&](const Tensor& t) -> const float* {
    if (host) return t.data<float>();
    w.on_device.push_back(t.to(device));
    return w.on_device.back().data<float>();
  };
  auto dense_ptrs = [&](const DenseWeights& d) {
    DensePtrs p;
    if (storage == DType::f32) {
      p.w = put_t(d.w);
    } else {  // the 16-bit copy only: the GEMM reads nothing else
      w.on_device.push_back(d.w.astype(storage).to(device));
      p.w16 = w.on_device.back().raw();
    }
    p.b = put_t(d.b);
    if (host) {
      p.packed = d.packed.data();
      p.panel_cols = d.panel_cols;
    }
    p.out = d.w.dim(0);
    p.in = d.w.dim(1);
    return p;
  };
  w.on_device.clear();
  w.on_device.reserve(8 + 16 * w.layers.size());  // no reallocation: pointers stay valid
  NetPtrs& n = w.net;
  n.word = put(w.word);
  n.pos = put(w.pos);
  n.type = put(w.type);
  n.ln_g = put(w.ln_g);
  n.ln_b = put(w.ln_b);
  n.layers.clear();
  for (const SentenceEncoder::Layer& l : w.layers) {
    LayerPtrs p;
    p.qkv = dense_ptrs(l.qkv);
    p.out = dense_ptrs(l.out);
    p.up = dense_ptrs(l.up);
    p.down = dense_ptrs(l.down);
    p.ln1_g = put(l.ln1_g);
    p.ln1_b = put(l.ln1_b);
    p.ln2_g = put(l.ln2_g);
    p.ln2_b = put(l.ln2_b);
    n.layers.push_back(p);
  }
}

Tensor SentenceEncoder::hidden_states(const TokenBatch& t) const {
  check_batch(config_, t);
  const std::int64_t B = t.batch, L = t.length, H = config_.hidden_size;
  Tensor out = Tensor::empty({B, L, H}, DType::f32);
  if (B * L == 0) return out;
  Workspace ws(device_);
  const RowPlan p = plan_rows(t, false);  // every position: rows are [b, l]
  run(config_, w_->net, w_->storage, device_, t, p, ws, pooling_, normalize_, nullptr);
  detail::backend_for(device_).copy_to_host(device_.index, out.data<float>(), ws.x,
                                            out.nbytes());
  return out;
}

Tensor SentenceEncoder::forward(const TokenBatch& t) const {
  check_batch(config_, t);
  const std::int64_t B = t.batch, H = config_.hidden_size;
  Tensor out = Tensor::zeros({B, H}, DType::f32, device_);
  if (B * t.length > 0) {
    Workspace ws(device_);
    run(config_, w_->net, w_->storage, device_, t, plan_rows(t, true), ws, pooling_, normalize_,
        out.data<float>());
  }
  return out.to(Device::cpu());
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
  Workspace ws(device_);
  Tensor pooled_t = Tensor::empty({std::min(N, batch_size), H}, DType::f32, device_);
  std::vector<float> pooled(static_cast<std::size_t>(std::min(N, batch_size) * H));
  detail::Backend& be = detail::backend_for(device_);
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
    run(config_, w_->net, w_->storage, device_, tb, plan_rows(tb, true), ws, pooling_, normalize_,
        pooled_t.data<float>());
    be.copy_to_host(device_.index, pooled.data(), pooled_t.data<float>(),
                    static_cast<std::size_t>(tb.batch * H) * sizeof(float));
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
