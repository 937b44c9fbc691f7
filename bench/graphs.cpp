#include "graphs.hpp"

#include <map>
#include <random>

#include <fmt/format.h>

namespace mpe::bench {

namespace {
std::map<std::string, Csr>& cache() {
  static std::map<std::string, Csr> c;
  return c;
}

Coo generate(const std::string& kind, std::int64_t nodes, std::int64_t avg_degree,
             std::uint64_t seed) {
  if (nodes <= 0 || avg_degree < 0) {
    throw Error(
        ErrorCode::invalid_argument,
        fmt::format("graph needs nodes > 0 and degree >= 0, got {} and {}", nodes, avg_degree));
  }
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> weight(0.5f, 1.5f);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::uniform_int_distribution<std::int64_t> node(0, nodes - 1);
  int scale = 0;
  while ((std::int64_t(1) << scale) < nodes) ++scale;
  const std::int64_t edges = nodes * avg_degree;
  Coo coo;
  coo.num_rows = coo.num_cols = nodes;
  coo.rows.resize(static_cast<std::size_t>(edges));
  coo.cols.resize(static_cast<std::size_t>(edges));
  coo.weights.resize(static_cast<std::size_t>(edges));
  for (std::size_t k = 0; k < coo.rows.size(); ++k) {
    std::int64_t r = 0, c = 0;
    if (kind == "uniform") {
      r = node(rng);
      c = node(rng);
    } else if (kind == "rmat") {
      for (int bit = 0; bit < scale; ++bit) {  // pick a quadrant per level
        const double p = unit(rng);
        const int quadrant = p < 0.57 ? 0 : p < 0.76 ? 1 : p < 0.95 ? 2 : 3;
        r = (r << 1) | (quadrant >> 1);
        c = (c << 1) | (quadrant & 1);
      }
      r %= nodes;
      c %= nodes;
    } else {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("unknown graph kind '{}' (uniform or rmat)", kind));
    }
    coo.rows[k] = c;  // pull direction: row = destination
    coo.cols[k] = r;
    coo.weights[k] = weight(rng);
  }
  return coo;
}
}  // namespace

bool known_graph_kind(const std::string& kind) { return kind == "uniform" || kind == "rmat"; }

const Csr& synthetic_graph(const std::string& kind, std::int64_t nodes, std::int64_t avg_degree,
                           std::uint64_t seed) {
  const std::string key = fmt::format("{}:{}:{}:{}", kind, nodes, avg_degree, seed);
  auto it = cache().find(key);
  if (it == cache().end()) {
    CsrBuildOptions opt;
    opt.sort_columns = true;  // sorted columns: neighbouring gathers share cache lines
    it = cache().emplace(key, csr_from_coo(generate(kind, nodes, avg_degree, seed), opt)).first;
  }
  return it->second;
}

const Csr& file_graph(const std::string& path) {
  auto it = cache().find(path);
  if (it == cache().end()) {
    it = cache().emplace(path, csr_from_coo(transposed(read_matrix_market(path)))).first;
  }
  return it->second;
}

}  // namespace mpe::bench
