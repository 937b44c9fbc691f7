#pragma once
// AIF-MP planning requests as scheduler jobs: batched when their models share dynamics (T) and
// shape and their options are equal (aif::same_options).
#include <memory>

#include <mpe/aif.hpp>

#include "scheduler/job.hpp"

namespace mpe::detail {

class AifJob final : public JobOf<aif::Plan> {
 public:
  AifJob(std::shared_ptr<const aif::Model> model, aif::PlanRequest request)
      : model_(std::move(model)), request_(std::move(request)) {}

  bool batches_with(const Job& other) const override;
  std::size_t working_bytes(Device device) const override;
  void run_batch(const std::vector<Job*>& batch, Device device) const override;

 private:
  std::shared_ptr<const aif::Model> model_;
  aif::PlanRequest request_;
};

}  // namespace mpe::detail
