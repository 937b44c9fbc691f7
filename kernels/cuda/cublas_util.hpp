#pragma once
// Shared by the kernels that call cuBLAS on the device's one handle (CudaContext::cublas()):
// binding the handle to the caller's stream and queueing the call must happen under one
// process-wide lock, and a failed call becomes an mpe::Error naming it.
#include <cublas_v2.h>

#include <mutex>
#include <string>

#include <mpe/error.hpp>

namespace mpe::kernels {

// One mutex for every cuBLAS call site (an inline function: one instance per program).
inline std::mutex& cublas_call_mutex() {
  static std::mutex m;
  return m;
}

inline void cublas_check_call(cublasStatus_t s, const char* call) {
  if (s != CUBLAS_STATUS_SUCCESS) {
    throw Error(
        s == CUBLAS_STATUS_ALLOC_FAILED ? ErrorCode::out_of_memory : ErrorCode::device_error,
        std::string(call) + " failed: cuBLAS status " + std::to_string(static_cast<int>(s)));
  }
}

}  // namespace mpe::kernels
