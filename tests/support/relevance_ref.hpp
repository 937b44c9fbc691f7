#pragma once
// Float64 reference of relevance propagation (relevance.md step 2) and of seeding, written
// naively over the edge list (every node and edge every iteration), independent of the
// engine's CSR, frontier and gate short-cut.
#include <cstdint>
#include <string>
#include <vector>

#include <mpe/relevance.hpp>

namespace mpe::test {

struct RelRef {
  std::vector<double> act;   // [nodes]
  std::vector<double> conf;  // [nodes]
  int iterations = 0;
  bool converged = false;
  std::int64_t messages = 0;
};

// Propagation from explicit seeds (node index, activation) with the query's parameters, over
// the store's nodes and edges as the public API reports them.
RelRef relevance_reference(const relevance::Store& store,
                           const std::vector<std::pair<std::int64_t, double>>& seeds,
                           const relevance::QueryParams& params);

// The same for a query with explicit seeds (their ids looked up in the store).
RelRef relevance_reference(const relevance::Store& store, const relevance::Query& q);

// Expects r to be the reference's result: iterations, convergence, edges touched, every one of
// the `nodes` activations (to 2e-5) and the confidence of every activated result (to 2e-5);
// `where` names the case in failures.
void expect_matches_reference(const relevance::QueryResult& r, const RelRef& ref,
                              std::int64_t nodes, const std::string& where);

// Brute-force seeds: cosine in double, >= threshold, top k by (similarity desc, index asc).
std::vector<std::pair<std::int64_t, double>> reference_seeds(
    const std::vector<std::vector<float>>& node_embeddings, const std::vector<float>& query,
    int top_k, double threshold);

// Extraction from reference activations: (id, activation) in the spec's order, universal
// nodes appended by id.
std::vector<std::pair<std::string, double>> reference_extract(const relevance::Store& store,
                                                              const RelRef& ref,
                                                              const relevance::QueryParams& p);

}  // namespace mpe::test
