// Opening a corrupted or foreign file as a relevance store. An accepted store has edges
// between its nodes with parameters in [0, 1], and a query from its first node gives
// activations in [0, 1].
#include <cstdio>

#include <mpe/error.hpp>
#include <mpe/relevance.hpp>

#include "fuzz_support.hpp"

using namespace mpe;
namespace rel = mpe::relevance;

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
    MPE_FUZZ_CHECK(store.dim() >= 1, "a store with a non-positive dimension");
    fuzz::check_store(store);
  } catch (const Error&) {
  }
  return 0;
}
