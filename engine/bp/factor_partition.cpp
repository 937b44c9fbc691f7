// Which rank owns which factor for partitioned BP (include/mpe/dist_models.hpp): contiguous
// ranges or METIS on the variable–factor graph, and what a partition exchanges per sweep.
#include <algorithm>

#include <fmt/format.h>
#include <mpe/dist_models.hpp>
#include <mpe/error.hpp>

#include "bp/parts.hpp"

namespace mpe::bp::parts {
std::vector<std::vector<int>> factor_readers(const FactorGraph& g, const std::vector<int>& owner) {
  std::vector<std::vector<int>> r(g.cardinalities.size());
  for (std::size_t f = 0; f < g.factors.size(); ++f)
    for (int v : g.factors[f].vars) r[static_cast<std::size_t>(v)].push_back(owner[f]);
  for (auto& v : r) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
  }
  return r;
}
}  // namespace mpe::bp::parts

namespace mpe::dist {
using bp::FactorGraph;

std::vector<int> partition_factors(const FactorGraph& g, int parts, PartitionMethod method) {
  if (parts < 1) {
    throw Error(ErrorCode::invalid_argument, fmt::format("partition_factors: {} parts", parts));
  }
  g.validate();
  const auto F = static_cast<std::int64_t>(g.factors.size());
  if (method == PartitionMethod::automatic)
    method = metis_built() ? PartitionMethod::metis : PartitionMethod::contiguous;
  if (method == PartitionMethod::contiguous || parts == 1) {
    std::vector<int> owner(static_cast<std::size_t>(F));
    for (int p = 0; p < parts; ++p) {
      const Shard sh = shard(F, p, parts);
      std::fill_n(owner.begin() + sh.first, sh.count, p);
    }
    return owner;
  }
  // Bipartite graph: node f is factor f, node F + v is variable v.
  const std::int64_t V = g.num_variables(), N = F + V;
  std::vector<std::vector<std::int32_t>> factors_of(static_cast<std::size_t>(V));
  for (std::int64_t f = 0; f < F; ++f)
    for (int v : g.factors[static_cast<std::size_t>(f)].vars)
      factors_of[static_cast<std::size_t>(v)].push_back(static_cast<std::int32_t>(f));
  std::vector<std::int64_t> off{0};
  std::vector<std::int32_t> col;
  for (std::int64_t f = 0; f < F; ++f) {
    for (int v : g.factors[static_cast<std::size_t>(f)].vars)
      col.push_back(static_cast<std::int32_t>(F + v));
    off.push_back(static_cast<std::int64_t>(col.size()));
  }
  for (const auto& fs : factors_of) {
    col.insert(col.end(), fs.begin(), fs.end());
    off.push_back(static_cast<std::int64_t>(col.size()));
  }
  Csr csr;
  csr.num_rows = csr.num_cols = N;
  csr.row_offsets = Tensor::from_vector(off, {N + 1});
  csr.col_indices = Tensor::from_vector(col, {static_cast<std::int64_t>(col.size())});
  std::vector<int> owner = partition(csr, parts, method);
  owner.resize(static_cast<std::size_t>(F));
  return owner;
}

BpCut bp_cut(const FactorGraph& g, const std::vector<int>& owner, int parts) {
  if (owner.size() != g.factors.size())
    throw Error(ErrorCode::invalid_argument,
                fmt::format("bp_cut: {} owners for {} factors", owner.size(), g.factors.size()));
  const auto readers = bp::parts::factor_readers(g, owner);
  BpCut c;
  std::vector<std::int64_t> ghosts(static_cast<std::size_t>(std::max(parts, 1)), 0);
  std::vector<int> rs;
  for (std::size_t f = 0; f < g.factors.size(); ++f) {
    rs.clear();
    for (int v : g.factors[f].vars) {
      const auto& rv = readers[static_cast<std::size_t>(v)];
      if (rv.size() > 1) {
        ++c.cut_edges;
        c.sent_values +=
            static_cast<std::int64_t>(rv.size() - 1) * g.cardinalities[static_cast<std::size_t>(v)];
      }
      rs.insert(rs.end(), rv.begin(), rv.end());
    }
    std::sort(rs.begin(), rs.end());
    rs.erase(std::unique(rs.begin(), rs.end()), rs.end());
    for (int r : rs)
      if (r != owner[f] && r >= 0 && r < parts) ++ghosts[static_cast<std::size_t>(r)];
  }
  c.max_ghosts = *std::max_element(ghosts.begin(), ghosts.end());
  return c;
}

}  // namespace mpe::dist
