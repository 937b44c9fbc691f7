// AIF-MP request JSON reader, against the spec's 2-state fixture model (built in code). Every
// request that passes validate_request and is small (horizon and iterations <= 6) is planned
// on the CPU: a finite action distribution summing to 1, q_u of shape [H, A], and channels
// present exactly when asked for.
#include <cmath>

#include <mpe/aif.hpp>

#include "fuzz_support.hpp"

using namespace mpe;

namespace {
const aif::Model& model() {
  static const aif::Model m = [] {
    const Tensor T = Tensor::from_vector<float>({0.9f, 0.2f, 0.4f, 0.7f, 0.3f, 0.8f, 0.6f, 0.1f,
                                                 0.1f, 0.8f, 0.6f, 0.3f, 0.7f, 0.2f, 0.4f, 0.9f},
                                                {2, 2, 2, 2});
    const Tensor B =
        Tensor::from_vector<float>({0.9f, 0.2f, 0.3f, 0.8f, 0.1f, 0.8f, 0.7f, 0.2f}, {1, 2, 2, 2});
    return aif::Model::with_terminal_goal(T, B, Tensor::from_vector<float>({0.6f, 0.4f}, {2}),
                                          Tensor::from_vector<float>({0.15f, 0.85f}, {2}));
  }();
  return m;
}
}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::init();
  model();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string in = fuzz::scratch("request.json");
  fuzz::write_file(in, data, size);
  std::vector<aif::PlanRequest> requests;
  try {
    requests = aif::load_requests(in);
  } catch (const Error&) {
    return 0;
  }
  for (const auto& r : requests) {
    try {
      aif::validate_request(model(), r);
    } catch (const Error&) {
      continue;
    }
    if (r.horizon > 6 || r.iterations > 6) continue;
    std::vector<aif::Plan> plans;
    try {
      plans = aif::plan(model(), {r}, Device::cpu());
    } catch (const Error& e) {
      // Valid requests the build cannot run are not_supported; anything else is a defect.
      MPE_FUZZ_CHECK(e.code() == ErrorCode::not_supported,
                     std::string("a validated request fails to plan: ") + e.what());
      continue;
    }
    MPE_FUZZ_CHECK(plans.size() == 1, "one plan per request");
    const aif::Plan& p = plans[0];
    MPE_FUZZ_CHECK(p.action_dist.size() == 2, "action_dist has the wrong length");
    double sum = 0;
    for (float x : p.action_dist) {
      MPE_FUZZ_CHECK(std::isfinite(x) && x >= 0, "action_dist has a negative or non-finite entry");
      sum += x;
    }
    MPE_FUZZ_CHECK(std::fabs(sum - 1) < 1e-4, "action_dist does not sum to 1");
    MPE_FUZZ_CHECK(p.q_u.shape() == (Shape{r.horizon, 2}), "q_u has the wrong shape");
    MPE_FUZZ_CHECK(r.return_channels || !p.log_r_x.defined(), "r_x returned against the request");
  }
  return 0;
}
