#pragma once
// The CUDA stream type without CUDA's headers, so op declarations compile with g++ alone.
struct CUstream_st;
namespace mpe::kernels {
using Stream = CUstream_st*;  // identical to cudaStream_t
}
