// Factor graph files: libDAI's .fg, the UAI competition format and UAI evidence.
#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <map>
#include <mpe/error.hpp>
#include <mpe/factor_graph.hpp>
#include <mpe/limits.hpp>
#include <sstream>
#include <string_view>
#include <type_traits>

#include <fmt/format.h>

#include "graph/text_io.hpp"

namespace mpe::bp {
namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();

// What a token is, for error messages: a string, or a callable that formats one (called only
// when an error is raised, so that reading large tables formats nothing).
template <class What>
std::string describe(const What& what) {
  if constexpr (std::is_invocable_v<const What&>) {
    return what();
  } else {
    return std::string(what);
  }
}

inline bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

// Whitespace-separated tokens with their line numbers; lines starting with '#' are comments.
class Tokens {
 public:
  explicit Tokens(const std::string& path) : in_(path) {}
  // The next token, a view into the current line (valid until the next call).
  bool next(std::string_view& tok) {
    for (;;) {
      while (pos_ < line_.size() && is_space(line_[pos_])) ++pos_;
      if (pos_ < line_.size()) break;
      if (!in_.next(line_)) return false;
      pos_ = 0;
      const auto first = line_.find_first_not_of(" \t");
      if (first != std::string::npos && line_[first] == '#') line_.clear();
    }
    const std::size_t start = pos_;
    while (pos_ < line_.size() && !is_space(line_[pos_])) ++pos_;
    tok = std::string_view(line_).substr(start, pos_ - start);
    return true;
  }
  template <class What>
  std::string_view need(const What& what) {
    std::string_view tok;
    if (!next(tok)) in_.fail(fmt::format("expected {}, found the end of the file", describe(what)));
    return tok;
  }
  template <class What>
  std::int64_t integer(const What& what, std::int64_t lo, std::int64_t hi) {
    const std::string_view tok = need(what);
    std::int64_t v = 0;
    if (!parse_int(tok, v)) in_.fail(fmt::format("expected {}, got '{}'", describe(what), tok));
    if (v < lo || v > hi) {
      in_.fail(fmt::format("{} is {}, expected a value in [{}, {}]", describe(what), v, lo, hi));
    }
    return v;
  }
  // A probability: finite and >= 0.
  template <class What>
  double probability(const What& what) {
    const std::string_view tok = need(what);
    double v = 0;
    if (!parse_double(tok, v)) {
      in_.fail(fmt::format("expected {} (a number), got '{}'", describe(what), tok));
    }
    if (std::isnan(v) || std::isinf(v) || v < 0) {
      in_.fail(fmt::format("{} is '{}': potentials must be finite and >= 0", describe(what), tok));
    }
    return v;
  }
  template <class What>
  void expect_end(const What& after) {
    std::string_view tok;
    if (next(tok)) in_.fail(fmt::format("unexpected '{}' after {}", tok, describe(after)));
  }
  [[noreturn]] void fail(const std::string& what) const { in_.fail(what); }

 private:
  // A whole token as a base-10 integer, with an optional sign (as strtoll takes it).
  static bool parse_int(std::string_view tok, std::int64_t& v) {
    if (!tok.empty() && tok.front() == '+') {
      tok.remove_prefix(1);
      if (!tok.empty() && tok.front() == '-') return false;
    }
    if (tok.empty()) return false;
    const auto [ptr, ec] = std::from_chars(tok.data(), tok.data() + tok.size(), v);
    return ec == std::errc() && ptr == tok.data() + tok.size();
  }

  // A whole token as a double: from_chars (correctly rounded, fast), else strtod for the
  // forms from_chars leaves out (a leading '+', hexadecimal). The token lies in a std::string
  // and ends at whitespace or the terminating NUL, so strtod stops at its end.
  static bool parse_double(std::string_view tok, double& v) {
    if (tok.empty()) return false;
    const auto [ptr, ec] = std::from_chars(tok.data(), tok.data() + tok.size(), v);
    if (ec == std::errc() && ptr == tok.data() + tok.size()) return true;
    char* end = nullptr;
    v = std::strtod(tok.data(), &end);
    return end == tok.data() + tok.size();
  }

