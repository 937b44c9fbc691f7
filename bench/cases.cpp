// The driver side of the op registry (bench/ops/registry.hpp): every op named on the command
// line is looked up and every value of its parameters checked (all ops first, so a bad value
// is reported before anything runs or prints), then the op's points are the cartesian product
// of its parameters' values; a point is prepared by its op.
#include "cases.hpp"

#include <algorithm>

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

// One axis of the product: a key and its values (checked, as points carry them).
struct Axis {
  std::string key;
  std::vector<std::string> values;
};

std::vector<Axis> axes_of(const OpSpec& spec, const Grid& grid) {
  std::vector<Axis> axes;
  for (const Param& use : spec.params) {
    const Param& decl = use.help.empty() ? declared_param(use.flag) : use;
    const auto it = grid.values.find(use.flag);
    const std::vector<std::string>& given = it != grid.values.end() ? it->second : decl.defaults;
    Axis axis{use.point_key(), {}};
    for (const std::string& v : given) axis.values.push_back(decl.check(use.flag, v));
    if (use.first_only && axis.values.size() > 1) axis.values.resize(1);
    axes.push_back(std::move(axis));
  }
  return axes;
}

// Appends one point per combination of the axes' values, the last axis fastest.
void cartesian(const std::string& op, const std::vector<Axis>& axes, std::vector<CasePoint>& out) {
  for (const auto& axis : axes) {
    if (axis.values.empty()) return;  // no value: no combination
  }
  std::vector<std::size_t> at(axes.size(), 0);  // an odometer
  while (true) {
    CasePoint point{op, {}};
    for (std::size_t k = 0; k < axes.size(); ++k) point.params[axes[k].key] = axes[k].values[at[k]];
    out.push_back(std::move(point));
    std::size_t k = axes.size();
    while (k > 0 && ++at[k - 1] == axes[k - 1].values.size()) at[--k] = 0;
    if (k == 0) return;
  }
}

void expand_op(const OpSpec& spec, const std::vector<Axis>& axes, std::vector<CasePoint>& out) {
  std::vector<CasePoint> points;
  cartesian(spec.name, axes, points);
  for (CasePoint& p : points) {
    if (spec.adjust && !spec.adjust(p)) continue;
    const auto same = [&p](const CasePoint& q) { return q.op == p.op && q.params == p.params; };
    if (spec.adjust && std::find_if(out.begin(), out.end(), same) != out.end()) continue;
    out.push_back(std::move(p));
  }
}
}  // namespace

std::vector<CasePoint> expand(const Grid& grid) {
  std::vector<std::vector<Axis>> axes;  // checks every op's values before expanding any
  for (const std::string& op : grid.ops) axes.push_back(axes_of(op_spec(op), grid));
  std::vector<CasePoint> out;
  for (std::size_t k = 0; k < grid.ops.size(); ++k) expand_op(op_spec(grid.ops[k]), axes[k], out);
  return out;
}

PreparedCase prepare(const CasePoint& point, const Device& device, std::uint64_t seed) {
  return op_spec(point.op).prepare(point, device, seed);
}

}  // namespace mpe::bench
