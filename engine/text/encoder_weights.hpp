#pragma once
// A BERT encoder's weights as the forward pass uses them: GEMM operands as float32 tensors in
// PyTorch's [out, in] layout (q, k and v stacked into one matrix) plus, for the CPU, the same
// matrices packed once at load into the dense kernel's panel layout; the rest as host vectors.
// On a CUDA device every weight is copied there once, and `net` points at those copies.
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

// Where the forward pass reads each weight: host memory, or the device copies.
struct DensePtrs {
  const float* w = nullptr;
  const float* b = nullptr;
  const float* packed = nullptr;  // CPU only
  const void* w16 = nullptr;      // CUDA with 16-bit weight storage: w in that storage
  std::int64_t panel_cols = 0;
  std::int64_t out = 0, in = 0;
};
struct LayerPtrs {
  DensePtrs qkv, out, up, down;
  const float *ln1_g = nullptr, *ln1_b = nullptr, *ln2_g = nullptr, *ln2_b = nullptr;
};
struct NetPtrs {
  const float *word = nullptr, *pos = nullptr, *type = nullptr;
  const float *ln_g = nullptr, *ln_b = nullptr;
  std::vector<LayerPtrs> layers;
};

struct SentenceEncoder::Weights {
  std::vector<float> word, pos, type;  // [V, H], [P, H], [T, H]
  std::vector<float> ln_g, ln_b;       // [H]: LayerNorm of the embeddings
  std::vector<Layer> layers;
  std::vector<Tensor> on_device;  // the device copies `net` points into (CUDA only)
  NetPtrs net;
  DType storage = DType::f32;  // of the dense layers' W and their input rows on the device
};

// Fills w.net: pointers into the host weights (CPU), or copies every weight to `device` first,
// the dense layers' W in `storage` (f32, or bf16/f16 on CUDA), the rest in float32.
void place_weights(SentenceEncoder::Weights& w, const Device& device, DType storage);

}  // namespace mpe::text
