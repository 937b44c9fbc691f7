#pragma once
// Benchmark rows and their two output formats: a markdown table or JSON lines.
#include <string>
#include <vector>

#include <mpe/device.hpp>

#include "cases.hpp"
#include "stats.hpp"

namespace mpe::bench {

struct Row {
  CasePoint point;
  DeviceInfo device;
  std::string shape;
  Stats stats;
  double bytes = 0;
  double flops = 0;
  std::int64_t nnz = 0;
  double items = 0;
  std::string items_unit = "plans";
  int reps = 0;

  double gbs() const { return stats.median > 0 ? bytes / (stats.median * 1e6) : 0; }
  double gflops() const { return stats.median > 0 ? flops / (stats.median * 1e6) : 0; }
  double items_per_s() const { return stats.median > 0 ? items / (stats.median * 1e-3) : 0; }
  double peak_fraction() const {
    return device.peak_bandwidth_gbs > 0 ? gbs() / device.peak_bandwidth_gbs : -1;
  }
};

void print_markdown_header(const std::vector<DeviceInfo>& devices);
void print_markdown_row(const Row& row);
void print_json_row(const Row& row);

}  // namespace mpe::bench
