#pragma once
// The evaluation environments of aif-mp.md §6 (make_environment picks one by name).
#include <cstdint>
#include <memory>

#include <mpe/agents.hpp>

namespace mpe::agents {

std::unique_ptr<Environment> make_frozen_lake(std::uint64_t seed);
std::unique_ptr<Environment> make_rocksample(std::uint64_t seed);
std::unique_ptr<Environment> make_wumpus(std::uint64_t seed);

}  // namespace mpe::agents
