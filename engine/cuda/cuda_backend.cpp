// The CUDA backend: device memory from the context's pool, ops queued on stream 0.
#include <memory>

#include "backend.hpp"
#include "bp.hpp"
#include "cuda/check.hpp"
#include "cuda/cuda_context.hpp"

namespace mpe::detail {

namespace {

class CudaTimer final : public Timer {
 public:
  explicit CudaTimer(cudaStream_t stream) : stream_(stream) {
    MPE_CUDA_CHECK(cudaEventCreate(&start_));
    MPE_CUDA_CHECK(cudaEventCreate(&stop_));
  }
  ~CudaTimer() override {
    cudaEventDestroy(start_);
    cudaEventDestroy(stop_);
  }
  CudaTimer(const CudaTimer&) = delete;
  CudaTimer& operator=(const CudaTimer&) = delete;
  void start() override { MPE_CUDA_CHECK(cudaEventRecord(start_, stream_)); }
  double stop_ms() override {
    MPE_CUDA_CHECK(cudaEventRecord(stop_, stream_));
    MPE_CUDA_CHECK(cudaEventSynchronize(stop_));
    float ms = 0;
    MPE_CUDA_CHECK(cudaEventElapsedTime(&ms, start_, stop_));
    return ms;
  }

 private:
  cudaStream_t stream_;
  cudaEvent_t start_ = nullptr;
  cudaEvent_t stop_ = nullptr;
};

// Scratch from the context's stream-ordered pool, returned on scope exit (stream-ordered, so
// queued kernels that use it finish first).
class PoolBuffer {
 public:
  PoolBuffer(CudaContext& ctx, std::size_t bytes) : ctx_(ctx), ptr_(ctx.allocate(bytes)) {}
  ~PoolBuffer() { ctx_.deallocate(ptr_); }
  PoolBuffer(const PoolBuffer&) = delete;
  PoolBuffer& operator=(const PoolBuffer&) = delete;
  void* get() const { return ptr_; }

 private:
  CudaContext& ctx_;
  void* ptr_;
};

// A lease on one of the context's page-locked staging buffers.
class PinnedStaging final : public HostStaging {
 public:
  PinnedStaging(CudaContext& ctx, std::size_t bytes) : ctx_(ctx), ptr_(ctx.acquire_pinned(bytes)) {}
  // Waits for the thread's stream first, so that no copy still in flight (after an error
  // unwound the call) touches the buffer once another call holds it.
  ~PinnedStaging() override {
    if (cudaStreamSynchronize(ctx_.stream()) != cudaSuccess) (void)cudaGetLastError();
    ctx_.release_pinned(ptr_);
  }
  PinnedStaging(const PinnedStaging&) = delete;
  PinnedStaging& operator=(const PinnedStaging&) = delete;
  void* data() override { return ptr_; }

 private:
  CudaContext& ctx_;
  void* ptr_;
};

class CudaBackend final : public Backend {
 public:
  DeviceKind kind() const override { return DeviceKind::cuda; }
  int device_count() const override { return cuda_devices(); }
  DeviceInfo info(int index) const override {
    DeviceInfo info = cuda_context(index).info();
    std::size_t free_bytes = 0;
    std::size_t total_bytes = 0;
    use_device(index);
    if (cudaMemGetInfo(&free_bytes, &total_bytes) == cudaSuccess) info.free_memory = free_bytes;
    return info;
  }

