#include "stats.hpp"

#include <algorithm>
#include <cmath>

namespace mpe::bench {

namespace {
// Linear-interpolated quantile of sorted data.
double quantile(const std::vector<double>& s, double q) {
  if (s.empty()) return 0;
  const double pos = q * static_cast<double>(s.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const auto hi = static_cast<std::size_t>(std::ceil(pos));
  return s[lo] + (s[hi] - s[lo]) * (pos - static_cast<double>(lo));
}
}  // namespace

Stats summarize(std::vector<double> samples_ms) {
  std::sort(samples_ms.begin(), samples_ms.end());
  Stats st;
  if (samples_ms.empty()) return st;
  st.median = quantile(samples_ms, 0.5);
  st.min = samples_ms.front();
  st.spread =
      st.median > 0 ? (quantile(samples_ms, 0.9) - quantile(samples_ms, 0.1)) / st.median : 0;
  return st;
}

}  // namespace mpe::bench
