// The text form of an explicit seed, "ID" or "ID=ACTIVATION" (mpe relevance query --seed).
#include <cerrno>
#include <cmath>
#include <cstdlib>

#include <fmt/format.h>
#include <mpe/error.hpp>
#include <mpe/relevance.hpp>

namespace mpe::relevance {

SeedSpec parse_seed_spec(const std::string& text) {
  const auto bad = [&text](const char* what) {
    throw Error(ErrorCode::invalid_argument, fmt::format("seed '{}': {}", text, what));
  };
  // The last '=': node ids may themselves hold '=' (only the activation cannot).
  const auto eq = text.rfind('=');
  SeedSpec s{text.substr(0, eq), 1.0f};
  if (s.id.empty()) bad("the node id is empty");
  if (eq == std::string::npos) return s;
  const std::string value = text.substr(eq + 1);
  char* end = nullptr;
  errno = 0;
  const double a = std::strtod(value.c_str(), &end);
  if (value.empty() || end != value.c_str() + value.size() || errno == ERANGE)
    bad("the activation after '=' is not a number");
  if (!(a > 0.0 && a <= 1.0)) bad("the activation must be in (0, 1]");
  s.activation = static_cast<float>(a);
  if (!(s.activation > 0.0f)) bad("the activation must be in (0, 1]");  // below float's range
  return s;
}

}  // namespace mpe::relevance
