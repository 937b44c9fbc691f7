// Helpers shared by mpe-bench's op files, and the op registry.
#include "ops/common.hpp"

#include <algorithm>
#include <map>
#include <random>

#include <fmt/format.h>
#include <mpe/error.hpp>

#include "ops/registry.hpp"

namespace mpe::bench {

Tensor random_tensor(const Shape& shape, float lo, float hi, std::uint64_t seed, Device device) {
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(static_cast<std::size_t>(n));
  for (auto& e : v) e = dist(rng);
  return Tensor::from_vector(v, shape, device);
}

void check_at_least(const char* flag, const std::vector<std::int64_t>& values, std::int64_t min) {
  for (auto v : values) {
    if (v < min) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("--{} {} is out of range (must be >= {})", flag, v, min));
    }
  }
}

void check_dtypes(const std::vector<std::string>& values) {
  for (const auto& d : values) {
    if (d != "f32" && d != "bf16" && d != "f16") {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("unknown --dtype '{}' (f32, bf16 or f16)", d));
    }
  }
}

std::vector<std::string> texts(const std::vector<std::int64_t>& values) {
  std::vector<std::string> t;
  for (auto v : values) t.push_back(std::to_string(v));
  return t;
}

void cartesian(const std::string& op, const std::vector<ParamAxis>& axes,
               std::vector<CasePoint>& out) {
  for (const auto& axis : axes) {
    if (axis.second.empty()) return;  // no value: no combination
  }
  std::vector<std::size_t> at(axes.size(), 0);  // an odometer, the last axis fastest
  while (true) {
    CasePoint point{op, {}};
    for (std::size_t k = 0; k < axes.size(); ++k)
      point.params[axes[k].first] = axes[k].second[at[k]];
    out.push_back(std::move(point));
    std::size_t k = axes.size();
    while (k > 0 && ++at[k - 1] == axes[k - 1].second.size()) at[--k] = 0;
    if (k == 0) return;
  }
}

namespace {
std::map<std::string, OpSpec>& registry() {
  static std::map<std::string, OpSpec> ops;
  return ops;
}
}  // namespace

bool register_op(OpSpec spec) {
  const std::string name = spec.name;
  return registry().emplace(name, std::move(spec)).second;
}

const OpSpec* find_op(const std::string& name) {
  const auto it = registry().find(name);
  return it == registry().end() ? nullptr : &it->second;
}

std::vector<std::string> op_names() {
  std::vector<std::string> names;
  for (const auto& [name, spec] : registry()) names.push_back(name);
  return names;
}

}  // namespace mpe::bench