  void* allocate(int index, std::size_t bytes) override {
    return cuda_context(index).allocate(bytes);
  }
  void deallocate(int index, void* ptr) noexcept override {
    try {
      cuda_context(index).deallocate(ptr);
    } catch (...) {  // the context existed when ptr was allocated, so this cannot happen
    }
  }
  void fill_bytes(int index, void* ptr, unsigned char byte, std::size_t bytes) override {
    if (!bytes) return;
    auto& ctx = enter(index);
    MPE_CUDA_CHECK(cudaMemsetAsync(ptr, byte, bytes, ctx.stream()));
  }
  void copy_to_host(int index, void* dst, const void* src, std::size_t bytes) override {
    if (!bytes) return;
    auto& ctx = enter(index);
    MPE_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, ctx.stream()));
    MPE_CUDA_CHECK(cudaStreamSynchronize(ctx.stream()));
  }
  void copy_from_host(int index, void* dst, const void* src, std::size_t bytes) override {
    if (!bytes) return;
    auto& ctx = enter(index);
    MPE_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, ctx.stream()));
    // The source is pageable caller memory that may be freed on return: wait for the copy.
    MPE_CUDA_CHECK(cudaStreamSynchronize(ctx.stream()));
  }
  void copy_to_host_async(int index, void* dst, const void* src, std::size_t bytes) override {
    if (!bytes) return;
    auto& ctx = enter(index);
    MPE_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, ctx.stream()));
  }
  void copy_from_host_async(int index, void* dst, const void* src, std::size_t bytes) override {
    if (!bytes) return;
    auto& ctx = enter(index);
    MPE_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, ctx.stream()));
  }
  std::unique_ptr<HostStaging> host_staging(int index, std::size_t bytes) override {
    return std::make_unique<PinnedStaging>(enter(index), bytes);
  }
  void copy_on_device(int index, void* dst, const void* src, std::size_t bytes) override {
    if (!bytes) return;
    auto& ctx = enter(index);
    MPE_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, ctx.stream()));
  }
  void synchronize(int index) override {
    MPE_CUDA_CHECK(cudaStreamSynchronize(enter(index).stream()));
  }
  std::unique_ptr<Timer> make_timer(int index) override {
    return std::make_unique<CudaTimer>(enter(index).stream());
  }

  void lse_contract(int index, const kernels::LseContractArgs& args) override {
    kernels::lse_contract_cuda(args, enter(index).stream());
  }
  void aif_plan(int index, const kernels::AifConfig& cfg, const kernels::AifProblem* problems,
                std::int64_t count) override {
    if (count == 0) return;
    CudaContext& ctx = enter(index);
    const std::size_t problem_bytes = sizeof(kernels::AifProblem) * static_cast<std::size_t>(count);
    const std::size_t ws_bytes = sizeof(float) * static_cast<std::size_t>(count) *
                                 static_cast<std::size_t>(kernels::aif_workspace_floats(cfg));
    PoolBuffer dev_problems(ctx, problem_bytes);
    PoolBuffer workspace(ctx, ws_bytes);
    MPE_CUDA_CHECK(cudaMemcpyAsync(dev_problems.get(), problems, problem_bytes,
                                   cudaMemcpyHostToDevice, ctx.stream()));
    kernels::aif_plan_cuda(cfg, static_cast<const kernels::AifProblem*>(dev_problems.get()), count,
                           static_cast<float*>(workspace.get()), ctx.stream());
    // The problem array is the caller's pageable memory: wait before returning.
    MPE_CUDA_CHECK(cudaStreamSynchronize(ctx.stream()));
  }
  void graph_mp(int index, const kernels::GraphMpArgs& args) override {
    kernels::graph_mp_cuda(args, enter(index).stream());
  }
  void gat_scores(int index, const kernels::GatScoreArgs& args) override {
    kernels::gat_scores_cuda(args, enter(index).stream());
  }
  void gat_aggregate(int index, const kernels::GatAggregateArgs& args) override {
    kernels::gat_aggregate_cuda(args, enter(index).stream());
  }
  void dense_linear(int index, const kernels::DenseLinearArgs& args) override {
    CudaContext& ctx = enter(index);
    kernels::dense_linear_cuda(args, ctx.stream(), ctx.cublas());
  }
  void bio_step(int index, const kernels::BioStepArgs& args) override {
    kernels::bio_step_cuda(args, enter(index).stream());
  }
  void text_layer_norm(int index, const kernels::TextLayerNormArgs& args) override {
    kernels::text_layer_norm_cuda(args, enter(index).stream());
  }
  void text_heads(int index, const kernels::TextHeadsArgs& args) override {
    kernels::text_heads_cuda(args, enter(index).stream());
  }
  void text_pool(int index, const kernels::TextPoolArgs& args) override {
    kernels::text_pool_cuda(args, enter(index).stream());
  }
  void text_convert(int index, const kernels::TextConvertArgs& args) override {
    kernels::text_convert_cuda(args, enter(index).stream());
  }
  void attention(int index, const kernels::AttentionArgs& args) override {
    CudaContext& ctx = enter(index);
    if (!args.unfused) return kernels::attention_cuda(args, ctx.stream());
    // Scores and weights of as many rows as fit in 1 GiB at a time.
    const std::size_t limit =
        args.unfused_workspace_limit ? args.unfused_workspace_limit : std::size_t{1} << 30;
    const std::size_t bytes = kernels::attention_unfused_workspace(args, limit);
    PoolBuffer workspace(ctx, bytes);
    kernels::attention_unfused_cuda(args, ctx.stream(), ctx.cublas(), workspace.get(), bytes);
  }
  void attention_csr(int index, const kernels::AttentionArgs& args) override {
    kernels::attention_csr_cuda(args, enter(index).stream());
  }
  void relevance_similarity(int index, const kernels::RelevanceSimilarityArgs& args) override {
    CudaContext& ctx = enter(index);
    kernels::relevance_similarity_cuda(args, ctx.stream(), ctx.cublas());
  }
  void relevance_topk(int index, const kernels::RelevanceTopkArgs& args) override {
    kernels::relevance_topk_cuda(args, enter(index).stream());
  }
  void relevance_propagate(int index, const kernels::RelevancePropagateArgs& args) override {
    if (args.batch == 0 || args.g.nodes == 0) return;
    CudaContext& ctx = enter(index);
    PoolBuffer workspace(ctx, kernels::relevance_propagate_workspace_bytes(args.batch, args.g.nodes));
    kernels::RelevancePropagateArgs a = args;
    a.workspace = workspace.get();
    kernels::relevance_propagate_cuda(a, ctx.stream());
  }
  void bp_sweep(int index, const kernels::BpArgs<float>& args, int steps) override {
    kernels::bp_sweep_cuda(args, steps, enter(index).stream());
  }
  void bp_sweep(int index, const kernels::BpArgs<double>& args, int steps) override {
    kernels::bp_sweep_cuda(args, steps, enter(index).stream());
  }

 private:
  static CudaContext& enter(int index) {
    CudaContext& ctx = cuda_context(index);
    use_device(index);
    return ctx;
  }
};

}  // namespace

Backend* make_cuda_backend() {
  static CudaBackend backend;
  return &backend;
}

}  // namespace mpe::detail