  detail::LineReader in_;
  std::string line_;
  std::size_t pos_ = 0;
};

double safe_log(double p) { return p > 0 ? std::log(p) : kNegInf; }

}  // namespace

FactorGraph read_fg(const std::string& path) {
  Tokens in(path);
  constexpr std::int64_t kMaxCount = 100000000;
  const std::int64_t nf = in.integer("the number of factors", 0, kMaxCount);
  struct Raw {
    std::vector<std::int64_t> labels;
    std::vector<double> logs;
  };
  std::vector<Raw> raw;  // grows as factors are read: the count may promise more than follows
  std::map<std::int64_t, int> card_of;  // label -> cardinality
  for (std::int64_t f = 0; f < nf; ++f) {
    auto fs = [f] { return fmt::format("factor {}", f); };
    const std::int64_t n =
        in.integer([&] { return fmt::format("the number of variables of {}", fs()); }, 1, 64);
    Raw& rf = raw.emplace_back();
    for (std::int64_t k = 0; k < n; ++k) {
      const std::int64_t l =
          in.integer([&] { return fmt::format("variable label {} of {}", k, fs()); }, 0,
                     std::numeric_limits<std::int32_t>::max());
      if (std::find(rf.labels.begin(), rf.labels.end(), l) != rf.labels.end()) {
        in.fail(fmt::format("{} lists variable {} twice", fs(), l));
      }
      rf.labels.push_back(l);
    }
    double size = 1;
    for (std::int64_t k = 0; k < n; ++k) {
      const std::int64_t l = rf.labels[static_cast<std::size_t>(k)];
      const int c = static_cast<int>(
          in.integer([&] { return fmt::format("the cardinality of variable {} in {}", l, fs()); },
                     1, 1000000));
      auto [it, fresh] = card_of.emplace(l, c);
      if (!fresh && it->second != c) {
        in.fail(fmt::format("variable {} has cardinality {} in {} but {} in an earlier factor", l,
                            c, fs(), it->second));
      }
      size *= c;
    }
    if (size > 1e9) in.fail(fmt::format("{} has {} table entries (limit 1e9)", fs(), size));
    if (8 * size > static_cast<double>(max_input_bytes())) {  // formats only when it throws
      check_input_bytes(8 * size,
                        fmt::format("{}: the table of {} ({} entries)", path, fs(), size));
    }
    const auto tsize = static_cast<std::int64_t>(size);
    rf.logs.assign(static_cast<std::size_t>(tsize), kNegInf);
    const std::int64_t nnz = in.integer(
        [&] { return fmt::format("the number of non-zero entries of {}", fs()); }, 0, tsize);
    for (std::int64_t i = 0; i < nnz; ++i) {
      const std::int64_t t =
          in.integer([&] { return fmt::format("an entry index of {}", fs()); }, 0, tsize - 1);
      rf.logs[static_cast<std::size_t>(t)] = safe_log(
          in.probability([&] { return fmt::format("the value of entry {} of {}", t, fs()); }));
    }
  }
  in.expect_end([&] { return fmt::format("the last of the {} factors", nf); });
  FactorGraph g;
  std::map<std::int64_t, int> id_of;
  for (const auto& [label, c] : card_of) {
    id_of[label] = g.num_variables();
    g.cardinalities.push_back(c);
    g.labels.push_back(label);
  }
  g.factors.reserve(raw.size());
  for (Raw& rf : raw) {
    Factor f;
    for (std::int64_t l : rf.labels) f.vars.push_back(id_of[l]);
    f.log_values = std::move(rf.logs);
    g.factors.push_back(std::move(f));
  }
  return g;
}

void write_fg(const FactorGraph& g, const std::string& path) {
  g.validate();
  detail::write_atomically(path, [&](std::ostream& out) {
    out << g.num_factors() << "\n";
    for (const Factor& f : g.factors) {
      out << "\n" << f.vars.size() << "\n";
      for (std::size_t k = 0; k < f.vars.size(); ++k) {
        const int v = f.vars[k];
        out << (k ? " " : "")
            << (g.labels.empty() ? std::int64_t{v} : g.labels[static_cast<std::size_t>(v)]);
      }
      out << "\n";
      for (std::size_t k = 0; k < f.vars.size(); ++k) {
        out << (k ? " " : "") << g.cardinalities[static_cast<std::size_t>(f.vars[k])];
      }
      out << "\n";
      std::size_t nnz = 0;
      for (double x : f.log_values) nnz += x != kNegInf;
      out << nnz << "\n";
      for (std::size_t t = 0; t < f.log_values.size(); ++t) {
        if (f.log_values[t] != kNegInf) {
          out << fmt::format("{} {:.17g}\n", t, std::exp(f.log_values[t]));
        }
      }
    }
  });
}

