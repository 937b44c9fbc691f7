// The value conversions behind the mpe program's options (--device, --agg, --method, --theta,
// --schedule, --precision, relevance's --seed, and graph_mp's aggregation names): any text gives a value or an
// mpe::Error, and an accepted value's name parses back to the same value.
#include <cstdio>

#include <mpe/aif.hpp>
#include <mpe/device.hpp>
#include <mpe/factor_graph.hpp>
#include <mpe/graph_mp.hpp>
#include <mpe/ops.hpp>
#include <mpe/relevance.hpp>

#include "fuzz_support.hpp"

using namespace mpe;

namespace {
// Runs parse(text); when it accepts, checks parse(name(value)) == value.
template <class Parse, class Name>
void round_trip(const std::string& text, Parse parse, Name name, const char* what) {
  try {
    const auto v = parse(text);
    MPE_FUZZ_CHECK(parse(std::string(name(v))) == v,
                   std::string(what) + ": name does not parse back");
  } catch (const Error&) {
  }
}
}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::init();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const Device d = parse_device(text);
    MPE_FUZZ_CHECK(parse_device(d.str()) == d, "--device: str() does not parse back");
  } catch (const Error&) {
  }
  round_trip(text, parse_aggregation, aggregation_name, "--agg");
  round_trip(text, aif::parse_method, aif::method_name, "agent --method");
  round_trip(text, aif::parse_theta_mode, aif::theta_mode_name, "--theta");
  round_trip(text, bp::parse_method, bp::method_name, "bp --method");
  round_trip(text, bp::parse_schedule, bp::schedule_name, "--schedule");
  round_trip(text, bp::parse_precision, bp::precision_name, "--precision");
  try {  // --seed ID[=ACTIVATION]: an accepted seed is a named node with activation in (0, 1]
    const relevance::SeedSpec s = relevance::parse_seed_spec(text);
    MPE_FUZZ_CHECK(!s.id.empty() && s.activation > 0.0f && s.activation <= 1.0f,
                   "--seed: accepted an empty id or an activation outside (0, 1]");
    char value[32];
    std::snprintf(value, sizeof value, "%.9g", static_cast<double>(s.activation));
    const relevance::SeedSpec back = relevance::parse_seed_spec(s.id + "=" + value);
    MPE_FUZZ_CHECK(back.id == s.id && back.activation == s.activation,
                   "--seed: ID=ACTIVATION does not parse back");
  } catch (const Error&) {
  }
  return 0;
}
