// METIS k-way on the symmetrised graph without self loops (METIS wants an undirected graph);
// a halo is the same whichever direction an edge points, so the cut is the one that matters.
#include <metis.h>

#include <algorithm>
#include <limits>

#include <fmt/format.h>
#include <mpe/error.hpp>

#include "dist/metis_parts.hpp"

namespace mpe::dist::detail {

const bool kMetisBuilt = true;

std::vector<int> metis_parts(const Csr& graph, int parts, bool volume) {
  const std::int64_t n = graph.num_rows;
  if (n > std::numeric_limits<idx_t>::max() / 2 ||
      graph.nnz() > std::numeric_limits<idx_t>::max() / 2) {
    throw Error(ErrorCode::not_supported,
                fmt::format("METIS ({}-bit indices): graph of {} nodes and {} entries is too large",
                            sizeof(idx_t) * 8, n, graph.nnz()));
  }
  const auto off = graph.row_offsets.to_vector<std::int64_t>();
  const auto col = graph.col_indices.to_vector<std::int32_t>();
  // A + Aᵀ without the diagonal, each neighbour once.
  std::vector<std::vector<idx_t>> adj(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t e = off[static_cast<std::size_t>(i)];
         e < off[static_cast<std::size_t>(i) + 1]; ++e) {
      const std::int64_t j = col[static_cast<std::size_t>(e)];
      if (j == i) continue;
      adj[static_cast<std::size_t>(i)].push_back(static_cast<idx_t>(j));
      adj[static_cast<std::size_t>(j)].push_back(static_cast<idx_t>(i));
    }
  std::vector<idx_t> xadj(static_cast<std::size_t>(n) + 1, 0), adjncy;
  for (std::int64_t i = 0; i < n; ++i) {
    auto& a = adj[static_cast<std::size_t>(i)];
    std::sort(a.begin(), a.end());
    a.erase(std::unique(a.begin(), a.end()), a.end());
    adjncy.insert(adjncy.end(), a.begin(), a.end());
    xadj[static_cast<std::size_t>(i) + 1] = static_cast<idx_t>(adjncy.size());
    std::vector<idx_t>().swap(a);
  }
  idx_t nvtxs = static_cast<idx_t>(n), ncon = 1, nparts = parts, objval = 0;
  std::vector<idx_t> part(static_cast<std::size_t>(n), 0);
  idx_t options[METIS_NOPTIONS];
  METIS_SetDefaultOptions(options);
  options[METIS_OPTION_SEED] = 1;  // every rank computes the same partition
  options[METIS_OPTION_NUMBERING] = 0;
  if (volume) options[METIS_OPTION_OBJTYPE] = METIS_OBJTYPE_VOL;
  if (n > 0) {
    const int rc = METIS_PartGraphKway(
        &nvtxs, &ncon, xadj.data(), adjncy.empty() ? nullptr : adjncy.data(), nullptr, nullptr,
        nullptr, &nparts, nullptr, nullptr, options, &objval, part.data());
    if (rc != METIS_OK) {
      const char* what = rc == METIS_ERROR_INPUT    ? "METIS_ERROR_INPUT"
                         : rc == METIS_ERROR_MEMORY ? "METIS_ERROR_MEMORY"
                                                    : "METIS_ERROR";
      throw Error(rc == METIS_ERROR_MEMORY ? ErrorCode::out_of_memory : ErrorCode::internal,
                  fmt::format("METIS_PartGraphKway failed ({}) on {} nodes, {} adjacency entries, "
                              "{} parts; use the contiguous partition",
                              what, n, adjncy.size(), parts));
    }
  }
  return std::vector<int>(part.begin(), part.end());
}

}  // namespace mpe::dist::detail
