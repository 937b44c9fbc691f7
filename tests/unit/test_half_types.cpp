// bfloat16 / float16 storage: the shared host/device conversions (kernels/common/half_types.hpp)
// checked exhaustively against exact double arithmetic, and Tensor::astype.
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include <gtest/gtest.h>
#include <mpe/mpe.hpp>

#include "common/half_types.hpp"
#include "support/errors.hpp"

namespace mpe {
namespace {

// Independent decoders: value = (-1)^s · 2^(e - bias) · (1 + m / 2^mbits), subnormals
// 2^(1 - bias) · m / 2^mbits, computed in double with ldexp.
double decode(std::uint32_t bits, int ebits, int mbits) {
  const int bias = (1 << (ebits - 1)) - 1;
  const bool neg = (bits >> (ebits + mbits)) & 1u;
  const std::uint32_t e = (bits >> mbits) & ((1u << ebits) - 1u);
  const std::uint32_t m = bits & ((1u << mbits) - 1u);
  double v;
  if (e == (1u << ebits) - 1u) {
    v = m ? std::numeric_limits<double>::quiet_NaN() : std::numeric_limits<double>::infinity();
  } else if (e == 0) {
    v = std::ldexp(static_cast<double>(m), 1 - bias - mbits);
  } else {
    v = std::ldexp(1.0 + std::ldexp(static_cast<double>(m), -mbits), static_cast<int>(e) - bias);
  }
  return neg ? -v : v;
}
double decode_f16(std::uint16_t h) { return decode(h, 5, 10); }
double decode_bf16(std::uint16_t h) { return decode(h, 8, 7); }

TEST(HalfTypes, DecodingEveryBitPatternIsExact) {
  for (std::uint32_t b = 0; b < 65536; ++b) {
    const auto h = static_cast<std::uint16_t>(b);
    const double want16 = decode_f16(h), wantbf = decode_bf16(h);
    const float got16 = kernels::f16_bits_to_f32(h), gotbf = kernels::bf16_bits_to_f32(h);
    if (std::isnan(want16)) {
      EXPECT_TRUE(std::isnan(got16)) << std::hex << b;
    } else {
      ASSERT_EQ(static_cast<double>(got16), want16) << std::hex << b;
      EXPECT_EQ(std::signbit(got16), std::signbit(want16)) << std::hex << b;
    }
    if (std::isnan(wantbf)) {
      EXPECT_TRUE(std::isnan(gotbf)) << std::hex << b;
    } else {
      ASSERT_EQ(static_cast<double>(gotbf), wantbf) << std::hex << b;
    }
    // Every non-NaN pattern survives the round trip bit for bit; NaN stays NaN.
    if (!std::isnan(want16)) {
      ASSERT_EQ(kernels::f32_to_f16_bits(got16), h) << std::hex << b;
    } else {
      EXPECT_TRUE(std::isnan(decode_f16(kernels::f32_to_f16_bits(got16)))) << std::hex << b;
    }
    if (!std::isnan(wantbf)) {
      ASSERT_EQ(kernels::f32_to_bf16_bits(gotbf), h) << std::hex << b;
    } else {
      EXPECT_TRUE(std::isnan(decode_bf16(kernels::f32_to_bf16_bits(gotbf)))) << std::hex << b;
    }
  }
}

// The nearest representable value, ties to the even mantissa, found by brute force over
// the 65536 patterns sorted by value (positive side; the sign is symmetric).
class Nearest {
 public:
  Nearest(double (*dec)(std::uint16_t), double overflow_at) : overflow_at_(overflow_at) {
    for (std::uint32_t b = 0; b < 0x8000; ++b) {
      const double v = dec(static_cast<std::uint16_t>(b));
      if (std::isfinite(v)) finite_.push_back({v, static_cast<std::uint16_t>(b)});
      if (std::isinf(v)) inf_ = static_cast<std::uint16_t>(b);
    }
  }
  // x >= 0, finite.
  std::uint16_t operator()(double x) const {
    if (x >= overflow_at_) return inf_;
    // finite_ is sorted by value (bit order equals value order for positive values).
    std::size_t lo = 0, hi = finite_.size() - 1;
    while (hi - lo > 1) {
      const std::size_t mid = (lo + hi) / 2;
      (finite_[mid].v <= x ? lo : hi) = mid;
    }
    const double dlo = x - finite_[lo].v, dhi = finite_[hi].v - x;
    if (dlo < dhi) return finite_[lo].bits;
    if (dhi < dlo) return finite_[hi].bits;
    return (finite_[lo].bits & 1u) ? finite_[hi].bits : finite_[lo].bits;
  }

