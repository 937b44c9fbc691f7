// Import from nodes.csv / edges.csv (+ embeddings .npy or TextEmbedder) and export back.
// CSV: RFC 4180 (commas, double-quoted fields with "" escapes and embedded newlines), a header
// naming the columns in any order; Neo4j's export names (:ID, :LABEL, :START_ID, ...) accepted.
#include <sys/stat.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <mpe/error.hpp>
#include <mpe/npy.hpp>
#include <mpe/text.hpp>

#include "graph/text_io.hpp"
#include "relevance/detail.hpp"

namespace mpe::relevance {

namespace {

struct CsvRow {
  int line = 0;  // line where the record starts
  std::vector<std::string> fields;
};

std::vector<CsvRow> read_csv(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorCode::io_error, fmt::format("{}: cannot open", path));
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  std::vector<CsvRow> rows;
  CsvRow row;
  std::string field;
  int line = 1;
  row.line = 1;
  bool quoted = false, in_field = false, after_quote = false;
  auto end_field = [&] {
    row.fields.push_back(field);
    field.clear();
    in_field = false;
    after_quote = false;
  };
  auto end_row = [&] {
    end_field();
    const bool blank = row.fields.size() == 1 && row.fields[0].empty();
    if (!blank) rows.push_back(row);
    row = CsvRow{};
    row.line = line + 1;
  };
  for (std::size_t k = 0; k < text.size(); ++k) {
    const char c = text[k];
    if (quoted) {
      if (c == '"') {
        if (k + 1 < text.size() && text[k + 1] == '"') {
          field.push_back('"');
          ++k;
        } else {
          quoted = false;
          after_quote = true;
        }
      } else {
        if (c == '\n') ++line;
        field.push_back(c);
      }
      continue;
    }
    if (c == ',') {
      end_field();
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && k + 1 < text.size() && text[k + 1] == '\n') ++k;
      end_row();
      ++line;
    } else if (c == '"' && !in_field && field.empty()) {
      quoted = true;
      in_field = true;
    } else {
      if (after_quote)
        throw Error(ErrorCode::parse_error,
                    fmt::format("{}:{}: text after a closing quote", path, line));
      field.push_back(c);
      in_field = true;
    }
  }
  if (quoted)
    throw Error(ErrorCode::parse_error,
                fmt::format("{}:{}: quoted field not closed at the end of the file", path, row.line));
  if (!field.empty() || !row.fields.empty()) end_row();
  return rows;
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

// Column positions by name (with aliases); -1 when absent.
struct Columns {
  std::map<std::string, int> pos;
  int get(std::initializer_list<const char*> names) const {
    for (const char* n : names) {
      auto it = pos.find(n);
      if (it != pos.end()) return it->second;
    }
    return -1;
  }
};

Columns header(const std::vector<CsvRow>& rows, const std::string& path) {
  if (rows.empty()) throw Error(ErrorCode::parse_error, fmt::format("{}: empty file (no header)", path));
  Columns c;
  for (std::size_t k = 0; k < rows[0].fields.size(); ++k) {
    std::string name = trim(rows[0].fields[k]);
    if (k == 0 && name.size() >= 3 && name.compare(0, 3, "\xEF\xBB\xBF") == 0) name = name.substr(3);
    // Neo4j headers carry a type suffix ("weight:float"); keep ":ID"-like names whole.
    const auto colon = name.find(':');
    if (colon != std::string::npos && colon > 0) name = name.substr(0, colon);
    for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (!c.pos.emplace(name, int(k)).second)
      throw Error(ErrorCode::parse_error, fmt::format("{}:1: column '{}' appears twice", path, name));
  }
  return c;
}

float parse_unit(const std::string& text, float fallback, const std::string& where,
                 const char* field) {
  const std::string t = trim(text);
  if (t.empty()) return fallback;
  float v = 0;
  if (!mpe::detail::parse_float(t, v) || !std::isfinite(v))
    throw Error(ErrorCode::parse_error, fmt::format("{}: {} '{}' is not a number", where, field, t));
  return v;
}

bool parse_bool(const std::string& text, const std::string& where) {
  std::string t = trim(text);
  for (auto& ch : t) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (t.empty() || t == "0" || t == "false" || t == "no") return false;
  if (t == "1" || t == "true" || t == "yes") return true;
  throw Error(ErrorCode::parse_error, fmt::format("{}: universal '{}' is not true/false", where, t));
}

// Calls f(where, at) for every data row of a CSV file (rows[0] is the header): `where` is
// "path:line", at(k) the text of column k ("" for a column the file lacks, k < 0). A row whose
// field count differs from the header's is a parse error.
template <class F>
void for_each_record(const std::vector<CsvRow>& rows, const std::string& path, const F& f) {
  for (std::size_t r = 1; r < rows.size(); ++r) {
    const CsvRow& row = rows[r];
    const std::string where = fmt::format("{}:{}", path, row.line);
    if (row.fields.size() != rows[0].fields.size())
      throw Error(ErrorCode::parse_error, fmt::format("{}: {} fields, the header has {}", where,
                                                      row.fields.size(), rows[0].fields.size()));
    const auto at = [&](int k) { return k < 0 ? std::string() : row.fields[std::size_t(k)]; };
    f(where, at);
  }
}

struct NodeFile {
  std::vector<Node> nodes;
  std::vector<std::string> where;
};

NodeFile read_nodes(const std::string& path) {
  const auto rows = read_csv(path);
  const Columns c = header(rows, path);
  const int id = c.get({"id", ":id", "entity_id", "node_id"});
  const int type = c.get({"type", ":label", "entity_type", "label"});
  const int title = c.get({"title", "name"});
  const int content = c.get({"content", "text", "description"});
  const int uni = c.get({"universal"}), level = c.get({"level"}), res = c.get({"residual"});
  const int dec = c.get({"decay"}), th = c.get({"threshold"}), tw = c.get({"type_weights"});
  if (id < 0 || type < 0)
    throw Error(ErrorCode::parse_error,
                fmt::format("{}:1: header needs columns 'id' and 'type' (got {} columns)", path,
                            rows[0].fields.size()));
  NodeFile f;
  for_each_record(rows, path, [&](const std::string& where, const auto& at) {
    Node n;
    n.id = trim(at(id));
    n.type = trim(at(type));
    n.title = at(title).empty() ? n.id : at(title);
    n.content = at(content);
    n.universal = parse_bool(at(uni), where);
    if (!trim(at(level)).empty()) {
      std::int64_t lv = 0;
      if (!mpe::detail::parse_int64(trim(at(level)), lv) || lv < -1000000 || lv > 1000000)
        throw Error(ErrorCode::parse_error, fmt::format("{}: level '{}' is not an integer", where, at(level)));
      n.level = int(lv);
    }
    n.residual = parse_unit(at(res), n.residual, where, "residual");
    n.decay = parse_unit(at(dec), n.decay, where, "decay");
    n.threshold = parse_unit(at(th), n.threshold, where, "threshold");
    n.type_weights = detail::parse_type_weights(at(tw), where);
    f.nodes.push_back(std::move(n));
    f.where.push_back(where);
  });
  return f;
}

struct EdgeFile {
  std::vector<Edge> edges;
  std::vector<std::string> where;
};

EdgeFile read_edges(const std::string& path) {
  const auto rows = read_csv(path);
  const Columns c = header(rows, path);
  const int src = c.get({"source", ":start_id", "source_id", "src", "from"});
  const int dst = c.get({"target", ":end_id", "target_id", "dst", "to"});
  const int type = c.get({"type", ":type", "relationship_type", "relation"});
  const int w = c.get({"weight"}), conf = c.get({"confidence"}), sr = c.get({"success_rate"});
  if (src < 0 || dst < 0 || type < 0)
    throw Error(ErrorCode::parse_error,
                fmt::format("{}:1: header needs columns 'source', 'target' and 'type'", path));
  EdgeFile f;
  for_each_record(rows, path, [&](const std::string& where, const auto& at) {
    Edge e;
    e.source = trim(at(src));
    e.target = trim(at(dst));
    e.type = trim(at(type));
    e.weight = parse_unit(at(w), e.weight, where, "weight");
    e.confidence = parse_unit(at(conf), e.confidence, where, "confidence");
    e.success_rate = parse_unit(at(sr), e.success_rate, where, "success_rate");
    f.edges.push_back(std::move(e));
    f.where.push_back(where);
  });
  return f;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos && (s.empty() || (s.front() != ' ' && s.back() != ' ')))
    return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

std::vector<float> import_embeddings(const NodeFile& nf, const ImportOptions& opt, int dim,
                                     const std::string& nodes_csv) {
  const std::size_t N = nf.nodes.size();
  std::vector<float> emb;
  if (!opt.embeddings_npy.empty()) {
    const Tensor t = read_npy_f32(opt.embeddings_npy);
    if (t.rank() != 2 || t.dim(0) != std::int64_t(N) || t.dim(1) != dim)
      throw Error(ErrorCode::shape_mismatch,
                  fmt::format("{}: embeddings must be [{} nodes of {}, dim {}], got {}",
                              opt.embeddings_npy, N, nodes_csv, dim, shape_str(t.shape())));
    emb = t.to_vector<float>();
    for (std::size_t i = 0; i < N; ++i)
      detail::check_embedding(emb.data() + i * std::size_t(dim), dim,
                              fmt::format("{} row {} (node '{}', {})", opt.embeddings_npy, i,
                                          nf.nodes[i].id, nf.where[i]));
  } else if (opt.encoder) {
    std::vector<std::string> texts;
    for (const Node& n : nf.nodes) texts.push_back(n.title + ". " + n.content);
    emb = opt.encoder->encode(texts).to_vector<float>();
  } else {
    const TextEmbedder embedder(dim);
    emb.reserve(N * std::size_t(dim));
    for (std::size_t i = 0; i < N; ++i) {
      const Node& n = nf.nodes[i];
      std::vector<float> v = embedder.embed(n.title + ". " + n.content);
      double s = 0;
      for (float x : v) s += double(x) * x;
      if (s == 0.0)
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("{}: node '{}' has no words to embed (title and content empty)",
                                nf.where[i], n.id));
      emb.insert(emb.end(), v.begin(), v.end());
    }
  }
  return emb;
}

