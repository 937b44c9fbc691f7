// Edge lists: "src dst [weight]" per line, separated by commas, tabs or spaces.
#include <cmath>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>
#include <mpe/graph.hpp>

#include "graph/text_io.hpp"

namespace mpe {

namespace {
bool is_space(char ch) { return ch == ' ' || ch == '\t'; }

// The line without its comment: a field starting with '#' or '%' runs to the end of the line.
std::string strip_comment(const std::string& line) {
  for (std::size_t p = 0; p < line.size(); ++p) {
    if ((line[p] == '#' || line[p] == '%') &&
        (p == 0 || is_space(line[p - 1]) || line[p - 1] == ',')) {
      return line.substr(0, p);
    }
  }
  return line;
}

// Fields of a line: split on commas when it has any (fields trimmed, so "1, 2" and "1 , 2" are
// two fields and "1,,2" has an empty one), otherwise on runs of spaces and tabs. Empty for a
// blank line.
std::vector<std::string> split_fields(const std::string& line) {
  std::vector<std::string> out;
  const bool commas = line.find(',') != std::string::npos;
  std::string cur;
  bool any = false;  // the current field has a character
  for (std::size_t p = 0; p < line.size(); ++p) {
    const char ch = line[p];
    if (commas ? ch == ',' : is_space(ch)) {
      if (commas || any) out.push_back(cur);
      cur.clear();
      any = false;
    } else if (!is_space(ch)) {
      if (any && is_space(line[p - 1])) cur.push_back(' ');  // "a b, c": the field "a b"
      cur.push_back(ch);
      any = true;
    }
  }
  if (commas || any) out.push_back(cur);
  return out;
}
}  // namespace

EdgeList read_edge_list(const std::string& path, const EdgeListOptions& options) {
  detail::LineReader in(path);
  EdgeList result;
  Coo& coo = result.coo;
  std::unordered_map<std::string, std::int64_t> ids;
  std::int64_t max_id = -1;
  std::size_t columns = 0;
  bool header_pending = options.header;
  auto node = [&](const std::string& token) -> std::int64_t {
    if (options.relabel) {
      auto [it, fresh] = ids.emplace(token, static_cast<std::int64_t>(result.node_ids.size()));
      if (fresh) result.node_ids.push_back(token);
      return it->second;
    }
    std::int64_t v = 0;
    if (!detail::parse_int64(token, v) || v < 0 || v >= std::int64_t(INT32_MAX)) {
      in.fail(
          fmt::format("node id '{}' is not an integer in [0, 2^31 - 1) (use relabelling for "
                      "other ids)",
                      token));
    }
    max_id = std::max(max_id, v);
    return v;
  };
  std::string line;
  while (in.next(line)) {
    const auto f = split_fields(strip_comment(line));
    if (f.empty()) continue;  // blank or comment
    if (header_pending) {
      header_pending = false;
      continue;
    }
    if (f.size() != 2 && f.size() != 3) {
      in.fail(fmt::format("expected 'src dst' or 'src dst weight', got {} fields", f.size()));
    }
    for (const auto& field : f) {
      if (field.empty()) in.fail("empty field");
    }
    if (columns == 0) columns = f.size();
    if (f.size() != columns) {
      in.fail(fmt::format("{} fields, but earlier lines have {}", f.size(), columns));
    }
    coo.rows.push_back(node(f[0]));
    coo.cols.push_back(node(f[1]));
    if (columns == 3) {
      float w = 0;
      if (!detail::parse_float(f[2], w) || !std::isfinite(w)) {
        in.fail(fmt::format("weight '{}' is not a finite number", f[2]));
      }
      coo.weights.push_back(w);
    }
  }
  const std::int64_t n =
      options.relabel ? static_cast<std::int64_t>(result.node_ids.size()) : max_id + 1;
  coo.num_rows = n;
  coo.num_cols = n;
  return result;
}

void write_edge_list_csv(const std::string& path, const Csr& csr) {
  const Coo coo = csr_to_coo(csr);  // validates, before anything is written
  const bool weighted = !coo.weights.empty();
  detail::write_atomically(path, [&](std::ostream& out) {
    out << (weighted ? "src,dst,weight\n" : "src,dst\n");
    for (std::size_t k = 0; k < coo.rows.size(); ++k) {
      out << coo.rows[k] << ',' << coo.cols[k];
      if (weighted) out << ',' << fmt::format("{:.9g}", coo.weights[k]);
      out << '\n';
    }
  });
}

}  // namespace mpe
