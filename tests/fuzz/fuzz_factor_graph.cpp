// libDAI .fg and UAI readers (the first byte chooses). Accepted files pass
// FactorGraph::validate; when every variable is in a factor, write_fg and read_fg give the same
// graph (log-potentials within 1e-9, zeros exact).
#include <cmath>
#include <limits>

#include <mpe/error.hpp>
#include <mpe/factor_graph.hpp>

#include "fuzz_support.hpp"

using namespace mpe;

namespace {
bool close(double a, double b) {
  if (std::isinf(a) || std::isinf(b)) return a == b;
  return std::fabs(a - b) <= 1e-9 * std::fmax(1.0, std::fabs(a));
}

bool every_variable_used(const bp::FactorGraph& g) {
  std::vector<char> used(static_cast<std::size_t>(g.num_variables()), 0);
  for (const auto& f : g.factors) {
    for (int v : f.vars) used[static_cast<std::size_t>(v)] = 1;
  }
  for (char u : used) {
    if (!u) return false;
  }
  return true;
}
}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::init();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const bool uai = (data[0] & 1) != 0;
  const std::string in = fuzz::scratch(uai ? "in.uai" : "in.fg"), out = fuzz::scratch("out.fg");
  fuzz::write_file(in, data + 1, size - 1);
  bp::FactorGraph g;
  try {
    g = uai ? bp::read_uai(in) : bp::read_fg(in);
  } catch (const Error&) {
    return 0;
  }
  try {
    g.validate();
  } catch (const Error& e) {
    fuzz::fail(std::string("an accepted factor graph fails validate: ") + e.what());
  }
  if (!every_variable_used(g)) return 0;
  bp::FactorGraph back;
  try {
    bp::write_fg(g, out);
    back = bp::read_fg(out);
  } catch (const Error& e) {
    fuzz::fail(std::string("write_fg + read_fg failed: ") + e.what());
  }
  MPE_FUZZ_CHECK(back.cardinalities == g.cardinalities, "cardinalities changed");
  MPE_FUZZ_CHECK(back.num_factors() == g.num_factors(), "factor count changed");
  for (int f = 0; f < g.num_factors(); ++f) {
    const auto& a = g.factors[static_cast<std::size_t>(f)];
    const auto& b = back.factors[static_cast<std::size_t>(f)];
    MPE_FUZZ_CHECK(a.vars == b.vars, "factor variables changed");
    MPE_FUZZ_CHECK(a.log_values.size() == b.log_values.size(), "table size changed");
    for (std::size_t t = 0; t < a.log_values.size(); ++t) {
      MPE_FUZZ_CHECK(close(a.log_values[t], b.log_values[t]), "a table entry changed");
    }
  }
  return 0;
}
