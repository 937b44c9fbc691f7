// The op registry of mpe-bench: the checks and declarations of parameter tables, the op list,
// and the flags the tables declare.
#include "ops/registry.hpp"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <system_error>

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <mpe/error.hpp>

namespace mpe::bench {

namespace {
Error bad(std::string what) { return Error(ErrorCode::invalid_argument, std::move(what)); }

// "a, b or c"
std::string or_list(const std::vector<std::string>& names) {
  std::string s;
  for (std::size_t k = 0; k < names.size(); ++k) {
    s += k == 0 ? "" : (k + 1 == names.size() ? " or " : ", ");
    s += names[k];
  }
  return s;
}

std::vector<std::string> texts(const std::vector<std::int64_t>& values) {
  std::vector<std::string> t;
  for (auto v : values) t.push_back(std::to_string(v));
  return t;
}
}  // namespace

Check integer_in(std::int64_t min, std::int64_t max) {
  return [min, max](const std::string& flag, const std::string& v) {
    long long n = 0;
    const char* begin = v.data() + (!v.empty() && v[0] == '+' ? 1 : 0);
    const auto [ptr, ec] = std::from_chars(begin, v.data() + v.size(), n);
    if (v.empty() || ec != std::errc() || ptr != v.data() + v.size()) {
      throw bad(fmt::format("--{} '{}' is not an integer", flag, v));
    }
    if (n < min || n > max) {
      throw bad(max == std::numeric_limits<std::int64_t>::max()
                    ? fmt::format("--{} {} is out of range (must be >= {})", flag, n, min)
                    : fmt::format("--{} {} is out of range ({} to {})", flag, n, min, max));
    }
    return std::to_string(n);
  };
}

Check one_of(std::vector<std::string> names) {
  return [names](const std::string& flag, const std::string& v) {
    for (const auto& n : names) {
      if (v == n) return v;
    }
    throw bad(fmt::format("unknown --{} '{}' ({})", flag, v, or_list(names)));
  };
}

Check number_in(double lo, double hi, std::vector<std::string> extra) {
  return [lo, hi, extra](const std::string& flag, const std::string& v) {
    for (const auto& e : extra) {
      if (v == e) return v;
    }
    char* end = nullptr;
    const double x = std::strtod(v.c_str(), &end);
    if (v.empty() || *end != '\0' || !(x >= lo && x < hi)) {
      const std::string range = std::isinf(hi) ? fmt::format("a number >= {}", lo)
                                               : fmt::format("a number in [{}, {})", lo, hi);
      throw bad(fmt::format("--{} '{}' is out of range ({}{})", flag, v,
                            extra.empty() ? "" : or_list(extra) + " or ", range));
    }
    return v;
  };
}

Check parsed_by(std::function<void(const std::string&)> parse) {
  return [parse](const std::string& flag, const std::string& v) {
    try {
      parse(v);
    } catch (const Error& e) {
      throw Error(e.code(), fmt::format("--{}: {}", flag, e.message()));
    }
    return v;
  };
}

Check file_or_empty() {
  return [](const std::string& flag, const std::string& v) {
    if (!v.empty() && !std::ifstream(v).good()) {
      throw bad(fmt::format("--{}: cannot read the file '{}'", flag, v));
    }
    return v;
  };
}

std::string Param::point_key() const {
  if (!key_name.empty()) return key_name;
  std::string k = flag;
  for (char& c : k) c = c == '-' ? '_' : c;
  return k;
}

Param int_param(std::string flag, std::string help, const std::vector<std::int64_t>& defaults,
                std::int64_t min, std::int64_t max) {
  Param p;
  p.flag = std::move(flag);
  p.help = std::move(help);
  p.defaults = texts(defaults);
  p.check = integer_in(min, max);
  p.type = "INT";
  return p;
}

Param text_param(std::string flag, std::string help, std::vector<std::string> defaults,
                 Check check) {
  Param p;
  p.flag = std::move(flag);
  p.help = std::move(help);
  p.defaults = std::move(defaults);
  p.check = std::move(check);
  return p;
}

Param file_param(std::string flag, std::string help) {
  Param p = text_param(std::move(flag), std::move(help), {""}, file_or_empty());
  p.single = true;
  p.type = "FILE";
  return p;
}

Param uses(std::string flag, std::string key) {
  Param p;
  p.flag = std::move(flag);
  p.key_name = std::move(key);
  return p;
}

std::vector<Param> uses_of(const std::vector<Param>& params) {
  std::vector<Param> out;
  for (const Param& p : params) {
    out.push_back(uses(p.flag, p.key_name));
    out.back().first_only = p.first_only;
  }
  return out;
}

namespace {
std::map<std::string, OpSpec>& registry() {
  static std::map<std::string, OpSpec> ops;
  return ops;
}

// Every declared flag with the op that declares it, in op-name order.
std::vector<std::pair<const Param*, std::string>> declared_flags() {
  std::vector<std::pair<const Param*, std::string>> out;
  std::map<std::string, std::string> owner;
  for (const auto& [name, spec] : registry()) {
    for (const Param& p : spec.params) {
      if (p.help.empty()) continue;  // uses()
      const auto [it, fresh] = owner.emplace(p.flag, name);
      if (!fresh) {
        throw Error(
            ErrorCode::internal,
            fmt::format("mpe-bench: --{} is declared by both {} and {}", p.flag, it->second, name));
      }
      out.emplace_back(&p, name);
    }
  }
  return out;
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

const Param& declared_param(const std::string& flag) {
  for (const auto& [p, op] : declared_flags()) {
    if (p->flag == flag) return *p;
  }
  throw Error(ErrorCode::internal, fmt::format("mpe-bench: no op declares --{}", flag));
}

void add_op_flags(CLI::App& app, Grid& grid) {
  for (const auto& [p, op] : declared_flags()) {
    std::vector<std::string>& values = grid.values[p->flag];
    values = p->defaults;
    CLI::Option* o = app.add_option("--" + p->flag, values, p->help)->type_name(p->type);
    if (p->single) {
      o->expected(1);
    } else {
      o->delimiter(',')->capture_default_str();
    }
  }
}

void apply_quick_values(const CLI::App& app, Grid& grid) {
  for (const auto& [p, op] : declared_flags()) {
    if (!p->quick_values.empty() && app.count("--" + p->flag) == 0) {
      grid.values[p->flag] = p->quick_values;
    }
  }
}

std::string bytes_help() {
  std::string s;
  for (const auto& [name, spec] : registry()) {
    if (spec.bytes.empty()) continue;
    std::string text = spec.bytes;  // continuation lines under the first
    for (std::size_t at = text.find('\n'); at != std::string::npos; at = text.find('\n', at + 18)) {
      text.insert(at + 1, std::string(17, ' '));
    }
    s += fmt::format("  {:<15}{}\n", name + ":", text);
  }
  return s;
}

std::string ops_help() {
  std::string s = "Ops: ";
  bool first = true;
  for (const auto& [name, spec] : registry()) {
    s += fmt::format("{}{} ({})", first ? "" : ", ", name, spec.summary);
    first = false;
  }
  return s;
}

}  // namespace mpe::bench