int npy_dim(const std::string& path) {
  const Tensor t = read_npy_f32(path);
  if (t.rank() != 2)
    throw Error(ErrorCode::shape_mismatch,
                fmt::format("{}: embeddings must be 2-D [nodes, dim], got {}", path, shape_str(t.shape())));
  return int(t.dim(1));
}
}  // namespace

void Store::import_csv(const std::string& nodes_csv, const std::string& edges_csv,
                       const ImportOptions& options) {
  const NodeFile nf = read_nodes(nodes_csv);
  const EdgeFile ef = edges_csv.empty() ? EdgeFile{} : read_edges(edges_csv);
  auto lock = impl_->write_lock();
  const int text_dim = options.encoder ? options.encoder->dim() : options.embed_dim;
  if (options.embeddings_npy.empty() && text_dim != impl_->g.dim)
    throw Error(ErrorCode::invalid_argument,
                fmt::format("import: the text embedder's dimension {} differs from the store's {}",
                            text_dim, impl_->g.dim));
  const std::vector<float> emb = import_embeddings(nf, options, impl_->g.dim, nodes_csv);
  impl_->insert(nf.nodes, emb, ef.edges, [&](std::size_t k) { return nf.where[k]; },
                [&](std::size_t k) { return ef.where[k]; });
  const std::string embedder = !options.embeddings_npy.empty() ? "external"
                               : options.encoder             ? options.encoder->name()
                                                             : TextEmbedder::name();
  if (impl_->embedder != embedder) {
    const std::string merged =
        impl_->embedder.empty() || impl_->g.n() == std::int64_t(nf.nodes.size()) ? embedder : "mixed";
    sql::Stmt m(*impl_->db, "UPDATE meta SET value = ? WHERE key = 'embedder'");
    m.bind(1, merged).run();
    impl_->embedder = merged;
  }
}

