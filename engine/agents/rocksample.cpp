// RockSample(4,3) (aif-mp.md §6.3): 640 states (pos + 16·mask + 128·event), actions L, D, R,
// U, CHECK_0..2, SAMPLE, θ = which rocks are good (8), 16 position and 3 rock channels, a
// terminal goal that is the q(θ)-mixture of per-θ goals.
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include <mpe/error.hpp>

#include "agents/environments.hpp"

namespace mpe::agents {

namespace {
constexpr int kSide = 4, kPos = 16, kRocks = 3, kStates = 640, kActions = 8, kThetas = 8;
constexpr int kSample = 7, kStart = 8;  // start: row 2, col 0

int move(int pos, int action) {
  int r = pos / kSide, c = pos % kSide;
  if (action == 0) --c;
  if (action == 1) ++r;
  if (action == 2) ++c;
  if (action == 3) --r;
  if (r < 0 || r >= kSide || c < 0 || c >= kSide) return pos;
  return r * kSide + c;
}
bool exit_column(int pos) { return pos % kSide == kSide - 1; }
int state_of(int pos, int mask, int event) { return pos + kPos * mask + 128 * event; }

class RockSample final : public Environment {
 public:
  explicit RockSample(std::uint64_t seed) {
    Rng rng(seed);
    std::vector<int> pool;
    for (int p = 0; p < kPos; ++p) {
      if (p != kStart && !exit_column(p)) pool.push_back(p);
    }
    for (int r = 0; r < kRocks; ++r) {  // seeded, distinct, not the start, not the exit column
      const auto at = static_cast<std::size_t>(rng.below(static_cast<std::int64_t>(pool.size())));
      rocks_.push_back(pool[at]);
      pool.erase(pool.begin() + static_cast<long>(at));
    }
    const std::int64_t S = kStates, K = kThetas, A = kActions;
    std::vector<float> T(static_cast<std::size_t>(S * S * K * A), 0.0f);
    for (std::int64_t x = 0; x < S; ++x)
      for (std::int64_t u = 0; u < A; ++u) {
        const int n = next_state(static_cast<int>(x), static_cast<int>(u));
        for (std::int64_t th = 0; th < K; ++th) {  // the same for every θ
          T[static_cast<std::size_t>(((n * S + x) * K + th) * A + u)] = 1.0f;
        }
      }
    T_ = Tensor::from_vector(T, {S, S, K, A});
    index_transitions();
    const std::int64_t F = kPos + kRocks, O = 3;
    std::vector<float> B(static_cast<std::size_t>(F * O * S * K), 0.0f);
    auto b = [&](std::int64_t f, std::int64_t y, std::int64_t x, std::int64_t th) -> float& {
      return B[static_cast<std::size_t>(((f * O + y) * S + x) * K + th)];
    };
    for (std::int64_t x = 0; x < S; ++x)
      for (std::int64_t th = 0; th < K; ++th) {
        const int pos = static_cast<int>(x % kPos), mask = static_cast<int>((x / kPos) % 8),
                  event = static_cast<int>(x / 128);
        for (int f = 0; f < kPos; ++f) {  // {0: not here, 1: here, 2: unused}
          const float here = f == pos ? 0.9f : 0.01f;
          b(f, 1, x, th) = here;
          b(f, 0, x, th) = 1.0f - here;
        }
        for (int r = 0; r < kRocks; ++r) {  // {0: bad, 1: good, 2: none}
          const int truth = (th >> r) & 1;
          double right = -1;
          if (event == 1 + r) {
            const int d = std::max(std::abs(pos / kSide - rocks_[static_cast<std::size_t>(r)] / kSide),
                                   std::abs(pos % kSide - rocks_[static_cast<std::size_t>(r)] % kSide));
            right = std::clamp(0.5 + 0.5 * std::pow(2.0, -d / 2.0), 0.01, 0.99);
          } else if (event == 4 && pos == rocks_[static_cast<std::size_t>(r)] && ((mask >> r) & 1)) {
            right = 0.999;
          }
          if (right < 0) {
            b(kPos + r, 2, x, th) = 1.0f;
          } else {
            b(kPos + r, truth, x, th) = static_cast<float>(right);
            b(kPos + r, 1 - truth, x, th) = static_cast<float>(1.0 - right);
          }
        }
      }
    B_ = Tensor::from_vector(B, {F, O, S, K});
    for (int r = 0; r < kRocks; ++r) planning_channels_.push_back(kPos + r);
    std::vector<float> Bp;
    for (std::int64_t f : planning_channels_) {
      Bp.insert(Bp.end(), B.begin() + f * O * S * K, B.begin() + (f + 1) * O * S * K);
    }
    // Per-θ goals: softmax over states of 0.5·[exit column] + Σ_r [sampled r]·(+2 good | −4 bad).
    goals_.assign(static_cast<std::size_t>(K * S), 0.0f);
    for (std::int64_t th = 0; th < K; ++th) {
      std::vector<double> e(static_cast<std::size_t>(S));
      double z = 0;
      for (std::int64_t x = 0; x < S; ++x) {
        const int pos = static_cast<int>(x % kPos), mask = static_cast<int>((x / kPos) % 8);
        double l = exit_column(pos) ? 0.5 : 0.0;
        for (int r = 0; r < kRocks; ++r) {
          if ((mask >> r) & 1) l += ((th >> r) & 1) ? 2.0 : -4.0;
        }
        z += (e[static_cast<std::size_t>(x)] = std::exp(l));
      }
      for (std::int64_t x = 0; x < S; ++x) {
        goals_[static_cast<std::size_t>(th * S + x)] = static_cast<float>(e[static_cast<std::size_t>(x)] / z);
      }
    }
    const std::vector<float> uniform(static_cast<std::size_t>(K), 1.0f / K);
    base_ = std::make_shared<aif::Model>(aif::Model::with_terminal_goal(
        T_, Tensor::from_vector(Bp, {static_cast<std::int64_t>(planning_channels_.size()), O, S, K}),
        Tensor::from_vector<float>({1, 1, 1, 1, 0.7f, 0.7f, 0.7f, 0.8f}, {A}), mixed_goal(uniform)));
  }

