// Which rank owns which node: contiguous ranges or METIS, and what a partition costs (cut).
#include <algorithm>

#include <fmt/format.h>
#include <mpe/dist_graph.hpp>
#include <mpe/error.hpp>

#include "dist/metis_parts.hpp"

namespace mpe::dist {

PartitionMethod parse_partition_method(const std::string& name) {
  if (name == "auto") return PartitionMethod::automatic;
  if (name == "contiguous") return PartitionMethod::contiguous;
  if (name == "metis") return PartitionMethod::metis;
  if (name == "metis-volume") return PartitionMethod::metis_volume;
  throw Error(ErrorCode::invalid_argument,
              fmt::format("partition method '{}': expected auto, contiguous, metis or metis-volume",
                          name));
}

bool metis_built() noexcept { return detail::kMetisBuilt; }

std::vector<int> partition(const Csr& graph, int parts, PartitionMethod method) {
  if (parts < 1) {
    throw Error(ErrorCode::invalid_argument, fmt::format("partition: {} parts", parts));
  }
  if (graph.num_rows != graph.num_cols) {
    throw Error(ErrorCode::invalid_graph,
                fmt::format("partition: the graph must be square, got {} x {}", graph.num_rows,
                            graph.num_cols));
  }
  if (method == PartitionMethod::automatic) {
    method = metis_built() ? PartitionMethod::metis : PartitionMethod::contiguous;
  }
  if ((method == PartitionMethod::metis || method == PartitionMethod::metis_volume) && parts > 1) {
    return detail::metis_parts(graph.to(Device::cpu()), parts,
                               method == PartitionMethod::metis_volume);
  }
  std::vector<int> owner(static_cast<std::size_t>(graph.num_rows));
  for (int p = 0; p < parts; ++p) {
    const Shard s = shard(graph.num_rows, p, parts);
    std::fill(owner.begin() + s.first, owner.begin() + s.first + s.count, p);
  }
  return owner;
}

EdgeCut edge_cut(const Csr& graph, const std::vector<int>& owner, int parts) {
  if (static_cast<std::int64_t>(owner.size()) != graph.num_rows || parts < 1) {
    throw Error(ErrorCode::shape_mismatch, fmt::format("edge_cut: {} owners for {} nodes, {} parts",
                                                       owner.size(), graph.num_rows, parts));
  }
  const Csr g = graph.to(Device::cpu());
  const auto off = g.row_offsets.to_vector<std::int64_t>();
  const auto col = g.col_indices.to_vector<std::int32_t>();
  EdgeCut cut;
  std::vector<std::int64_t> rows(static_cast<std::size_t>(parts), 0);
  std::vector<std::vector<std::int64_t>> reads(static_cast<std::size_t>(parts));
  for (std::int64_t i = 0; i < g.num_rows; ++i) {
    const int p = owner[static_cast<std::size_t>(i)];
    ++rows[static_cast<std::size_t>(p)];
    for (std::int64_t e = off[static_cast<std::size_t>(i)];
         e < off[static_cast<std::size_t>(i) + 1]; ++e) {
      const std::int32_t j = col[static_cast<std::size_t>(e)];
      if (owner[static_cast<std::size_t>(j)] != p) {
        ++cut.cut_entries;
        reads[static_cast<std::size_t>(p)].push_back(j);
      }
    }
  }
  for (std::size_t p = 0; p < reads.size(); ++p) {
    auto& r = reads[p];
    std::sort(r.begin(), r.end());
    const auto n = static_cast<std::int64_t>(std::unique(r.begin(), r.end()) - r.begin());
    cut.halo_nodes += n;
    cut.max_halo = std::max(cut.max_halo, n);
    cut.max_rows = std::max(cut.max_rows, rows[p]);
  }
  return cut;
}

}  // namespace mpe::dist
