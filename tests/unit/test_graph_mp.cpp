// Generic message-passing layer: every MESSAGE x AGGREGATE x UPDATE against a float64
// reference on random graphs (empty rows, self-loops, duplicate edges), user functors, errors.
#include <cmath>
#include <random>

#include <gtest/gtest.h>
#include <mpe/graph_mp.hpp>
#include <mpe/ops.hpp>

#include "support/errors.hpp"
#include "support/graph_mp_ref.hpp"
#include "support/reference.hpp"

namespace mpe {
namespace {

constexpr Aggregation kAggs[] = {Aggregation::sum, Aggregation::mean, Aggregation::max,
                                   Aggregation::min, Aggregation::logsumexp};
constexpr MessageKind kMessages[] = {MessageKind::copy, MessageKind::edge_weight,
                                     MessageKind::type_weight, MessageKind::edge_and_type_weight};

std::vector<std::int32_t> random_types(std::int64_t n, int num_types, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> d(0, num_types - 1);
  std::vector<std::int32_t> t(static_cast<std::size_t>(n));
  for (auto& v : t) v = d(rng);
  return t;
}

void expect_close(const std::vector<float>& got, const std::vector<double>& want, double tol) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t k = 0; k < got.size(); ++k) {
    ASSERT_NEAR(got[k], want[k], tol * (1.0 + std::fabs(want[k]))) << "element " << k;
  }
}

TEST(GraphMp, EveryCombinationMatchesFloat64Reference) {
  std::uint64_t seed = 11;
  for (std::int64_t width : {1, 5, 16}) {
    // 40 nodes with ~3 in-edges each: random columns give self-loops and duplicates; the
    // exponential degrees give empty rows.
    const Csr g = test::random_csr(40, 40, 3.0, true, seed++);
    const auto x = test::random_floats(static_cast<std::size_t>(40 * width), -1.f, 1.f, seed++);
    const auto types = random_types(g.nnz(), 3, seed++);
    const Tensor xt = Tensor::from_vector(x, {40, width});
    for (std::int64_t tw_width : {std::int64_t(1), width}) {
      const auto tw =
          test::random_floats(static_cast<std::size_t>(3 * tw_width), 0.5f, 2.f, seed++);
      EdgeTypes et{
          Tensor::from_vector(types, {g.nnz()}),
          tw_width == 1 ? Tensor::from_vector(tw, {3}) : Tensor::from_vector(tw, {3, width})};
      for (MessageKind m : kMessages)
        for (Aggregation agg : kAggs)
          for (int u = 0; u < 3; ++u) {
            SCOPED_TRACE(testing::Message()
                         << "width " << width << " message " << message_kind_name(m) << " agg "
                         << aggregation_name(agg) << " update " << u);
            MessagePassing layer{m, agg, Update::replace()};
            std::vector<float> bias;
            if (u == 1) layer.update = Update::residual(0.3f, Activation::tanh);
            if (u == 2) {
              bias = test::random_floats(static_cast<std::size_t>(width), -1.f, 1.f, seed++);
              layer.update =
                  Update{1.5f, -0.5f, Activation::relu, Tensor::from_vector(bias, {width})};
            }
            const auto got = message_passing(g, xt, layer, et).to_vector<float>();
            const auto want =
                test::mp_ref(g, x, width, m, agg, layer.update.self_scale, layer.update.agg_scale,
                             layer.update.activation, bias, types, tw, tw_width);
            expect_close(got, want, 2e-5);
          }
    }
  }
}

