// AIF-MP planning requests as scheduler jobs (aif_job.hpp).
#include "scheduler/aif_job.hpp"

namespace mpe::detail {

bool AifJob::batches_with(const Job& other) const {
  const auto* o = dynamic_cast<const AifJob*>(&other);
  return o && model_->T().raw() == o->model_->T().raw() && model_->same_shape(*o->model_) &&
         aif::same_options(request_, o->request_);
}

std::size_t AifJob::working_bytes(Device) const {
  return aif::working_bytes(*model_, request_);
}

void AifJob::run_batch(const std::vector<Job*>& batch, Device device) const {
  std::vector<aif::Model> models;
  std::vector<aif::PlanRequest> requests;
  models.reserve(batch.size());
  requests.reserve(batch.size());
  for (const Job* j : batch) {
    const auto& job = static_cast<const AifJob&>(*j);  // batches_with checked the kind
    models.push_back(*job.model_);
    requests.push_back(job.request_);
  }
  std::vector<aif::Plan> plans = aif::plan(models, requests, device);
  for (std::size_t i = 0; i < batch.size(); ++i) {
    static_cast<AifJob&>(*batch[i]).set_result(std::move(plans[i]));
  }
}

}  // namespace mpe::detail