FactorGraph read_uai(const std::string& path) {
  Tokens in(path);
  const std::string kind(in.need("the preamble MARKOV or BAYES"));
  if (kind != "MARKOV" && kind != "BAYES") {
    in.fail(fmt::format("expected the preamble MARKOV or BAYES, got '{}'", kind));
  }
  constexpr std::int64_t kMaxCount = 100000000;
  FactorGraph g;
  const std::int64_t nv = in.integer("the number of variables", 0, kMaxCount);
  for (std::int64_t v = 0; v < nv; ++v) {
    g.cardinalities.push_back(static_cast<int>(
        in.integer([&] { return fmt::format("the cardinality of variable {}", v); }, 1, 1000000)));
    g.labels.push_back(v);
  }
  const std::int64_t nf = in.integer("the number of factors", 0, kMaxCount);
  for (std::int64_t f = 0; f < nf; ++f) {  // grows as read: nf may promise more than follows
    Factor& fac = g.factors.emplace_back();
    const std::int64_t n =
        in.integer([&] { return fmt::format("the number of variables of factor {}", f); }, 1, 64);
    for (std::int64_t k = 0; k < n; ++k) {
      const int v =
          static_cast<int>(in.integer([&] { return fmt::format("variable {} of factor {}", k, f); },
                                      0, std::max<std::int64_t>(nv - 1, 0)));
      if (nv == 0) in.fail(fmt::format("factor {} names variable {} but there are none", f, v));
      if (std::find(fac.vars.begin(), fac.vars.end(), v) != fac.vars.end()) {
        in.fail(fmt::format("factor {} lists variable {} twice", f, v));
      }
      fac.vars.push_back(v);
    }
  }
  for (std::int64_t f = 0; f < nf; ++f) {
    Factor& fac = g.factors[static_cast<std::size_t>(f)];
    const std::size_t n = fac.vars.size();
    double size = 1;
    for (int v : fac.vars) size *= g.cardinalities[static_cast<std::size_t>(v)];
    if (size > 1e9) in.fail(fmt::format("factor {} has {} table entries (limit 1e9)", f, size));
    check_input_bytes(8 * size,
                      fmt::format("{}: the table of factor {} ({} entries)", path, f, size));
    const auto tsize = static_cast<std::int64_t>(size);
    in.integer(
        [&] { return fmt::format("the number of table entries of factor {} (= {})", f, tsize); },
        tsize, tsize);
    // The file's order has the last variable fastest; ours the first.
    std::vector<std::int64_t> stride(n);
    std::int64_t s = 1;
    for (std::size_t k = 0; k < n; ++k) {
      stride[k] = s;
      s *= g.cardinalities[static_cast<std::size_t>(fac.vars[k])];
    }
    // The values are read before the table is allocated, so a count the file does not back
    // with values ends in a parse error, not in a large allocation.
    std::vector<double> file_order;
    for (std::int64_t i = 0; i < tsize; ++i) {
      file_order.push_back(
          safe_log(in.probability([&] { return fmt::format("entry {} of factor {}", i, f); })));
    }
    fac.log_values.assign(static_cast<std::size_t>(tsize), kNegInf);
    std::vector<int> x(n, 0);
    for (std::int64_t i = 0; i < tsize; ++i) {
      std::int64_t t = 0;
      for (std::size_t k = 0; k < n; ++k) t += stride[k] * x[k];
      fac.log_values[static_cast<std::size_t>(t)] = file_order[static_cast<std::size_t>(i)];
      for (std::size_t k = n; k-- > 0;) {  // odometer, last variable fastest
        if (++x[k] < g.cardinalities[static_cast<std::size_t>(fac.vars[k])]) break;
        x[k] = 0;
      }
    }
  }
  in.expect_end([&] { return fmt::format("the table of the last of the {} factors", nf); });
  return g;
}