// bf16 / f16 storage: x is read into float32 arithmetic and y rounded once, so the output is the
// float64 reference on the decoded inputs within one rounding of the storage type.
TEST(GraphMp, SixteenBitStorageMatchesFloat64ReferenceOnDecodedInputs) {
  std::uint64_t seed = 101;
  for (DType dt : {DType::bf16, DType::f16}) {
    const double unit = dt == DType::bf16 ? 1.0 / 256 : 1.0 / 2048;  // half an ulp, relative
    for (std::int64_t width : {3, 8, 36}) {
      const Csr g = test::random_csr(50, 50, 4.0, true, seed++);
      const auto x = test::random_floats(static_cast<std::size_t>(50 * width), -2.f, 2.f, seed++);
      const Tensor x16 = Tensor::from_vector(x, {50, width}).astype(dt);
      ASSERT_EQ(x16.dtype(), dt);
      const auto decoded = x16.astype(DType::f32).to_vector<float>();
      const auto types = random_types(g.nnz(), 2, seed++);
      const auto tw = test::random_floats(static_cast<std::size_t>(2 * width), 0.5f, 1.5f, seed++);
      const EdgeTypes et{Tensor::from_vector(types, {g.nnz()}),
                         Tensor::from_vector(tw, {2, width})};
      const auto bias = test::random_floats(static_cast<std::size_t>(width), -1.f, 1.f, seed++);
      for (MessageKind m : {MessageKind::edge_weight, MessageKind::edge_and_type_weight})
        for (Aggregation agg : kAggs) {
          SCOPED_TRACE(testing::Message()
                       << dtype_name(dt) << " width " << width << " message "
                       << message_kind_name(m) << " agg " << aggregation_name(agg));
          const MessagePassing layer{
              m, agg, Update{0.5f, 0.75f, Activation::tanh, Tensor::from_vector(bias, {width})}};
          const Tensor y = message_passing(g, x16, layer, et);
          ASSERT_EQ(y.dtype(), dt);
          const auto got = y.astype(DType::f32).to_vector<float>();
          const auto want = test::mp_ref(g, decoded, width, m, agg, 0.5f, 0.75f, Activation::tanh,
                                         bias, types, tw, width);
          ASSERT_EQ(got.size(), want.size());
          for (std::size_t k = 0; k < got.size(); ++k) {
            ASSERT_NEAR(got[k], want[k], unit * std::fabs(want[k]) + 1e-5) << "element " << k;
          }
        }
    }
  }
  // y must have x's dtype; a float32 y for bf16 x is refused and left alone.
  const Csr g = test::random_csr(6, 6, 2.0, true, seed++);
  const Tensor x16 = Tensor::from_vector(std::vector<float>(12, 1.0f), {6, 2}).astype(DType::bf16);
  Tensor y = Tensor::from_vector(std::vector<float>(12, 7.0f), {6, 2});
  test::expect_error([&] { message_passing(g, x16, MessagePassing{}, y); },
                     ErrorCode::dtype_mismatch, "dtype of x");
  EXPECT_EQ(y.to_vector<float>(), std::vector<float>(12, 7.0f));
  test::expect_error(
      [&] {
        message_passing(g, Tensor::from_vector(std::vector<double>(12, 1.0), {6, 2}),
                        MessagePassing{});
      },
      ErrorCode::dtype_mismatch, "float32, bfloat16 or float16");
}

TEST(GraphMp, SigmoidAndEmptyRows) {
  // Row 0 empty, row 1 has a self-loop and a duplicate edge, row 2 one edge.
  const Csr g = test::make_csr(3, 3, {0, 0, 3, 4}, {1, 2, 2, 0}, {1.f, 2.f, 2.f, -1.f});
  const std::vector<float> x{0.5f, -1.f, 2.f};
  const Tensor xt = Tensor::from_vector(x, {3, 1});
  for (Aggregation agg : kAggs) {
    const auto y = message_passing(g, xt, {MessageKind::edge_weight, agg, Update::replace()})
                       .to_vector<float>();
    EXPECT_EQ(y[0], agg == Aggregation::logsumexp ? kLogZero : 0.0f) << aggregation_name(agg);
    const auto want =
        test::mp_ref(g, x, 1, MessageKind::edge_weight, agg, 0, 1, Activation::none, {});
    expect_close(y, want, 1e-6);
  }
  const auto s =
      message_passing(g, xt,
                      {MessageKind::copy, Aggregation::sum, Update::replace(Activation::sigmoid)})
          .to_vector<float>();
  EXPECT_FLOAT_EQ(s[0], 0.5f);
  EXPECT_NEAR(s[1], 1.0 / (1.0 + std::exp(-3.0)), 1e-6);  // -1 + 2 + 2
}

