// Message passing on CUDA against the CPU twin: every aggregation and message kind at many
// widths (short rows and block-per-row long rows), GNN layers (cuBLAS transforms), GAT's edge
// softmax and bioelectric diffusion; guard bytes around the fused op's output; run-to-run
// bit-reproducibility.
#include <cmath>
#include <cstring>
#include <random>

#include <gtest/gtest.h>
#include <mpe/bioelectric.hpp>
#include <mpe/gnn.hpp>
#include <mpe/graph_mp.hpp>

#include "backend.hpp"
#include "kernel_enums.hpp"
#include "support/gpu.hpp"
#include "support/guarded.hpp"
#include "support/reference.hpp"

namespace mpe {
namespace {

const Device kGpu = Device::cuda(0);

void expect_close(const std::vector<float>& got, const std::vector<float>& want, double rel) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t k = 0; k < got.size(); ++k) {
    ASSERT_FALSE(std::isnan(got[k])) << "element " << k;
    ASSERT_NEAR(got[k], want[k], rel * (1.0 + std::fabs(want[k]))) << "element " << k;
  }
}

// A graph with random short rows plus two hub rows long enough for the block-per-row kernel.
Csr graph_with_hubs(std::int64_t n, bool weighted, std::uint64_t seed) {
  Csr g = test::random_csr(n, n, 4.0, weighted, seed);
  Coo coo = csr_to_coo(g);
  std::mt19937_64 rng(seed + 99);
  for (std::int64_t hub : {std::int64_t(1), n / 2}) {
    for (int k = 0; k < 1500; ++k) {
      coo.rows.push_back(hub);
      coo.cols.push_back(static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(n)));
      if (weighted) coo.weights.push_back(static_cast<float>(rng() % 1000) / 500.0f - 1.0f);
    }
  }
  CsrBuildOptions o;
  o.sort_columns = false;
  return csr_from_coo(coo, o);
}

TEST(GpuParityGraphMp, AllAggregationsMessagesAndWidths) {
  MPE_REQUIRE_CUDA_OR_SKIP();
  std::uint64_t seed = 3;
  for (std::int64_t width : {1, 3, 4, 32, 33, 128}) {
    const Csr g_cpu = graph_with_hubs(700, true, seed++);
    const Csr g = g_cpu.to(kGpu);
    const Tensor x_cpu = Tensor::from_vector(
        test::random_floats(static_cast<std::size_t>(700 * width), -1.f, 1.f, seed++),
        {700, width});
    const Tensor x = x_cpu.to(kGpu);
    std::vector<std::int32_t> types(static_cast<std::size_t>(g_cpu.nnz()));
    for (std::size_t e = 0; e < types.size(); ++e) types[e] = static_cast<std::int32_t>(e % 3);
    for (std::int64_t tw_width : {std::int64_t(1), width}) {
      const auto tw =
          test::random_floats(static_cast<std::size_t>(3 * tw_width), 0.5f, 1.5f, seed++);
      const Shape tw_shape = tw_width == 1 ? Shape{3} : Shape{3, width};
      EdgeTypes et_cpu{Tensor::from_vector(types, {g_cpu.nnz()}),
                       Tensor::from_vector(tw, tw_shape)};
      EdgeTypes et{et_cpu.types.to(kGpu), et_cpu.weights.to(kGpu)};
      for (MessageKind m : {MessageKind::copy, MessageKind::edge_weight, MessageKind::type_weight,
                            MessageKind::edge_and_type_weight})
        for (Aggregation agg : {Aggregation::sum, Aggregation::mean, Aggregation::max,
                                  Aggregation::min, Aggregation::logsumexp}) {
          SCOPED_TRACE(testing::Message() << "width " << width << " " << message_kind_name(m) << " "
                                          << aggregation_name(agg) << " tw " << tw_width);
          MessagePassing layer{m, agg, Update::residual(0.7f, Activation::tanh)};
          layer.update.bias = Tensor::from_vector(
              test::random_floats(static_cast<std::size_t>(width), -1.f, 1.f, seed++), {width});
          const auto want = message_passing(g_cpu, x_cpu, layer, et_cpu).to_vector<float>();
          layer.update.bias = layer.update.bias.to(kGpu);
          // Through the backend into a guarded buffer: exactly the output is written.
          test::GuardedOutput out(700 * width, kGpu);
          Tensor y1 = message_passing(g, x, layer, et);
          kernels::GraphMpArgs args;
          args.row_offsets = g.row_offsets.data<std::int64_t>();
          args.col_indices = g.col_indices.data<std::int32_t>();
          args.weights = m == MessageKind::edge_weight || m == MessageKind::edge_and_type_weight
                             ? g.weights.data<float>()
                             : nullptr;
          if (m == MessageKind::type_weight || m == MessageKind::edge_and_type_weight) {
            args.edge_types = et.types.data<std::int32_t>();
            args.type_weights = et.weights.data<float>();
            args.type_width = tw_width;
          }
          args.x = x.data<float>();
          args.self = x.data<float>();
          args.bias = layer.update.bias.data<float>();
          args.y = out.data();
          args.rows = 700;
          args.width = width;
          args.agg = detail::to_kernel(agg, "test");
          args.act = kernels::MpAct::tanh;
          args.self_scale = layer.update.self_scale;
          args.agg_scale = layer.update.agg_scale;
          detail::backend_for(kGpu).graph_mp(0, args);
          const auto got = out.values();
          EXPECT_TRUE(out.guards_intact());
          expect_close(got, want, 2e-5);
          const auto api = y1.to_vector<float>();
          ASSERT_EQ(0, std::memcmp(api.data(), got.data(), got.size() * sizeof(float)));
        }
    }
  }
}

