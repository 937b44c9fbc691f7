#pragma once
// mpe-bench's ops as a registry. Each bench/ops/<op>.cpp declares one OpSpec: its parameters
// as a table (flag, help, defaults, --quick values, the check every value must pass), how one
// case point is prepared on a device, and registers it with MPE_BENCH_OP. Everything else
// follows from the table: the command-line flags (main.cpp), the checks (all ops' values
// before anything runs), and the case points (the cartesian product of the parameters, the
// first varying slowest). main.cpp and cases.cpp only drive the registry.
//
// Adding an op is one file (bench/CMakeLists.txt globs ops/*.cpp):
//   PreparedCase prepare_foo(const CasePoint& p, const Device& d, std::uint64_t seed);
//   MPE_BENCH_OP(OpSpec{"foo", "what it times", "bytes counted for GB/s",
//                       {int_param("foo-size", "foo: elements n", {1024}, 1),
//                        uses("seq")},  // a flag another op declares
//                       prepare_foo})
// A flag is declared (with help, defaults and check) by exactly one op; other ops name it
// with uses() and may give it another key in their points or take only its first value.
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include <mpe/device.hpp>

#include "cases.hpp"

namespace CLI {
class App;
}

namespace mpe::bench {

// What every value of a flag must be: returns the value as points carry it (integers
// canonical) or throws mpe::Error naming the flag and the value.
using Check = std::function<std::string(const std::string& flag, const std::string& value)>;

// An integer in [min, max].
Check integer_in(std::int64_t min, std::int64_t max = std::numeric_limits<std::int64_t>::max());
// One of `names`.
Check one_of(std::vector<std::string> names);
// A number in [lo, hi) (hi: no upper bound when infinite); `extra` values are also accepted.
Check number_in(double lo, double hi, std::vector<std::string> extra = {});
// Accepted by `parse` (a library parser that throws mpe::Error for unknown names).
Check parsed_by(std::function<void(const std::string&)> parse);
// Empty (not given) or the path of an existing file.
Check file_or_empty();

// One parameter of an op: a command-line flag taking a comma list of values, and its key in
// the op's case points. A declared parameter has help text and a check; uses() names another
// op's flag.
struct Param {
  std::string flag;                   // --flag
  std::string help;                   // empty: declared by another op (uses())
  std::vector<std::string> defaults;  // the grid's values when the flag is not given
  Check check;
  std::vector<std::string> quick_values;  // --quick's values as text (empty: the defaults)
  std::string key_name;                   // the name in case points (empty: the flag, '-' as '_')
  bool first_only = false;                // only the first value (not an axis of the product)
  bool single = false;                    // one value (a file path), not a comma list
  std::string type = "TEXT";              // what --help says a value is

  Param& quick(std::vector<std::string> v) {
    quick_values = std::move(v);
    return *this;
  }
  Param& key(std::string k) {
    key_name = std::move(k);
    return *this;
  }
  Param& first() {
    first_only = true;
    return *this;
  }
  std::string point_key() const;
};

// Declarations: an integer list, a name list (checked against `check`), a file path.
Param int_param(std::string flag, std::string help, const std::vector<std::int64_t>& defaults,
                std::int64_t min, std::int64_t max = std::numeric_limits<std::int64_t>::max());
Param text_param(std::string flag, std::string help, std::vector<std::string> defaults,
                 Check check);
Param file_param(std::string flag, std::string help);
// Another op's flag, in this op's points under `key` (default: the flag's).
Param uses(std::string flag, std::string key = "");
// Uses of every parameter of `params` (another op's table), with their keys.
std::vector<Param> uses_of(const std::vector<Param>& params);

using Prepare = std::function<PreparedCase(const CasePoint&, const Device&, std::uint64_t seed)>;

struct OpSpec {
  std::string name;
  std::string summary;  // one phrase for --op's help
  std::string bytes;    // the bytes (and FLOPs or items) counted, for --help ("" = none)
  std::vector<Param> params;
  Prepare prepare;
  // Fixes a point after the product (drops the keys a file makes moot, say); false skips it.
  // Points it makes equal are kept once.
  std::function<bool(CasePoint&)> adjust = {};
};

// Adds an op (at static initialisation, through MPE_BENCH_OP).
bool register_op(OpSpec spec);
// The op named `name`, or nullptr.
const OpSpec* find_op(const std::string& name);
// Every registered op name, sorted.
std::vector<std::string> op_names();

// The declaration of --flag (throws mpe::Error when no op declares it).
const Param& declared_param(const std::string& flag);

// The driver's side. Declares every op's flags on `app`, bound to `grid` (filled with their
// defaults); throws mpe::Error if two ops declare one flag.
void add_op_flags(CLI::App& app, Grid& grid);
// --quick: the preset values of the flags not given on the command line.
void apply_quick_values(const CLI::App& app, Grid& grid);
// "  op:  bytes" lines for --help, and "op (summary), ..." for --op.
std::string bytes_help();
std::string ops_help();

#define MPE_BENCH_OP_CAT2(a, b) a##b
#define MPE_BENCH_OP_CAT(a, b) MPE_BENCH_OP_CAT2(a, b)
// Registers an OpSpec: MPE_BENCH_OP(OpSpec{"name", "summary", "bytes", {params}, prepare}).
#define MPE_BENCH_OP(...)                                                          \
  namespace {                                                                      \
  const bool MPE_BENCH_OP_CAT(mpe_bench_op_, __LINE__) = register_op(__VA_ARGS__); \
  }

}  // namespace mpe::bench
