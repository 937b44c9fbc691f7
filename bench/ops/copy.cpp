// mpe-bench op copy: the device's copy bandwidth, the reference of memory-bound figures.
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <future>
#include <random>
#include <thread>
#include <utility>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <mpe/aif.hpp>
#include <mpe/attention.hpp>
#include <mpe/engine.hpp>
#include <mpe/ops.hpp>

#include "graphs.hpp"
#include "ops/common.hpp"
#include "ops/registry.hpp"

namespace mpe::bench {

namespace {
// The reference every memory-bound figure is read against: one buffer copied to another on
// the device (bytes counted as read + written).
PreparedCase prepare_copy(const CasePoint& p, const Device& device, std::uint64_t seed) {
  const std::int64_t n = param(p, "mib") * (std::int64_t(1) << 20) / 4;
  auto src = std::make_shared<Tensor>(random_tensor({n}, -1.f, 1.f, seed, device));
  auto dst = std::make_shared<Tensor>(Tensor::empty({n}, DType::f32, device));
  PreparedCase c;
  c.run = [src, dst] { dst->copy_from(*src); };
  c.bytes = 2.0 * 4.0 * double(n);
  c.shape = fmt::format("{} MiB", param(p, "mib"));
  return c;
}
void validate_copy(const Grid& g) {
  check_at_least("mib", g.mib, 1);
}

void expand_copy(const Grid& grid, std::vector<CasePoint>& out) {
  const std::string op = "copy";
  for (auto m : grid.mib) out.push_back({op, {{"mib", std::to_string(m)}}});
}

// mpe-bench's flags of this op (their values fill the grid).
void add_copy_flags(CLI::App& app, Grid& g) {
  app.add_option("--mib", g.mib, "copy: buffer size in MiB")
      ->delimiter(',')
      ->capture_default_str();
}
}  // namespace

MPE_BENCH_OP({"copy", validate_copy, expand_copy,
              [](const CasePoint& p, const Device& d, std::uint64_t seed, const std::string&) {
                return prepare_copy(p, d, seed);
              },
              add_copy_flags})
}  // namespace mpe::bench
