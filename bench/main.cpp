// mpe-bench: runs mpengine's ops over a cartesian product of parameters and reports median
// times, spread, achieved GB/s and the fraction of the device's peak bandwidth.
#include <unistd.h>

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <mpe/mpe.hpp>
#include <mpe/threads.hpp>

#include "backend.hpp"
#include "cases.hpp"
#include "ops/registry.hpp"
#include "report.hpp"

namespace {

using mpe::bench::Grid;

struct Options {
  Grid grid;
  std::vector<std::string> devices;
  int reps = 10;
  int warmup = 3;
  std::string output = "md";
  bool quick = false;
  bool list = false;
  bool progress = false;
};

// Small enough for 2 CPU cores in well under a minute; a few seconds on a GPU. Flags given
// on the command line win over the preset (`--quick --device cuda -r 20`); the ops' presets
// are in their parameter tables.
void apply_quick(Options& o, const CLI::App& app) {
  mpe::bench::apply_quick_values(app, o.grid);
  if (app.count("--reps") == 0) o.reps = 5;
  if (app.count("--warmup") == 0) o.warmup = 2;
}

// "lse_contract batch=1 cols=192 ...": a grid point in words, for --list and progress lines.
std::string describe(const mpe::bench::CasePoint& p) {
  std::string s = p.op;
  for (const auto& [k, v] : p.params) s += fmt::format(" {}={}", k, v);
  return s;
}

std::vector<mpe::Device> resolve_devices(const std::vector<std::string>& names) {
  std::vector<mpe::Device> out;
  if (names.empty()) {
    out.push_back(mpe::Device::cpu());
    if (mpe::cuda_device_count() > 0) out.push_back(mpe::Device::cuda(0));
    return out;
  }
  for (const auto& n : names) out.push_back(mpe::parse_device(n));
  return out;
}

int run(const Options& opt) {
  const auto devices = resolve_devices(opt.devices);
  const auto points = mpe::bench::expand(opt.grid);
  if (opt.list) {
    for (const auto& d : devices)
      for (const auto& p : points) fmt::print("{} {}\n", d.str(), describe(p));
    return 0;
  }
  std::vector<mpe::DeviceInfo> infos;
  for (const auto& d : devices) infos.push_back(mpe::device_info(d));
  if (opt.output == "md") mpe::bench::print_markdown_header(infos);
  const bool show_progress = opt.progress || isatty(STDERR_FILENO);
  const std::size_t total = devices.size() * points.size();
  std::size_t done = 0;
  for (std::size_t di = 0; di < devices.size(); ++di) {
    const mpe::Device dev = devices[di];
    auto& backend = mpe::detail::backend_for(dev);
    for (const auto& point : points) {
      ++done;
      if (show_progress) {
        fmt::print(stderr, "[{}/{}] {} on {}\n", done, total, describe(point), dev.str());
      }
      const auto prepared = mpe::bench::prepare(point, dev, opt.grid.seed);
      for (int w = 0; w < opt.warmup; ++w) prepared.run();
      mpe::synchronize(dev);
      if (prepared.timed_start) prepared.timed_start();
      auto timer = backend.make_timer(dev.index);
      std::vector<double> samples;
      for (int r = 0; r < opt.reps; ++r) {
        timer->start();
        prepared.run();
        samples.push_back(timer->stop_ms());
      }
      mpe::bench::Row row;
      row.point = point;
      row.device = infos[di];
      row.shape = prepared.shape;
      row.stats = mpe::bench::summarize(samples);
      row.bytes = prepared.bytes;
      row.flops = prepared.flops;
      row.nnz = prepared.nnz;
      row.items = prepared.items;
      row.items_unit = prepared.items_unit;
      row.reps = opt.reps;
      if (opt.output == "md") {
        mpe::bench::print_markdown_row(row);
      } else {
        mpe::bench::print_json_row(row);
      }
      if (prepared.after) fmt::print(stderr, "  {}\n", prepared.after());
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  mpe::apply_omp_wait_policy(argv);  // first: may re-execute with OMP_WAIT_POLICY=passive
  Options opt;
  opt.grid.ops = {"copy", "lse_contract", "csr_aggregate", "aif_plan"};

  CLI::App app{
      std::string("mpe-bench — benchmarks of mpengine's ops.\n\n"
      "Every parameter takes a comma list; all combinations run (a cartesian product), on\n"
      "every device given. Each combination runs --warmup untimed launches, then --reps\n"
      "launches timed one by one (CUDA events on a GPU, a steady clock on the CPU); rows show\n"
      "the median, the minimum and the spread (p90 - p10) / median.\n\n"
      "GB/s counts the floor of bytes an op must move, each input read once and each output\n"
      "written once:\n") +
      mpe::bench::bytes_help() +
      "'of peak' divides by the device's nominal memory bandwidth.\n\n"
      "Example: mpe-bench --op csr_aggregate --graph rmat,uniform --width 32,128 --agg sum,max"};
  app.add_option("--op", opt.grid.ops, mpe::bench::ops_help())
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--device", opt.devices,
                 "Devices: cpu, cuda, cuda:N (default: cpu, plus cuda:0 when present)")
      ->delimiter(',');
  app.add_option("-r,--reps", opt.reps, "Timed repetitions")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  app.add_option("--warmup", opt.warmup, "Untimed warm-up launches")
      ->check(CLI::Range(0, 100000))
      ->capture_default_str();
  app.add_option("-o,--output", opt.output, "md (markdown table) or jsonl (one JSON per row)")
      ->check(CLI::IsMember({"md", "jsonl"}))
      ->capture_default_str();
  app.add_flag("--quick", opt.quick,
               "Small preset for checks (small shapes, -r 5 --warmup 2); flags given "
               "explicitly keep their values");
  app.add_flag("--list", opt.list, "Print the grid without running it");
  app.add_flag("--progress", opt.progress, "Progress lines on stderr (default: when a TTY)");
  app.add_option("--seed", opt.grid.seed, "Seed of the random inputs")->capture_default_str();
  try {
    mpe::bench::add_op_flags(app, opt.grid);
  } catch (const mpe::Error& e) {
    fmt::print(stderr, "mpe-bench: error: {}\n", e.what());
    return 2;
  }
  CLI11_PARSE(app, argc, argv);
  if (opt.quick) apply_quick(opt, app);
  try {
    return run(opt);
  } catch (const mpe::Error& e) {
    fmt::print(stderr, "mpe-bench: error: {}\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    fmt::print(stderr, "mpe-bench: error: {}\n", e.what());
    return 2;
  }
}
