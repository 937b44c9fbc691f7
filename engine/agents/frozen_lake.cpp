// Frozen Lake 4×4 (aif-mp.md §6.2): 32 states (cell + 16·scanned flag), actions L, D, R, U,
// SCAN, 15 two-hole layouts as θ, 48 binary observation channels, a θ-goal.
#include <algorithm>
#include <cmath>
#include <queue>

#include <fmt/format.h>
#include <mpe/agents.hpp>
#include <mpe/error.hpp>

#include "agents/environments.hpp"

namespace mpe::agents {

namespace {
constexpr int kCells = 16, kStates = 32, kActions = 5, kScan = 4, kGoal = 15, kLayouts = 15;
constexpr double kSlip = 0.1;

int move(int cell, int action) {  // L (col-1), D (row+1), R (col+1), U (row-1); walls keep the cell
  const int row = cell / 4, col = cell % 4;
  int r = row, c = col;
  if (action == 0) --c;
  if (action == 1) ++r;
  if (action == 2) ++c;
  if (action == 3) --r;
  if (r < 0 || r > 3 || c < 0 || c > 3) return cell;
  return r * 4 + c;
}

bool safe_path(int a, int b) {  // 4-connected path 0 -> 15 avoiding holes a and b
  std::vector<bool> seen(kCells, false);
  std::queue<int> q;
  q.push(0);
  seen[0] = true;
  while (!q.empty()) {
    const int c = q.front();
    q.pop();
    if (c == kGoal) return true;
    for (int m = 0; m < 4; ++m) {
      const int n = move(c, m);
      if (!seen[static_cast<std::size_t>(n)] && n != a && n != b) {
        seen[static_cast<std::size_t>(n)] = true;
        q.push(n);
      }
    }
  }
  return false;
}

class FrozenLake final : public Environment {
 public:
  explicit FrozenLake(std::uint64_t seed) : layouts_(frozen_lake_layouts(seed)) {
    const std::int64_t S = kStates, K = kLayouts, A = kActions;
    hole_.assign(static_cast<std::size_t>(K * kCells), false);
    for (std::int64_t th = 0; th < K; ++th)
      for (int c : layouts_[static_cast<std::size_t>(th)]) hole_[static_cast<std::size_t>(th * kCells + c)] = true;
    // T[x', x, θ, u]
    std::vector<float> T(static_cast<std::size_t>(S * S * K * A), 0.0f);
    auto at = [&](std::int64_t n, std::int64_t o, std::int64_t th, std::int64_t u) -> float& {
      return T[static_cast<std::size_t>(((n * S + o) * K + th) * A + u)];
    };
    for (std::int64_t th = 0; th < K; ++th)
      for (std::int64_t x = 0; x < S; ++x)
        for (std::int64_t u = 0; u < A; ++u)
          for (const auto& [n, p] : transitions(static_cast<int>(x), static_cast<int>(th), static_cast<int>(u))) at(n, x, th, u) += static_cast<float>(p);
    T_ = Tensor::from_vector(T, {S, S, K, A});
    index_transitions();
    // B[f, y, x, θ]: channels 0..31 the state, 32 + c "hole at cell c"
    const std::int64_t F = 48;
    std::vector<float> B(static_cast<std::size_t>(F * 2 * S * K));
    for (std::int64_t f = 0; f < F; ++f)
      for (std::int64_t x = 0; x < S; ++x)
        for (std::int64_t th = 0; th < K; ++th) {
          const double p1 = fire_probability(static_cast<int>(f), static_cast<int>(x), static_cast<int>(th));
          B[static_cast<std::size_t>(((f * 2 + 1) * S + x) * K + th)] = static_cast<float>(p1);
          B[static_cast<std::size_t>(((f * 2 + 0) * S + x) * K + th)] = static_cast<float>(1.0 - p1);
        }
    B_ = Tensor::from_vector(B, {F, 2, S, K});
    for (std::int64_t c = 0; c < kCells; ++c) planning_channels_.push_back(32 + c);
    // θ-goal C(x, θ) = softmax_x(+1·[cell = 15] − 2·[cell is a hole in θ])
    std::vector<float> C(static_cast<std::size_t>(S * K));
    for (std::int64_t th = 0; th < K; ++th) {
      double z = 0;
      std::vector<double> e(static_cast<std::size_t>(S));
      for (std::int64_t x = 0; x < S; ++x) {
        const int cell = static_cast<int>(x % kCells);
        const double r = (cell == kGoal ? 1.0 : 0.0) - (is_hole(cell, static_cast<int>(th)) ? 2.0 : 0.0);
        e[static_cast<std::size_t>(x)] = std::exp(r);
        z += e[static_cast<std::size_t>(x)];
      }
      for (std::int64_t x = 0; x < S; ++x) C[static_cast<std::size_t>(x * K + th)] = static_cast<float>(e[static_cast<std::size_t>(x)] / z);
    }
    std::vector<float> Bp;
    const std::int64_t Fp = static_cast<std::int64_t>(planning_channels_.size());
    for (std::int64_t f : planning_channels_) {
      const float* src = B.data() + f * 2 * S * K;
      Bp.insert(Bp.end(), src, src + 2 * S * K);
    }
    model_ = std::make_shared<aif::Model>(aif::Model::with_theta_goal(
        T_, Tensor::from_vector(Bp, {Fp, 2, S, K}),
        Tensor::from_vector<float>({1, 1, 1, 1, 0.1f}, {A}), Tensor::from_vector(C, {S, K})));
  }

