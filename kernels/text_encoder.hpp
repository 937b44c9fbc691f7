#pragma once
// Kernel entry points of the BERT sentence encoder's glue between its GEMMs (dense_linear) and
// attention: embeddings + LayerNorm, LayerNorm, moving token rows to and from attention's
// [batch, heads, L, D] layout, pooling. Float32; per-element math in common/text_encoder.hpp.
#include <cstdint>

#include "common/storage.hpp"
#include "stream.hpp"

namespace mpe::kernels {

// The token rows of a batch: row r is position pos[r] of sentence sent[r]; sentence b's rows are
// off[b] .. off[b + 1] (consecutive). Only the rows a pass computes are listed (the real tokens,
// or every padded position); attention pads them to `length` per sentence.
struct TextRows {
  const std::int32_t* ids = nullptr;    // [n] token ids
  const std::int32_t* types = nullptr;  // [n] token types
  const std::int32_t* pos = nullptr;    // [n] positions
  const std::int32_t* sent = nullptr;   // [n] sentences
  const std::int64_t* off = nullptr;    // [batch + 1]
  std::int64_t n = 0;
  std::int64_t batch = 0;
  std::int64_t length = 0;  // L: the padded length attention sees
};

// x[r] = LayerNorm(word[ids[r]] + position[pos[r]] + type[types[r]]) when `word` is set, else
// LayerNorm(x[r]) in place; rows of width h.
struct TextLayerNormArgs {
  TextRows rows;
  const float* word = nullptr;
  const float* position = nullptr;
  const float* type = nullptr;
  const float* gamma = nullptr;  // [h]
  const float* beta = nullptr;   // [h]
  float* x = nullptr;            // [n, h]
  std::int64_t h = 0;
  float eps = 1e-12f;
};

// Split: rows qkv [n, 3H] (q | k | v) into q, k, v [batch, heads, L, D]. Merge: o
// [batch, heads, L, D] into rows out [n, H]. Padded positions are not touched.
struct TextHeadsArgs {
  TextRows rows;
  std::int64_t heads = 0;
  std::int64_t head_dim = 0;
  bool merge = false;
  const float* src = nullptr;  // split: qkv; merge: o
  float* q = nullptr;          // split: the three outputs; merge: q is the output rows
  float* k = nullptr;
  float* v = nullptr;
};

// out[b] = the mean of sentence b's rows whose mask [batch, L] is set (cls: row 0 only), L2-
// normalised when `normalize`.
struct TextPoolArgs {
  TextRows rows;
  const std::int32_t* mask = nullptr;  // [batch, L]
  const float* x = nullptr;            // [n, h]
  float* out = nullptr;                // [batch, h]
  std::int64_t h = 0;
  bool cls = false;
  bool normalize = true;
};

// dst[i] = src[i] rounded to `store` (the 16-bit operands of the dense GEMMs).
struct TextConvertArgs {
  const float* src = nullptr;
  void* dst = nullptr;
  std::int64_t count = 0;
  Storage store = Storage::bf16;
};

void text_layer_norm_cpu(const TextLayerNormArgs& a);
void text_convert_cpu(const TextConvertArgs& a);
void text_heads_cpu(const TextHeadsArgs& a);
void text_pool_cpu(const TextPoolArgs& a);

void text_layer_norm_cuda(const TextLayerNormArgs& a, Stream stream);
void text_heads_cuda(const TextHeadsArgs& a, Stream stream);
void text_pool_cuda(const TextPoolArgs& a, Stream stream);
void text_convert_cuda(const TextConvertArgs& a, Stream stream);

}  // namespace mpe::kernels
