// Opening a corrupted or foreign file as a relevance store. An accepted store has edges
// between its nodes with parameters in [0, 1], and a query from its first node gives
// activations in [0, 1].
#include <cmath>
#include <cstdio>

#include <mpe/error.hpp>
#include <mpe/relevance.hpp>

#include "fuzz_support.hpp"

using namespace mpe;
namespace rel = mpe::relevance;

namespace {
bool in_unit(float x) { return std::isfinite(x) && x >= 0 && x <= 1; }
}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::init();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = fuzz::scratch("store.db");
  std::remove((path + "-wal").c_str());
  std::remove((path + "-shm").c_str());
  std::remove((path + "-journal").c_str());
  fuzz::write_file(path, data, size);
  try {
    const rel::Store store = rel::Store::open(path);
    const std::int64_t n = store.num_nodes();
    MPE_FUZZ_CHECK(store.dim() >= 1, "a store with a non-positive dimension");
    for (const auto& e : store.edges()) {
      MPE_FUZZ_CHECK(store.find(e.source) >= 0 && store.find(e.target) >= 0,
                     "an edge with an unknown endpoint");
      MPE_FUZZ_CHECK(in_unit(e.weight) && in_unit(e.confidence) && in_unit(e.success_rate),
                     "an edge parameter outside [0, 1]");
    }
    if (n > 0) {
      rel::Query q;
      q.seeds = {{store.node(0).id, 1.0f}};
      q.params.types.clear();
      for (const auto& [node, act] : store.query(q).active) {
        MPE_FUZZ_CHECK(node >= 0 && node < n && in_unit(act), "an activation outside [0, 1]");
      }
    }
  } catch (const Error&) {
  }
  return 0;
}
