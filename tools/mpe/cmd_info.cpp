// mpe info: build configuration and the devices found, as text or JSON.
#include <fmt/format.h>
#include <mpe/mpe.hpp>
#include <nlohmann/json.hpp>

#include "commands.hpp"

namespace mpe::cli {

namespace {
struct InfoOptions {
  bool json = false;
};

void run_info(const InfoOptions& opt) {
  const BuildInfo b = build_info();
  const auto devices = list_devices();
  std::string default_dev;
  try {
    default_dev = default_device().str();
  } catch (const Error& e) {
    default_dev = std::string("error: ") + e.message();
  }
  if (opt.json) {
    nlohmann::json j;
    j["version"] = b.version;
    j["git_commit"] = b.git_commit;
    j["build_type"] = b.build_type;
    j["compiler"] = b.compiler;
    j["cuda"] = b.cuda;
    j["cuda_version"] = b.cuda_version;
    j["cuda_architectures"] = b.cuda_archs;
    j["openmp"] = b.openmp;
    j["cpu_threads"] = b.cpu_threads;
    j["sanitizers"] = b.sanitizers;
    j["default_device"] = default_dev;
    for (const auto& d : devices) {
      j["devices"].push_back(
          {{"device", d.device.str()},
           {"name", d.name},
           {"total_memory", d.total_memory},
           {"free_memory", d.free_memory},
           {"multiprocessors", d.multiprocessors},
           {"compute_capability", fmt::format("{}.{}", d.compute_major, d.compute_minor)},
           {"peak_bandwidth_gbs", d.peak_bandwidth_gbs}});
    }
    fmt::print("{}\n", j.dump(2));
    return;
  }
  fmt::print("mpengine {} (commit {}, {} build, {})\n", b.version, b.git_commit, b.build_type,
             b.compiler);
  fmt::print("  CUDA backend : {}\n",
             b.cuda ? fmt::format("built with CUDA {} for sm_{}", b.cuda_version, b.cuda_archs)
                    : std::string("not built"));
  fmt::print("  CPU backend  : {} thread(s){}\n", b.cpu_threads, b.openmp ? ", OpenMP" : "");
  if (b.sanitizers) fmt::print("  sanitizers   : ASan + UBSan\n");
  fmt::print("  default device: {}\n\nDevices:\n", default_dev);
  for (const auto& d : devices) {
    if (d.device.kind == DeviceKind::cpu) {
      fmt::print("  {:<7} {}  ({:.1f} GiB RAM, {} hardware threads)\n", d.device.str(), d.name,
                 d.total_memory / double(1ull << 30), d.multiprocessors);
    } else {
      fmt::print("  {:<7} {}  ({:.1f} GiB, {:.1f} GiB free, {} SMs, sm_{}{}, {:.0f} GB/s peak)\n",
                 d.device.str(), d.name, d.total_memory / double(1ull << 30),
                 d.free_memory / double(1ull << 30), d.multiprocessors, d.compute_major,
                 d.compute_minor, d.peak_bandwidth_gbs);
    }
  }
  if (b.cuda && devices.size() == 1) fmt::print("  (no CUDA device answers)\n");
}
}  // namespace

void add_info_command(CLI::App& app) {
  auto opt = std::make_shared<InfoOptions>();
  CLI::App* cmd = app.add_subcommand("info", "Show the build configuration and devices found");
  cmd->add_flag("--json", opt->json, "Print JSON instead of text");
  cmd->callback([opt] { run_info(*opt); });
}

}  // namespace mpe::cli
