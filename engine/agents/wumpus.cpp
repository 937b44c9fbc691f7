// Wumpus 5×5 (aif-mp.md §6.4): 50 states (cell + 25·sensed flag), actions L, D, R, U, SENSE,
// 25 configurations of 4 pits, the wumpus and the gold, 28 binary channels, a θ-goal.
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include <mpe/error.hpp>

#include "agents/environments.hpp"

namespace mpe::agents {

namespace {
constexpr int kSide = 5, kCells = 25, kStates = 50, kActions = 5, kSense = 4, kConfigs = 25;
constexpr int kMaxSteps = 16;
constexpr double kSlip = 0.01;

int move(int cell, int action) {
  int r = cell / kSide, c = cell % kSide;
  if (action == 0) --c;
  if (action == 1) ++r;
  if (action == 2) ++c;
  if (action == 3) --r;
  if (r < 0 || r >= kSide || c < 0 || c >= kSide) return cell;
  return r * kSide + c;
}

struct Config {
  std::vector<int> pits;  // 4
  int wumpus = 0, gold = 0;
  bool operator==(const Config& o) const {
    return pits == o.pits && wumpus == o.wumpus && gold == o.gold;
  }
};

class Wumpus final : public Environment {
 public:
  explicit Wumpus(std::uint64_t seed) {
    Rng rng(seed);
    while (static_cast<int>(configs_.size()) < kConfigs) {
      std::vector<int> pool;
      for (int c = 1; c < kCells; ++c) pool.push_back(c);
      std::vector<int> pick;
      for (int k = 0; k < 6; ++k) {  // six distinct cells: 4 pits, the wumpus, the gold
        const auto at = static_cast<std::size_t>(rng.below(static_cast<std::int64_t>(pool.size())));
        pick.push_back(pool[at]);
        pool.erase(pool.begin() + static_cast<long>(at));
      }
      Config cfg;
      cfg.pits.assign(pick.begin(), pick.begin() + 4);
      std::sort(cfg.pits.begin(), cfg.pits.end());
      cfg.wumpus = pick[4];
      cfg.gold = pick[5];
      if (std::find(configs_.begin(), configs_.end(), cfg) == configs_.end()) configs_.push_back(cfg);
    }
    const std::int64_t S = kStates, K = kConfigs, A = kActions;
    std::vector<float> T(static_cast<std::size_t>(S * S * K * A), 0.0f);
    for (std::int64_t th = 0; th < K; ++th)
      for (std::int64_t x = 0; x < S; ++x)
        for (std::int64_t u = 0; u < A; ++u)
          for (const auto& [n, p] : transitions(static_cast<int>(x), static_cast<int>(th), static_cast<int>(u))) {
            T[static_cast<std::size_t>(((n * S + x) * K + th) * A + u)] += static_cast<float>(p);
          }
    T_ = Tensor::from_vector(T, {S, S, K, A});
    index_transitions();
    const std::int64_t F = 28;
    std::vector<float> B(static_cast<std::size_t>(F * 2 * S * K));
    for (std::int64_t f = 0; f < F; ++f)
      for (std::int64_t x = 0; x < S; ++x)
        for (std::int64_t th = 0; th < K; ++th) {
          const double p1 = fire(static_cast<int>(f), static_cast<int>(x), static_cast<int>(th));
          B[static_cast<std::size_t>(((f * 2 + 1) * S + x) * K + th)] = static_cast<float>(p1);
          B[static_cast<std::size_t>(((f * 2 + 0) * S + x) * K + th)] = static_cast<float>(1 - p1);
        }
    B_ = Tensor::from_vector(B, {F, 2, S, K});
    for (std::int64_t f = 0; f < F; ++f) planning_channels_.push_back(f);
    std::vector<float> C(static_cast<std::size_t>(S * K));
    for (std::int64_t th = 0; th < K; ++th) {
      std::vector<double> e(static_cast<std::size_t>(S));
      double z = 0;
      for (std::int64_t x = 0; x < S; ++x) {
        const int cell = static_cast<int>(x % kCells);
        const Config& c = configs_[static_cast<std::size_t>(th)];
        const double r = (cell == c.gold ? 1.0 : 0.0) - (is_pit(cell, c) ? 1.0 : 0.0) -
                         (cell == c.wumpus ? 1.0 : 0.0);
        z += (e[static_cast<std::size_t>(x)] = std::exp(r));
      }
      for (std::int64_t x = 0; x < S; ++x) {
        C[static_cast<std::size_t>(x * K + th)] = static_cast<float>(e[static_cast<std::size_t>(x)] / z);
      }
    }
    model_ = std::make_shared<aif::Model>(aif::Model::with_theta_goal(
        T_, B_, Tensor::from_vector<float>({1, 1, 1, 1, 0.7f}, {A}), Tensor::from_vector(C, {S, K})));
  }