Store Store::import(const std::string& path, const std::string& nodes_csv,
                    const std::string& edges_csv, const ImportOptions& options) {
  const int dim = !options.embeddings_npy.empty() ? npy_dim(options.embeddings_npy)
                  : options.encoder             ? options.encoder->dim()
                                                : options.embed_dim;
  Store s = create(path, dim);
  try {
    s.import_csv(nodes_csv, edges_csv, options);
  } catch (...) {
    s.impl_->db.reset();
    std::remove(path.c_str());
    std::remove((path + "-wal").c_str());
    std::remove((path + "-shm").c_str());
    throw;
  }
  return s;
}

void Store::export_csv(const std::string& dir) const {
  auto lock = impl_->read_lock();
  const detail::GraphData& g = impl_->g;
  ::mkdir(dir.c_str(), 0755);
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    throw Error(ErrorCode::io_error, fmt::format("export: {} is not a directory", dir));
  mpe::detail::write_atomically(dir + "/nodes.csv", [&](std::ostream& o) {
    o << "id,type,title,content,universal,level,residual,decay,threshold,type_weights\n";
    for (const Node& n : g.nodes) {
      o << csv_field(n.id) << ',' << csv_field(n.type) << ',' << csv_field(n.title) << ','
        << csv_field(n.content) << ',' << (n.universal ? "true" : "false") << ',' << n.level
        << ',' << fmt::format("{:.9g},{:.9g},{:.9g}", n.residual, n.decay, n.threshold) << ','
        << csv_field(detail::format_type_weights(n.type_weights)) << '\n';
    }
  });
  mpe::detail::write_atomically(dir + "/edges.csv", [&](std::ostream& o) {
    o << "source,target,type,weight,confidence,success_rate\n";
    for (const auto& e : g.edges) {
      o << csv_field(g.nodes[std::size_t(e.src)].id) << ',' << csv_field(g.nodes[std::size_t(e.dst)].id)
        << ',' << csv_field(g.type_names[std::size_t(e.type)]) << ','
        << fmt::format("{:.9g},{:.9g},{:.9g}", e.weight, e.confidence, e.success_rate) << '\n';
    }
  });
  write_npy(dir + "/embeddings.npy",
            Tensor::from_vector(g.emb_raw, {g.n(), std::int64_t(g.dim)}));
}

}  // namespace mpe::relevance