std::vector<std::vector<int>> read_uai_evidence(const std::string& path, const FactorGraph& g) {
  detail::LineReader in(path);
  std::vector<std::vector<std::int64_t>> lines;  // tokens of each non-empty line
  std::vector<int> line_no;
  std::string line;
  while (in.next(line)) {
    std::istringstream ss(line);
    std::vector<std::int64_t> toks;
    std::string tok;
    while (ss >> tok) {
      std::int64_t v = 0;
      if (!detail::parse_int64(tok, v)) {
        in.fail(
            fmt::format("expected an integer (evidence count, variable or state), got '{}'", tok));
      }
      toks.push_back(v);
    }
    if (!toks.empty()) {
      lines.push_back(std::move(toks));
      line_no.push_back(in.line_number());
    }
  }
  auto fail_at = [&](int ln, const std::string& what) {
    throw Error(ErrorCode::parse_error, fmt::format("{}:{}: {}", path, ln, what));
  };
  if (lines.empty())
    fail_at(in.line_number(), "expected the number of observed variables, found an empty file");
  // Multi-sample form: a line with only the sample count, then one line per sample.
  std::vector<std::size_t> sample_lines;
  if (lines[0].size() == 1 && lines.size() > 1) {
    const std::int64_t s = lines[0][0];
    if (s < 1 || static_cast<std::size_t>(s) != lines.size() - 1) {
      fail_at(line_no[0], fmt::format("the file has {} evidence lines after the sample count, "
                                      "which says {}",
                                      lines.size() - 1, s));
    }
    for (std::size_t i = 1; i < lines.size(); ++i) sample_lines.push_back(i);
  } else {
    if (lines.size() > 1) fail_at(line_no[1], "expected one line of evidence");
    sample_lines.push_back(0);
  }
  check_input_bytes(4.0 * static_cast<double>(sample_lines.size()) * g.num_variables(),
                    fmt::format("{}: {} evidence samples over {} variables", path,
                                sample_lines.size(), g.num_variables()));
  std::vector<std::vector<int>> out;
  for (std::size_t li : sample_lines) {
    const std::vector<std::int64_t>& t = lines[li];
    const int ln = line_no[li];
    // The count is compared without computing 1 + 2 * count, which overflows for a count
    // near 2^63 (found by fuzz_uai_evidence).
    if (t[0] < 0 || static_cast<std::uint64_t>(t[0]) != (t.size() - 1) / 2 || t.size() % 2 == 0) {
      const std::string need = t[0] >= 0 && t[0] < (std::int64_t{1} << 60)
                                   ? std::to_string(1 + 2 * t[0])
                                   : fmt::format("1 + 2 x {}", t[0]);
      fail_at(ln, fmt::format("the line says {} observed variables, so it needs {} numbers, "
                              "found {}",
                              t[0], need, t.size()));
    }
    std::vector<int> ev(static_cast<std::size_t>(g.num_variables()), -1);
    for (std::int64_t i = 0; i < t[0]; ++i) {
      const std::int64_t v = t[static_cast<std::size_t>(1 + 2 * i)];
      const std::int64_t x = t[static_cast<std::size_t>(2 + 2 * i)];
      if (v < 0 || v >= g.num_variables()) {
        fail_at(ln,
                fmt::format("observed variable {} is out of range [0, {})", v, g.num_variables()));
      }
      const int c = g.cardinalities[static_cast<std::size_t>(v)];
      if (x < 0 || x >= c) {
        fail_at(ln,
                fmt::format("variable {} is observed in state {}, out of range [0, {})", v, x, c));
      }
      if (ev[static_cast<std::size_t>(v)] >= 0 && ev[static_cast<std::size_t>(v)] != x) {
        fail_at(ln, fmt::format("variable {} is observed twice with different states", v));
      }
      ev[static_cast<std::size_t>(v)] = static_cast<int>(x);
    }
    out.push_back(std::move(ev));
  }
  return out;
}

FactorGraph read_factor_graph(const std::string& path) {
  const bool uai = path.size() >= 4 && path.compare(path.size() - 4, 4, ".uai") == 0;
  return uai ? read_uai(path) : read_fg(path);
}

}  // namespace mpe::bp
