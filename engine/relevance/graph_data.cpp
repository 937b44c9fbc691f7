// The relevance store's in-memory graph (detail::GraphData: node arrays and the weight-sorted
// out-edge CSR the kernels read) and the validation of nodes, edges and embeddings shared by the
// SQLite layer (store.cpp) and the CSV import.
#include <algorithm>
#include <cmath>
#include <tuple>
#include <unordered_map>

#include <fmt/format.h>
#include <mpe/error.hpp>

#include "relevance/detail.hpp"

namespace mpe::relevance {

namespace detail {

void check_node(const Node& n, const std::string& where) {
  auto bad = [&](const std::string& what) {
    throw Error(ErrorCode::invalid_argument, fmt::format("{}: {}", where, what));
  };
  if (n.id.empty()) bad("empty node id");
  if (n.type.empty()) bad(fmt::format("node '{}' has an empty type", n.id));
  if (!unit(n.residual)) bad(fmt::format("node '{}': residual {} is outside [0, 1]", n.id, n.residual));
  if (!unit(n.decay)) bad(fmt::format("node '{}': decay {} is outside [0, 1]", n.id, n.decay));
  if (!unit(n.threshold))
    bad(fmt::format("node '{}': threshold {} is outside [0, 1]", n.id, n.threshold));
  if (n.level < -1000000 || n.level > 1000000)
    bad(fmt::format("node '{}': level {} is out of range", n.id, n.level));
  for (const auto& [type, w] : n.type_weights) {
    if (type.empty() || !std::isfinite(w) || w < 0.0f)
      bad(fmt::format("node '{}': type weight '{}'={} must be a finite weight >= 0 of a named type",
                      n.id, type, w));
  }
}

void check_edge_values(const Edge& e, const std::string& where) {
  auto bad = [&](const char* field, float v) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("{}: edge {} -[{}]-> {}: {} {} is outside [0, 1]", where, e.source,
                            e.type, e.target, field, v));
  };
  if (e.type.empty())
    throw Error(ErrorCode::invalid_argument,
                fmt::format("{}: edge {} -> {} has an empty type", where, e.source, e.target));
  if (!unit(e.weight)) bad("weight", e.weight);
  if (!unit(e.confidence)) bad("confidence", e.confidence);
  if (!unit(e.success_rate)) bad("success_rate", e.success_rate);
}

void check_embedding(const float* v, int dim, const std::string& where) {
  double norm = 0;
  for (int k = 0; k < dim; ++k) {
    if (!std::isfinite(v[k]))
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("{}: embedding[{}] is {} (must be finite)", where, k, v[k]));
    norm += double(v[k]) * v[k];
  }
  if (norm == 0.0)
    throw Error(ErrorCode::invalid_argument,
                fmt::format("{}: embedding is all zeros (no direction for cosine similarity)", where));
}

std::map<std::string, float> parse_type_weights(const std::string& text, const std::string& where) {
  std::map<std::string, float> out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find(';', pos);
    if (end == std::string::npos) end = text.size();
    const std::string item = text.substr(pos, end - pos);
    pos = end + 1;
    if (item.find_first_not_of(" \t") == std::string::npos) continue;
    const std::size_t eq = item.find('=');
    char* stop = nullptr;
    const std::string num = eq == std::string::npos ? "" : item.substr(eq + 1);
    const float w = num.empty() ? NAN : std::strtof(num.c_str(), &stop);
    if (eq == 0 || eq == std::string::npos || num.empty() || *stop != '\0') {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("{}: type weight '{}' is not TYPE=weight", where, item));
    }
    out[item.substr(0, eq)] = w;
  }
  return out;
}

std::string format_type_weights(const std::map<std::string, float>& tw) {
  std::string s;
  for (const auto& [type, w] : tw) s += fmt::format("{}{}={:.9g}", s.empty() ? "" : ";", type, w);
  return s;
}

std::int32_t GraphData::type_id(const std::string& name) {
  auto it = type_index.find(name);
  if (it != type_index.end()) return it->second;
  const auto id = static_cast<std::int32_t>(type_names.size());
  type_names.push_back(name);
  type_index.emplace(name, id);
  return id;
}

void GraphData::rebuild_node_arrays() {
  const std::size_t N = nodes.size();
  residual.resize(N);
  decay.resize(N);
  threshold.resize(N);
  level.clear();
  bool any_level = false, any_tw = false;
  for (const Node& n : nodes) {
    any_level |= n.level != 0;
    any_tw |= !n.type_weights.empty();
    for (const auto& kv : n.type_weights) type_id(kv.first);
  }
  // Node types as small integers and ids as ranks: extraction filters and breaks ties with them.
  node_type.resize(N);
  node_type_names.clear();
  std::unordered_map<std::string, std::int32_t> tix;
  for (std::size_t i = 0; i < N; ++i) {
    auto [it, fresh] = tix.emplace(nodes[i].type, std::int32_t(node_type_names.size()));
    if (fresh) node_type_names.push_back(nodes[i].type);
    node_type[i] = it->second;
  }
  std::vector<std::int32_t> by_id(N);
  for (std::size_t i = 0; i < N; ++i) by_id[i] = std::int32_t(i);
  std::sort(by_id.begin(), by_id.end(),
            [this](std::int32_t x, std::int32_t y) { return nodes[std::size_t(x)].id < nodes[std::size_t(y)].id; });
  id_rank.resize(N);
  for (std::size_t r = 0; r < N; ++r) id_rank[std::size_t(by_id[r])] = std::int32_t(r);
  universal.clear();
  for (std::size_t i = 0; i < N; ++i) {
    if (nodes[i].universal) universal.push_back(std::int64_t(i));
    residual[i] = nodes[i].residual;
    decay[i] = nodes[i].decay;
    threshold[i] = nodes[i].threshold;
  }
  if (any_level) {
    level.resize(N);
    for (std::size_t i = 0; i < N; ++i) level[i] = nodes[i].level;
  }
  type_weights.clear();
  if (any_tw) {
    const std::size_t T = type_names.size();
    type_weights.assign(N * T, 1.0f);
    for (std::size_t i = 0; i < N; ++i)
      for (const auto& [name, w] : nodes[i].type_weights)
        type_weights[i * T + std::size_t(type_index.at(name))] = w;
  }
}

