// Matrix Market coordinate files: read (real, integer, pattern; general, symmetric,
// skew-symmetric) and write (general; real or pattern).
#include <algorithm>
#include <cctype>
#include <cmath>
#include <sstream>
#include <vector>

#include <fmt/format.h>
#include <mpe/graph.hpp>
#include <mpe/limits.hpp>

#include "graph/text_io.hpp"

namespace mpe {

namespace {
std::vector<std::string> split_ws(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> out;
  for (std::string tok; in >> tok;) out.push_back(tok);
  return out;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// A value of a real or integer field; integers must be written as integers.
bool parse_value(const std::string& token, bool integer, float& value) {
  if (!integer) return detail::parse_float(token, value);
  std::int64_t v = 0;
  if (!detail::parse_int64(token, v)) return false;
  value = static_cast<float>(v);
  return true;
}

bool blank_or_comment(const std::string& line) {
  const auto p = line.find_first_not_of(" \t");
  return p == std::string::npos || line[p] == '%';
}
}  // namespace

Coo read_matrix_market(const std::string& path) {
  detail::LineReader in(path);
  std::string line;
  if (!in.next(line)) {
    throw Error(ErrorCode::parse_error,
                fmt::format("{}:1: empty file, expected a '%%MatrixMarket' banner", path));
  }
  const auto banner = split_ws(line);
  if (banner.size() != 5 || lower(banner[0]) != "%%matrixmarket") {
    in.fail("expected '%%MatrixMarket matrix coordinate <field> <symmetry>'");
  }
  const std::string object = lower(banner[1]), format = lower(banner[2]);
  const std::string field = lower(banner[3]), symmetry = lower(banner[4]);
  if (object != "matrix")
    in.fail(fmt::format("object '{}' is not supported (only matrix)", object));
  if (format != "coordinate") {
    in.fail(fmt::format("format '{}' is not supported (only coordinate)", format));
  }
  if (field != "real" && field != "integer" && field != "pattern") {
    in.fail(fmt::format("field '{}' is not supported (real, integer or pattern)", field));
  }
  if (symmetry != "general" && symmetry != "symmetric" && symmetry != "skew-symmetric") {
    in.fail(fmt::format("symmetry '{}' is not supported (general, symmetric, skew-symmetric)",
                        symmetry));
  }
  if (field == "pattern" && symmetry == "skew-symmetric") {
    in.fail("a pattern matrix cannot be skew-symmetric");
  }
  const bool pattern = field == "pattern";
  const bool integer = field == "integer";

  do {
    if (!in.next(line)) in.fail("missing the size line 'rows cols entries'");
  } while (blank_or_comment(line));
  const auto size = split_ws(line);
  std::int64_t rows = 0, cols = 0, entries = 0;
  if (size.size() != 3 || !detail::parse_int64(size[0], rows) ||
      !detail::parse_int64(size[1], cols) || !detail::parse_int64(size[2], entries) || rows < 0 ||
      cols < 0 || entries < 0) {
    in.fail("expected the size line 'rows cols entries' with three non-negative integers");
  }
  if (symmetry != "general" && rows != cols) {
    in.fail(fmt::format("a {} matrix must be square, got {} x {}", symmetry, rows, cols));
  }

  // What the declared entries would take as COO (two int64 indices and a weight, both
  // triangles of a symmetric file), checked before anything is reserved; the reservation
  // itself stays small, since the file may hold far fewer entries than it declares.
  const double per_entry = (pattern ? 16.0 : 20.0) * (symmetry == "general" ? 1 : 2);
  check_input_bytes(per_entry * static_cast<double>(entries),
                    fmt::format("{}:{}: {} declared entries", path, in.line_number(), entries));
  Coo coo;
  coo.num_rows = rows;
  coo.num_cols = cols;
  const std::size_t reserve = static_cast<std::size_t>(std::min<std::int64_t>(entries, 1 << 20));
  coo.rows.reserve(reserve);
  coo.cols.reserve(reserve);
  if (!pattern) coo.weights.reserve(reserve);
  const std::size_t want_tokens = pattern ? 2 : 3;
  std::int64_t seen = 0;
  while (in.next(line)) {
    if (blank_or_comment(line)) continue;
    if (seen == entries) in.fail(fmt::format("more entries than the {} declared", entries));
    const auto tok = split_ws(line);
    std::int64_t r = 0, c = 0;
    float w = 1.0f;
    if (tok.size() != want_tokens || !detail::parse_int64(tok[0], r) ||
        !detail::parse_int64(tok[1], c) || (!pattern && !parse_value(tok[2], integer, w))) {
      in.fail(pattern   ? "expected 'row col' (two integers)"
              : integer ? "expected 'row col value' (three integers)"
                        : "expected 'row col value' (two integers and a number)");
    }
    if (r < 1 || r > rows || c < 1 || c > cols) {
      in.fail(
          fmt::format("entry ({}, {}) is outside the 1-based {} x {} matrix", r, c, rows, cols));
    }
    if (!std::isfinite(w)) in.fail(fmt::format("value '{}' is not finite", tok[2]));
    if (symmetry == "skew-symmetric" && r == c && w != 0.0f) {
      in.fail(fmt::format("diagonal entry ({}, {}) = {} in a skew-symmetric matrix (must be 0)", r,
                          c, tok[2]));
    }
    coo.rows.push_back(r - 1);
    coo.cols.push_back(c - 1);
    if (!pattern) coo.weights.push_back(w);
    if (symmetry != "general" && r != c) {  // the file stores one triangle
      coo.rows.push_back(c - 1);
      coo.cols.push_back(r - 1);
      if (!pattern) coo.weights.push_back(symmetry == "skew-symmetric" ? -w : w);
    }
    ++seen;
  }
  if (seen != entries) {
    in.fail(fmt::format("file ends after {} entries, {} declared", seen, entries));
  }
  return coo;
}

void write_matrix_market(const std::string& path, const Csr& csr) {
  const Coo coo = csr_to_coo(csr);  // validates, before anything is written
  const bool weighted = !coo.weights.empty();
  detail::write_atomically(path, [&](std::ostream& out) {
    out << "%%MatrixMarket matrix coordinate " << (weighted ? "real" : "pattern") << " general\n";
    out << "% written by mpengine\n";
    out << coo.num_rows << ' ' << coo.num_cols << ' ' << coo.rows.size() << '\n';
    for (std::size_t k = 0; k < coo.rows.size(); ++k) {
      out << coo.rows[k] + 1 << ' ' << coo.cols[k] + 1;
      if (weighted) out << ' ' << fmt::format("{:.9g}", coo.weights[k]);
      out << '\n';
    }
  });
}

}  // namespace mpe
