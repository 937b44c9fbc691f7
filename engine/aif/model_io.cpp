// AIF-MP models and requests from JSON files (docs/aif-model-format.md).
#include <algorithm>
#include <cmath>
#include <limits>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <fmt/format.h>
#include <mpe/aif.hpp>
#include <mpe/npy.hpp>
#include <nlohmann/json.hpp>

namespace mpe::aif {

namespace {
using nlohmann::json;

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw Error(ErrorCode::parse_error, fmt::format("{}: {}", path, what));
}

json read_json(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error(ErrorCode::io_error, fmt::format("cannot open '{}' for reading", path));
  try {
    return json::parse(in);
  } catch (const json::out_of_range& e) {
    // A number beyond double's range ("1e400"): nlohmann reports no position (found by
    // fuzz_aif_model; it escaped as an uncaught exception before).
    fail(path, fmt::format("invalid JSON ({})", e.what()));
  } catch (const json::parse_error& e) {
    // nlohmann reports the byte offset; give the line too.
    std::ifstream again(path);
    std::string text((std::istreambuf_iterator<char>(again)), std::istreambuf_iterator<char>());
    const std::size_t upto = std::min<std::size_t>(e.byte, text.size());
    const auto line = 1 + std::count(text.begin(), text.begin() + static_cast<long>(upto), '\n');
    fail(path, fmt::format("line {}: invalid JSON ({})", line, e.what()));
  }
}

// An int field: an integer (or an integral number) within int's range. nlohmann's value<int>
// would convert 1e20 or 3e9 without a check (undefined behaviour for the float).
int int_field(const json& obj, const char* name, int fallback) {
  if (!obj.contains(name)) return fallback;
  const json& v = obj.at(name);
  const double d = v.is_number() ? v.get<double>() : 0.5;
  if (!v.is_number() || d != std::floor(d) || d < std::numeric_limits<int>::min() ||
      d > std::numeric_limits<int>::max()) {
    throw Error(ErrorCode::parse_error,
                fmt::format("\"{}\" is {}, expected an integer", name, v.dump()));
  }
  return static_cast<int>(d);
}

// Flattens nested arrays into `data`, recording the extents; every level must be rectangular.
void flatten(const json& j, std::size_t depth, Shape& shape, std::vector<float>& data,
             const std::string& path, const std::string& where) {
  if (j.is_number()) {
    if (depth != shape.size() && !shape.empty()) {
      fail(path, fmt::format("{}: ragged array (a number where a list was expected)", where));
    }
    data.push_back(j.get<float>());
    return;
  }
  if (!j.is_array()) fail(path, fmt::format("{}: expected a number or a list", where));
  if (depth == shape.size()) {
    if (!data.empty())
      fail(path, fmt::format("{}: ragged array (a list where a number was expected)", where));
    shape.push_back(static_cast<std::int64_t>(j.size()));
  } else if (shape[depth] != static_cast<std::int64_t>(j.size())) {
    fail(path, fmt::format("{}: ragged array ({} entries where {} were expected)", where, j.size(),
                           shape[depth]));
  }
  for (std::size_t k = 0; k < j.size(); ++k) {
    flatten(j[k], depth + 1, shape, data, path, fmt::format("{}[{}]", where, k));
  }
}

// A tensor from nested lists, from {"shape": [...], "data": [flat]}, or from a .npy file named
// by a string (relative to the JSON file's folder).
Tensor tensor_field(const json& obj, const char* name, const std::string& path) {
  if (!obj.contains(name)) fail(path, fmt::format("missing field \"{}\"", name));
  const json& j = obj.at(name);
  if (j.is_string()) {
    const std::filesystem::path npy =
        std::filesystem::path(path).parent_path() / j.get<std::string>();
    try {
      return read_npy_f32(npy.string());
    } catch (const Error& e) {
      throw Error(e.code(), fmt::format("{}: \"{}\": {}", path, name, e.message()));
    }
  }
  Shape shape;
  std::vector<float> data;
  if (j.is_object()) {
    if (!j.contains("shape") || !j.contains("data")) {
      fail(path, fmt::format("\"{}\": an object needs \"shape\" and \"data\"", name));
    }
    for (const auto& d : j.at("shape")) {
      if (!d.is_number_integer() || d.get<std::int64_t>() < 0) {
        fail(path, fmt::format("\"{}\".shape: extents must be non-negative integers", name));
      }
      shape.push_back(d.get<std::int64_t>());
    }
    Shape flat_shape;
    flatten(j.at("data"), 0, flat_shape, data, path, fmt::format("\"{}\".data", name));
    std::int64_t n = 1;
    for (auto d : shape) n *= d;
    if (static_cast<std::int64_t>(data.size()) != n) {
      fail(path, fmt::format("\"{}\": shape {} needs {} values, data has {}", name,
                             shape_str(shape), n, data.size()));
    }
  } else {
    flatten(j, 0, shape, data, path, fmt::format("\"{}\"", name));
  }
  return Tensor::from_vector(data, shape);
}

std::vector<float> float_list(const json& obj, const char* name, const std::string& where) {
  std::vector<float> out;
  const json& j = obj.at(name);
  if (!j.is_array())
    throw Error(ErrorCode::parse_error, fmt::format("{}: \"{}\" must be a list", where, name));
  for (const auto& v : j) {
    if (!v.is_number()) {
      throw Error(ErrorCode::parse_error, fmt::format("{}: \"{}\" must hold numbers", where, name));
    }
    out.push_back(v.get<float>());
  }
  return out;
}

PlanRequest request_from(const json& j, const std::string& where) {
  if (!j.is_object())
    throw Error(ErrorCode::parse_error, fmt::format("{}: expected an object", where));
  for (const char* required : {"q0", "q_theta"}) {
    if (!j.contains(required)) {
      throw Error(ErrorCode::parse_error, fmt::format("{}: missing field \"{}\"", where, required));
    }
  }
  PlanRequest r;
  r.q0 = float_list(j, "q0", where);
  r.q_theta = float_list(j, "q_theta", where);
  try {
    r.horizon = int_field(j, "horizon", r.horizon);
    r.iterations = int_field(j, "iterations", r.iterations);
    r.damping = j.value("damping", r.damping);
    r.tolerance = j.value("tolerance", r.tolerance);
    r.method = parse_method(j.value("method", std::string(method_name(r.method))));
    r.theta = parse_theta_mode(j.value("theta", std::string(theta_mode_name(r.theta))));
    r.return_channels = j.value("return_channels", r.return_channels);
    const std::string obs = j.value("observation_path", std::string("dense"));
    if (obs != "dense" && obs != "precomputed") {
      throw Error(ErrorCode::parse_error,
                  fmt::format("\"observation_path\" is '{}', expected dense or precomputed", obs));
    }
    r.observation_path = obs == "dense" ? ObservationPath::dense : ObservationPath::precomputed;
    const std::string damp = j.value("damping_kind", std::string("geometric"));
    if (damp != "geometric" && damp != "arithmetic") {
      throw Error(ErrorCode::parse_error,
                  fmt::format("\"damping_kind\" is '{}', expected geometric or arithmetic", damp));
    }
    r.damping_kind = damp == "geometric" ? DampingKind::geometric : DampingKind::arithmetic;
    const std::string dyn = j.value("dynamics", std::string("auto"));
    if (dyn != "auto" && dyn != "dense" && dyn != "sparse") {
      throw Error(ErrorCode::parse_error,
                  fmt::format("\"dynamics\" is '{}', expected auto, dense or sparse", dyn));
    }
    r.dynamics = dyn == "auto"    ? DynamicsLayout::automatic
                 : dyn == "dense" ? DynamicsLayout::dense
                                  : DynamicsLayout::sparse;
  } catch (const json::exception& e) {
    throw Error(ErrorCode::parse_error, fmt::format("{}: {}", where, e.what()));
  } catch (const Error& e) {
    throw Error(ErrorCode::parse_error, fmt::format("{}: {}", where, e.message()));
  }
  return r;
}
}  // namespace

