#include "support/bp_ref.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace mpe::test {

namespace {
constexpr double kNegInf = -std::numeric_limits<double>::infinity();

double lse_add(double a, double b) {
  if (a == kNegInf) return b;
  if (b == kNegInf) return a;
  const double m = std::max(a, b);
  return m + std::log(std::exp(a - m) + std::exp(b - m));
}

std::int64_t index_of(const bp::FactorGraph& g, const bp::Factor& f, const std::vector<int>& x) {
  std::int64_t t = 0, s = 1;
  for (int v : f.vars) {
    t += s * x[static_cast<std::size_t>(v)];
    s *= g.cardinalities[static_cast<std::size_t>(v)];
  }
  return t;
}
}  // namespace

BpExact bp_brute_force(const bp::FactorGraph& g, const std::vector<int>& evidence) {
  const int nv = g.num_variables();
  std::vector<int> x(static_cast<std::size_t>(nv), 0);
  for (int v = 0; v < nv; ++v) {
    if (!evidence.empty() && evidence[static_cast<std::size_t>(v)] >= 0) {
      x[static_cast<std::size_t>(v)] = evidence[static_cast<std::size_t>(v)];
    }
  }
  std::vector<std::pair<std::vector<int>, double>> all;
  while (true) {
    double s = 0;
    for (const bp::Factor& f : g.factors) s += f.log_values[static_cast<std::size_t>(index_of(g, f, x))];
    all.emplace_back(x, s);
    int v = 0;
    for (; v < nv; ++v) {
      if (!evidence.empty() && evidence[static_cast<std::size_t>(v)] >= 0) continue;
      if (++x[static_cast<std::size_t>(v)] < g.cardinalities[static_cast<std::size_t>(v)]) break;
      x[static_cast<std::size_t>(v)] = 0;
    }
    if (v == nv) break;
  }
  BpExact out;
  out.log_z = kNegInf;
  for (const auto& [a, s] : all) out.log_z = lse_add(out.log_z, s);
  out.var_marginals.resize(static_cast<std::size_t>(nv));
  for (int v = 0; v < nv; ++v) {
    out.var_marginals[static_cast<std::size_t>(v)].assign(
        static_cast<std::size_t>(g.cardinalities[static_cast<std::size_t>(v)]), 0.0);
  }
  for (const bp::Factor& f : g.factors) out.factor_marginals.emplace_back(f.log_values.size(), 0.0);
  double best = kNegInf, second = kNegInf;
  for (const auto& [a, s] : all) {
    const double p = s == kNegInf ? 0.0 : std::exp(s - out.log_z);
    for (int v = 0; v < nv; ++v) {
      out.var_marginals[static_cast<std::size_t>(v)][static_cast<std::size_t>(a[static_cast<std::size_t>(v)])] += p;
    }
    for (std::size_t f = 0; f < g.factors.size(); ++f) {
      out.factor_marginals[f][static_cast<std::size_t>(index_of(g, g.factors[f], a))] += p;
    }
    if (s > best) {
      second = best;
      best = s;
      out.map = a;
    } else if (s > second) {
      second = s;
    }
  }
  out.map_log_score = best;
  out.second_best_gap = best - second;
  return out;
}

bp::FactorGraph random_tree(std::mt19937& rng, int num_vars, int max_arity, int max_card,
                            double spread, double zero_fraction, int min_card) {
  std::uniform_int_distribution<int> card_d(min_card, max_card);
  std::uniform_real_distribution<double> val(-spread, spread);
  std::uniform_real_distribution<double> u01(0.0, 1.0);
  bp::FactorGraph g;
  g.add_variable(card_d(rng));
  auto add = [&](std::vector<int> vars) {
    std::int64_t size = 1;
    for (int v : vars) size *= g.cardinalities[static_cast<std::size_t>(v)];
    std::vector<double> t(static_cast<std::size_t>(size));
    bool any = false;
    for (double& x : t) {
      x = u01(rng) < zero_fraction ? kNegInf : val(rng);
      any = any || x != kNegInf;
    }
    if (!any) t[0] = 0.0;
    g.add_log_factor(std::move(vars), std::move(t));
  };
  while (g.num_variables() < num_vars) {
    const int arity = std::uniform_int_distribution<int>(1, max_arity)(rng);
    const int anchor = std::uniform_int_distribution<int>(0, g.num_variables() - 1)(rng);
    std::vector<int> vars{anchor};
    for (int k = 1; k < arity && g.num_variables() < num_vars; ++k) vars.push_back(g.add_variable(card_d(rng)));
    std::shuffle(vars.begin(), vars.end(), rng);
    add(vars);
  }
  return g;
}

bp::FactorGraph random_grid(std::mt19937& rng, int w, int h, int card, double coupling) {
  std::normal_distribution<double> n01(0.0, 1.0);
  bp::FactorGraph g;
  for (int i = 0; i < w * h; ++i) g.add_variable(card);
  for (int i = 0; i < w * h; ++i) {
    std::vector<double> t(static_cast<std::size_t>(card));
    for (double& x : t) x = 0.5 * n01(rng);
    g.add_log_factor({i}, t);
  }
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      const int i = y * w + x;
      for (int j : {x + 1 < w ? i + 1 : -1, y + 1 < h ? i + w : -1}) {
        if (j < 0) continue;
        std::vector<double> t(static_cast<std::size_t>(card * card));
        for (double& v : t) v = coupling * n01(rng);
        g.add_log_factor({i, j}, t);
      }
    }
  }
  return g;
}

}  // namespace mpe::test
