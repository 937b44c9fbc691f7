#pragma once
// MPE_HD marks per-element math that both backends compile: nvcc sees __host__ __device__,
// g++ sees plain inline functions, so the CPU tests exercise the GPU's arithmetic.
#if defined(__CUDACC__)
#define MPE_HD __host__ __device__ __forceinline__
// Larger shared routines: compiled as real functions on the device so that each gets its own
// register allocation instead of one huge inlined kernel.
#define MPE_HD_FN __host__ __device__ __noinline__
#else
#define MPE_HD inline
#define MPE_HD_FN inline
#endif

// Full unrolling of short fixed-length loops, spelled for whichever compiler sees the code.
#if defined(__CUDA_ARCH__)
#define MPE_UNROLL _Pragma("unroll")
#elif defined(__CUDACC__)  // nvcc's host pass: the host code of kernels is not hot
#define MPE_UNROLL
#elif defined(__GNUC__) && !defined(__clang__)
#define MPE_UNROLL _Pragma("GCC unroll 16")
#else
#define MPE_UNROLL
#endif

// Reductions the host compiler may reorder to vectorise (OpenMP SIMD; ignored elsewhere).
#if defined(_OPENMP) && !defined(__CUDA_ARCH__) && !defined(__CUDACC__)
#define MPE_PRAGMA(text) _Pragma(#text)
#define MPE_SIMD_SUM(var) MPE_PRAGMA(omp simd reduction(+ : var))
#define MPE_SIMD_MAX(var) MPE_PRAGMA(omp simd reduction(max : var))
#define MPE_SIMD _Pragma("omp simd")
#define MPE_SIMD_REDUCE2(a, b) MPE_PRAGMA(omp simd reduction(a) reduction(b))
#else
#define MPE_SIMD_REDUCE2(a, b)
#define MPE_SIMD_SUM(var)
#define MPE_SIMD_MAX(var)
#define MPE_SIMD
#endif