Model Model::load(const std::string& path) {
  if (std::filesystem::is_directory(path)) {  // T.npy, B.npy, action_prior.npy, goal.npy | C.npy
    const std::filesystem::path dir(path);
    auto npy = [&dir](const char* name) { return read_npy_f32((dir / name).string()); };
    const bool terminal = std::filesystem::exists(dir / "goal.npy");
    if (!terminal && !std::filesystem::exists(dir / "C.npy")) {
      fail(path, "a model folder needs goal.npy (terminal goal) or C.npy (θ-goal)");
    }
    try {
      return terminal ? with_terminal_goal(npy("T.npy"), npy("B.npy"), npy("action_prior.npy"),
                                           npy("goal.npy"))
                      : with_theta_goal(npy("T.npy"), npy("B.npy"), npy("action_prior.npy"),
                                        npy("C.npy"));
    } catch (const Error& e) {
      if (e.code() == ErrorCode::parse_error || e.code() == ErrorCode::io_error) throw;
      throw Error(e.code(), fmt::format("{}: {}", path, e.message()));
    }
  }
  const json j = read_json(path);
  if (!j.is_object()) fail(path, "expected a JSON object at the top level");
  const Tensor T = tensor_field(j, "T", path);
  const Tensor B = tensor_field(j, "B", path);
  const Tensor pu = tensor_field(j, "action_prior", path);
  if (!j.contains("goal") || !j.at("goal").is_object()) {
    fail(path, "missing field \"goal\": {\"terminal\": [...]} or {\"theta\": [[...]]}");
  }
  const json& goal = j.at("goal");
  try {
    if (goal.contains("terminal"))
      return with_terminal_goal(T, B, pu, tensor_field(goal, "terminal", path));
    if (goal.contains("theta")) return with_theta_goal(T, B, pu, tensor_field(goal, "theta", path));
  } catch (const Error& e) {
    if (e.code() == ErrorCode::parse_error) throw;
    throw Error(e.code(), fmt::format("{}: {}", path, e.message()));
  }
  fail(path, "\"goal\" needs \"terminal\" or \"theta\"");
}

std::vector<PlanRequest> load_requests(const std::string& path) {
  const json j = read_json(path);
  std::vector<PlanRequest> out;
  if (j.is_object() && j.contains("requests")) {
    const json& list = j.at("requests");
    if (!list.is_array()) fail(path, "\"requests\" must be a list");
    for (std::size_t i = 0; i < list.size(); ++i) {
      out.push_back(request_from(list[i], fmt::format("{}: requests[{}]", path, i)));
    }
  } else {
    out.push_back(request_from(j, path));
  }
  return out;
}

}  // namespace mpe::aif