  std::string name() const override { return "wumpus"; }
  std::vector<std::string> action_names() const override { return {"L", "D", "R", "U", "SENSE"}; }
  aif::Model planning_model(const std::vector<float>&) const override { return *model_; }
  std::int64_t start_state() const override { return 0; }
  int horizon() const override { return 8; }
  int iterations() const override { return 150; }
  int max_steps() const override { return kMaxSteps; }
  bool receding_horizon() const override { return false; }
  float aif_damping() const override { return 0.75f; }

  StepResult step(std::int64_t state, std::int64_t action, std::int64_t theta,
                  Rng& rng) const override {
    const int cell = static_cast<int>(state % kCells);
    const Config& c = configs_[static_cast<std::size_t>(theta)];
    int next;
    if (action == kSense) {
      next = cell + kCells;
    } else {
      int m = static_cast<int>(action);
      if (rng.uniform() >= 1.0 - kSlip) {
        const int k = static_cast<int>(rng.below(3));
        m = k < m ? k : k + 1;
      }
      next = move(cell, m);  // every move clears the flag
    }
    StepResult r;
    r.next_state = next;
    const int ncell = next % kCells;
    if (ncell == c.gold) {
      r.reward = 1;
      r.terminated = true;
    } else if (is_pit(ncell, c) || ncell == c.wumpus) {
      r.reward = -1;
      r.terminated = true;
    }
    return r;
  }
  bool success(std::int64_t state, std::int64_t theta) const override {
    return state % kCells == configs_[static_cast<std::size_t>(theta)].gold;
  }
  std::string render(std::int64_t state, std::int64_t theta) const override {
    const Config& c = configs_[static_cast<std::size_t>(theta)];
    std::string out;
    for (int r = 0; r < kSide; ++r) {
      out += "  ";
      for (int col = 0; col < kSide; ++col) {
        const int k = r * kSide + col;
        out += k == state % kCells ? 'A' : is_pit(k, c) ? 'P' : k == c.wumpus ? 'W' : k == c.gold ? 'G' : '.';
        out += ' ';
      }
      out += '\n';
    }
    out += fmt::format("  sensed: {}\n", state >= kCells ? "yes" : "no");
    return out;
  }


 private:
  static bool is_pit(int cell, const Config& c) {
    return std::find(c.pits.begin(), c.pits.end(), cell) != c.pits.end();
  }
  static bool near(int cell, int target) {  // an orthogonal neighbour
    const int dr = std::abs(cell / kSide - target / kSide), dc = std::abs(cell % kSide - target % kSide);
    return dr + dc == 1;
  }
  std::vector<std::pair<int, double>> transitions(int x, int theta, int u) const {
    const int cell = x % kCells;
    const Config& c = configs_[static_cast<std::size_t>(theta)];
    if (is_pit(cell, c) || cell == c.wumpus) return {{x, 1.0}};  // the gold does not self-loop
    if (u == kSense) return {{cell + kCells, 1.0}};
    std::vector<std::pair<int, double>> out{{move(cell, u), 1.0 - kSlip}};
    for (int m = 0; m < 4; ++m) {
      if (m != u) out.emplace_back(move(cell, m), kSlip / 3.0);
    }
    return out;
  }
  double fire(int f, int x, int theta) const {
    const int cell = x % kCells, sensed = x / kCells;
    const Config& c = configs_[static_cast<std::size_t>(theta)];
    if (f >= 3) return f - 3 == cell ? 0.95 : 0.005;  // position channels, both flags
    bool present = false;
    if (f == 0) {
      for (int p : c.pits) present = present || near(cell, p);
    } else if (f == 1) {
      present = near(cell, c.wumpus);
    } else {
      present = cell == c.gold;
    }
    if (!sensed) return 0.5;
    return present ? 0.9 : 0.01;
  }

  std::vector<Config> configs_;
  std::shared_ptr<aif::Model> model_;
};
}  // namespace

std::unique_ptr<Environment> make_wumpus(std::uint64_t seed) {
  return std::make_unique<Wumpus>(seed);
}

}  // namespace mpe::agents
