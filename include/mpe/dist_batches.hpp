#pragma once
/// @file dist_batches.hpp
/// Sharded batches: independent problems split over the ranks of a dist::Communicator in
/// contiguous blocks of indices (dist::shard), solved with the single-process call on each
/// rank, and put back together in index order, so the results equal a one-process run.
#include <vector>

#include <mpe/agents.hpp>
#include <mpe/aif.hpp>
#include <mpe/distributed.hpp>
#include <mpe/factor_graph.hpp>
#include <mpe/relevance.hpp>

namespace mpe::dist {

/// agents::evaluate with the episodes split over the ranks. Episode e's random stream depends
/// only on (seed, e) and every per-episode figure is summed in episode order, so every field
/// (statistics, actions, counters) equals a one-process evaluate() exactly; wall_seconds is
/// the slowest rank's. Collective; every rank returns the whole result. A rank whose part
/// throws makes every rank throw AgreedError.
agents::EvalResult evaluate(Communicator& comm, const agents::Environment& env,
                            const agents::EvalOptions& options);

/// aif::plan with the requests split over the ranks. Collective; rank `root` returns every
/// plan in request order, the other ranks an empty vector. A bad request throws AgreedError on
/// every rank, naming the request's global index.
std::vector<aif::Plan> plan(Communicator& comm, const aif::Model& model,
                            const std::vector<aif::PlanRequest>& requests, Device device,
                            int root = 0);

/// bp::run_batch with the batch members (evidence samples, potentials) split over the ranks.
/// Each member stops on its own, so its result does not depend on its batch-mates. Collective;
/// rank `root` returns every result in batch order, the others an empty vector; an error names
/// the member's global index.
std::vector<bp::Result> run_batch(Communicator& comm, const bp::FactorGraph& g,
                                  const std::vector<bp::Instance>& batch,
                                  const bp::Options& options, int root = 0);

/// relevance::Store::query_batch with the queries split over the ranks; every rank holds the
/// whole store (a replicated store, not a partitioned one). Collective; rank `root` returns
/// every result in query order, the others an empty vector; an error names the query's global
/// index.
std::vector<relevance::QueryResult> query_batch(Communicator& comm, const relevance::Store& store,
                                                const std::vector<relevance::Query>& queries,
                                                const Device& device, int root = 0);

}  // namespace mpe::dist
