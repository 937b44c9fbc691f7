#pragma once
// The one storage type of the kernels: how a tensor's elements are stored (float32, or 16-bit
// bfloat16 / IEEE half read into and written from float32 arithmetic), with the element type,
// load and store of each kind. Every kernel that takes 16-bit data (graph_mp, attention) uses
// these traits; host code converts bit by bit (half_types.hpp), device code with the cvt
// instructions of cuda_bf16.h / cuda_fp16.h, which round the same way (to nearest, ties to
// even; only the payload of a NaN may differ).
#include <cstdint>

#include "common/half_types.hpp"
#include "common/hd.hpp"

#if defined(__CUDACC__)
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#endif

namespace mpe::kernels {

enum class Storage : int { f32 = 0, bf16 = 1, f16 = 2 };

template <Storage S>
struct StorageTraits;
template <>
struct StorageTraits<Storage::f32> {
  using T = float;
  static MPE_HD float load(float v) { return v; }
  static MPE_HD float store(float v) { return v; }
};
template <>
struct StorageTraits<Storage::bf16> {
  using T = std::uint16_t;
  static MPE_HD float load(std::uint16_t v) {
#if defined(__CUDA_ARCH__)
    return __bfloat162float(__ushort_as_bfloat16(v));
#else
    return bf16_bits_to_f32(v);
#endif
  }
  static MPE_HD std::uint16_t store(float v) {
#if defined(__CUDA_ARCH__)
    return __bfloat16_as_ushort(__float2bfloat16_rn(v));
#else
    return f32_to_bf16_bits(v);
#endif
  }
};
template <>
struct StorageTraits<Storage::f16> {
  using T = std::uint16_t;
  static MPE_HD float load(std::uint16_t v) {
#if defined(__CUDA_ARCH__)
    return __half2float(__ushort_as_half(v));
#else
    return f16_bits_to_f32(v);
#endif
  }
  static MPE_HD std::uint16_t store(float v) {
#if defined(__CUDA_ARCH__)
    return __half_as_ushort(__float2half_rn(v));
#else
    return f32_to_f16_bits(v);
#endif
  }
};

// Bytes per element of storage s.
MPE_HD std::int64_t storage_bytes(Storage s) { return s == Storage::f32 ? 4 : 2; }

}  // namespace mpe::kernels
