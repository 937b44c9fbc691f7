#pragma once
// A BERT encoder's weights as the forward pass uses them: GEMM operands as float32 tensors in
// PyTorch's [out, in] layout (q, k and v stacked into one matrix), the rest as host vectors.
#include <vector>

#include <mpe/tensor.hpp>
#include <mpe/text.hpp>

namespace mpe::text {

struct SentenceEncoder::Layer {
  Tensor qkv_w, qkv_b;           // [3H, H], [3H]: query, key, value rows
  Tensor out_w, out_b;           // [H, H], [H]: attention output projection
  std::vector<float> ln1_g, ln1_b;  // [H]: LayerNorm after attention
  Tensor up_w, up_b;             // [I, H], [I]: GELU MLP, first layer
  Tensor down_w, down_b;         // [H, I], [H]: GELU MLP, second layer
  std::vector<float> ln2_g, ln2_b;  // [H]: LayerNorm after the MLP
};

struct SentenceEncoder::Weights {
  std::vector<float> word, pos, type;  // [V, H], [P, H], [T, H]
  std::vector<float> ln_g, ln_b;       // [H]: LayerNorm of the embeddings
  std::vector<Layer> layers;
};

}  // namespace mpe::text
