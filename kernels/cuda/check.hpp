#pragma once
// The one checking macro for CUDA runtime calls and kernel launches. A failure throws
// mpe::Error naming the call, file, line and CUDA's error name; allocation failures become
// ErrorCode::out_of_memory (and are cleared, so the device stays usable).
#include <cuda_runtime_api.h>

#include <string>

#include <mpe/error.hpp>

namespace mpe::detail {

[[noreturn]] inline void throw_cuda_error(cudaError_t err, const char* call, const char* file,
                                          int line) {
  const bool oom = err == cudaErrorMemoryAllocation;
  if (oom) (void)cudaGetLastError();  // not sticky: clear it so later calls succeed
  throw Error(oom ? ErrorCode::out_of_memory : ErrorCode::device_error,
              std::string(call) + " failed at " + file + ":" + std::to_string(line) + ": " +
                  cudaGetErrorName(err) + " (" + cudaGetErrorString(err) + ")");
}

inline void cuda_check(cudaError_t err, const char* call, const char* file, int line) {
  if (err != cudaSuccess) throw_cuda_error(err, call, file, line);
}

}  // namespace mpe::detail

#define MPE_CUDA_CHECK(call) ::mpe::detail::cuda_check((call), #call, __FILE__, __LINE__)
// After a <<<...>>> launch: reports bad launch configurations at the launch site.
#define MPE_CUDA_CHECK_LAUNCH() MPE_CUDA_CHECK(cudaGetLastError())
