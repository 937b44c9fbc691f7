#pragma once
// Belief-propagation runs as scheduler jobs: instances (potentials and/or evidence) of the same
// factor graph object with equal options share one bp::run_batch call.
#include <memory>

#include <mpe/factor_graph.hpp>

#include "scheduler/job.hpp"

namespace mpe::detail {

class BpJob final : public JobOf<bp::Result> {
 public:
  BpJob(std::shared_ptr<const bp::FactorGraph> graph, bp::Instance instance, bp::Options options)
      : graph_(std::move(graph)), instance_(std::move(instance)), options_(options) {}

  bool batches_with(const Job& other) const override;
  std::size_t working_bytes(Device device) const override;
  void run_batch(const std::vector<Job*>& batch, Device device) const override;

 private:
  std::shared_ptr<const bp::FactorGraph> graph_;
  bp::Instance instance_;
  bp::Options options_;
};

}  // namespace mpe::detail
