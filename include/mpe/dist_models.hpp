#pragma once
/// @file dist_models.hpp
/// Models on partitioned graphs over a dist::Communicator (the GNN layers and graph_mp are in
/// dist_graph.hpp): flooding loopy BP with the factors split over the ranks, and relevance
/// propagation with the store's nodes split over the ranks. Each rank sweeps its part with the
/// single-process kernels and exchanges only the messages its neighbours read (cut edges,
/// halo activations), so a one-rank run is the single-process computation.
///
///     auto comm = mpe::dist::world();
///     auto owner = mpe::dist::partition_factors(g, comm->size());
///     mpe::bp::Result r = mpe::dist::run_partitioned(*comm, g, owner, options);
#include <cstdint>
#include <memory>
#include <vector>

#include <mpe/dist_graph.hpp>
#include <mpe/distributed.hpp>
#include <mpe/factor_graph.hpp>
#include <mpe/relevance.hpp>

namespace mpe::dist {

// ---- loopy belief propagation -----------------------------------------------------------

/// The part (rank) of every factor of `g` for `parts` parts: contiguous ranges of factor ids,
/// or METIS on the bipartite variable–factor graph (each factor and each variable a node; a
/// factor gets its node's part), which keeps the factors of a variable together.
std::vector<int> partition_factors(const bp::FactorGraph& g, int parts,
                                   PartitionMethod method = PartitionMethod::automatic);

/// What a factor partition exchanges per sweep.
struct BpCut {
  std::int64_t cut_edges = 0;    ///< factor–variable edges whose messages other ranks read
  std::int64_t sent_values = 0;  ///< message entries sent per sweep, all ranks
  std::int64_t max_ghosts = 0;   ///< largest number of remote factors one rank reads
};
BpCut bp_cut(const bp::FactorGraph& g, const std::vector<int>& factor_owner, int parts);

/// Flooding loopy BP (bp::run with Schedule::flooding, CPU) on a factor graph whose factors
/// are split over the ranks by `factor_owner` (one part per factor, the same vector on every
/// rank; `g` is the same on every rank). Each rank owns its factors' outgoing messages and
/// keeps copies of the messages of remote factors that share a variable with its own (ghost
/// factors); after each sweep it sends the messages of its factors that another rank reads
/// (one neighbour exchange) and the ranks agree on the largest change (one all-reduce).
/// Every variable's incoming messages are summed in the global edge order, each factor's
/// update is the single-process code on the same inputs, so every message, the iteration
/// count and the result are bit-equal to bp::run(g, options, evidence). Beliefs, log Z and MAP
/// are computed once at the end from all messages (gathered on every rank). Collective; every
/// rank returns the result. Errors (invalid graph or options, the sequential schedule, a
/// non-CPU device, a bad owner vector) throw AgreedError on every rank.
bp::Result run_partitioned(Communicator& comm, const bp::FactorGraph& g,
                           const std::vector<int>& factor_owner, const bp::Options& options,
                           const bp::Instance& instance = {});

// ---- relevance propagation ---------------------------------------------------------------

/// The part (rank) of every node of a relevance store for `parts` parts: contiguous index
/// ranges, or METIS on its edges (as dist::partition on the out-edge graph).
std::vector<int> partition_nodes(const relevance::Store& store, int parts,
                                 PartitionMethod method = PartitionMethod::automatic);

/// One rank's rows of a relevance store: the in-edges of the nodes it owns (the pull view of
/// the dense iteration) and the halo of their remote sources, whose activations arrive once per
/// iteration. The store (read whole on every rank, as PartitionedGraph::build) must outlive it
/// and not change meanwhile.
class PartitionedStore {
 public:
  /// Collective. `owner` gives each node's part (the same vector on every rank).
  static PartitionedStore build(std::shared_ptr<Communicator> comm, const relevance::Store& store,
                                const std::vector<int>& owner);

  /// Collective: one spreading-activation query (Propagation::spreading; PPR throws
  /// not_supported), every rank returning the whole result. Seeding (top k by cosine, or the
  /// given seeds) runs on every rank over the whole store; each propagation iteration is one
  /// halo round of the activations, then every rank pulls the gated messages into its own
  /// rows and updates them by the single-process rules; the ranks agree on the largest change
  /// and the message count (all-reduces); the final active sets are gathered and extracted as
  /// Store::query does. Bit-equal to Store::query on the CPU with set_dense_switch(0) (every
  /// iteration pulls: the same per-row sums); within float rounding of the default push
  /// iterations, which add a node's messages in another order. Errors throw AgreedError.
  relevance::QueryResult query(const relevance::Query& query) const;

  /// The partition of the pull graph (owned rows, halo, halo plan).
  const PartitionedGraph& graph() const { return part_; }

 private:
  PartitionedStore(const relevance::Store& store, PartitionedGraph part)
      : store_(&store), part_(std::move(part)) {}
  const relevance::Store* store_;
  PartitionedGraph part_;
  std::vector<float> scale_, scale_conf_;  // per local entry: tw_i[type], tw_i[type] · conf
  std::vector<std::int32_t> src_level_;    // per local entry: the source's level (levels only)
  bool scale_positive_ = true;
};

}  // namespace mpe::dist