// bf16 / f16 features: the GPU's output equals the CPU twin's within one rounding of the storage
// (same float32 arithmetic per element; the long-row kernel merges warp partials, which can
// move a value across a rounding boundary). Widths 4 and 36 take the 8-byte vector loads, 3 the
// scalar ones; hub rows take the block-per-row kernel.
TEST(GpuParityGraphMp, SixteenBitStorage) {
  MPE_REQUIRE_CUDA_OR_SKIP();
  std::uint64_t seed = 77;
  for (DType dt : {DType::bf16, DType::f16}) {
    const double ulp = dt == DType::bf16 ? 1.0 / 128 : 1.0 / 1024;
    for (std::int64_t width : {3, 4, 36}) {
      const Csr g_cpu = graph_with_hubs(600, true, seed++);
      const Csr g = g_cpu.to(kGpu);
      const Tensor x_cpu =
          Tensor::from_vector(
              test::random_floats(static_cast<std::size_t>(600 * width), -1.f, 1.f, seed++),
              {600, width})
              .astype(dt);
      const Tensor x = x_cpu.to(kGpu);
      for (Aggregation agg : {Aggregation::sum, Aggregation::mean, Aggregation::max,
                                Aggregation::logsumexp}) {
        SCOPED_TRACE(testing::Message()
                     << dtype_name(dt) << " width " << width << " " << aggregation_name(agg));
        const MessagePassing layer{MessageKind::edge_weight, agg,
                                   Update::residual(0.5f, Activation::none)};
        const auto want =
            message_passing(g_cpu, x_cpu, layer).astype(DType::f32).to_vector<float>();
        const Tensor y = message_passing(g, x, layer);
        ASSERT_EQ(y.dtype(), dt);
        const auto got = y.to(Device::cpu()).astype(DType::f32).to_vector<float>();
        ASSERT_EQ(got.size(), want.size());
        for (std::size_t k = 0; k < got.size(); ++k) {
          ASSERT_NEAR(got[k], want[k], ulp * std::fabs(want[k]) + 1e-4) << "element " << k;
        }
      }
    }
  }
}

TEST(GpuParityGraphMp, EmptyGraphAndTypeRangeCheckOnDevice) {
  MPE_REQUIRE_CUDA_OR_SKIP();
  const Csr empty = test::make_csr(5, 5, {0, 0, 0, 0, 0, 0}, {}).to(kGpu);
  const Tensor x = Tensor::zeros({5, 8}, DType::f32, kGpu);
  const auto y = message_passing(empty, x, {MessageKind::copy, Aggregation::logsumexp, {}})
                     .to_vector<float>();
  for (float v : y) EXPECT_EQ(v, -1e12f);
  const Csr g = test::make_csr(2, 2, {0, 1, 2}, {1, 0}).to(kGpu);
  EdgeTypes et{Tensor::from_vector(std::vector<std::int32_t>{0, 5}, {2}, kGpu),
               Tensor::zeros({2}, DType::f32, kGpu)};
  EXPECT_THROW(message_passing(g, Tensor::zeros({2, 4}, DType::f32, kGpu),
                               {MessageKind::type_weight, Aggregation::sum, {}}, et),
               Error);
}