void GraphData::rebuild_csr() {
  const std::int64_t N = n();
  row_offsets.assign(std::size_t(N + 1), 0);
  for (const EdgeRec& e : edges) ++row_offsets[std::size_t(e.src) + 1];
  for (std::int64_t i = 0; i < N; ++i) row_offsets[i + 1] += row_offsets[i];
  const std::size_t E = edges.size();
  csr_edge.assign(E, 0);
  std::vector<std::int64_t> fill(row_offsets.begin(), row_offsets.end() - 1);
  for (std::size_t k = 0; k < E; ++k) csr_edge[std::size_t(fill[edges[k].src]++)] = std::int64_t(k);
  csr_targets.resize(E);
  csr_types.resize(E);
  csr_weights.resize(E);
  csr_conf.resize(E);
  edge_pos.resize(E);
  for (std::int64_t j = 0; j < N; ++j) resort_row(static_cast<std::int32_t>(j));
  // A type-weight table sized for types added since the node arrays were built.
  if (!type_weights.empty() && type_weights.size() != nodes.size() * type_names.size())
    rebuild_node_arrays();
}

void GraphData::resort_row(std::int32_t j) {
  auto* b = csr_edge.data() + row_offsets[std::size_t(j)];
  auto* e = csr_edge.data() + row_offsets[std::size_t(j) + 1];
  std::sort(b, e, [this](std::int64_t x, std::int64_t y) {
    const EdgeRec& a = edges[std::size_t(x)];
    const EdgeRec& c = edges[std::size_t(y)];
    if (a.weight != c.weight) return a.weight > c.weight;
    if (a.dst != c.dst) return a.dst < c.dst;
    return a.type < c.type;
  });
  for (std::int64_t p = row_offsets[std::size_t(j)]; p < row_offsets[std::size_t(j) + 1]; ++p) {
    const EdgeRec& r = edges[std::size_t(csr_edge[std::size_t(p)])];
    csr_targets[std::size_t(p)] = r.dst;
    csr_types[std::size_t(p)] = r.type;
    csr_weights[std::size_t(p)] = r.weight;
    csr_conf[std::size_t(p)] = r.confidence;
    edge_pos[std::size_t(csr_edge[std::size_t(p)])] = p;
  }
}

kernels::RelevanceGraph GraphData::view() const {
  kernels::RelevanceGraph v;
  v.nodes = n();
  v.row_offsets = row_offsets.data();
  v.targets = csr_targets.data();
  v.weights = csr_weights.data();
  v.edge_types = csr_types.data();
  v.confidence = csr_conf.data();
  v.type_weights = type_weights.empty() ? nullptr : type_weights.data();
  v.num_types = static_cast<std::int32_t>(type_names.size());
  v.residual = residual.data();
  v.decay = decay.data();
  v.threshold = threshold.data();
  v.level = level.empty() ? nullptr : level.data();
  return v;
}

PullView::PullView(const GraphData& g) {
  const std::int64_t N = g.n();
  const std::size_t E = g.csr_targets.size();
  offsets.assign(std::size_t(N + 1), 0);
  for (const std::int32_t t : g.csr_targets) ++offsets[std::size_t(t) + 1];
  for (std::int64_t i = 0; i < N; ++i) offsets[std::size_t(i + 1)] += offsets[std::size_t(i)];
  sources.resize(E);
  weights.resize(E);
  scale.resize(E);
  scale_conf.resize(E);
  std::vector<std::int64_t> fill(offsets.begin(), offsets.end() - 1);
  const std::size_t T = g.type_names.size();
  out_positive.assign(std::size_t(N), 0);
  for (std::int64_t j = 0; j < N; ++j) {  // sources ascending within each row
    for (std::int64_t p = g.row_offsets[std::size_t(j)]; p < g.row_offsets[std::size_t(j) + 1]; ++p) {
      const std::int32_t i = g.csr_targets[std::size_t(p)];
      const auto k = std::size_t(fill[std::size_t(i)]++);
      const float tw = g.type_weights.empty()
                           ? 1.0f
                           : g.type_weights[std::size_t(i) * T + std::size_t(g.csr_types[std::size_t(p)])];
      sources[k] = std::int32_t(j);
      out_positive[std::size_t(j)] += g.csr_weights[std::size_t(p)] > 0.0f;
      weights[k] = g.csr_weights[std::size_t(p)];
      scale[k] = tw;
      scale_conf[k] = tw * g.csr_conf[std::size_t(p)];
      scale_positive = scale_positive && tw > 0.0f;
    }
  }
}

void PullView::attach(kernels::RelevanceGraph& v) const {
  v.in_offsets = offsets.data();
  v.in_sources = sources.data();
  v.in_weights = weights.data();
  v.in_scale = scale.data();
  v.in_scale_conf = scale_conf.data();
  v.in_scale_positive = scale_positive;
  v.out_positive = out_positive.data();
}

}  // namespace detail

}  // namespace mpe::relevance
