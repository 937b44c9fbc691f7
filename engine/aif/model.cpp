// AIF-MP models: construction and validation (shapes, finite, non-negative, normalised).
#include <cmath>

#include <fmt/format.h>
#include <mpe/aif.hpp>

#include "aif/model_support.hpp"

namespace mpe::aif {

namespace {
constexpr double kSumTolerance = 1e-4;

[[noreturn]] void bad(ErrorCode code, const std::string& what) { throw Error(code, what); }

void require_host_f32(const Tensor& t, const char* name, int rank) {
  if (!t.defined())
    bad(ErrorCode::invalid_argument, fmt::format("model tensor {} is missing", name));
  if (t.dtype() != DType::f32) {
    bad(ErrorCode::dtype_mismatch,
        fmt::format("model tensor {} must be float32, got {}", name, dtype_name(t.dtype())));
  }
  if (t.rank() != rank) {
    bad(ErrorCode::shape_mismatch, fmt::format("model tensor {} must have rank {}, got shape {}",
                                               name, rank, shape_str(t.shape())));
  }
}

// Every element finite and >= 0.
void require_probabilities(const std::vector<float>& v, const Shape& shape, const char* name) {
  for (std::size_t k = 0; k < v.size(); ++k) {
    if (!std::isfinite(v[k]) || v[k] < 0.0f) {
      // Unravel k into a multi-index for the message.
      std::vector<std::int64_t> idx(shape.size());
      std::int64_t rest = static_cast<std::int64_t>(k);
      for (std::size_t d = shape.size(); d-- > 0;) {
        idx[d] = rest % shape[d];
        rest /= shape[d];
      }
      bad(ErrorCode::invalid_argument,
          fmt::format("{}[{}] = {} is not a probability (finite and >= 0)", name,
                      fmt::join(idx, ", "), v[k]));
    }
  }
}

// Checks that v sums to 1 along `axis` of `shape` for every other index.
void require_normalised(const std::vector<float>& v, const Shape& shape, std::size_t axis,
                        const char* name, const char* axis_name) {
  std::int64_t inner = 1;
  for (std::size_t d = axis + 1; d < shape.size(); ++d) inner *= shape[d];
  const std::int64_t len = shape[axis];
  const std::int64_t outer =
      static_cast<std::int64_t>(v.size()) / std::max<std::int64_t>(1, len * inner);
  for (std::int64_t o = 0; o < outer; ++o)
    for (std::int64_t i = 0; i < inner; ++i) {
      double sum = 0;
      for (std::int64_t k = 0; k < len; ++k)
        sum += v[static_cast<std::size_t>((o * len + k) * inner + i)];
      if (std::fabs(sum - 1.0) > kSumTolerance) {
        std::vector<std::string> idx;
        std::int64_t rest_o = o, rest_i = i;
        std::vector<std::int64_t> full(shape.size());
        for (std::size_t d = shape.size(); d-- > axis + 1;) {
          full[d] = rest_i % shape[d];
          rest_i /= shape[d];
        }
        for (std::size_t d = axis; d-- > 0;) {
          full[d] = rest_o % shape[d];
          rest_o /= shape[d];
        }
        for (std::size_t d = 0; d < shape.size(); ++d) {
          idx.push_back(d == axis ? std::string(":") : std::to_string(full[d]));
        }
        bad(ErrorCode::invalid_argument,
            fmt::format("{}[{}] sums to {:.6g} over {}, expected 1 (within 1e-4)", name,
                        fmt::join(idx, ", "), sum, axis_name));
      }
    }
}
}  // namespace

const char* method_name(Method m) noexcept {
  switch (m) {
    case Method::bp: return "bp";
    case Method::vbp: return "vbp";
    case Method::rm: return "rm";
    case Method::aif: return "aif";
  }
  return "unknown";
}

Method parse_method(const std::string& name) {
  for (Method m : {Method::bp, Method::vbp, Method::rm, Method::aif}) {
    if (name == method_name(m)) return m;
  }
  throw Error(ErrorCode::invalid_argument,
              fmt::format("unknown planning method '{}' (expected bp, vbp, rm or aif)", name));
}

const char* theta_mode_name(ThetaMode m) noexcept {
  return m == ThetaMode::fixed ? "fixed" : m == ThetaMode::loopy ? "loopy" : "unknown";
}

ThetaMode parse_theta_mode(const std::string& name) {
  for (ThetaMode m : {ThetaMode::fixed, ThetaMode::loopy}) {
    if (name == theta_mode_name(m)) return m;
  }
  throw Error(ErrorCode::invalid_argument,
              fmt::format("unknown theta mode '{}' (expected fixed or loopy)", name));
}

Model Model::make(const Tensor& T, const Tensor& B, const Tensor& action_prior, const Tensor& goal,
                  GoalKind kind) {
  require_host_f32(T, "T", 4);
  require_host_f32(B, "B", 4);
  require_host_f32(action_prior, "action_prior", 1);
  require_host_f32(goal, kind == GoalKind::terminal ? "goal" : "C",
                   kind == GoalKind::terminal ? 1 : 2);
  Model m;
  m.S_ = T.dim(0);
  m.K_ = T.dim(2);
  m.A_ = T.dim(3);
  m.F_ = B.dim(0);
  m.O_ = B.dim(1);
  m.goal_kind_ = kind;
  if (m.S_ < 1 || m.K_ < 1 || m.A_ < 1 || m.F_ < 1 || m.O_ < 1) {
    bad(ErrorCode::shape_mismatch, fmt::format("model sizes must be >= 1: T {} and B {}",
                                               shape_str(T.shape()), shape_str(B.shape())));
  }
  const Shape t_shape{m.S_, m.S_, m.K_, m.A_};
  const Shape b_shape{m.F_, m.O_, m.S_, m.K_};
  const Shape g_shape = kind == GoalKind::terminal ? Shape{m.S_} : Shape{m.S_, m.K_};
  auto check_shape = [](const Tensor& t, const Shape& want, const char* name, const char* axes) {
    if (t.shape() != want) {
      bad(ErrorCode::shape_mismatch, fmt::format("model tensor {} must be {} = {}, got {}", name,
                                                 axes, shape_str(want), shape_str(t.shape())));
    }
  };
  check_shape(T, t_shape, "T", "[S_new, S_old, K, A]");
  check_shape(B, b_shape, "B", "[F, O, S, K] (S and K as in T)");
  check_shape(action_prior, {m.A_}, "action_prior", "[A]");
  check_shape(goal, g_shape, kind == GoalKind::terminal ? "goal" : "C",
              kind == GoalKind::terminal ? "[S]" : "[S, K]");

  const auto tv = T.to_vector<float>();
  const auto bv = B.to_vector<float>();
  auto pv = action_prior.to_vector<float>();
  const auto gv = goal.to_vector<float>();
  require_probabilities(tv, t_shape, "T");
  require_probabilities(bv, b_shape, "B");
  require_probabilities(pv, {m.A_}, "action_prior");
  require_probabilities(gv, g_shape, kind == GoalKind::terminal ? "goal" : "C");
  require_normalised(tv, t_shape, 0, "T", "S_new");
  require_normalised(bv, b_shape, 1, "B", "O");
  require_normalised(gv, g_shape, 0, kind == GoalKind::terminal ? "goal" : "C", "S");
  double total = 0;
  for (float w : pv) total += w;
  if (!(total > 0)) bad(ErrorCode::invalid_argument, "action_prior weights sum to 0");
  for (float& w : pv) w = static_cast<float>(w / total);

  m.T_ = T.to(Device::cpu());
  m.B_ = B.to(Device::cpu());
  m.pu_ = Tensor::from_vector(pv, {m.A_});
  m.goal_ = goal.to(Device::cpu());
  m.support_ = std::make_shared<ModelSupport>();
  return m;
}

Model Model::with_goal(const Tensor& goal) const {
  const char* name = goal_kind_ == GoalKind::terminal ? "goal" : "C";
  require_host_f32(goal, name, goal_kind_ == GoalKind::terminal ? 1 : 2);
  const Shape g_shape = goal_kind_ == GoalKind::terminal ? Shape{S_} : Shape{S_, K_};
  if (goal.shape() != g_shape) {
    bad(ErrorCode::shape_mismatch, fmt::format("with_goal: {} must be {}, got {}", name,
                                               shape_str(g_shape), shape_str(goal.shape())));
  }
  const auto gv = goal.to_vector<float>();
  require_probabilities(gv, g_shape, name);
  require_normalised(gv, g_shape, 0, name, "S");
  Model m = *this;
  m.goal_ = goal.to(Device::cpu());
  return m;
}

Model Model::with_terminal_goal(const Tensor& T, const Tensor& B, const Tensor& action_prior,
                                const Tensor& goal) {
  return make(T, B, action_prior, goal, GoalKind::terminal);
}

Model Model::with_theta_goal(const Tensor& T, const Tensor& B, const Tensor& action_prior,
                             const Tensor& C) {
  return make(T, B, action_prior, C, GoalKind::theta);
}

bool Model::same_shape(const Model& o) const {
  return S_ == o.S_ && K_ == o.K_ && A_ == o.A_ && F_ == o.F_ && O_ == o.O_ &&
         goal_kind_ == o.goal_kind_;
}

}  // namespace mpe::aif
