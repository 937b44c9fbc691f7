#pragma once
// Shared by the libFuzzer targets: a scratch file per process for readers that take a path,
// the input ceiling lowered under libFuzzer's memory limit, and property checks that abort
// (so libFuzzer records the input as a crash).
#include <cstddef>
#include <cstdint>
#include <string>

namespace mpe {
struct Csr;
namespace relevance {
class Store;
}
}  // namespace mpe

namespace mpe::fuzz {

// Lowers mpe::max_input_bytes() to 256 MiB (libFuzzer's malloc limit is 2 GiB) and makes the
// scratch directory; call from LLVMFuzzerInitialize.
void init();

// A path in this process's scratch directory: "<dir>/<name>" (same name, same path).
std::string scratch(const std::string& name);

// Writes `size` bytes to `path` (replacing it); aborts when the write fails.
void write_file(const std::string& path, const std::uint8_t* data, std::size_t size);

// The fuzz input split at the first line that is exactly `separator` (a line of its own):
// the part before and the part after; no separator: everything goes to `first`.
void split(const std::uint8_t* data, std::size_t size, const std::string& separator,
           std::string& first, std::string& second);

// True when two CSRs have the same sizes, offsets, columns and weights (bit for bit).
bool same_csr(const Csr& a, const Csr& b);

// The properties every store that opened or imported has: edges between known nodes, edge
// parameters in [0, 1], and a query seeded at its first node activating only known nodes,
// each within [0, 1]. Aborts (through fail) when one does not hold.
void check_store(const relevance::Store& store);

// Prints "property failed: <what>" and aborts.
[[noreturn]] void fail(const std::string& what);

}  // namespace mpe::fuzz

#define MPE_FUZZ_CHECK(cond, what)        \
  do {                                    \
    if (!(cond)) ::mpe::fuzz::fail(what); \
  } while (0)
