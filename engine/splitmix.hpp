#pragma once
// splitmix64: a portable 64-bit stream (same numbers on every platform and compiler). It seeds
// the agents' xoshiro generator and draws predictive coding's initial weights.
#include <cstdint>

namespace mpe::detail {
inline std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
}  // namespace mpe::detail
