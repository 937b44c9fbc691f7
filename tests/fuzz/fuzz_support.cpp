// Scratch files and checks for the fuzz targets (fuzz_support.hpp).
#include "fuzz_support.hpp"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <mpe/graph.hpp>
#include <mpe/limits.hpp>
#include <mpe/relevance.hpp>

namespace mpe::fuzz {

namespace {
bool in_unit(float x) { return std::isfinite(x) && x >= 0 && x <= 1; }

std::string& scratch_dir() {
  static std::string dir;
  return dir;
}
}  // namespace

void init() {
  set_max_input_bytes(std::int64_t{256} << 20);
  const char* tmp = std::getenv("TMPDIR");
  std::string dir = std::string(tmp && *tmp ? tmp : "/tmp") + "/mpe_fuzz_" +
                    std::to_string(static_cast<long>(getpid()));
  std::filesystem::create_directories(dir);
  scratch_dir() = dir;
  // The directory goes when the process ends normally (libFuzzer exits through exit()).
  std::atexit([] {
    std::error_code ec;
    std::filesystem::remove_all(scratch_dir(), ec);
  });
}

std::string scratch(const std::string& name) {
  if (scratch_dir().empty()) init();
  return scratch_dir() + "/" + name;
}

void write_file(const std::string& path, const std::uint8_t* data, std::size_t size) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  if (!out) fail("cannot write the scratch file " + path);
}

void split(const std::uint8_t* data, std::size_t size, const std::string& separator,
           std::string& first, std::string& second) {
  const std::string all(reinterpret_cast<const char*>(data), size);
  const std::string line = "\n" + separator + "\n";
  const std::size_t at = all.find(line);
  if (at == std::string::npos) {
    first = all;
    second.clear();
    return;
  }
  first = all.substr(0, at + 1);
  second = all.substr(at + line.size());
}

bool same_csr(const Csr& a, const Csr& b) {
  if (a.num_rows != b.num_rows || a.num_cols != b.num_cols || a.weighted() != b.weighted()) {
    return false;
  }
  if (a.row_offsets.to_vector<std::int64_t>() != b.row_offsets.to_vector<std::int64_t>()) {
    return false;
  }
  if (a.nnz() != b.nnz()) return false;
  if (a.nnz() > 0 &&
      a.col_indices.to_vector<std::int32_t>() != b.col_indices.to_vector<std::int32_t>()) {
    return false;
  }
  return !a.weighted() || a.nnz() == 0 ||
         a.weights.to_vector<float>() == b.weights.to_vector<float>();
}

void fail(const std::string& what) {
  std::fprintf(stderr, "property failed: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

void check_store(const relevance::Store& store) {
  const std::int64_t n = store.num_nodes();
  for (const auto& e : store.edges()) {
    MPE_FUZZ_CHECK(store.find(e.source) >= 0 && store.find(e.target) >= 0,
                   "an edge with an unknown endpoint");
    MPE_FUZZ_CHECK(in_unit(e.weight) && in_unit(e.confidence) && in_unit(e.success_rate),
                   "an edge parameter outside [0, 1]");
  }
  if (n == 0) return;
  relevance::Query q;
  q.seeds = {{store.node(0).id, 1.0f}};
  q.params.types.clear();
  for (const auto& [node, act] : store.query(q).active) {
    MPE_FUZZ_CHECK(node >= 0 && node < n && in_unit(act), "an activation outside [0, 1]");
  }
}

}  // namespace mpe::fuzz