  std::string name() const override { return "frozen_lake"; }
  std::vector<std::string> action_names() const override { return {"L", "D", "R", "U", "SCAN"}; }
  aif::Model planning_model(const std::vector<float>&) const override { return *model_; }
  std::int64_t start_state() const override { return 0; }
  int horizon() const override { return 15; }
  int iterations() const override { return 400; }
  int max_steps() const override { return 15; }
  bool receding_horizon() const override { return true; }

  StepResult step(std::int64_t state, std::int64_t action, std::int64_t theta,
                  Rng& rng) const override {
    const int x = static_cast<int>(state), cell = x % kCells, flag = x / kCells;
    int next = x;
    if (!terminal(cell, static_cast<int>(theta))) {
      if (action == kScan) {
        next = cell + kCells;
      } else {
        int m = static_cast<int>(action);
        if (rng.uniform() >= 1.0 - kSlip) {  // slipped: one of the other three moves
          const int k = static_cast<int>(rng.below(3));
          m = k < m ? k : k + 1;
        }
        next = move(cell, m) + kCells * flag;
      }
    }
    StepResult r;
    r.next_state = next;
    const int ncell = next % kCells;
    r.terminated = terminal(ncell, static_cast<int>(theta));
    r.reward = ncell == kGoal ? 1.0 : 0.0;
    return r;
  }
  bool success(std::int64_t state, std::int64_t) const override {
    return state % kCells == kGoal;
  }
  std::string render(std::int64_t state, std::int64_t theta) const override {
    std::string out;
    const int cell = static_cast<int>(state % kCells);
    for (int r = 0; r < 4; ++r) {
      out += "  ";
      for (int c = 0; c < 4; ++c) {
        const int k = r * 4 + c;
        out += k == cell ? 'A' : is_hole(k, static_cast<int>(theta)) ? 'H' : k == kGoal ? 'G' : '.';
        out += ' ';
      }
      out += '\n';
    }
    out += fmt::format("  scanned: {}\n", state >= kCells ? "yes" : "no");
    return out;
  }

 private:
  bool is_hole(int cell, int theta) const {
    return hole_[static_cast<std::size_t>(theta * kCells + cell)];
  }
  bool terminal(int cell, int theta) const { return cell == kGoal || is_hole(cell, theta); }

  // (next state, probability) from x under θ and u; equal next states add up in T.
  std::vector<std::pair<int, double>> transitions(int x, int theta, int u) const {
    const int cell = x % kCells, flag = x / kCells;
    if (terminal(cell, theta)) return {{x, 1.0}};  // holes and the goal self-loop
    if (u == kScan) return {{cell + kCells, 1.0}};
    std::vector<std::pair<int, double>> out{{move(cell, u) + kCells * flag, 1.0 - kSlip}};
    for (int m = 0; m < 4; ++m) {
      if (m != u) out.emplace_back(move(cell, m) + kCells * flag, kSlip / 3.0);
    }
    return out;
  }

  double fire_probability(int f, int x, int theta) const {
    if (f < kStates) return f == x ? 0.999 : 0.001;
    const int c = f - kStates, cell = x % kCells, scanned = x / kCells;
    const bool hole = is_hole(c, theta);
    if (scanned) return hole ? 0.999 : 0.001;
    const int d = std::abs(cell / 4 - c / 4) + std::abs(cell % 4 - c % 4);
    const double noise = std::clamp(0.4 + 0.1 * d / 6.0, 0.01, 0.99);
    return hole ? 1.0 - noise : noise;
  }

  std::vector<std::vector<int>> layouts_;
  std::vector<bool> hole_;
  std::shared_ptr<aif::Model> model_;
};
}  // namespace

std::vector<std::vector<int>> frozen_lake_layouts(std::uint64_t seed) {
  std::vector<std::vector<int>> valid;  // fixed order: (a, b) lexicographic, a < b
  for (int a = 1; a <= 14; ++a)
    for (int b = a + 1; b <= 14; ++b)
      if (safe_path(a, b)) valid.push_back({a, b});
  auto hamming = [](const std::vector<int>& p, const std::vector<int>& q) {
    int common = 0;
    for (int x : p) common += std::count(q.begin(), q.end(), x) > 0 ? 1 : 0;
    return static_cast<int>(p.size() + q.size()) - 2 * common;
  };
  Rng rng(seed);
  std::vector<std::vector<int>> chosen{valid[static_cast<std::size_t>(rng.below(static_cast<std::int64_t>(valid.size())))]};
  std::vector<bool> used(valid.size(), false);
  for (std::size_t i = 0; i < valid.size(); ++i) used[i] = valid[i] == chosen[0];
  while (static_cast<int>(chosen.size()) < kLayouts) {
    int best = -1;
    std::size_t pick = 0;
    for (std::size_t i = 0; i < valid.size(); ++i) {
      if (used[i]) continue;
      int nearest = 1 << 30;
      for (const auto& c : chosen) nearest = std::min(nearest, hamming(valid[i], c));
      if (nearest > best) {  // strict: ties go to the first in the fixed order
        best = nearest;
        pick = i;
      }
    }
    used[pick] = true;
    chosen.push_back(valid[pick]);
  }
  return chosen;
}

std::unique_ptr<Environment> make_frozen_lake(std::uint64_t seed) {
  return std::make_unique<FrozenLake>(seed);
}

std::unique_ptr<Environment> make_environment(const std::string& name, std::uint64_t seed) {
  if (name == "frozen_lake") return make_frozen_lake(seed);
  if (name == "rocksample") return make_rocksample(seed);
  if (name == "wumpus") return make_wumpus(seed);
  throw Error(ErrorCode::invalid_argument,
              fmt::format("unknown environment '{}' (frozen_lake, rocksample or wumpus)", name));
}

std::vector<std::string> environment_names() { return {"frozen_lake", "rocksample", "wumpus"}; }

}  // namespace mpe::agents
