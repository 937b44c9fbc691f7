#pragma once
// Ops of the relevance engine (relevance.md): batched cosine seeding and the gated,
// frontier-sparse propagation of many queries over one out-edge CSR.
//  - relevance_similarity: s[q, i] = <query_q, emb_i> (both normalised: cosine), one GEMM;
//  - relevance_topk: per query the top k (s desc, index asc) with s >= threshold;
//  - relevance_propagate: all iterations of every query (fused on purpose: queries converge
//    at different iterations and each carries its own frontier); outputs the final active set.
#include <cstdint>

#include "common/relevance_core.hpp"
#include "stream.hpp"

struct cublasContext;

namespace mpe::kernels {

// The loaded graph: out-edge CSR (row j = edges leaving j; within a row, weights descending,
// so the gate test can stop at the first edge that fails it) and per-node parameters.
struct RelevanceGraph {
  std::int64_t nodes = 0;
  const std::int64_t* row_offsets = nullptr;  // [nodes + 1]
  const std::int32_t* targets = nullptr;      // [nnz]
  const float* weights = nullptr;             // [nnz], in [0, 1], descending within a row
  const std::int32_t* edge_types = nullptr;   // [nnz], in [0, num_types)
  const float* confidence = nullptr;          // [nnz]
  const float* type_weights = nullptr;        // [nodes, num_types], or nullptr (all 1)
  std::int32_t num_types = 0;
  const float* residual = nullptr;            // [nodes]
  const float* decay = nullptr;               // [nodes]
  const float* threshold = nullptr;           // [nodes]
  const std::int32_t* level = nullptr;        // [nodes], or nullptr (one level)
  // Pull view for dense iterations (CPU; nullptr: push only): row i lists the in-edges of i,
  // with their source, weight, tw_i[type] (in_scale) and tw_i[type] · confidence.
  const std::int64_t* in_offsets = nullptr;   // [nodes + 1]
  const std::int32_t* in_sources = nullptr;   // [nnz]
  const float* in_weights = nullptr;          // [nnz]
  const float* in_scale = nullptr;            // [nnz]
  const float* in_scale_conf = nullptr;       // [nnz]
  bool in_scale_positive = false;             // every in_scale > 0: messages ⇔ aggregate > 0
  const std::int32_t* out_positive = nullptr; // [nodes] out-edges of weight > 0 (a row prefix)
};

// Per-query propagation parameters (QueryParams' propagation part).
struct RelevanceParams {
  float gate = 0.0f;
  float prop_threshold = 0.05f;
  float tolerance = 1e-3f;
  float up_scale = 1.0f;
  float down_scale = 1.0f;
  std::int32_t max_iterations = 5;
};

struct RelevanceSimilarityArgs {
  const float* queries = nullptr;     // [batch, dim], normalised
  const float* embeddings = nullptr;  // [nodes, dim], normalised
  float* sim = nullptr;               // [batch, nodes]
  std::int64_t batch = 0;
  std::int64_t nodes = 0;
  std::int64_t dim = 0;
};

struct RelevanceTopkArgs {
  const float* sim = nullptr;          // [batch, nodes]
  const std::int32_t* k = nullptr;     // [batch], each in [0, max_k]
  const float* threshold = nullptr;    // [batch]
  std::int32_t* seed_nodes = nullptr;  // [batch, max_k]
  float* seed_sim = nullptr;           // [batch, max_k] similarity of each pick
  std::int32_t* seed_count = nullptr;  // [batch]
  std::int64_t batch = 0;
  std::int64_t nodes = 0;
  std::int32_t max_k = 0;
};

// Seeds of query q: seed_nodes[q * max_seeds + s] for s < seed_count[q], distinct, with
// activations in (0, 1]. Outputs: out_nodes/out_act/out_conf[q * nodes + r] for
// r < out_count[q] (the final active set, any order), iterations, converged (0/1) and messages
// sent per query.
struct RelevancePropagateArgs {
  RelevanceGraph g;
  const RelevanceParams* params = nullptr;  // [batch]
  const std::int32_t* seed_nodes = nullptr;
  const float* seed_act = nullptr;
  const std::int32_t* seed_count = nullptr;  // [batch]
  std::int32_t max_seeds = 0;
  std::int64_t batch = 0;
  std::int32_t max_iterations = 0;     // max of params[].max_iterations (read on the host)
  std::int32_t* out_nodes = nullptr;   // [batch, nodes]
  float* out_act = nullptr;            // [batch, nodes]
  float* out_conf = nullptr;           // [batch, nodes]
  std::int64_t* out_count = nullptr;   // [batch]
  std::int32_t* iterations = nullptr;  // [batch]
  std::int32_t* converged = nullptr;   // [batch]
  std::int64_t* messages = nullptr;    // [batch]
  // CPU: an iteration of a query whose frontier has more than dense_fraction · nnz out-edges
  // pulls over every row instead (all such queries of the batch in one sparse × dense product);
  // 0: dense whenever the frontier has out-edges, > 1: never. Needs g's pull view.
  float dense_fraction = 2.0f;
  // CUDA only: scratch of relevance_propagate_workspace_bytes(batch, nodes) bytes.
  void* workspace = nullptr;
};

void relevance_similarity_cpu(const RelevanceSimilarityArgs& a);
void relevance_topk_cpu(const RelevanceTopkArgs& a);
void relevance_propagate_cpu(const RelevancePropagateArgs& a);

std::size_t relevance_propagate_workspace_bytes(std::int64_t batch, std::int64_t nodes);
void relevance_similarity_cuda(const RelevanceSimilarityArgs& a, Stream stream,
                               cublasContext* handle);
void relevance_topk_cuda(const RelevanceTopkArgs& a, Stream stream);
void relevance_propagate_cuda(const RelevancePropagateArgs& a, Stream stream);

}  // namespace mpe::kernels
