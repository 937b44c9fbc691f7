// Edge lists: "src dst [weight]" per line, separated by commas, tabs or spaces.
#include <cmath>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>
#include <mpe/graph.hpp>

#include "graph/text_io.hpp"

namespace mpe {

namespace {
std::vector<std::string> split_fields(const std::string& line) {
  std::vector<std::string> out;
  std::string cur;
  bool in_token = false;
  for (char ch : line) {
    if (ch == ',' || ch == ' ' || ch == '\t') {
      if (in_token || ch == ',') {
        if (in_token || !cur.empty() || ch == ',') out.push_back(cur);
        cur.clear();
        in_token = false;
      }
    } else {
      cur.push_back(ch);
      in_token = true;
    }
  }
  if (in_token) out.push_back(cur);
  return out;
}

bool skip_line(const std::string& line) {
  const auto p = line.find_first_not_of(" \t");
  return p == std::string::npos || line[p] == '#' || line[p] == '%';
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
    if (skip_line(line)) continue;
    if (header_pending) {
      header_pending = false;
      continue;
    }
    const auto f = split_fields(line);
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
  validate(csr);
  const Coo coo = csr_to_coo(csr);
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
