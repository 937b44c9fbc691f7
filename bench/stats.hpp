#pragma once
// Summary statistics of repeated timings.
#include <vector>

namespace mpe::bench {

struct Stats {
  double median = 0;  // ms
  double min = 0;     // ms
  double spread = 0;  // (p90 - p10) / median, a relative spread robust to one outlier
};

Stats summarize(std::vector<double> samples_ms);

}  // namespace mpe::bench
