// AIF-MP model JSON reader. An accepted model has consistent shapes, and building it again
// from its own tensors (the independent validation of Model::with_*_goal) succeeds.
#include <mpe/aif.hpp>

#include "fuzz_support.hpp"

using namespace mpe;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::init();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string in = fuzz::scratch("model.json");
  fuzz::write_file(in, data, size);
  try {
    const aif::Model m = aif::Model::load(in);
    const std::int64_t S = m.states(), K = m.thetas(), A = m.actions();
    const std::int64_t F = m.modalities(), O = m.outcomes();
    MPE_FUZZ_CHECK(m.T().shape() == (Shape{S, S, K, A}), "T has the wrong shape");
    MPE_FUZZ_CHECK(m.B().shape() == (Shape{F, O, S, K}), "B has the wrong shape");
    MPE_FUZZ_CHECK(m.action_prior().shape() == Shape{A}, "action prior has the wrong shape");
    try {
      const aif::Model again =
          m.goal_kind() == aif::GoalKind::terminal
              ? aif::Model::with_terminal_goal(m.T(), m.B(), m.action_prior(), m.goal())
              : aif::Model::with_theta_goal(m.T(), m.B(), m.action_prior(), m.goal());
      MPE_FUZZ_CHECK(again.same_shape(m), "rebuilt model has another shape");
    } catch (const Error& e) {
      fuzz::fail(std::string("an accepted model fails validation: ") + e.what());
    }
  } catch (const Error&) {
  }
  return 0;
}