TEST(GpuParityGraphMp, GnnLayersMatchCpu) {
  MPE_REQUIRE_CUDA_OR_SKIP();
  const std::int64_t n = 600, in = 24, out = 16, H = 4, C = 8;
  const Csr g_cpu = graph_with_hubs(n, false, 21);
  const Csr g = g_cpu.to(kGpu);
  const Tensor x_cpu = Tensor::from_vector(test::random_floats(n * in, -1.f, 1.f, 22), {n, in});
  const Tensor x = x_cpu.to(kGpu);
  auto rnd = [](Shape s, std::uint64_t seed) {
    std::int64_t k = 1;
    for (auto d : s) k *= d;
    return Tensor::from_vector(test::random_floats(static_cast<std::size_t>(k), -0.5f, 0.5f, seed),
                               s);
  };
  gnn::GcnConv gcn{rnd({out, in}, 1), rnd({out}, 2)};
  gnn::GcnConv gcn_d{gcn.weight.to(kGpu), gcn.bias.to(kGpu)};
  expect_close(gcn_d.forward(gnn::gcn_normalize(g), x, Activation::relu).to_vector<float>(),
               gcn.forward(gnn::gcn_normalize(g_cpu), x_cpu, Activation::relu).to_vector<float>(),
               1e-4);
  gnn::SageConv sage{rnd({out, in}, 3), rnd({out}, 4), rnd({out, in}, 5)};
  gnn::SageConv sage_d{sage.lin_l_weight.to(kGpu), sage.lin_l_bias.to(kGpu),
                       sage.lin_r_weight.to(kGpu)};
  expect_close(sage_d.forward(g, x).to_vector<float>(),
               sage.forward(g_cpu, x_cpu).to_vector<float>(), 1e-4);
  gnn::GinConv gin{0.3f, rnd({32, in}, 6), rnd({32}, 7), rnd({out, 32}, 8), rnd({out}, 9)};
  gnn::GinConv gin_d{0.3f, gin.w1.to(kGpu), gin.b1.to(kGpu), gin.w2.to(kGpu), gin.b2.to(kGpu)};
  expect_close(gin_d.forward(g, x).to_vector<float>(), gin.forward(g_cpu, x_cpu).to_vector<float>(),
               1e-4);
  for (bool concat : {true, false}) {
    gnn::GatConv gat;
    gat.heads = H;
    gat.channels = C;
    gat.concat = concat;
    gat.weight = rnd({H * C, in}, 10);
    gat.att_src = rnd({H * C}, 11);
    gat.att_dst = rnd({H * C}, 12);
    gat.bias = rnd({concat ? H * C : C}, 13);
    gnn::GatConv gat_d = gat;
    gat_d.weight = gat.weight.to(kGpu);
    gat_d.att_src = gat.att_src.to(kGpu);
    gat_d.att_dst = gat.att_dst.to(kGpu);
    gat_d.bias = gat.bias.to(kGpu);
    expect_close(
        gat_d.forward(gnn::with_self_loops(g), x, Activation::sigmoid).to_vector<float>(),
        gat.forward(gnn::with_self_loops(g_cpu), x_cpu, Activation::sigmoid).to_vector<float>(),
        1e-4);
  }
  // cuBLAS path of linear() with accumulate-free shapes, incl. k = 0.
  expect_close(
      gnn::linear(Tensor::zeros({3, 0}, DType::f32, kGpu), Tensor::zeros({2, 0}, DType::f32, kGpu),
                  Tensor::from_vector(std::vector<float>{1.f, -2.f}, {2}, kGpu))
          .to_vector<float>(),
      {1.f, -2.f, 1.f, -2.f, 1.f, -2.f}, 0);
}

TEST(GpuParityGraphMp, BioelectricDiffusionMatchesCpu) {
  MPE_REQUIRE_CUDA_OR_SKIP();
  const Csr g_cpu = bio::grid_junctions(40, 30, 0.9f);
  const auto v0 = test::random_floats(1200, -80.f, -10.f, 5);
  std::vector<std::uint8_t> clamped(1200, 0);
  for (std::size_t i = 0; i < 1200; i += 37) clamped[i] = 1;
  const bio::DiffusionParams p{0.1f, 0.05f, -65.f};
  Tensor v_cpu = Tensor::from_vector(v0, {1200});
  bio::diffuse(g_cpu, v_cpu, p, 301, clamped);
  Tensor v = Tensor::from_vector(v0, {1200}, kGpu);
  bio::diffuse(g_cpu.to(kGpu), v, p, 301, clamped);
  expect_close(v.to_vector<float>(), v_cpu.to_vector<float>(), 1e-4);
}

}  // namespace
}  // namespace mpe
