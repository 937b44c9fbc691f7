#include "cuda/cuda_context.hpp"

#include <cstdint>
#include <memory>

#include <fmt/format.h>

#include "cuda/check.hpp"
#include "stream_slot.hpp"

namespace mpe::detail {

namespace {
const char* cublas_status_name(cublasStatus_t s) {
  switch (s) {
    case CUBLAS_STATUS_NOT_INITIALIZED: return "CUBLAS_STATUS_NOT_INITIALIZED";
    case CUBLAS_STATUS_ALLOC_FAILED: return "CUBLAS_STATUS_ALLOC_FAILED";
    case CUBLAS_STATUS_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_ARCH_MISMATCH: return "CUBLAS_STATUS_ARCH_MISMATCH";
    case CUBLAS_STATUS_EXECUTION_FAILED: return "CUBLAS_STATUS_EXECUTION_FAILED";
    case CUBLAS_STATUS_INTERNAL_ERROR: return "CUBLAS_STATUS_INTERNAL_ERROR";
    case CUBLAS_STATUS_NOT_SUPPORTED: return "CUBLAS_STATUS_NOT_SUPPORTED";
    default: return "CUBLAS_STATUS_UNKNOWN";
  }
}

DeviceInfo query_info(int device) {
  cudaDeviceProp prop{};
  MPE_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
  DeviceInfo info;
  info.device = Device::cuda(device);
  info.name = prop.name;
  info.total_memory = prop.totalGlobalMem;
  info.multiprocessors = prop.multiProcessorCount;
  info.compute_major = prop.major;
  info.compute_minor = prop.minor;
  int clock_khz = 0;
  int bus_bits = 0;
  if (cudaDeviceGetAttribute(&clock_khz, cudaDevAttrMemoryClockRate, device) == cudaSuccess &&
      cudaDeviceGetAttribute(&bus_bits, cudaDevAttrGlobalMemoryBusWidth, device) == cudaSuccess) {
    // Double data rate: two transfers per clock.
    info.peak_bandwidth_gbs = 2.0 * clock_khz * 1e3 * (bus_bits / 8.0) / 1e9;
  }
  (void)cudaGetLastError();
  return info;
}
}  // namespace

void use_device(int device) { MPE_CUDA_CHECK(cudaSetDevice(device)); }

int cuda_devices() noexcept {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    (void)cudaGetLastError();
    return 0;
  }
  return n;
}

CudaContext::CudaContext(int device) : device_(device), info_(query_info(device)) {
  use_device(device);
  for (int i = 0; i < kStreams; ++i) {
    cudaStream_t s = nullptr;
    MPE_CUDA_CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
    streams_.push_back(s);
  }
  // Keep freed blocks in the pool instead of returning them to the driver at every sync.
  cudaMemPool_t pool = nullptr;
  MPE_CUDA_CHECK(cudaDeviceGetDefaultMemPool(&pool, device));
  std::uint64_t threshold = UINT64_MAX;
  MPE_CUDA_CHECK(cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &threshold));
}

cublasHandle_t CudaContext::cublas() {
  std::lock_guard<std::mutex> lock(cublas_mutex_);
  if (!cublas_) {
    use_device(device_);
    cublasHandle_t h = nullptr;
    const cublasStatus_t s = cublasCreate(&h);
    if (s != CUBLAS_STATUS_SUCCESS) {
      throw Error(
          s == CUBLAS_STATUS_ALLOC_FAILED ? ErrorCode::out_of_memory : ErrorCode::device_error,
          fmt::format("cublasCreate failed on cuda:{}: {}", device_, cublas_status_name(s)));
    }
    cublasSetStream(h, streams_[0]);
    cublas_ = h;
  }
  return cublas_;
}

cudaStream_t CudaContext::stream() const {
  return streams_[static_cast<std::size_t>(thread_stream_slot() % kStreams)];
}

void* CudaContext::allocate(std::size_t bytes) {
  if (bytes == 0) return nullptr;
  use_device(device_);
  void* p = nullptr;
  const cudaError_t err = cudaMallocAsync(&p, bytes, stream());
  if (err == cudaErrorMemoryAllocation) {
    (void)cudaGetLastError();
    throw Error(ErrorCode::out_of_memory,
                fmt::format("cuda:{} could not allocate {} bytes ({:.1f} MiB)", device_, bytes,
                            static_cast<double>(bytes) / (1 << 20)));
  }
  MPE_CUDA_CHECK(err);
  return p;
}

void CudaContext::deallocate(void* ptr) noexcept {
  if (!ptr) return;
  if (cudaSetDevice(device_) != cudaSuccess || cudaFreeAsync(ptr, stream()) != cudaSuccess) {
    (void)cudaGetLastError();  // nothing sensible to do in a destructor path
  }
}

void* CudaContext::acquire_pinned(std::size_t bytes) {
  constexpr std::size_t kMinimum = std::size_t{1} << 16;
  constexpr std::size_t kKeepFree = 8;  // idle buffers kept; beyond that the smallest go
  std::size_t size = kMinimum;
  while (size < bytes) size *= 2;
  std::lock_guard<std::mutex> lock(pinned_mutex_);
  PinnedBuffer* best = nullptr;  // the smallest idle buffer that is big enough
  std::size_t idle = 0;
  for (auto& b : pinned_) {
    if (b.busy) continue;
    ++idle;
    if (b.bytes >= bytes && (!best || b.bytes < best->bytes)) best = &b;
  }
  if (best) {
    best->busy = true;
    return best->ptr;
  }
  if (idle >= kKeepFree) {  // drop the smallest idle buffer instead of growing without end
    auto smallest = pinned_.end();
    for (auto it = pinned_.begin(); it != pinned_.end(); ++it) {
      if (!it->busy && (smallest == pinned_.end() || it->bytes < smallest->bytes)) smallest = it;
    }
    (void)cudaFreeHost(smallest->ptr);
    pinned_.erase(smallest);
  }
  use_device(device_);
  void* p = nullptr;
  const cudaError_t err = cudaHostAlloc(&p, size, cudaHostAllocPortable);
  if (err == cudaErrorMemoryAllocation) {
    (void)cudaGetLastError();
    throw Error(ErrorCode::out_of_memory,
                fmt::format("cuda:{}: could not page-lock {:.1f} MiB of host memory for staging",
                            device_, static_cast<double>(size) / (1 << 20)));
  }
  MPE_CUDA_CHECK(err);
  pinned_.push_back({p, size, true});
  return p;
}

void CudaContext::release_pinned(void* ptr) noexcept {
  std::lock_guard<std::mutex> lock(pinned_mutex_);
  for (auto& b : pinned_) {
    if (b.ptr == ptr) b.busy = false;
  }
}

CudaContext& cuda_context(int device) {
  static std::mutex mutex;
  static std::vector<std::unique_ptr<CudaContext>>* contexts =
      new std::vector<std::unique_ptr<CudaContext>>();  // leaked on purpose, see header
  std::lock_guard<std::mutex> lock(mutex);
  const int n = cuda_devices();
  if (device < 0 || device >= n) {
    throw Error(ErrorCode::device_unavailable,
                fmt::format("cuda:{} does not exist ({} CUDA device(s) answer)", device, n));
  }
  if (contexts->size() < static_cast<std::size_t>(n)) contexts->resize(static_cast<std::size_t>(n));
  auto& slot = (*contexts)[static_cast<std::size_t>(device)];
  if (!slot) slot = std::make_unique<CudaContext>(device);
  return *slot;
}

}  // namespace mpe::detail