TEST(GraphMp, LogSumExpSkipsLogZeroMessages) {
  const Csr g = test::make_csr(2, 3, {0, 2, 4}, {0, 1, 1, 2});
  const Tensor x =
      Tensor::from_vector(std::vector<float>{kLogZero, std::log(0.25f), kLogZero}, {3, 1});
  const auto y =
      message_passing(g, x, {MessageKind::copy, Aggregation::logsumexp, {}}).to_vector<float>();
  EXPECT_NEAR(y[0], std::log(0.25), 1e-6);
  EXPECT_NEAR(y[1], std::log(0.25), 1e-6);
  const Csr g0 = test::make_csr(1, 3, {0, 2}, {0, 2});
  EXPECT_EQ(message_passing(g0, x, {MessageKind::copy, Aggregation::logsumexp, {}})
                .to_vector<float>()[0],
            kLogZero);
}

TEST(GraphMp, UserFunctorsMatchHandComputation) {
  const Csr g = test::random_csr(25, 25, 3.0, true, 5);
  const std::int64_t F = 4;
  const auto x = test::random_floats(25 * F, -1.f, 1.f, 6);
  const Tensor xt = Tensor::from_vector(x, {25, F});
  // MESSAGE: x_src - x_dst; UPDATE: x_self + 0.5 · max.
  const MessageFn msg = [&](std::int64_t, std::int64_t, std::int64_t, const float* src,
                            const float* dst, float* out) {
    for (std::int64_t f = 0; f < F; ++f) out[f] = src[f] - dst[f];
  };
  const UpdateFn upd = [&](std::int64_t, const float* self, const float* agg, float* out) {
    for (std::int64_t f = 0; f < F; ++f) out[f] = self[f] + 0.5f * agg[f];
  };
  const auto y = message_passing(g, xt, msg, Aggregation::max, upd).to_vector<float>();
  const auto h = test::host_csr(g);
  for (std::int64_t i = 0; i < 25; ++i)
    for (std::int64_t f = 0; f < F; ++f) {
      double m = 0;
      bool any = false;
      for (std::int64_t e = h.off[i]; e < h.off[i + 1]; ++e) {
        const double v =
            x[static_cast<std::size_t>(h.col[e] * F + f)] - x[static_cast<std::size_t>(i * F + f)];
        m = any ? std::max(m, v) : v;
        any = true;
      }
      EXPECT_NEAR(y[static_cast<std::size_t>(i * F + f)],
                  x[static_cast<std::size_t>(i * F + f)] + 0.5 * m, 1e-6);
    }
  // Empty functors: copy and replace, the built-in layer's numbers.
  const auto plain = message_passing(g, xt, MessageFn{}, Aggregation::mean).to_vector<float>();
  const auto fused =
      message_passing(g, xt, {MessageKind::copy, Aggregation::mean, {}}).to_vector<float>();
  EXPECT_EQ(plain, fused);
}

TEST(GraphMp, NamesRoundTrip) {
  for (Aggregation a : kAggs) EXPECT_EQ(parse_aggregation(aggregation_name(a)), a);
  for (MessageKind m : kMessages) EXPECT_EQ(parse_message_kind(message_kind_name(m)), m);
  EXPECT_EQ(parse_activation("tanh"), Activation::tanh);
  test::expect_error([] { parse_aggregation("median"); }, ErrorCode::invalid_argument, "median");
  test::expect_error([] { parse_activation("gelu"); }, ErrorCode::invalid_argument, "relu");
}

