// Relevance queries as scheduler jobs (relevance_job.hpp).
#include "scheduler/relevance_job.hpp"

namespace mpe::detail {

bool RelevanceJob::batches_with(const Job& other) const {
  const auto* o = dynamic_cast<const RelevanceJob*>(&other);
  return o && o->store_ == store_;
}

// The query's embedding, its row of similarities and the per-node propagation arrays
// (activation, next activation, frontier flags, confidence, similarity: about five floats per
// node).
std::size_t RelevanceJob::working_bytes(Device) const {
  const auto nodes = static_cast<std::size_t>(store_->num_nodes());
  return sizeof(float) * (static_cast<std::size_t>(store_->dim()) + 5 * nodes);
}

void RelevanceJob::run_batch(const std::vector<Job*>& batch, Device device) const {
  std::vector<relevance::Query> queries;
  queries.reserve(batch.size());
  for (const Job* j : batch) queries.push_back(static_cast<const RelevanceJob&>(*j).query_);
  std::vector<relevance::QueryResult> results = store_->query_batch(queries, device);
  for (std::size_t i = 0; i < batch.size(); ++i) {
    static_cast<RelevanceJob&>(*batch[i]).set_result(std::move(results[i]));
  }
}

}  // namespace mpe::detail
