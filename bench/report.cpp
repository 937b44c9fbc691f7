#include "report.hpp"

#include <charconv>
#include <chrono>
#include <ctime>
#include <system_error>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace mpe::bench {

namespace {
std::string readable_time(double ms) {
  if (ms < 1.0) return fmt::format("{:.1f} us", ms * 1e3);
  if (ms < 1000.0) return fmt::format("{:.3f} ms", ms);
  return fmt::format("{:.3f} s", ms / 1e3);
}

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}
}  // namespace

void print_markdown_header(const std::vector<DeviceInfo>& devices) {
  const BuildInfo b = build_info();
  fmt::print("mpengine {} (commit {}), {}\n", b.version, b.git_commit, utc_now());
  for (const auto& d : devices) {
    fmt::print("- {}: {}{}\n", d.device.str(), d.name,
               d.peak_bandwidth_gbs > 0 ? fmt::format(" ({:.0f} GB/s peak)", d.peak_bandwidth_gbs)
                                        : std::string());
  }
  fmt::print(
      "\n| op | device | shape | median | min | spread | GB/s | of peak | GFLOP/s or plans/s |\n");
  fmt::print("|---|---|---|---:|---:|---:|---:|---:|---:|\n");
}

void print_markdown_row(const Row& r) {
  fmt::print("| {} | {} | {} | {} | {} | {:.1f}% | {:.3g} | {} | {} |\n", r.point.op,
             r.device.device.str(), r.shape, readable_time(r.stats.median),
             readable_time(r.stats.min), 100.0 * r.stats.spread, r.gbs(),
             r.peak_fraction() >= 0 ? fmt::format("{:.0f}%", 100.0 * r.peak_fraction()) : "-",
             r.flops > 0   ? fmt::format("{:.1f}", r.gflops())
             : r.items > 0 ? fmt::format("{:.4g} {}/s", r.items_per_s(), r.items_unit)
                           : std::string("-"));
  std::fflush(stdout);
}

void print_json_row(const Row& r) {
  nlohmann::json j;
  const BuildInfo b = build_info();
  j["op"] = r.point.op;
  for (const auto& [k, v] : r.point.params) {  // integers as JSON numbers, names as strings
    long long n = 0;
    const char* end = v.data() + v.size();
    const auto [ptr, ec] = std::from_chars(v.data(), end, n);
    j["params"][k] = ec == std::errc() && ptr == end ? nlohmann::json(n) : nlohmann::json(v);
  }
  j["shape"] = r.shape;
  j["device"] = r.device.device.str();
  j["device_name"] = r.device.name;
  j["backend"] = r.device.device.kind == DeviceKind::cpu ? "cpu" : "cuda";
  j["version"] = b.version;
  j["commit"] = b.git_commit;
  j["reps"] = r.reps;
  j["median_ms"] = r.stats.median;
  j["min_ms"] = r.stats.min;
  j["spread"] = r.stats.spread;
  j["bytes"] = r.bytes;
  j["gb_per_s"] = r.gbs();
  j["peak_gb_per_s"] = r.device.peak_bandwidth_gbs;
  j["peak_fraction"] = r.peak_fraction() >= 0 ? nlohmann::json(r.peak_fraction()) : nullptr;
  if (r.flops > 0) j["gflop_per_s"] = r.gflops();
  if (r.nnz > 0) j["nnz"] = r.nnz;
  if (r.items > 0) j[r.items_unit + "_per_s"] = r.items_per_s();
  fmt::print("{}\n", j.dump());
  std::fflush(stdout);
}

}  // namespace mpe::bench
