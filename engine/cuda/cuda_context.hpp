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
  static constexpr int kStreams = 4;  // stream 0 carries ops and copies; others for the scheduler

  explicit CudaContext(int device);
  CudaContext(const CudaContext&) = delete;
  CudaContext& operator=(const CudaContext&) = delete;

  int device() const { return device_; }
  cudaStream_t stream(int i = 0) const { return streams_.at(static_cast<std::size_t>(i)); }
  const DeviceInfo& info() const { return info_; }
  // The cuBLAS handle bound to stream 0.
  cublasHandle_t cublas();

  // Stream-ordered allocation from the device pool, on stream 0. Throws Error(out_of_memory).
  void* allocate(std::size_t bytes);
  void deallocate(void* ptr) noexcept;

 private:
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