TEST(GraphMp, BadInputNamesTheArgumentAndLeavesYUntouched) {
  const Csr g = test::make_csr(3, 3, {0, 1, 2, 3}, {1, 2, 0});  // unweighted
  const Csr rect = test::make_csr(2, 3, {0, 1, 2}, {1, 2});
  const Tensor x = Tensor::from_vector(std::vector<float>(6, 1.f), {3, 2});
  Tensor y = Tensor::from_vector(std::vector<float>(6, 7.f), {3, 2});
  using test::expect_error;
  expect_error(
      [&] {
        message_passing(g, Tensor::zeros({2, 2}, DType::f32), {}, y);
      },
      ErrorCode::shape_mismatch, "x must be [num_cols = 3, F]");
  Tensor y_bad = Tensor::zeros({3, 3}, DType::f32);
  expect_error([&] { message_passing(g, x, {}, y_bad); }, ErrorCode::shape_mismatch, "y");
  expect_error(
      [&] {
        message_passing(g, x, {MessageKind::edge_weight, Aggregation::sum, {}}, y);
      },
      ErrorCode::invalid_argument, "needs edge weights");
  expect_error(
      [&] {
        message_passing(g, x, {MessageKind::type_weight, Aggregation::sum, {}}, y);
      },
      ErrorCode::invalid_argument, "types.types");
  EdgeTypes bad_range{Tensor::from_vector(std::vector<std::int32_t>{0, 2, 1}, {3}),
                      Tensor::from_vector(std::vector<float>{1.f, 2.f}, {2})};
  expect_error(
      [&] {
        message_passing(g, x, {MessageKind::type_weight, Aggregation::sum, {}}, y, bad_range);
      },
      ErrorCode::invalid_argument, "types.types[1] = 2 is out of range [0, 2)");
  EdgeTypes bad_shape{Tensor::from_vector(std::vector<std::int32_t>{0, 1, 1}, {3}),
                      Tensor::zeros({2, 5}, DType::f32)};
  expect_error(
      [&] {
        message_passing(g, x, {MessageKind::type_weight, Aggregation::sum, {}}, y, bad_shape);
      },
      ErrorCode::shape_mismatch, "types.weights");
  EdgeTypes short_types{Tensor::from_vector(std::vector<std::int32_t>{0, 1}, {2}),
                        Tensor::zeros({2}, DType::f32)};
  expect_error(
      [&] {
        message_passing(g, x, {MessageKind::type_weight, Aggregation::sum, {}}, y, short_types);
      },
      ErrorCode::shape_mismatch, "types.types");
  Tensor y_rect = Tensor::zeros({2, 2}, DType::f32);
  expect_error(
      [&] {
        message_passing(rect, x, {MessageKind::copy, Aggregation::sum, Update::residual(0.5f)},
                        y_rect);
      },
      ErrorCode::shape_mismatch, "square");
  MessagePassing with_bias{MessageKind::copy, Aggregation::sum, Update::replace()};
  with_bias.update.bias = Tensor::zeros({3}, DType::f32);
  expect_error([&] { message_passing(g, x, with_bias, y); }, ErrorCode::shape_mismatch,
               "update.bias");
  const Csr broken = test::make_csr(3, 3, {0, 1, 2, 5}, {1, 2, 0});
  expect_error([&] { message_passing(broken, x, {}, y); }, ErrorCode::invalid_graph, "row_offsets");
  expect_error(
      [&] {
        message_passing(g, Tensor::zeros({3, 2}, DType::f64), {}, y);
      },
      ErrorCode::dtype_mismatch, "x must be float32");
  Tensor xy = Tensor::from_vector(std::vector<float>(6, 1.f), {3, 2});
  expect_error([&] { message_passing(g, xy, {}, xy); }, ErrorCode::invalid_argument,
               "must not be x");
  for (float v : y.to_vector<float>()) EXPECT_EQ(v, 7.f);
}

}  // namespace
}  // namespace mpe
