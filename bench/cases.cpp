// The driver side of the op registry (bench/ops/registry.hpp): every op named on the command
// line is looked up, its parameters checked (all ops first, so a bad value is reported before
// anything runs or prints), then expanded into case points; a point is prepared by its op.
#include "cases.hpp"

#include <fmt/format.h>
#include <mpe/error.hpp>

#include "ops/registry.hpp"

namespace mpe::bench {

namespace {
const OpSpec& op_spec(const std::string& name) {
  if (const OpSpec* spec = find_op(name)) return *spec;
  std::string list;
  for (const auto& n : op_names()) list += (list.empty() ? "" : ", ") + n;
  throw Error(ErrorCode::invalid_argument, fmt::format("unknown op '{}' ({})", name, list));
}
}  // namespace

std::vector<CasePoint> expand(const Grid& grid) {
  for (const std::string& op : grid.ops) op_spec(op).validate(grid);
  std::vector<CasePoint> out;
  for (const std::string& op : grid.ops) op_spec(op).expand(grid, out);
  return out;
}

PreparedCase prepare(const CasePoint& point, const Device& device, std::uint64_t seed,
                     const std::string& mtx_path) {
  return op_spec(point.op).prepare(point, device, seed, mtx_path);
}

}  // namespace mpe::bench
