#pragma once
// Relevance queries as scheduler jobs: queries against the same loaded store share one
// query_batch call (each keeps its own parameters).
#include <memory>

#include <mpe/relevance.hpp>

#include "scheduler/job.hpp"

namespace mpe::detail {

class RelevanceJob final : public JobOf<relevance::QueryResult> {
 public:
  RelevanceJob(std::shared_ptr<const relevance::Store> store, relevance::Query query)
      : store_(std::move(store)), query_(std::move(query)) {}

  bool batches_with(const Job& other) const override;
  std::size_t working_bytes(Device device) const override;
  void run_batch(const std::vector<Job*>& batch, Device device) const override;

 private:
  std::shared_ptr<const relevance::Store> store_;
  relevance::Query query_;
};

}  // namespace mpe::detail