 private:
  struct Entry {
    double v;
    std::uint16_t bits;
  };
  std::vector<Entry> finite_;
  std::uint16_t inf_ = 0;
  double overflow_at_;
};

TEST(HalfTypes, RoundingIsNearestTiesToEven) {
  // Overflow thresholds: halfway between the largest finite value and the next power of two.
  const Nearest near16(decode_f16, 65520.0);
  const Nearest nearbf(decode_bf16, std::ldexp(1.0, 128) - std::ldexp(1.0, 127 - 8));
  std::mt19937 rng(7);
  std::vector<float> xs;
  // Random bit patterns (all exponents), values near the f16 range, and the exact halfway
  // points between neighbouring 16-bit values (the ties).
  for (int i = 0; i < 20000; ++i) {
    const std::uint32_t u = rng();
    xs.push_back(kernels::f32_from_bits(u));
    xs.push_back(std::ldexp(static_cast<float>(rng() % 100000) / 1000.0f,
                            static_cast<int>(rng() % 50) - 40));
    const auto h = static_cast<std::uint16_t>(rng() & 0x7bffu);
    xs.push_back(static_cast<float>((decode_f16(h) + decode_f16(static_cast<std::uint16_t>(h + 1))) / 2));
    const auto hb = static_cast<std::uint16_t>(rng() & 0x7f7eu);
    xs.push_back(static_cast<float>((decode_bf16(hb) + decode_bf16(static_cast<std::uint16_t>(hb + 1))) / 2));
  }
  for (float x : {0.0f, -0.0f, 65504.0f, 65519.99f, 65520.0f, -65520.0f, 1e-8f, 2.98e-8f,
                  std::ldexp(1.0f, -25), std::ldexp(1.5f, -25), std::ldexp(1.0f, -24),
                  std::ldexp(1.0f, -14), std::ldexp(1023.5f, -24), 3.0e38f,
                  std::numeric_limits<float>::max(), std::numeric_limits<float>::denorm_min(),
                  std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity()}) {
    xs.push_back(x);
  }
  for (float x : xs) {
    const std::uint16_t g16 = kernels::f32_to_f16_bits(x), gbf = kernels::f32_to_bf16_bits(x);
    if (std::isnan(x)) {
      EXPECT_TRUE(std::isnan(decode_f16(g16)));
      EXPECT_TRUE(std::isnan(decode_bf16(gbf)));
      continue;
    }
    const std::uint16_t sign = std::signbit(x) ? 0x8000u : 0u;
    const double ax = std::fabs(static_cast<double>(x));
    const std::uint16_t w16 = std::isinf(x) ? 0x7c00u : near16(ax);
    const std::uint16_t wbf = std::isinf(x) ? 0x7f80u : nearbf(ax);
    ASSERT_EQ(g16, sign | w16) << "f16 of " << x;
    ASSERT_EQ(gbf, sign | wbf) << "bf16 of " << x;
  }
}

TEST(HalfTypes, NanStaysNanWithItsSign) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float snan = kernels::f32_from_bits(0x7f800001u);  // signalling, payload only in low bits
  for (float x : {nan, -nan, snan}) {
    EXPECT_TRUE(std::isnan(kernels::f16_bits_to_f32(kernels::f32_to_f16_bits(x))));
    EXPECT_TRUE(std::isnan(kernels::bf16_bits_to_f32(kernels::f32_to_bf16_bits(x))));
    EXPECT_EQ(std::signbit(kernels::bf16_bits_to_f32(kernels::f32_to_bf16_bits(x))), std::signbit(x));
    EXPECT_EQ(std::signbit(kernels::f16_bits_to_f32(kernels::f32_to_f16_bits(x))), std::signbit(x));
  }
}

TEST(HalfTypes, TensorsOfHalfTypes) {
  EXPECT_EQ(dtype_size(DType::bf16), 2u);
  EXPECT_EQ(dtype_size(DType::f16), 2u);
  EXPECT_STREQ(dtype_name(DType::bf16), "bfloat16");
  EXPECT_STREQ(dtype_name(DType::f16), "float16");
  EXPECT_TRUE(dtype_is_floating(DType::bf16));
  EXPECT_FALSE(dtype_is_floating(DType::i32));
  EXPECT_EQ(to_float(to_bfloat16(1.0f / 3.0f)), 0.333984375f);  // 0x3eab
  EXPECT_EQ(to_float(to_float16(1.0f / 3.0f)), 0.333251953125f);  // 0x3555

  const std::vector<float> v = {1.0f, -2.5f, 1.0f / 3.0f, 70000.0f, 1e-30f, 0.0f};
  const Tensor f = Tensor::from_vector(v, {2, 3});
  const Tensor h = f.astype(DType::f16);
  const Tensor b = f.astype(DType::bf16);
  EXPECT_EQ(h.dtype(), DType::f16);
  EXPECT_EQ(h.shape(), (Shape{2, 3}));
  EXPECT_EQ(h.nbytes(), 12u);
  EXPECT_EQ(h.str(), "Tensor(float16, [2, 3], cpu)");
  const auto hv = h.to_vector<float16>();
  const auto bv = b.to_vector<bfloat16>();
  for (std::size_t i = 0; i < v.size(); ++i) {
    EXPECT_EQ(hv[i].bits, kernels::f32_to_f16_bits(v[i]));
    EXPECT_EQ(bv[i].bits, kernels::f32_to_bf16_bits(v[i]));
  }
  EXPECT_TRUE(std::isinf(to_float(hv[3])));  // beyond float16's range
  const std::vector<float> back = h.astype(DType::f32).to_vector<float>();
  EXPECT_EQ(back[1], -2.5f);
  EXPECT_EQ(back[4], 0.0f);  // underflows to zero
  const std::vector<double> wide = b.astype(DType::f64).to_vector<double>();
  EXPECT_EQ(wide[3], 70144.0);  // bf16 keeps the exponent range: 70000 rounds to 70144
  // f64 -> f16 goes through float32.
  const Tensor d = Tensor::from_vector<double>({0.1, 65504.0}, {2});
  EXPECT_EQ(d.astype(DType::f16).to_vector<float16>()[0].bits, kernels::f32_to_f16_bits(0.1f));
  // Same dtype: a deep copy.
  Tensor c = h.astype(DType::f16);
  EXPECT_NE(c.raw(), h.raw());
  // Integers are refused.
  test::expect_error([] { Tensor::zeros({2}, DType::i32).astype(DType::f16); },
                     ErrorCode::dtype_mismatch, "int32 to float16");
  test::expect_error([&] { f.astype(DType::i64); }, ErrorCode::dtype_mismatch,
                     "float32 to int64");
  test::expect_error([&] { h.data<bfloat16>(); }, ErrorCode::dtype_mismatch,
                     "holds float16 but bfloat16 was requested");
}

}  // namespace
}  // namespace mpe
