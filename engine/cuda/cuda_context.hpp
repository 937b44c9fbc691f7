#pragma once
// Per-device resources: streams, the cuBLAS handle (created on first use) and the device's
// stream-ordered memory pool. One context per device, created on first use and kept for the
// life of the process (never destroyed, so tensors freed during static destruction are safe).
#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <cstddef>
#include <mutex>
#include <vector>

#include <mpe/device.hpp>

namespace mpe::detail {

class CudaContext {
 public:
  static constexpr int kStreams = 4;  // threads pick one by their slot (stream_slot.hpp)

  explicit CudaContext(int device);
  CudaContext(const CudaContext&) = delete;
  CudaContext& operator=(const CudaContext&) = delete;

  int device() const { return device_; }
  // The calling thread's stream (its slot modulo kStreams; slot 0 unless the scheduler set it).
  // Every op, copy and pool allocation of the thread goes there and is synchronised before the
  // public call returns, so memory may be freed from any thread.
  cudaStream_t stream() const;
  const DeviceInfo& info() const { return info_; }
  // The cuBLAS handle bound to stream 0.
  cublasHandle_t cublas();

  // Stream-ordered allocation from the device pool, on the thread's stream. Throws
  // Error(out_of_memory).
  void* allocate(std::size_t bytes);
  void deallocate(void* ptr) noexcept;

  // Page-locked host memory of at least `bytes` for staging transfers, from a small pool of
  // buffers reused between calls (cudaHostAlloc is slow). Throws Error(out_of_memory).
  // release_pinned returns it; the caller must have synchronised the copies that use it.
  void* acquire_pinned(std::size_t bytes);
  void release_pinned(void* ptr) noexcept;

 private:
  struct PinnedBuffer {
    void* ptr = nullptr;
    std::size_t bytes = 0;
    bool busy = false;
  };
  std::mutex pinned_mutex_;
  std::vector<PinnedBuffer> pinned_;
  int device_;
  DeviceInfo info_;
  std::vector<cudaStream_t> streams_;
  std::mutex cublas_mutex_;
  cublasHandle_t cublas_ = nullptr;
};

// The context of CUDA device `device` (thread-safe, created on first call).
// Throws Error(device_unavailable) when the device does not exist.
CudaContext& cuda_context(int device);

// Number of devices that answer; 0 when the driver or runtime fails. Never throws.
int cuda_devices() noexcept;

// Makes `device` current on the calling thread.
void use_device(int device);

}  // namespace mpe::detail
