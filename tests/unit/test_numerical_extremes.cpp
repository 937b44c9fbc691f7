// Numerical extremes (issue 16 item 7), one table per op family: probabilities down to 1e-38,
// exact zeros (log-zero, -inf), all-masked rows, and non-finite inputs. Allowed extremes give
// finite numbers equal to a float64 reference; every input the API checks refuses NaN and
// infinities with a clear mpe::Error, the raw tensors of the tensor ops included (the
// check_finite policy of include/mpe/limits.hpp, on by default).
#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <mpe/mpe.hpp>

#include "support/bp_ref.hpp"
#include "support/errors.hpp"
#include "support/reference.hpp"

namespace mpe {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();
const float kLog1e38 = std::log(1e-38f);

bool all_finite(const std::vector<float>& v) {
  for (float x : v) {
    if (!std::isfinite(x)) return false;
  }
  return true;
}

// ---- lse_contract: log-probabilities down to log(1e-38), log-zero as kLogZero or -inf.
struct LseCase {
  const char* name;
  std::vector<float> M;  // [2, 3], shared
  std::vector<float> x;  // [1, 3]
};

TEST(NumericalExtremes, LseContractTinyAndZeroProbabilities) {
  const std::vector<LseCase> cases = {
      {"1e-38 everywhere", std::vector<float>(6, kLog1e38), std::vector<float>(3, kLog1e38)},
      {"one live term among zeros",
       {kLogZero, kLogZero, 0.f, kLogZero, kLogZero, kLogZero},
       {0.f, 0.f, kLog1e38}},
      {"-inf as zero probability", {-kInf, 0.f, -kInf, -kInf, -kInf, -kInf}, {0.f, -kInf, 0.f}},
      {"all zero", std::vector<float>(6, kLogZero), std::vector<float>(3, -kInf)},
      {"mixed scales", {0.f, kLog1e38, -40.f, 80.f, kLogZero, kLog1e38}, {kLog1e38, 0.f, -kInf}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const auto y = lse_contract(Tensor::from_vector(c.M, {2, 3}), Tensor::from_vector(c.x, {1, 3}))
                       .to_vector<float>();
    ASSERT_TRUE(all_finite(y));
    // The reference treats -inf as kLogZero, as the op documents.
    std::vector<float> M = c.M, x = c.x;
    for (float& v : M) v = std::isinf(v) ? kLogZero : v;
    for (float& v : x) v = std::isinf(v) ? kLogZero : v;
    const auto want = test::lse_contract_ref(M, x, 1, 2, 3, true);
    for (std::size_t i = 0; i < y.size(); ++i) {
      EXPECT_NEAR(y[i], want[i], 1e-5 * std::max(1.0, std::fabs(want[i]))) << "row " << i;
    }
  }
}

// ---- csr_aggregate: tiny, subnormal and zero features, empty rows.
TEST(NumericalExtremes, CsrAggregateTinyValuesAndEmptyRows) {
  // Rows: 0 <- {1, 2}, 1 <- {}, 2 <- {0, 0, 2}.
  const Csr g =
      test::make_csr(3, 3, {0, 2, 2, 5}, {1, 2, 0, 0, 2}, {1e-38f, 1.f, 0.f, 1e38f, -1.f});
  const std::vector<float> x = {1e-38f, -0.f, 1e-45f, 0.f, 1e-30f, -1e-38f};  // [3, 2]
  for (Aggregation agg :
       {Aggregation::sum, Aggregation::mean, Aggregation::max, Aggregation::min}) {
    SCOPED_TRACE(aggregation_name(agg));
    const auto y = csr_aggregate(g, Tensor::from_vector(x, {3, 2}), agg).to_vector<float>();
    ASSERT_TRUE(all_finite(y));
    const auto want = test::csr_aggregate_ref(g, x, 2, agg);
    for (std::size_t i = 0; i < y.size(); ++i) {
      EXPECT_NEAR(y[i], want[i], 1e-6 * std::max(1.0, std::fabs(want[i]))) << i;
    }
    EXPECT_EQ(y[2], 0.f);  // the empty row
    EXPECT_EQ(y[3], 0.f);
  }
}

// ---- attention: fully padded rows, a causal row that sees no key, huge and tiny scores.
TEST(NumericalExtremes, AttentionMaskedRowsAndExtremeScores) {
  struct Case {
    const char* name;
    float q_scale;
    std::vector<std::int32_t> mask;  // [2, 3]
  };
  const std::vector<Case> cases = {
      {"every key of batch 1 padded", 1.f, {1, 1, 1, 0, 0, 0}},
      {"scores near 1e4", 100.f, {1, 1, 1, 1, 0, 1}},
      {"scores near 1e-38", 1e-19f, {1, 0, 1, 1, 1, 1}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    std::vector<float> q = test::random_floats(2 * 1 * 2 * 4, -1.f, 1.f, 5);
    for (float& v : q) v *= c.q_scale;
    std::vector<float> kv = test::random_floats(2 * 1 * 3 * 4, -1.f, 1.f, 6);
    for (float& v : kv) v *= c.q_scale;
    const Tensor tq = Tensor::from_vector(q, {2, 1, 2, 4}),
                 tk = Tensor::from_vector(kv, {2, 1, 3, 4});
    AttentionOptions o;
    o.scale = 1.f;
    const AttentionOutput r = attention(tq, tk, tk, o, Tensor::from_vector(c.mask, {2, 3}));
    const auto out = r.out.to_vector<float>(), lse = r.lse.to_vector<float>();
    ASSERT_TRUE(all_finite(out));
    ASSERT_TRUE(all_finite(lse));
    // float64 reference, row by row.
    for (int b = 0; b < 2; ++b) {
      for (int i = 0; i < 2; ++i) {
        std::vector<double> s;
        double m = -1e300;
        for (int j = 0; j < 3; ++j) {
          if (!c.mask[static_cast<std::size_t>(b * 3 + j)]) {
            s.push_back(-1e300);
            continue;
          }
          double d = 0;
          for (int t = 0; t < 4; ++t) {
            d += double(q[static_cast<std::size_t>((b * 2 + i) * 4 + t)]) *
                 kv[static_cast<std::size_t>((b * 3 + j) * 4 + t)];
          }
          s.push_back(d);
          m = std::max(m, d);
        }
        const std::size_t row = static_cast<std::size_t>(b * 2 + i);
        if (m == -1e300) {
          EXPECT_EQ(lse[row], kLogZero);
          for (int t = 0; t < 4; ++t) EXPECT_EQ(out[row * 4 + static_cast<std::size_t>(t)], 0.f);
          continue;
        }
        double z = 0;
        for (double v : s) z += v == -1e300 ? 0 : std::exp(v - m);
        EXPECT_NEAR(lse[row], m + std::log(z), 1e-4 * std::max(1.0, std::fabs(m)));
        for (int t = 0; t < 4; ++t) {
          double o_t = 0;
          for (int j = 0; j < 3; ++j) {
            if (s[static_cast<std::size_t>(j)] == -1e300) continue;
            o_t += std::exp(s[static_cast<std::size_t>(j)] - m) / z *
                   kv[static_cast<std::size_t>((b * 3 + j) * 4 + t)];
          }
          EXPECT_NEAR(out[row * 4 + static_cast<std::size_t>(t)], o_t,
                      1e-5 * std::max(1.0, std::fabs(o_t)) * c.q_scale);
        }
      }
    }
  }
}

// ---- belief propagation on a tree: entries of 1e-38, 1e-300 and exact zeros; exact on trees.
TEST(NumericalExtremes, BeliefPropagationTinyAndZeroPotentials) {
  struct Case {
    const char* name;
    std::vector<double> pair;  // 2 x 3, first variable fastest
    std::vector<int> evidence;
  };
  const std::vector<Case> cases = {
      {"1e-38 entries", {1e-38, 1, 1e-38, 1e-38, 1, 1e-38}, {}},
      {"1e-300 and zeros", {0, 1e-300, 1, 0, 0, 1e-300}, {}},
      {"evidence on the only non-zero state", {0, 0, 0, 1e-38, 0, 0}, {1, 1}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    bp::FactorGraph g;
    g.add_variable(2);
    g.add_variable(3);
    g.add_factor({0}, {0.5, 1e-38});
    g.add_factor({0, 1}, c.pair);
    bp::Options o;
    o.device = Device::cpu();
    const bp::Result r = bp::run(g, o, c.evidence);
    const test::BpExact want = test::bp_brute_force(g, c.evidence);
    ASSERT_TRUE(std::isfinite(r.log_z));
    EXPECT_NEAR(r.log_z, want.log_z, 1e-9 * std::max(1.0, std::fabs(want.log_z)));
    for (int v = 0; v < 2; ++v) {
      for (std::size_t s = 0; s < want.var_marginals[std::size_t(v)].size(); ++s) {
        EXPECT_NEAR(r.var_beliefs[std::size_t(v)][s], want.var_marginals[std::size_t(v)][s], 1e-9);
      }
    }
  }
}

// ---- AIF-MP planning: a model with 1e-38 entries and structural zeros plans to a finite
// distribution that sums to 1, on the dense and precomputed paths.
TEST(NumericalExtremes, AifPlanningTinyAndZeroProbabilities) {
  const float t = 1e-38f;
  // T [S_new=2, S_old=2, K=1, A=2]: each (x_old, a) column sums to 1 over x_new.
  const Tensor T =
      Tensor::from_vector<float>({1.f - t, 0.f, t, 1.f, t, 1.f, 1.f - t, 0.f}, {2, 2, 1, 2});
  const Tensor B = Tensor::from_vector<float>({1.f, t, 0.f, 1.f - t}, {1, 2, 2, 1});
  const auto m = aif::Model::with_terminal_goal(T, B, Tensor::from_vector<float>({1.f, t}, {2}),
                                                Tensor::from_vector<float>({t, 1.f - t}, {2}));
  for (auto path : {aif::ObservationPath::dense, aif::ObservationPath::precomputed}) {
    for (float q : {0.f, t, 1.f}) {
      aif::PlanRequest r;
      r.q0 = {q, 1.f - q};
      r.q_theta = {1.f};
      r.horizon = 3;
      r.iterations = 4;
      r.observation_path = path;
      const aif::Plan p = aif::plan(m, {r}, Device::cpu())[0];
      ASSERT_TRUE(all_finite(p.action_dist)) << "q0[0] = " << q;
      EXPECT_NEAR(p.action_dist[0] + p.action_dist[1], 1.f, 1e-5f);
      ASSERT_TRUE(all_finite(p.q_u.to_vector<float>()));
      ASSERT_TRUE(all_finite(p.log_r_x.to_vector<float>()));
    }
  }
}

// ---- non-finite inputs: every entry point that checks its inputs refuses them.
struct Refusal {
  const char* name;
  std::function<void()> call;
  ErrorCode code;
  const char* needle;
};

TEST(NumericalExtremes, NonFiniteInputsAreRefusedWhereChecked) {
  const Tensor T = Tensor::from_vector<float>({1, 0, 0, 1}, {2, 2, 1, 1});
  const Tensor B = Tensor::from_vector<float>({1, 0, 0, 1}, {1, 2, 2, 1});
  const Tensor pu = Tensor::from_vector<float>({1}, {1});
  const auto model =
      aif::Model::with_terminal_goal(T, B, pu, Tensor::from_vector<float>({0.5f, 0.5f}, {2}));
  auto request = [](float q, float damping) {
    aif::PlanRequest r;
    r.q0 = {q, 1.f - (std::isfinite(q) ? q : 0.f)};
    r.q_theta = {1.f};
    r.horizon = 1;
    r.iterations = 1;
    r.damping = damping;
    return r;
  };
  bp::FactorGraph g;
  g.add_variable(2);
  auto store = relevance::Store::in_memory(4);
  relevance::Node n;
  n.id = "a";
  n.type = "concept";
  Coo coo;
  coo.num_rows = coo.num_cols = 2;
  coo.rows = {0};
  coo.cols = {1};
  const std::vector<Refusal> table = {
      {"AIF T with NaN",
       [&] {
         aif::Model::with_terminal_goal(Tensor::from_vector<float>({kNaN, 1, 0, 1}, {2, 2, 1, 1}),
                                        B, pu, Tensor::from_vector<float>({0.5f, 0.5f}, {2}));
       },
       ErrorCode::invalid_argument, "nan"},
      {"AIF B with inf",
       [&] {
         aif::Model::with_terminal_goal(T,
                                        Tensor::from_vector<float>({kInf, 0, 0, 1}, {1, 2, 2, 1}),
                                        pu, Tensor::from_vector<float>({0.5f, 0.5f}, {2}));
       },
       ErrorCode::invalid_argument, "inf"},
      {"AIF goal with -inf",
       [&] {
         aif::Model::with_terminal_goal(T, B, pu, Tensor::from_vector<float>({-kInf, 1.f}, {2}));
       },
       ErrorCode::invalid_argument, "goal"},
      {"AIF q0 with NaN", [&] { aif::plan(model, {request(kNaN, 0.5f)}, Device::cpu()); },
       ErrorCode::invalid_argument, "q0"},
      {"AIF damping NaN", [&] { aif::plan(model, {request(0.5f, kNaN)}, Device::cpu()); },
       ErrorCode::invalid_argument, "damping"},
      {"BP factor with NaN",
       [&] {
         g.add_factor({0}, {std::nan(""), 1.0});
       },
       ErrorCode::invalid_argument, "nan"},
      {"BP factor with inf",
       [&] {
         g.add_factor({0}, {HUGE_VAL, 1.0});
       },
       ErrorCode::invalid_argument, "inf"},
      {"BP log factor with +inf",
       [&] {
         g.add_log_factor({0}, {HUGE_VAL, 0.0});
       },
       ErrorCode::invalid_argument, "inf"},
      {"relevance embedding with NaN",
       [&] {
         store.add_nodes({n}, {kNaN, 0, 0, 1});
       },
       ErrorCode::invalid_argument, "a"},
      {"relevance query embedding with inf",
       [&] {
         relevance::Query q;
         q.embedding = {kInf, 0, 0, 0};
         store.query(q);
       },
       ErrorCode::invalid_argument, "embedding"},
      {"COO weight NaN",
       [&] {
         Coo c = coo;
         c.weights = {kNaN};
         csr_from_coo(c);
       },
       ErrorCode::invalid_graph, "not finite"},
      {"diffusion dt inf",
       [&] {
         Tensor v = Tensor::from_vector<float>({0, 0, 0, 0}, {4});
         bio::diffuse(bio::grid_junctions(2, 2), v, {kInf, 0.f, 0.f}, 1);
       },
       ErrorCode::invalid_argument, "dt"},
      {"attention scale NaN",
       [&] {
         Tensor q = Tensor::from_vector<float>({1, 1}, {1, 1, 1, 2});
         AttentionOptions o;
         o.scale = kNaN;
         attention(q, q, q, o);
       },
       ErrorCode::invalid_argument, "scale"},
  };
  for (const auto& r : table) {
    SCOPED_TRACE(r.name);
    test::expect_error(r.call, r.code, r.needle);
  }
  EXPECT_EQ(g.num_factors(), 0);
  EXPECT_EQ(store.num_nodes(), 0);
}

// ---- The tensor ops: a NaN, +inf or -inf in any input tensor is refused, naming the op, the
// tensor and the element, and the output is left as it was; -inf passes where it is log-zero.
struct TensorRefusal {
  const char* name;
  std::function<void(float bad)> call;  // puts `bad` into one input element and runs the op
  const char* needle;                   // e.g. "csr_aggregate: x[1, 0]"
  bool neg_inf_allowed = false;
};

TEST(NumericalExtremes, NonFiniteTensorsAreRefusedByEveryTensorOp) {
  ASSERT_TRUE(check_finite()) << "the check is on by default";
  Csr g = csr_from_coo([] {
    Coo c;
    c.num_rows = c.num_cols = 3;
    c.rows = {0, 1, 1, 2};
    c.cols = {1, 0, 2, 2};
    c.weights = {0.5f, 1.0f, 2.0f, 1.0f};
    return c;
  }());
  const std::vector<float> x6 = {1, 2, 3, 4, 5, 6};  // [3, 2]
  auto with = [](std::vector<float> v, std::size_t at, float bad) {
    v[at] = bad;
    return v;
  };
  Tensor y = Tensor::empty({3, 2}, DType::f32);
  std::vector<float> sentinel(6, 42.0f);
  const std::vector<TensorRefusal> table = {
      {"lse_contract M",  // M [I = 2, J = 3], x [B = 3, J = 3], y [3, 2]
       [&](float b) {
         lse_contract(Tensor::from_vector(with({0, -1, -2, -3, -4, -5}, 4, b), {2, 3}),
                      Tensor::from_vector<float>({-1, -2, -3, -1, -2, -3, -1, -2, -3}, {3, 3}), y);
       },
       "lse_contract: M[1, 1]", true},
      {"lse_contract x",
       [&](float b) {
         lse_contract(Tensor::from_vector<float>({0, -1, -2, -3, -4, -5}, {2, 3}),
                      Tensor::from_vector(with({-1, -2, -3, -1, -2, -3, -1, -2, -3}, 1, b), {3, 3}), y);
       },
       "lse_contract: x[0, 1]", true},
      {"csr_aggregate x",
       [&](float b) { csr_aggregate(g, Tensor::from_vector(with(x6, 3, b), {3, 2}), Aggregation::max, y); },
       "csr_aggregate: x[1, 1]"},
      {"csr_aggregate graph.weights",
       [&](float b) {
         Csr h = g;
         h.weights = Tensor::from_vector(with({0.5f, 1.0f, 2.0f, 1.0f}, 2, b), {4});
         csr_aggregate(h, Tensor::from_vector(x6, {3, 2}), Aggregation::sum, y);
       },
       "csr_aggregate: graph.weights[2]"},
      {"message_passing x (bf16)",
       [&](float b) {
         const Tensor x = Tensor::from_vector(with(x6, 0, b), {3, 2}).astype(DType::bf16);
         MessagePassing layer;
         message_passing(g, x, layer);
       },
       "message_passing: x[0, 0]"},
      {"message_passing update.bias",
       [&](float b) {
         MessagePassing layer;
         layer.update.bias = Tensor::from_vector(with({0, 0}, 1, b), {2});
         message_passing(g, Tensor::from_vector(x6, {3, 2}), layer);
       },
       "message_passing: update.bias[1]"},
      {"linear weight",
       [&](float b) {
         gnn::linear(Tensor::from_vector(x6, {3, 2}), Tensor::from_vector(with({1, 0, 0, 1}, 2, b), {2, 2}));
       },
       "linear: weight[1, 0]"},
      {"gat att_src",
       [&](float b) {
         gnn::GatConv l;
         l.weight = Tensor::from_vector<float>({1, 0, 0, 1}, {2, 2});
         l.att_src = Tensor::from_vector(with({1, 1}, 0, b), {2});
         l.att_dst = Tensor::from_vector<float>({1, 1}, {2});
         l.heads = 1;
         l.channels = 2;
         l.forward(g, Tensor::from_vector(x6, {3, 2}));
       },
       "att_src[0]"},
      {"attention k (f16)",
       [&](float b) {
         const Tensor q = Tensor::from_vector<float>({1, 2, 3, 4}, {1, 1, 2, 2}).astype(DType::f16);
         const Tensor k = Tensor::from_vector(with({1, 2, 3, 4}, 3, b), {1, 1, 2, 2}).astype(DType::f16);
         attention(q, k, q, AttentionOptions{});
       },
       "attention: k[0, 0, 1, 1]"},
      {"attention v",
       [&](float b) {
         const Tensor q = Tensor::from_vector<float>({1, 2, 3, 4}, {1, 1, 2, 2});
         attention(q, q, Tensor::from_vector(with({1, 2, 3, 4}, 2, b), {1, 1, 2, 2}), AttentionOptions{});
       },
       "attention: v[0, 0, 1, 0]"},
      {"diffuse voltage",
       [&](float b) {
         Tensor v = Tensor::from_vector(with({0, 1, 2, 3}, 1, b), {4});
         bio::diffuse(bio::grid_junctions(2, 2), v, {0.1f, 0.f, 0.f}, 1);
       },
       "bio::diffuse: voltage[1]"},
  };
  for (const auto& r : table) {
    for (const float bad : {kNaN, kInf, -kInf}) {
      SCOPED_TRACE(std::string(r.name) + " with " + std::to_string(bad));
      y = Tensor::from_vector(sentinel, {3, 2});
      if (bad == -kInf && r.neg_inf_allowed) {
        r.call(bad);  // log-zero: accepted
        continue;
      }
      test::expect_error([&] { r.call(bad); }, ErrorCode::invalid_argument, r.needle);
      EXPECT_EQ(y.to_vector<float>(), sentinel) << "the output changed";
    }
  }
  // Off: the same call runs (and propagates the NaN as IEEE arithmetic does).
  EXPECT_TRUE(set_check_finite(false));
  csr_aggregate(g, Tensor::from_vector(with(x6, 3, kNaN), {3, 2}), Aggregation::sum, y);
  EXPECT_TRUE(std::isnan(y.to_vector<float>()[0 * 2 + 1])) << "row 0 reads x[1]";
  EXPECT_FALSE(set_check_finite(true));
}

TEST(NumericalExtremes, LseContractTakesMinusInfinityAsLogZero) {
  // M [2, 2] with one -inf entry per row, x with one -inf: y_i = log Σ_j exp(M_ij + x_j).
  const Tensor M = Tensor::from_vector<float>({-kInf, std::log(0.25f), std::log(0.5f), -kInf}, {2, 2});
  const Tensor x = Tensor::from_vector<float>({std::log(0.5f), -kInf}, {1, 2});
  const std::vector<float> y = lse_contract(M, x).to_vector<float>();
  ASSERT_EQ(y.size(), 2u);
  EXPECT_LE(y[0], -1e11f) << "every term is log-zero: kLogZero (-1e12) or -inf";
  EXPECT_NEAR(y[1], std::log(0.25), 1e-6);
}

}  // namespace
}  // namespace mpe
