// UAI evidence reader, against a fixed graph of three variables (2, 3 and 4 states). Accepted
// files give one full-length vector per sample with states in range (-1 = unobserved).
#include <mpe/error.hpp>
#include <mpe/factor_graph.hpp>

#include "fuzz_support.hpp"

using namespace mpe;

namespace {
const bp::FactorGraph& graph() {
  static const bp::FactorGraph g = [] {
    bp::FactorGraph h;
    h.add_variable(2);
    h.add_variable(3);
    h.add_variable(4);
    h.add_factor({0, 1}, std::vector<double>(6, 1.0));
    h.add_factor({1, 2}, std::vector<double>(12, 1.0));
    return h;
  }();
  return g;
}
}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::init();
  graph();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string in = fuzz::scratch("in.evid");
  fuzz::write_file(in, data, size);
  std::vector<std::vector<int>> samples;
  try {
    samples = bp::read_uai_evidence(in, graph());
  } catch (const Error&) {
    return 0;
  }
  MPE_FUZZ_CHECK(!samples.empty(), "accepted evidence without a sample");
  for (const auto& s : samples) {
    MPE_FUZZ_CHECK(s.size() == 3, "a sample of the wrong length");
    for (std::size_t v = 0; v < s.size(); ++v) {
      MPE_FUZZ_CHECK(s[v] >= -1 && s[v] < graph().cardinalities[v], "a state out of range");
    }
  }
  return 0;
}
