// Belief-propagation runs as scheduler jobs (bp_job.hpp).
#include "scheduler/bp_job.hpp"

namespace mpe::detail {

namespace {
// Options that change the computation (the device is the engine's choice).
bool same_run(const bp::Options& a, const bp::Options& b) {
  return a.method == b.method && a.schedule == b.schedule && a.precision == b.precision &&
         a.damping == b.damping && a.tol == b.tol && a.max_iter == b.max_iter &&
         a.factor_beliefs == b.factor_beliefs;
}
}  // namespace

bool BpJob::batches_with(const Job& other) const {
  const auto* o = dynamic_cast<const BpJob*>(&other);
  return o && o->graph_ == graph_ && same_run(options_, o->options_);
}

// Messages both ways on every edge (two copies: old and new) and the member's potentials and
// beliefs, in the precision's element size.
std::size_t BpJob::working_bytes(Device) const {
  const bp::FactorGraph& g = *graph_;
  std::size_t table = 0, states = 0;
  for (int f = 0; f < g.num_factors(); ++f) table += static_cast<std::size_t>(g.table_size(f));
  for (int v = 0; v < g.num_variables(); ++v)
    states += static_cast<std::size_t>(g.cardinalities[v]);
  std::size_t edge_states = 0;
  for (const bp::Factor& f : g.factors) {
    for (int v : f.vars) edge_states += static_cast<std::size_t>(g.cardinalities[v]);
  }
  const std::size_t element = options_.precision == bp::Precision::f64 ? 8 : 4;
  return element * (4 * edge_states + 2 * table + states);
}

void BpJob::run_batch(const std::vector<Job*>& batch, Device device) const {
  std::vector<bp::Instance> instances;
  instances.reserve(batch.size());
  for (const Job* j : batch) instances.push_back(static_cast<const BpJob&>(*j).instance_);
  bp::Options options = options_;
  // The sequential schedule exists on the CPU only: such requests run there whatever device
  // the batch was given.
  options.device = options.schedule == bp::Schedule::sequential ? Device::cpu() : device;
  std::vector<bp::Result> results = bp::run_batch(*graph_, instances, options);
  for (std::size_t i = 0; i < batch.size(); ++i) {
    static_cast<BpJob&>(*batch[i]).set_result(std::move(results[i]));
  }
}

}  // namespace mpe::detail
