// The CPU backend: host memory, synchronous ops, OpenMP inside the kernels.
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <vector>
#include <new>

#include <fmt/format.h>

#include "backend.hpp"
#include "bp.hpp"
#include "cpu_info.hpp"

namespace mpe::detail {

namespace {

class CpuTimer final : public Timer {
 public:
  void start() override { t0_ = std::chrono::steady_clock::now(); }
  double stop_ms() override {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0_)
        .count();
  }

 private:
  std::chrono::steady_clock::time_point t0_;
};

constexpr std::size_t kAlignment = 64;  // cache line; also satisfies any SIMD load

// The CPU needs no page-locked memory: staging is an ordinary buffer.
class HeapStaging final : public HostStaging {
 public:
  explicit HeapStaging(std::size_t bytes) : bytes_(bytes) {}
  void* data() override { return bytes_.data(); }

 private:
  std::vector<unsigned char> bytes_;
};

class CpuBackend final : public Backend {
 public:
  DeviceKind kind() const override { return DeviceKind::cpu; }
  int device_count() const override { return 1; }
  DeviceInfo info(int) const override { return host_device_info(); }

  void* allocate(int, std::size_t bytes) override {
    if (bytes == 0) return nullptr;
    const std::size_t rounded = (bytes + kAlignment - 1) / kAlignment * kAlignment;
    void* p = rounded >= bytes ? std::aligned_alloc(kAlignment, rounded) : nullptr;
    if (!p) {
      throw Error(ErrorCode::out_of_memory,
                  fmt::format("host allocation of {} bytes failed", bytes));
    }
    return p;
  }
  void deallocate(int, void* ptr) noexcept override { std::free(ptr); }
  void fill_bytes(int, void* ptr, unsigned char byte, std::size_t bytes) override {
    if (bytes) std::memset(ptr, byte, bytes);
  }
  void copy_to_host(int, void* dst, const void* src, std::size_t bytes) override {
    if (bytes) std::memcpy(dst, src, bytes);
  }
  void copy_from_host(int, void* dst, const void* src, std::size_t bytes) override {
    if (bytes) std::memcpy(dst, src, bytes);
  }
  void copy_on_device(int, void* dst, const void* src, std::size_t bytes) override {
    if (bytes) std::memcpy(dst, src, bytes);
  }
  void copy_to_host_async(int, void* dst, const void* src, std::size_t bytes) override {
    if (bytes) std::memcpy(dst, src, bytes);
  }
  void copy_from_host_async(int, void* dst, const void* src, std::size_t bytes) override {
    if (bytes) std::memcpy(dst, src, bytes);
  }
  std::unique_ptr<HostStaging> host_staging(int, std::size_t bytes) override {
    return std::make_unique<HeapStaging>(bytes);
  }
  void synchronize(int) override {}
  std::unique_ptr<Timer> make_timer(int) override { return std::make_unique<CpuTimer>(); }

  void lse_contract(int, const kernels::LseContractArgs& args) override {
    kernels::lse_contract_cpu(args);
  }
  void aif_plan(int, const kernels::AifConfig& cfg, const kernels::AifProblem* problems,
                std::int64_t count) override {
    kernels::aif_plan_cpu(cfg, problems, count);
  }
  void graph_mp(int, const kernels::GraphMpArgs& args) override { kernels::graph_mp_cpu(args); }
  void gat_scores(int, const kernels::GatScoreArgs& args) override {
    kernels::gat_scores_cpu(args);
  }
  void gat_aggregate(int, const kernels::GatAggregateArgs& args) override {
    kernels::gat_aggregate_cpu(args);
  }
  void dense_linear(int, const kernels::DenseLinearArgs& args) override {
    if (args.operands != kernels::Storage::f32)
      throw Error(ErrorCode::not_supported,
                  "dense_linear: 16-bit operands run on CUDA devices only");
    kernels::dense_linear_cpu(args);
  }
  void text_layer_norm(int, const kernels::TextLayerNormArgs& args) override {
    kernels::text_layer_norm_cpu(args);
  }
  void text_heads(int, const kernels::TextHeadsArgs& args) override {
    kernels::text_heads_cpu(args);
  }
  void text_pool(int, const kernels::TextPoolArgs& args) override { kernels::text_pool_cpu(args); }
  void text_convert(int, const kernels::TextConvertArgs& args) override {
    kernels::text_convert_cpu(args);
  }
  void bio_step(int, const kernels::BioStepArgs& args) override { kernels::bio_step_cpu(args); }
  void attention(int, const kernels::AttentionArgs& args) override {
    kernels::attention_cpu(args);
  }
  void attention_csr(int, const kernels::AttentionArgs& args) override {
    kernels::attention_csr_cpu(args);
  }
  void relevance_similarity(int, const kernels::RelevanceSimilarityArgs& args) override {
    kernels::relevance_similarity_cpu(args);
  }
  void relevance_topk(int, const kernels::RelevanceTopkArgs& args) override {
    kernels::relevance_topk_cpu(args);
  }
  void relevance_propagate(int, const kernels::RelevancePropagateArgs& args) override {
    kernels::relevance_propagate_cpu(args);
  }
  void bp_sweep(int, const kernels::BpArgs<float>& args, int steps) override {
    kernels::bp_sweep_cpu(args, steps);
  }
  void bp_sweep(int, const kernels::BpArgs<double>& args, int steps) override {
    kernels::bp_sweep_cpu(args, steps);
  }
};

}  // namespace

Backend& cpu_backend() {
  static CpuBackend backend;
  return backend;
}

}  // namespace mpe::detail
