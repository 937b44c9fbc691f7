#pragma once
// A BERT encoder's weights as the forward pass uses them: GEMM operands as float32 tensors in
// PyTorch's [out, in] layout (q, k and v stacked into one matrix) plus, for the CPU, the same
// matrices packed once at load into the dense kernel's panel layout; the rest as host vectors.
#include <vector>

#include <mpe/tensor.hpp>
#include <mpe/text.hpp>

namespace mpe::text {

// One dense layer y = x·wᵀ + b.
struct DenseWeights {
  Tensor w, b;                // [out, in], [out]
  std::vector<float> packed;  // w for kernels::dense_linear_cpu (dense_linear_pack_cpu)
  std::int64_t panel_cols = 0;
};

struct SentenceEncoder::Layer {
  DenseWeights qkv;                 // [3H, H]: query, key, value rows
  DenseWeights out;                 // [H, H]: attention output projection
  std::vector<float> ln1_g, ln1_b;  // [H]: LayerNorm after attention
  DenseWeights up;                  // [I, H]: GELU MLP, first layer
  DenseWeights down;                // [H, I]: GELU MLP, second layer
  std::vector<float> ln2_g, ln2_b;  // [H]: LayerNorm after the MLP
};

struct SentenceEncoder::Weights {
  std::vector<float> word, pos, type;  // [V, H], [P, H], [T, H]
  std::vector<float> ln_g, ln_b;       // [H]: LayerNorm of the embeddings
  std::vector<Layer> layers;
};

}  // namespace mpe::text
