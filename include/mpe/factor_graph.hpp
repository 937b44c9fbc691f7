#pragma once
/// @file factor_graph.hpp
/// Discrete factor graphs and loopy belief propagation (sum-product and max-product) in log
/// space, on the CPU and CUDA backends, for one graph or a batch of graphs that share one
/// structure (different potentials or evidence).
///
/// Tables are dense and stored with the **first variable of the factor changing fastest**
/// (libDAI's order): entry index t = Σ_k x_k · stride_k with stride_0 = 1 and
/// stride_k = stride_{k-1} · card(vars[k-1]). Values are natural-log potentials; −inf is zero
/// probability (handled without NaN everywhere).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <mpe/device.hpp>

namespace mpe::bp {

/// One factor: its variables (distinct ids) and its log-potential table.
struct Factor {
  std::vector<int> vars;           ///< variable ids, in table order (first fastest)
  std::vector<double> log_values;  ///< Π card(vars) entries; −inf = zero probability
};

/// A discrete factor graph.
struct FactorGraph {
  std::vector<int> cardinalities;  ///< number of states of each variable (>= 1)
  std::vector<Factor> factors;     ///< factors of any arity (>= 1)
  /// Optional names of the variables in the file they came from (libDAI labels, UAI
  /// indices); empty or one per variable. Used by the CLI for printing.
  std::vector<std::int64_t> labels;

  /// Adds a variable with `cardinality` states and returns its id.
  int add_variable(int cardinality);
  /// Adds a factor over `vars` from probabilities (>= 0, finite; first variable fastest)
  /// and returns its id. Throws Error(invalid_argument) naming the entry at fault.
  int add_factor(std::vector<int> vars, const std::vector<double>& probabilities);
  /// Adds a factor from log-potentials (finite or −inf; NaN and +inf are rejected).
  int add_log_factor(std::vector<int> vars, std::vector<double> log_values);

