#pragma once
// 16-bit floating-point storage formats, converted bit by bit so the host and the device give
// identical results:
//   bfloat16 (bf16): 1 sign, 8 exponent, 7 mantissa bits: the top half of a float32.
//   IEEE binary16 (f16): 1 sign, 5 exponent (bias 15), 10 mantissa bits; max 65504,
//   subnormals down to 2^-24.
// Conversions from float32 round to nearest, ties to even; infinities keep their sign; NaNs
// stay NaN (made quiet, sign and the top payload bits kept). Values beyond the f16 range round
// to infinity as IEEE rounding prescribes (>= 65520 in magnitude).
// Device code may instead use cuda_bf16.h / cuda_fp16.h intrinsics (__float2bfloat16_rn,
// __float2half_rn, which round the same way) inside kernels where speed matters.
#include <cstdint>
#include <cstring>

#include "hd.hpp"

namespace mpe::kernels {

MPE_HD std::uint32_t f32_bits(float x) {
#if defined(__CUDA_ARCH__)
  return __float_as_uint(x);
#else
  std::uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  return u;
#endif
}

MPE_HD float f32_from_bits(std::uint32_t u) {
#if defined(__CUDA_ARCH__)
  return __uint_as_float(u);
#else
  float x;
  std::memcpy(&x, &u, sizeof x);
  return x;
#endif
}

// ---- bfloat16 ----

MPE_HD float bf16_bits_to_f32(std::uint16_t h) {
  return f32_from_bits(static_cast<std::uint32_t>(h) << 16);
}

MPE_HD std::uint16_t f32_to_bf16_bits(float x) {
  const std::uint32_t u = f32_bits(x);
  if ((u & 0x7fffffffu) > 0x7f800000u) {  // NaN: keep sign and top payload bits, force quiet
    return static_cast<std::uint16_t>((u >> 16) | 0x0040u);
  }
  // Adding 0x7fff plus the lowest kept bit rounds to nearest, ties to even; a carry out of the
  // mantissa moves into the exponent (and the largest finite values round to infinity).
  const std::uint32_t rounded = u + 0x7fffu + ((u >> 16) & 1u);
  return static_cast<std::uint16_t>(rounded >> 16);
}

// ---- IEEE binary16 ----

MPE_HD float f16_bits_to_f32(std::uint16_t h) {
  // Branch-free (selects only), so that loops decoding rows of halves vectorise: exponent and
  // mantissa moved to float32's positions, then one of three readings picked.
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  const std::uint32_t em = static_cast<std::uint32_t>(h & 0x7fffu) << 13;
  const std::uint32_t exp = em & 0x0f800000u;  // the 5 exponent bits
  const float normal = f32_from_bits(em + (112u << 23));  // rebias 15 -> 127
  const float inf_nan = f32_from_bits(em | 0x7f800000u);  // payload kept
  // Subnormal man·2^-24 = (2^-14 + man·2^-24) − 2^-14, exact; man = 0 gives +0.
  const float subnormal = f32_from_bits(em + (113u << 23)) - f32_from_bits(113u << 23);
  const float magnitude = exp == 0x0f800000u ? inf_nan : (exp == 0 ? subnormal : normal);
  return f32_from_bits(f32_bits(magnitude) | sign);
}

MPE_HD std::uint16_t f32_to_f16_bits(float x) {
  const std::uint32_t u = f32_bits(x);
  const std::uint16_t sign = static_cast<std::uint16_t>((u >> 16) & 0x8000u);
  const std::uint32_t a = u & 0x7fffffffu;
  if (a > 0x7f800000u) {  // NaN: quiet, top payload bits kept
    return static_cast<std::uint16_t>(sign | 0x7e00u | ((a >> 13) & 0x3ffu));
  }
  if (a >= 0x477ff000u) return static_cast<std::uint16_t>(sign | 0x7c00u);  // >= 65520: inf
  if (a >= 0x38800000u) {  // normal f16 (>= 2^-14): rebias the exponent, round 13 bits away
    const std::uint32_t r = a - 0x38000000u;
    return static_cast<std::uint16_t>(sign | ((r + 0xfffu + ((r >> 13) & 1u)) >> 13));
  }
  if (a <= 0x33000000u) return sign;  // <= 2^-25 (half the smallest subnormal): rounds to 0
  // Subnormal f16: value = m * 2^(e - 150); in units of 2^-24 that is m >> (126 - e).
  const std::uint32_t m = (a & 0x7fffffu) | 0x800000u;
  const std::uint32_t shift = 126u - (a >> 23);  // 14 .. 24
  std::uint32_t q = m >> shift;
  const std::uint32_t rem = m & ((1u << shift) - 1u);
  const std::uint32_t half = 1u << (shift - 1u);
  if (rem > half || (rem == half && (q & 1u))) ++q;  // may carry into the smallest normal
  return static_cast<std::uint16_t>(sign | q);
}

}  // namespace mpe::kernels
