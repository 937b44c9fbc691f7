// Dense transform on the GPU: cuBLAS SGEMM (full FP32, the handle's default math mode), or
// GemmEx for bf16/f16 operands with float32 accumulation, writes x·Wᵀ (+ y), then one elementwise pass adds the bias and applies the activation when asked.
#include <cublas_v2.h>

#include <mutex>
#include <string>

#include "cuda/check.hpp"
#include "cuda/device_utils.cuh"
#include "cuda/cublas_util.hpp"
#include "graph_mp.hpp"

namespace mpe::kernels {

namespace {
constexpr int kBlockThreads = 256;

__global__ void __launch_bounds__(kBlockThreads)
    bias_act_kernel(float* __restrict__ y, const float* __restrict__ bias, std::int64_t n,
                    std::int64_t m, MpAct act) {
  const std::int64_t total = n * m;
  for (std::int64_t t = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; t < total;
       t += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    y[t] = mp_activate(act, y[t] + (bias ? __ldg(bias + t % m) : 0.0f));
  }
}

// One handle per device is shared by every thread: binding it to the caller's stream and
// queueing the GEMM happen under the lock every cuBLAS caller shares (cuda/cublas_util.hpp).
std::mutex& cublas_mutex() { return cublas_call_mutex(); }

void cublas_check(cublasStatus_t s, const char* call) { cublas_check_call(s, call); }
}  // namespace

void dense_linear_cuda(const DenseLinearArgs& a, Stream stream, cublasContext* handle) {
  if (a.n == 0 || a.m == 0) return;
  if (a.k == 0) {
    if (!a.accumulate) MPE_CUDA_CHECK(cudaMemsetAsync(a.y, 0, sizeof(float) * a.n * a.m, stream));
  } else {
    // Row-major y[n, m] = x[n, k]·w[m, k]ᵀ is column-major yᵀ = wᵀᵀ·xᵀ: op(A) = Wᵀ of the
    // column-major [k, m] view of w, B = the column-major [k, n] view of x.
    const float one = 1.0f;
    const float beta = a.accumulate ? 1.0f : 0.0f;
    std::lock_guard<std::mutex> lock(cublas_mutex());
    cublas_check(cublasSetStream(handle, stream), "cublasSetStream");
    if (a.operands != Storage::f32) {  // 16-bit x and w, float32 accumulation and y
      const cudaDataType t = a.operands == Storage::bf16 ? CUDA_R_16BF : CUDA_R_16F;
      cublas_check(cublasGemmEx(handle, CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(a.m),
                                static_cast<int>(a.n), static_cast<int>(a.k), &one, a.w16, t,
                                static_cast<int>(a.k), a.x16, t, static_cast<int>(a.k), &beta, a.y,
                                CUDA_R_32F, static_cast<int>(a.m), CUBLAS_COMPUTE_32F,
                                CUBLAS_GEMM_DEFAULT),
                   "cublasGemmEx");
    } else {
      cublas_check(
        cublasSgemm(handle, CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(a.m), static_cast<int>(a.n),
                    static_cast<int>(a.k), &one, a.w, static_cast<int>(a.k), a.x,
                    static_cast<int>(a.k), &beta, a.y, static_cast<int>(a.m)),
        "cublasSgemm");
    }
  }
  if (a.bias || a.act != MpAct::none) {
    bias_act_kernel<<<cuda::grid_blocks(a.n * a.m, kBlockThreads), kBlockThreads, 0, stream>>>(
        a.y, a.bias, a.n, a.m, a.act);
    MPE_CUDA_CHECK_LAUNCH();
  }
}

}  // namespace mpe::kernels
