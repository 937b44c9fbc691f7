// Factor graph model: building, validation, scores, option names.
#include <cmath>
#include <limits>
#include <mpe/error.hpp>
#include <mpe/factor_graph.hpp>

#include <fmt/format.h>

namespace mpe::bp {
namespace {

[[noreturn]] void bad(const std::string& what) { throw Error(ErrorCode::invalid_argument, what); }

template <class E, int N>
E parse_name(const std::string& name, const char* const (&names)[N], const E (&values)[N],
             const char* what) {
  std::string list;
  for (int i = 0; i < N; ++i) {
    if (name == names[i]) return values[i];
    list += (i ? ", " : "") + std::string(names[i]);
  }
  bad(fmt::format("unknown {} '{}' (expected one of {})", what, name, list));
}

// Factor f's variables, table size and entries against the graph's cardinalities. O(arity² +
// table), so that adding a factor does not cost the size of the graph.
void check_factor(const std::vector<int>& cardinalities, const Factor& fac, int f) {
  const auto nv = static_cast<int>(cardinalities.size());
  if (fac.vars.empty()) bad(fmt::format("factor {} has no variables", f));
  double size = 1;
  for (std::size_t i = 0; i < fac.vars.size(); ++i) {
    const int v = fac.vars[i];
    if (v < 0 || v >= nv) {
      bad(fmt::format("factor {} names variable {}, out of range [0, {})", f, v, nv));
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (fac.vars[j] == v) bad(fmt::format("factor {} names variable {} twice", f, v));
    }
    size *= cardinalities[static_cast<std::size_t>(v)];
  }
  if (size > 1e9) bad(fmt::format("factor {} has a table of {} entries (limit 1e9)", f, size));
  if (static_cast<double>(fac.log_values.size()) != size) {
    bad(
        fmt::format("factor {} has {} table entries, expected {} (product of its variables' "
                    "cardinalities)",
                    f, fac.log_values.size(), size));
  }
  for (std::size_t t = 0; t < fac.log_values.size(); ++t) {
    const double x = fac.log_values[t];
    if (std::isnan(x) || x == std::numeric_limits<double>::infinity()) {
      bad(fmt::format("factor {} entry {} is {} (log-potentials must be finite or -inf)", f, t, x));
    }
  }
}

}  // namespace

int FactorGraph::add_variable(int cardinality) {
  if (cardinality < 1)
    bad(fmt::format("add_variable: cardinality must be >= 1, got {}", cardinality));
  cardinalities.push_back(cardinality);
  if (!labels.empty()) labels.push_back(static_cast<std::int64_t>(cardinalities.size() - 1));
  return num_variables() - 1;
}

int FactorGraph::add_factor(std::vector<int> vars, const std::vector<double>& probabilities) {
  std::vector<double> logs(probabilities.size());
  for (std::size_t t = 0; t < probabilities.size(); ++t) {
    const double p = probabilities[t];
    if (!(p >= 0.0) || !std::isfinite(p)) {
      bad(
          fmt::format("add_factor (factor {}): entry {} is {}; probabilities must be finite and "
                      ">= 0",
                      num_factors(), t, p));
    }
    logs[t] = p > 0.0 ? std::log(p) : -std::numeric_limits<double>::infinity();
  }
  return add_log_factor(std::move(vars), std::move(logs));
}

int FactorGraph::add_log_factor(std::vector<int> vars, std::vector<double> log_values) {
  Factor fac{std::move(vars), std::move(log_values)};
  try {
    check_factor(cardinalities, fac, num_factors());  // the variables were checked when added
  } catch (const Error& e) {
    bad(fmt::format("add_log_factor: {}", e.message()));
  }
  factors.push_back(std::move(fac));
  return num_factors() - 1;
}

std::int64_t FactorGraph::num_edges() const {
  std::int64_t n = 0;
  for (const Factor& f : factors) n += static_cast<std::int64_t>(f.vars.size());
  return n;
}

std::int64_t FactorGraph::table_size(int f) const {
  std::int64_t n = 1;
  for (int v : factors[static_cast<std::size_t>(f)].vars) {
    n *= cardinalities[static_cast<std::size_t>(v)];
  }
  return n;
}

void FactorGraph::validate() const {
  const int nv = num_variables();
  for (int v = 0; v < nv; ++v) {
    if (cardinalities[static_cast<std::size_t>(v)] < 1) {
      bad(fmt::format("variable {} has cardinality {} (must be >= 1)", v,
                      cardinalities[static_cast<std::size_t>(v)]));
    }
  }
  if (!labels.empty() && static_cast<int>(labels.size()) != nv) {
    bad(fmt::format("labels has {} entries for {} variables", labels.size(), nv));
  }
  for (int f = 0; f < num_factors(); ++f)
    check_factor(cardinalities, factors[static_cast<std::size_t>(f)], f);
}

double log_score(const FactorGraph& g, const std::vector<int>& x) {
  if (static_cast<int>(x.size()) != g.num_variables()) {
    bad(fmt::format("log_score: assignment has {} entries for {} variables", x.size(),
                    g.num_variables()));
  }
  for (int v = 0; v < g.num_variables(); ++v) {
    if (x[static_cast<std::size_t>(v)] < 0 ||
        x[static_cast<std::size_t>(v)] >= g.cardinalities[static_cast<std::size_t>(v)]) {
      bad(fmt::format("log_score: variable {} has state {}, out of range [0, {})", v,
                      x[static_cast<std::size_t>(v)],
                      g.cardinalities[static_cast<std::size_t>(v)]));
    }
  }
  double s = 0;
  for (const Factor& f : g.factors) {
    std::int64_t t = 0, stride = 1;
    for (int v : f.vars) {
      t += stride * x[static_cast<std::size_t>(v)];
      stride *= g.cardinalities[static_cast<std::size_t>(v)];
    }
    s += f.log_values[static_cast<std::size_t>(t)];
  }
  return s;
}

const char* method_name(Method m) noexcept { return m == Method::max_product ? "max" : "sum"; }
const char* schedule_name(Schedule s) noexcept {
  return s == Schedule::sequential ? "sequential" : "flooding";
}
const char* precision_name(Precision p) noexcept { return p == Precision::f32 ? "f32" : "f64"; }

Method parse_method(const std::string& name) {
  constexpr const char* names[] = {"sum", "max", "sum_product", "max_product"};
  constexpr Method values[] = {Method::sum_product, Method::max_product, Method::sum_product,
                               Method::max_product};
  return parse_name(name, names, values, "BP method");
}
Schedule parse_schedule(const std::string& name) {
  constexpr const char* names[] = {"flooding", "sequential", "parallel"};
  constexpr Schedule values[] = {Schedule::flooding, Schedule::sequential, Schedule::flooding};
  return parse_name(name, names, values, "BP schedule");
}
Precision parse_precision(const std::string& name) {
  constexpr const char* names[] = {"f64", "f32"};
  constexpr Precision values[] = {Precision::f64, Precision::f32};
  return parse_name(name, names, values, "precision");
}

}  // namespace mpe::bp
