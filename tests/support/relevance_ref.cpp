#include "support/relevance_ref.hpp"

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include <gtest/gtest.h>

namespace mpe::test {

RelRef relevance_reference(const relevance::Store& store,
                           const std::vector<std::pair<std::int64_t, double>>& seeds,
                           const relevance::QueryParams& p) {
  const std::int64_t n = store.num_nodes();
  std::vector<relevance::Node> nodes;
  for (std::int64_t i = 0; i < n; ++i) nodes.push_back(store.node(i));
  const std::vector<relevance::Edge> edges = store.edges();
  RelRef r;
  r.act.assign(std::size_t(n), 0.0);
  r.conf.assign(std::size_t(n), 0.0);
  for (const auto& [i, a] : seeds) {
    r.act[std::size_t(i)] = a;
    r.conf[std::size_t(i)] = a;
  }
  for (int t = 1; t <= p.max_iterations; ++t) {
    std::vector<double> agg(static_cast<std::size_t>(n), 0.0), cn(static_cast<std::size_t>(n), 0.0);
    std::vector<char> has(static_cast<std::size_t>(n), 0);
    for (const relevance::Edge& e : edges) {
      const auto j = std::size_t(store.find(e.source)), i = std::size_t(store.find(e.target));
      if (!(r.act[j] > 0.0)) continue;
      const double rel = r.act[j] * e.weight;
      if (!(rel > p.edge_gate)) continue;
      auto tw_it = nodes[i].type_weights.find(e.type);
      const double tw = tw_it == nodes[i].type_weights.end() ? 1.0 : tw_it->second;
      const double ls = nodes[i].level > nodes[j].level   ? p.level_up_scale
                        : nodes[i].level < nodes[j].level ? p.level_down_scale
                                                          : 1.0;
      const double m = rel * tw * ls;
      agg[i] += m;
      cn[i] += m * e.confidence;
      has[i] = 1;
      ++r.messages;
    }
    double delta = 0;
    std::vector<double> na(static_cast<std::size_t>(n)), nc(static_cast<std::size_t>(n));
    for (std::size_t i = 0; i < std::size_t(n); ++i) {
      const relevance::Node& nd = nodes[i];
      double c;
      if (has[i]) {
        c = nd.residual * r.act[i] + (1.0 - nd.residual) * agg[i];
      } else {
        c = r.act[i] * nd.decay;
      }
      double v = std::min(1.0, std::max(0.0, c - nd.threshold));
      if (!(v >= p.propagation_threshold && v > 0.0)) v = 0.0;
      na[i] = v;
      nc[i] = v > 0.0 ? (has[i] && agg[i] > 0.0 ? cn[i] / agg[i] : r.conf[i]) : 0.0;
      delta = std::max(delta, std::fabs(v - r.act[i]));
    }
    r.act = na;
    r.conf = nc;
    r.iterations = t;
    if (delta < p.tolerance) {
      r.converged = true;
      break;
    }
  }
  return r;
}

std::vector<std::pair<std::int64_t, double>> reference_seeds(
    const std::vector<std::vector<float>>& emb, const std::vector<float>& q, int top_k,
    double threshold) {
  std::vector<std::pair<std::int64_t, double>> all;
  double qn = 0;
  for (float v : q) qn += double(v) * v;
  for (std::size_t i = 0; i < emb.size(); ++i) {
    double dot = 0, en = 0;
    for (std::size_t k = 0; k < q.size(); ++k) {
      dot += double(q[k]) * emb[i][k];
      en += double(emb[i][k]) * emb[i][k];
    }
    const double cos = dot / std::sqrt(qn * en);
    if (cos >= threshold) all.emplace_back(std::int64_t(i), cos);
  }
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  if (all.size() > std::size_t(top_k)) all.resize(std::size_t(top_k));
  return all;
}

std::vector<std::pair<std::string, double>> reference_extract(const relevance::Store& store,
                                                              const RelRef& ref,
                                                              const relevance::QueryParams& p) {
  std::vector<std::pair<std::string, double>> out, uni;
  for (std::int64_t i = 0; i < store.num_nodes(); ++i) {
    const relevance::Node n = store.node(i);
    const double a = ref.act[std::size_t(i)];
    const bool typed =
        p.types.empty() || std::find(p.types.begin(), p.types.end(), n.type) != p.types.end();
    if (a > 0.0 && a >= p.min_activation && typed) {
      out.emplace_back(n.id, a);
    } else if (n.universal && p.include_universal) {
      uni.emplace_back(n.id, a);
    }
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  std::sort(uni.begin(), uni.end());
  out.insert(out.end(), uni.begin(), uni.end());
  return out;
}

RelRef relevance_reference(const relevance::Store& store, const relevance::Query& q) {
  std::vector<std::pair<std::int64_t, double>> seeds;
  for (const auto& sd : q.seeds) seeds.emplace_back(store.find(sd.id), sd.activation);
  return relevance_reference(store, seeds, q.params);
}

void expect_matches_reference(const relevance::QueryResult& r, const RelRef& ref,
                              std::int64_t nodes, const std::string& where) {
  EXPECT_EQ(r.iterations, ref.iterations) << where;
  EXPECT_EQ(r.converged, ref.converged) << where;
  EXPECT_EQ(r.edges_touched, ref.messages) << where;
  std::vector<double> got(static_cast<std::size_t>(nodes), 0.0);
  for (const auto& [i, a] : r.active) got[static_cast<std::size_t>(i)] = a;
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_NEAR(got[i], ref.act[i], 2e-5) << where << ": node " << i;
  }
  for (const relevance::Activated& a : r.results) {
    if (a.activation > 0.0f) {
      EXPECT_NEAR(a.confidence, ref.conf[static_cast<std::size_t>(a.node)], 2e-5)
          << where << ": " << a.id;
    }
  }
}

}  // namespace mpe::test