  std::string name() const override { return "rocksample"; }
  std::vector<std::string> action_names() const override {
    return {"L", "D", "R", "U", "CHECK_0", "CHECK_1", "CHECK_2", "SAMPLE"};
  }
  aif::Model planning_model(const std::vector<float>& q_theta) const override {
    return base_->with_goal(mixed_goal(q_theta));  // shares T and B: one upload per device
  }
  std::int64_t start_state() const override { return state_of(kStart, 0, 0); }
  int horizon() const override { return 12; }
  int iterations() const override { return 100; }
  int max_steps() const override { return 25; }
  bool receding_horizon() const override { return true; }

  StepResult step(std::int64_t state, std::int64_t action, std::int64_t theta,
                  Rng&) const override {
    const int x = static_cast<int>(state), pos = x % kPos, mask = (x / kPos) % 8;
    StepResult r;
    r.next_state = next_state(x, static_cast<int>(action));
    if (action == kSample && !exit_column(pos)) {
      for (int k = 0; k < kRocks; ++k) {
        if (rocks_[static_cast<std::size_t>(k)] == pos && !((mask >> k) & 1)) {
          r.reward += ((theta >> k) & 1) ? 2.0 : -3.0;
        }
      }
    }
    const int npos = static_cast<int>(r.next_state % kPos);
    if (exit_column(npos) && !exit_column(pos)) r.reward += 1.0;
    r.terminated = exit_column(npos);
    return r;
  }
  bool success(std::int64_t state, std::int64_t) const override {
    return exit_column(static_cast<int>(state % kPos));
  }
  void episode_extras(std::int64_t final_state, std::int64_t theta,
                      std::vector<double>& out) const override {
    const int mask = static_cast<int>((final_state / kPos) % 8);
    double sampled_good = 0, good = 0;
    for (int r = 0; r < kRocks; ++r) {
      if ((theta >> r) & 1) {
        good += 1;
        sampled_good += (mask >> r) & 1;
      }
    }
    out = {sampled_good, good};
  }
  std::string render(std::int64_t state, std::int64_t theta) const override {
    const int pos = static_cast<int>(state % kPos), mask = static_cast<int>((state / kPos) % 8);
    std::string out;
    for (int r = 0; r < kSide; ++r) {
      out += "  ";
      for (int c = 0; c < kSide; ++c) {
        const int p = r * kSide + c;
        char ch = exit_column(p) ? 'E' : '.';
        for (int k = 0; k < kRocks; ++k) {
          if (rocks_[static_cast<std::size_t>(k)] == p) {
            ch = ((mask >> k) & 1) ? 's' : (((theta >> k) & 1) ? 'g' : 'b');
          }
        }
        out += p == pos ? 'A' : ch;
        out += ' ';
      }
      out += '\n';
    }
    out += fmt::format("  rocks g/b = good/bad, s = sampled; event {}\n", state / 128);
    return out;
  }

 private:
  int next_state(int x, int u) const {
    const int pos = x % kPos, mask = (x / kPos) % 8;
    if (exit_column(pos)) return x;  // absorbing
    if (u < 4) return state_of(move(pos, u), mask, 0);
    if (u < kSample) return state_of(pos, mask, 1 + (u - 4));
    for (int k = 0; k < kRocks; ++k) {
      if (rocks_[static_cast<std::size_t>(k)] == pos && !((mask >> k) & 1)) {
        return state_of(pos, mask | (1 << k), 4);
      }
    }
    return state_of(pos, mask, 0);
  }
  Tensor mixed_goal(const std::vector<float>& q_theta) const {
    std::vector<float> g(static_cast<std::size_t>(kStates), 0.0f);
    double z = 0;
    for (int x = 0; x < kStates; ++x) {
      double v = 0;
      for (int th = 0; th < kThetas; ++th) {
        v += static_cast<double>(q_theta[static_cast<std::size_t>(th)]) * goals_[static_cast<std::size_t>(th * kStates + x)];
      }
      g[static_cast<std::size_t>(x)] = static_cast<float>(v);
      z += v;
    }
    for (float& v : g) v = static_cast<float>(v / z);
    return Tensor::from_vector(g, {kStates});
  }

  std::vector<int> rocks_;
  std::vector<float> goals_;  // [θ][x]
  std::shared_ptr<aif::Model> base_;
};
}  // namespace

std::unique_ptr<Environment> make_rocksample(std::uint64_t seed) {
  return std::make_unique<RockSample>(seed);
}

}  // namespace mpe::agents
