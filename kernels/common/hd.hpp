#pragma once
// MPE_HD marks per-element math that both backends compile: nvcc sees __host__ __device__,
// g++ sees plain inline functions, so the CPU tests exercise the GPU's arithmetic.
#if defined(__CUDACC__)
#define MPE_HD __host__ __device__ __forceinline__
#else
#define MPE_HD inline
#endif
