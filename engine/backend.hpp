#pragma once
// The backend interface: everything engine/ needs from a device. The CPU backend is always
// built; the CUDA backend exists when MPE_HAVE_CUDA. Only backend_registry.cpp knows both.
#include <cstddef>
#include <memory>

#include <mpe/device.hpp>
#include <mpe/error.hpp>

#include "aif_plan.hpp"
#include "attention.hpp"
#include "graph_mp.hpp"
#include "lse_contract.hpp"
#include "relevance.hpp"
#include "text_encoder.hpp"

namespace mpe::kernels {
template <class T>
struct BpArgs;  // bp.hpp
}  // namespace mpe::kernels

namespace mpe::detail {

// Measures elapsed device time of the work queued between start() and stop_ms().
class Timer {
 public:
  virtual ~Timer() = default;
  virtual void start() = 0;
  // Waits for the queued work and returns milliseconds since start().
  virtual double stop_ms() = 0;
};

// Host memory for staging one call's transfers (Backend::host_staging): page-locked on CUDA
// devices so that queued copies run asynchronously at full speed; returned on destruction.
class HostStaging {
 public:
  virtual ~HostStaging() = default;
  virtual void* data() = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual DeviceKind kind() const = 0;
  virtual int device_count() const = 0;
  virtual DeviceInfo info(int index) const = 0;

  // Memory. allocate throws Error(out_of_memory); allocate(0) returns nullptr.
  virtual void* allocate(int index, std::size_t bytes) = 0;
  virtual void deallocate(int index, void* ptr) noexcept = 0;
  virtual void fill_bytes(int index, void* ptr, unsigned char byte, std::size_t bytes) = 0;
  // Copies ordered with the device's work; the *_host ones return when the copy is complete.
  virtual void copy_to_host(int index, void* dst, const void* src, std::size_t bytes) = 0;
  virtual void copy_from_host(int index, void* dst, const void* src, std::size_t bytes) = 0;
  virtual void copy_on_device(int index, void* dst, const void* src, std::size_t bytes) = 0;
  // Queued copies between device memory and staging memory (host_staging): complete after
  // synchronize(index).
  virtual void copy_to_host_async(int index, void* dst, const void* src, std::size_t bytes) = 0;
  virtual void copy_from_host_async(int index, void* dst, const void* src, std::size_t bytes) = 0;
  // At least `bytes` of staging memory, reused between calls.
  virtual std::unique_ptr<HostStaging> host_staging(int index, std::size_t bytes) = 0;
  virtual void synchronize(int index) = 0;
  virtual std::unique_ptr<Timer> make_timer(int index) = 0;

  // Ops: arguments are validated by engine/ops before they arrive here.
  virtual void lse_contract(int index, const kernels::LseContractArgs& args) = 0;
  // `problems` is a host array whose pointers point into this device's memory. Queued on the
  // device's stream; outputs are complete when the device is synchronised.
  virtual void aif_plan(int index, const kernels::AifConfig& cfg,
                        const kernels::AifProblem* problems, std::int64_t count) = 0;
  // Message passing (graph_mp.hpp): queued on the device's stream like the ops above.
  virtual void graph_mp(int index, const kernels::GraphMpArgs& args) = 0;
  virtual void gat_scores(int index, const kernels::GatScoreArgs& args) = 0;
  virtual void gat_aggregate(int index, const kernels::GatAggregateArgs& args) = 0;
  virtual void dense_linear(int index, const kernels::DenseLinearArgs& args) = 0;
  virtual void bio_step(int index, const kernels::BioStepArgs& args) = 0;
  // Dense attention forward (attention.hpp): queued on the device's stream.
  virtual void attention(int index, const kernels::AttentionArgs& args) = 0;
  // Attention masked by a CSR neighbourhood (args.row_offsets / col_indices).
  virtual void attention_csr(int index, const kernels::AttentionArgs& args) = 0;
  // Relevance engine (relevance.hpp): queued on the device's stream; relevance_propagate takes
  // its workspace from the device (args.workspace is ignored).
  virtual void relevance_similarity(int index, const kernels::RelevanceSimilarityArgs& args) = 0;
  virtual void relevance_topk(int index, const kernels::RelevanceTopkArgs& args) = 0;
  virtual void relevance_propagate(int index, const kernels::RelevancePropagateArgs& args) = 0;
  // Loopy belief propagation (bp.hpp): one flooding sweep's steps, queued on the stream.
  virtual void bp_sweep(int index, const kernels::BpArgs<float>& args, int steps) = 0;
  virtual void bp_sweep(int index, const kernels::BpArgs<double>& args, int steps) = 0;
  // The sentence encoder's glue between its GEMMs and attention (text_encoder.hpp).
  virtual void text_layer_norm(int index, const kernels::TextLayerNormArgs& args) = 0;
  virtual void text_heads(int index, const kernels::TextHeadsArgs& args) = 0;
  virtual void text_pool(int index, const kernels::TextPoolArgs& args) = 0;
  virtual void text_convert(int index, const kernels::TextConvertArgs& args) = 0;
};

// The backend serving `device`; throws Error(device_unavailable) when it is not built or the
// device does not exist.
Backend& backend_for(const Device& device);

// The CPU backend (always present).
Backend& cpu_backend();

// The CUDA backend, or nullptr when not built. Never throws.
Backend* cuda_backend() noexcept;

}  // namespace mpe::detail