  int num_variables() const { return static_cast<int>(cardinalities.size()); }
  int num_factors() const { return static_cast<int>(factors.size()); }
  /// Σ_f arity(f): the number of variable–factor edges.
  std::int64_t num_edges() const;
  /// Number of table entries of factor `f`.
  std::int64_t table_size(int f) const;
  /// Throws Error(invalid_argument) naming the variable, factor or entry at fault: a
  /// cardinality < 1, a factor without variables, a variable id out of range or repeated, a
  /// table of the wrong size, NaN or +inf in a table, labels of the wrong count.
  void validate() const;
};

/// The log-probability of a complete assignment: Σ_f log φ_f(x_f) (−inf when zero). Throws
/// Error(invalid_argument) for a wrong length or a state out of range.
double log_score(const FactorGraph& g, const std::vector<int>& assignment);

// ---- files ---------------------------------------------------------------------------------

/// Reads libDAI's `.fg` format (factor count; per factor: variable count, labels,
/// cardinalities, non-zero entry count, then "index value" lines; '#' starts a comment line).
/// Labels become dense ids in increasing label order (kept in `labels`). Throws
/// Error(io_error) when the file cannot be read and Error(parse_error) "<file>:<line>: ..."
/// naming what was expected: a missing or non-numeric token, an index out of range, a
/// negative, NaN or infinite value, cardinalities that disagree between factors.
FactorGraph read_fg(const std::string& path);
/// Writes `.fg` (all entries, full double precision). Throws Error(io_error).
void write_fg(const FactorGraph& g, const std::string& path);
/// Reads the UAI competition format (`MARKOV` or `BAYES` preamble; tables with the last
/// variable fastest, converted to first-fastest). Errors as read_fg.
FactorGraph read_uai(const std::string& path);
/// Reads a UAI `.evid` file for graph `g`: either one line "n v1 x1 ... vn xn" or the
/// multi-sample form "S" followed by S such lines. Returns one evidence vector per sample
/// (length num_variables, −1 = unobserved). Errors as read_fg, plus variables or states
/// out of range.
std::vector<std::vector<int>> read_uai_evidence(const std::string& path, const FactorGraph& g);
/// read_uai for names ending in ".uai", read_fg otherwise.
FactorGraph read_factor_graph(const std::string& path);

// ---- inference -----------------------------------------------------------------------------

/// Sum-product (marginals, Bethe log Z) or max-product (max-marginals, MAP).
enum class Method { sum_product, max_product };
/// Flooding: every message from the previous sweep's messages (both backends). Sequential:
/// factors in order, each factor's outgoing messages in its variable order, each using the
/// newest messages (libDAI's SEQFIX order; CPU only).
enum class Schedule { flooding, sequential };
/// Arithmetic of the messages (beliefs, log Z and MAP are always computed in float64).
enum class Precision { f64, f32 };

/// "sum" / "max", "flooding" / "sequential", "f64" / "f32".
const char* method_name(Method m) noexcept;
const char* schedule_name(Schedule s) noexcept;
const char* precision_name(Precision p) noexcept;
/// Parsers for the names above (also "sum_product", "max_product", "parallel"); throw
/// Error(invalid_argument) listing the accepted names.
Method parse_method(const std::string& name);
Schedule parse_schedule(const std::string& name);
Precision parse_precision(const std::string& name);

/// Options of a run.
struct Options {
  Method method = Method::sum_product;
  Schedule schedule = Schedule::flooding;
  Precision precision = Precision::f64;
  /// Weight of the old message: m ← normalise((1 − damping)·log m_new + damping·log m_old),
  /// in [0, 1). 0 = no damping.
  double damping = 0.0;
  /// Stop when the largest change of a factor→variable message, max |m_new − m_old| over
  /// entries of the normalised probability vectors, is below tol after a sweep.
  double tol = 1e-9;
  int max_iter = 1000;      ///< sweep cap (>= 1)
  bool factor_beliefs = true;  ///< also return factor beliefs (needed for nothing else)
  Device device = default_device();
};

/// One member of a batch: overrides of the graph's potentials and/or evidence.
struct Instance {
  /// Empty: the graph's tables. Otherwise one log-table per factor, sizes as the graph's.
  std::vector<std::vector<double>> log_potentials;
  /// Empty: no evidence. Otherwise one entry per variable: its observed state, or −1.
  std::vector<int> evidence;
};

/// Result of one graph.
struct Result {
  bool converged = false;   ///< the last sweep changed no message by tol or more
  int iterations = 0;       ///< sweeps run
  double max_change = 0.0;  ///< largest message change of the last sweep
  /// Normalised variable beliefs (marginals; max-marginals for max-product), one vector per
  /// variable; all zeros when the evidence or potentials leave no state possible.
  std::vector<std::vector<double>> var_beliefs;
  /// Normalised factor beliefs, table order (empty unless Options::factor_beliefs).
  std::vector<std::vector<double>> factor_beliefs;
  /// Bethe estimate of log Z (sum-product; exact on trees). −inf when no state is possible;
  /// NaN for max-product.
  double log_z = 0.0;
  /// Max-product: argmax of each variable's max-marginal (lowest state on ties); evidence
  /// states for observed variables. Empty for sum-product.
  std::vector<int> map;
  /// Max-product: log_score(map) (with the instance's potentials). NaN for sum-product.
  double map_log_score = 0.0;
};

/// A prepared batch: structure, potentials, evidence and messages on the device, for runs
/// that repeat (benchmarks, restarts). Construction checks everything run_batch checks.
class Solver {
 public:
  /// Throws as run_batch(); `batch` must not be empty.
  Solver(const FactorGraph& g, const std::vector<Instance>& batch, const Options& options);
  ~Solver();
  Solver(Solver&&) noexcept;
  Solver& operator=(Solver&&) noexcept;
  /// Uniform messages, every member active again.
  void reset();
  /// Runs `n` sweeps of every member without convergence tests (no host round trip on a
  /// GPU; queued work is complete when this returns).
  void sweeps(int n);
  /// reset(), then sweeps until each member converges or max_iter, then the results.
  std::vector<Result> solve();
  /// Variable–factor edges of one member (each sweep updates 2·edges messages per member).
  std::int64_t num_edges() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

/// Checks a graph, one batch member and options as run_batch does (the member is named as
/// member 0); throws the same errors. mpe::Engine calls it at submit.
void validate(const FactorGraph& g, const Instance& instance, const Options& options);

/// Runs belief propagation on one graph. Throws Error(invalid_argument) for an invalid graph,
/// options or evidence, Error(not_supported) for the sequential schedule on a GPU, and
/// Error(device_unavailable) for a device that does not answer.
Result run(const FactorGraph& g, const Options& options, const std::vector<int>& evidence = {});
/// Runs a batch of graphs sharing g's structure in one go (one set of kernel launches per
/// sweep). Each member stops on its own; the run ends when all converged or at max_iter.
/// Results are in batch order; an empty batch returns nothing. Errors as run(), naming the
/// member at fault.
std::vector<Result> run_batch(const FactorGraph& g, const std::vector<Instance>& batch,
                              const Options& options);

}  // namespace mpe::bp
