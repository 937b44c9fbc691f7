#pragma once
/// @file dist_graph.hpp
/// Partitioned graphs over a dist::Communicator: each rank owns some rows (nodes) of a CSR
/// graph and keeps halo copies of the remote nodes its rows read; a halo round sends only
/// those rows. The distributed GNN and message-passing drivers run the single-process layer on
/// the rank's rows and its halo, so one rank is the single-process code path.
///
///     auto comm = mpe::dist::world();
///     auto owner = mpe::dist::partition(graph, comm->size());         // METIS when built
///     auto part = mpe::dist::PartitionedGraph::build(comm, graph, owner);
///     mpe::Tensor y_owned = mpe::dist::forward(part, layer, part.owned_rows(x));
///     mpe::Tensor y = part.all_gather_rows(y_owned);                   // [N, F] on every rank
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <mpe/distributed.hpp>
#include <mpe/gnn.hpp>
#include <mpe/graph.hpp>
#include <mpe/graph_mp.hpp>
#include <mpe/tensor.hpp>

namespace mpe::dist {

/// How nodes are assigned to parts.
enum class PartitionMethod {
  automatic,   ///< METIS when built, else contiguous
  contiguous,  ///< equal contiguous ranges of node ids (shard())
  metis,       ///< METIS k-way on the symmetrised graph, fewest cut edges (Error(not_supported)
               ///< when not built)
  metis_volume ///< METIS k-way minimising the total communication volume instead
};
/// "auto", "contiguous", "metis", "metis-volume".
PartitionMethod parse_partition_method(const std::string& name);
/// Whether this build has METIS (libmetis-dev).
bool metis_built() noexcept;

/// The part (rank) of every node of `graph` (a square CSR) for `parts` parts. METIS runs on
/// A + Aᵀ without self loops, unit weights, seed 1, so every rank computes the same answer.
std::vector<int> partition(const Csr& graph, int parts,
                           PartitionMethod method = PartitionMethod::automatic);

/// What a partition costs in communication.
struct EdgeCut {
  std::int64_t cut_entries = 0;  ///< CSR entries whose row and column have different parts
  std::int64_t halo_nodes = 0;   ///< Σ over parts of the distinct remote columns it reads
  std::int64_t max_halo = 0;     ///< largest halo of one part
  std::int64_t max_rows = 0;     ///< largest part
};
EdgeCut edge_cut(const Csr& graph, const std::vector<int>& owner, int parts);

/// One rank's part of a square graph.
class PartitionedGraph {
 public:
  /// Collective. `global` (host CSR, the same on every rank) and `owner` (part of each node, in
  /// [0, comm->size())) give this rank's rows; the halo plan is agreed with the other ranks
  /// (each asks the owners for the rows it reads).
  static PartitionedGraph build(std::shared_ptr<Communicator> comm, const Csr& global,
                                const std::vector<int>& owner);

  /// Collective, for graphs no rank holds whole: `rows` holds only this rank's rows (one per
  /// node it owns, in ascending node order; column ids global, num_cols = N); `owner` as for
  /// build(). local_entries() then indexes the entries of `rows`.
  static PartitionedGraph from_rows(std::shared_ptr<Communicator> comm, const Csr& rows,
                                    const std::vector<int>& owner);

  Communicator& comm() const { return *comm_; }
  std::int64_t global_nodes() const { return global_nodes_; }
  /// Global ids of this rank's rows, ascending: local row i is node owned()[i].
  const std::vector<std::int64_t>& owned() const { return owned_; }
  /// Global ids of the halo: local column owned().size() + k is node halo()[k].
  const std::vector<std::int64_t>& halo() const { return halo_; }
  /// Square local graph over owned + halo nodes: the owned rows with their in-edges (columns
  /// renumbered, entries in the global row's order), then empty rows for the halo.
  const Csr& local() const { return local_; }
  /// Entry index (global CSR's for build(), `rows`' for from_rows()) of every local entry, to
  /// pick per-edge data such as types.
  const std::vector<std::int64_t>& local_edges() const { return local_edges_; }

  /// This rank's rows of a replicated [N, ...] tensor.
  Tensor owned_rows(const Tensor& global) const;
  /// Picks the local entries of a per-entry tensor ([nnz] or [nnz, ...]) of the global graph.
  Tensor local_entries(const Tensor& per_entry) const;
  /// Collective halo round: [owned, F...] -> [owned + halo, F...], the halo rows received from
  /// their owners. Any dtype; device tensors are staged through the host.
  Tensor with_halo(const Tensor& x_owned) const;
  /// Collective: every rank's owned rows put back in global order, [N, F...] on every rank.
  Tensor all_gather_rows(const Tensor& x_owned) const;
  /// Rows this rank sends in one halo round (Σ over peers).
  std::int64_t halo_send_rows() const;

 private:
  // The common part of build() and from_rows(): this rank's rows as host CSR arrays with global
  // column ids, and the index each entry has in the caller's numbering.
  static PartitionedGraph assemble(std::shared_ptr<Communicator> comm,
                                   const std::vector<int>& owner,
                                   const std::vector<std::int64_t>& off,
                                   const std::vector<std::int32_t>& col,
                                   const std::vector<float>& w, std::vector<std::int64_t> entries);

  std::shared_ptr<Communicator> comm_;
  std::int64_t global_nodes_ = 0;
  std::vector<std::int64_t> owned_, halo_, local_edges_;
  std::vector<int> owner_;
  Csr local_;
  // Halo plan: to peer p, the local rows send_rows_[p]; from p, halo slots
  // [recv_first_[p], recv_first_[p] + recv_count_[p]) (the halo is sorted by owner).
  std::vector<std::vector<std::int64_t>> send_rows_;
  std::vector<std::int64_t> recv_first_, recv_count_;
};

/// A layer's forward pass (GcnConv, SageConv, GinConv, GatConv: anything with
/// forward(const Csr&, const Tensor&, Activation)) on a partitioned graph: one halo round of
/// x, the layer on the local graph, this rank's rows of the result. For GcnConv pass the
/// partition of the gcn_normalize()d graph.
template <class Layer>
Tensor forward(const PartitionedGraph& part, const Layer& layer, const Tensor& x_owned,
               Activation act = Activation::none);

/// GcnConv on a partitioned (gcn_normalize()d) graph in the order that moves least: the dense
/// product on this rank's rows, one halo round of its output (out features, not in), then the
/// normalised aggregation. The generic forward() above also runs a layer's dense products on
/// the halo rows (SAGE, GIN, GAT: redundant work proportional to the halo).
Tensor forward(const PartitionedGraph& part, const gnn::GcnConv& layer, const Tensor& x_owned,
               Activation act = Activation::none);

/// Rows [0, n) of a [M, ...] tensor (a copy).
Tensor first_rows(const Tensor& t, std::int64_t n);

template <class Layer>
Tensor forward(const PartitionedGraph& part, const Layer& layer, const Tensor& x_owned,
               Activation act) {
  const Tensor x_local = part.with_halo(x_owned);
  return first_rows(layer.forward(part.local(), x_local, act),
                    static_cast<std::int64_t>(part.owned().size()));
}

/// message_passing (graph_mp.hpp) on a partitioned graph: `rounds` rounds, each one halo
/// exchange and the layer on the local graph. `types` holds the global graph's per-entry
/// types (picked per partition here). Returns this rank's rows.
Tensor message_passing(const PartitionedGraph& part, const Tensor& x_owned,
                       const MessagePassing& layer, int rounds = 1, const EdgeTypes& types = {});

}  // namespace mpe::dist
