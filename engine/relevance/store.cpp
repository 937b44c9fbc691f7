// The relevance store's SQLite layer: schema, opening and creating files, loading the graph,
// validated all-or-nothing writes. The in-memory graph it loads into is graph_data.cpp.
#include <sys/stat.h>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <tuple>
#include <utility>

#include <fmt/format.h>
#include <mpe/error.hpp>

#include "relevance/detail.hpp"

namespace mpe::relevance {

namespace {
using detail::GraphData;

constexpr const char* kSchema = R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE nodes(
  idx INTEGER PRIMARY KEY,          -- 0-based node index, dense
  id TEXT NOT NULL UNIQUE,
  type TEXT NOT NULL,
  title TEXT NOT NULL,
  content TEXT NOT NULL,
  universal INTEGER NOT NULL,
  level INTEGER NOT NULL,
  residual REAL NOT NULL,
  decay REAL NOT NULL,
  threshold REAL NOT NULL,
  type_weights TEXT NOT NULL,       -- "TYPE=w;TYPE=w"
  embedding BLOB NOT NULL);         -- float32 [dim], little-endian
CREATE TABLE edges(
  eid INTEGER PRIMARY KEY AUTOINCREMENT,
  source INTEGER NOT NULL REFERENCES nodes(idx),
  target INTEGER NOT NULL REFERENCES nodes(idx),
  type TEXT NOT NULL,
  weight REAL NOT NULL,
  confidence REAL NOT NULL,
  success_rate REAL NOT NULL,
  UNIQUE(source, target, type));
)sql";

bool file_exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

std::string meta_value(sql::Db& db, const std::string& key) {
  sql::Stmt st(db, "SELECT value FROM meta WHERE key = ?");
  st.bind(1, key);
  return st.step() ? st.col_text(0) : std::string();
}
}  // namespace

// ------------------------------------------------------------------ Impl

void Store::Impl::load() {
  GraphData fresh;
  const std::string version = meta_value(*db, "schema_version");
  if (version.empty())
    throw Error(ErrorCode::parse_error,
                fmt::format("{}: not a relevance store (no schema version)", path));
  if (version != std::to_string(kSchemaVersion))
    throw Error(ErrorCode::parse_error, fmt::format("{}: schema version {} (this build reads {})",
                                                    path, version, kSchemaVersion));
  fresh.dim = std::atoi(meta_value(*db, "dim").c_str());
  if (fresh.dim < 1) throw Error(ErrorCode::parse_error, fmt::format("{}: bad dimension", path));
  embedder = meta_value(*db, "embedder");
  sql::Stmt ns(
      *db,
      "SELECT idx, id, type, title, content, universal, level, residual, decay, threshold, "
      "type_weights, embedding FROM nodes ORDER BY idx");
  while (ns.step()) {
    const std::int64_t idx = ns.col_int(0);
    if (idx != fresh.n())
      throw Error(ErrorCode::parse_error,
                  fmt::format("{}: node indices are not dense at {}", path, idx));
    Node n;
    n.id = ns.col_text(1);
    n.type = ns.col_text(2);
    n.title = ns.col_text(3);
    n.content = ns.col_text(4);
    n.universal = ns.col_int(5) != 0;
    n.level = static_cast<int>(ns.col_int(6));
    n.residual = static_cast<float>(ns.col_double(7));
    n.decay = static_cast<float>(ns.col_double(8));
    n.threshold = static_cast<float>(ns.col_double(9));
    n.type_weights = detail::parse_type_weights(ns.col_text(10), path);
    try {  // a file holds what an insert would refuse only if it was written by something else
      detail::check_node(n, path);
    } catch (const Error& bad) {
      throw Error(ErrorCode::parse_error, bad.message());
    }
    std::vector<float> emb = ns.col_floats(11);
    if (static_cast<int>(emb.size()) != fresh.dim)
      throw Error(ErrorCode::parse_error,
                  fmt::format("{}: node '{}' has a {}-float embedding, store dimension {}", path,
                              n.id, emb.size(), fresh.dim));
    fresh.index.emplace(n.id, idx);
    fresh.nodes.push_back(std::move(n));
    fresh.emb_raw.insert(fresh.emb_raw.end(), emb.begin(), emb.end());
  }
  sql::Stmt es(*db,
               "SELECT eid, source, target, type, weight, confidence, success_rate FROM edges "
               "ORDER BY eid");
  while (es.step()) {
    detail::EdgeRec e;
    e.rowid = es.col_int(0);
    e.src = static_cast<std::int32_t>(es.col_int(1));
    e.dst = static_cast<std::int32_t>(es.col_int(2));
    if (e.src < 0 || e.src >= fresh.n() || e.dst < 0 || e.dst >= fresh.n())
      throw Error(ErrorCode::parse_error,
                  fmt::format("{}: edge {} names a missing node", path, e.rowid));
    e.type = fresh.type_id(es.col_text(3));
    e.weight = static_cast<float>(es.col_double(4));
    e.confidence = static_cast<float>(es.col_double(5));
    e.success_rate = static_cast<float>(es.col_double(6));
    for (const auto& [field, v] : {std::pair<const char*, float>{"weight", e.weight},
                                   {"confidence", e.confidence},
                                   {"success_rate", e.success_rate}}) {
      if (!detail::unit(v))
        throw Error(ErrorCode::parse_error,
                    fmt::format("{}: edge {}: {} {} is outside [0, 1]", path, e.rowid, field, v));
    }
    fresh.edges.push_back(e);
  }
  fresh.emb_norm.resize(fresh.emb_raw.size());
  for (std::int64_t i = 0; i < fresh.n(); ++i) {
    const float* v = fresh.emb_raw.data() + i * fresh.dim;
    double s = 0;
    for (int k = 0; k < fresh.dim; ++k) s += double(v[k]) * v[k];
    const double inv = s > 0 ? 1.0 / std::sqrt(s) : 0.0;
    for (int k = 0; k < fresh.dim; ++k)
      fresh.emb_norm[std::size_t(i * fresh.dim + k)] = static_cast<float>(v[k] * inv);
  }
  fresh.rebuild_node_arrays();
  fresh.rebuild_csr();
  g = std::move(fresh);
}

void Store::Impl::insert(const std::vector<Node>& nodes, const std::vector<float>& emb,
                         const std::vector<Edge>& edges,
                         const std::function<std::string(std::size_t)>& node_where,
                         const std::function<std::string(std::size_t)>& edge_where) {
  const int dim = g.dim;
  if (emb.size() != nodes.size() * std::size_t(dim))
    throw Error(ErrorCode::shape_mismatch,
                fmt::format("embeddings: {} floats for {} nodes of dimension {} (expected {})",
                            emb.size(), nodes.size(), dim, nodes.size() * std::size_t(dim)));
  // Validate everything before touching the file.
  std::unordered_map<std::string, std::int64_t> new_index;
  for (std::size_t k = 0; k < nodes.size(); ++k) {
    const Node& n = nodes[k];
    detail::check_node(n, node_where(k));
    if (g.index.count(n.id) || !new_index.emplace(n.id, g.n() + std::int64_t(k)).second)
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("{}: duplicate node id '{}'", node_where(k), n.id));
    detail::check_embedding(emb.data() + k * std::size_t(dim), dim,
                            fmt::format("{} (node '{}')", node_where(k), n.id));
  }
  auto lookup = [&](const std::string& id, const std::string& where, const char* role) {
    auto it = g.index.find(id);
    if (it != g.index.end()) return it->second;
    auto jt = new_index.find(id);
    if (jt != new_index.end()) return jt->second;
    throw Error(ErrorCode::invalid_argument,
                fmt::format("{}: unknown {} node id '{}'", where, role, id));
  };
  struct Key {
    std::int64_t s, t;
    std::string type;
    bool operator<(const Key& o) const { return std::tie(s, t, type) < std::tie(o.s, o.t, o.type); }
  };
  std::map<Key, std::size_t> seen;
  for (const detail::EdgeRec& e : g.edges)
    seen.emplace(Key{e.src, e.dst, g.type_names[std::size_t(e.type)]}, SIZE_MAX);
  std::vector<std::pair<std::int64_t, std::int64_t>> ends(edges.size());
  for (std::size_t k = 0; k < edges.size(); ++k) {
    const Edge& e = edges[k];
    const std::string where = edge_where(k);
    detail::check_edge_values(e, where);
    ends[k] = {lookup(e.source, where, "source"), lookup(e.target, where, "target")};
    auto [it, fresh] = seen.emplace(Key{ends[k].first, ends[k].second, e.type}, k);
    if (!fresh)
      throw Error(
          ErrorCode::invalid_argument,
          fmt::format("{}: duplicate edge {} -[{}]-> {}{}", where, e.source, e.type, e.target,
                      it->second == SIZE_MAX ? " (already in the store)"
                                             : " (also " + edge_where(it->second) + ")"));
  }
  // Write in one transaction.
  std::vector<std::int64_t> rowids(edges.size());
  {
    sql::Transaction tx(*db);
    sql::Stmt ins(*db,
                  "INSERT INTO nodes(idx, id, type, title, content, universal, level, residual, "
                  "decay, threshold, type_weights, embedding) VALUES(?,?,?,?,?,?,?,?,?,?,?,?)");
    for (std::size_t k = 0; k < nodes.size(); ++k) {
      const Node& n = nodes[k];
      ins.bind(1, g.n() + std::int64_t(k))
          .bind(2, n.id)
          .bind(3, n.type)
          .bind(4, n.title)
          .bind(5, n.content)
          .bind(6, std::int64_t(n.universal))
          .bind(7, std::int64_t(n.level))
          .bind(8, double(n.residual))
          .bind(9, double(n.decay))
          .bind(10, double(n.threshold))
          .bind(11, detail::format_type_weights(n.type_weights))
          .bind_blob(12, emb.data() + k * std::size_t(dim), std::size_t(dim) * sizeof(float));
      ins.run();
    }
    sql::Stmt ie(*db,
                 "INSERT INTO edges(source, target, type, weight, confidence, success_rate) "
                 "VALUES(?,?,?,?,?,?)");
    for (std::size_t k = 0; k < edges.size(); ++k) {
      const Edge& e = edges[k];
      ie.bind(1, ends[k].first)
          .bind(2, ends[k].second)
          .bind(3, e.type)
          .bind(4, double(e.weight))
          .bind(5, double(e.confidence))
          .bind(6, double(e.success_rate));
      ie.run();
      rowids[k] = db->last_rowid();
    }
    tx.commit();
  }
  // Then the loaded graph.
  for (std::size_t k = 0; k < nodes.size(); ++k) {
    g.index.emplace(nodes[k].id, g.n());
    g.nodes.push_back(nodes[k]);
    const float* v = emb.data() + k * std::size_t(dim);
    g.emb_raw.insert(g.emb_raw.end(), v, v + dim);
    double s = 0;
    for (int c = 0; c < dim; ++c) s += double(v[c]) * v[c];
    const double inv = 1.0 / std::sqrt(s);
    for (int c = 0; c < dim; ++c) g.emb_norm.push_back(static_cast<float>(v[c] * inv));
  }
  for (std::size_t k = 0; k < edges.size(); ++k) {
    detail::EdgeRec r;
    r.rowid = rowids[k];
    r.src = static_cast<std::int32_t>(ends[k].first);
    r.dst = static_cast<std::int32_t>(ends[k].second);
    r.type = g.type_id(edges[k].type);
    r.weight = edges[k].weight;
    r.confidence = edges[k].confidence;
    r.success_rate = edges[k].success_rate;
    g.edges.push_back(r);
  }
  g.rebuild_node_arrays();
  g.rebuild_csr();
  invalidate_devices();
}

// ------------------------------------------------------------------ Store

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Store::Store(Store&&) noexcept = default;
Store& Store::operator=(Store&&) noexcept = default;
Store::~Store() = default;

namespace {
std::unique_ptr<Store::Impl> make_store(const std::string& path, int dim, bool memory) {
  if (dim < 1)
    throw Error(ErrorCode::invalid_argument,
                fmt::format("relevance store: dimension {} must be >= 1", dim));
  if (!memory && file_exists(path))
    throw Error(ErrorCode::io_error, fmt::format("relevance store {}: file already exists", path));
  auto impl = std::make_unique<Store::Impl>();
  impl->path = memory ? std::string() : path;
  impl->db = std::make_unique<sql::Db>(memory ? ":memory:" : path, true);
  try {
    impl->db->exec("PRAGMA journal_mode=WAL");
    impl->db->exec("PRAGMA synchronous=FULL");
    sql::Transaction tx(*impl->db);
    impl->db->exec(kSchema);
    sql::Stmt m(*impl->db, "INSERT INTO meta(key, value) VALUES(?, ?)");
    m.bind(1, std::string("schema_version")).bind(2, std::to_string(kSchemaVersion)).run();
    m.bind(1, std::string("dim")).bind(2, std::to_string(dim)).run();
    m.bind(1, std::string("embedder")).bind(2, std::string()).run();
    tx.commit();
  } catch (...) {
    impl->db.reset();
    if (!memory) {
      std::remove(path.c_str());
      std::remove((path + "-wal").c_str());
      std::remove((path + "-shm").c_str());
    }
    throw;
  }
  impl->g.dim = dim;
  impl->g.rebuild_node_arrays();
  impl->g.rebuild_csr();
  return impl;
}
}  // namespace

Store Store::create(const std::string& path, int dim) {
  return Store(make_store(path, dim, false));
}
Store Store::in_memory(int dim) { return Store(make_store(":memory:", dim, true)); }

Store Store::open(const std::string& path) {
  if (!file_exists(path))
    throw Error(ErrorCode::io_error, fmt::format("relevance store {}: no such file", path));
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->db = std::make_unique<sql::Db>(path, false);
  try {
    sql::Stmt probe(*impl->db, "SELECT count(*) FROM sqlite_master WHERE name = 'meta'");
    if (!probe.step() || probe.col_int(0) == 0)
      throw Error(ErrorCode::parse_error,
                  fmt::format("{}: not a relevance store (no meta table)", path));
  } catch (const Error& e) {
    if (e.code() == ErrorCode::parse_error) throw;
    throw Error(ErrorCode::parse_error,
                fmt::format("{}: not a relevance store ({})", path, e.message()));
  }
  {
    // A corrupted file fails here, before anything reads or writes it.
    sql::Stmt check(*impl->db, "PRAGMA quick_check");
    std::string first;
    int problems = 0;
    while (check.step()) {
      const std::string row = check.col_text(0);
      if (row == "ok") continue;
      if (problems++ == 0) first = row;
    }
    if (problems > 0) {
      throw Error(ErrorCode::parse_error,
                  fmt::format("{}: the store file is corrupted (SQLite quick_check: {} problem(s); "
                              "first: {})",
                              path, problems, first));
    }
  }
  impl->db->exec("PRAGMA synchronous=FULL");
  impl->load();
  return Store(std::move(impl));
}

void Store::set_max_file_bytes(std::int64_t bytes) {
  if (bytes <= 0) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("set_max_file_bytes: the cap must be positive, got {}", bytes));
  }
  auto lock = impl_->write_lock();
  sql::Stmt page(*impl_->db, "PRAGMA page_size");
  const std::int64_t page_size = page.step() ? page.col_int(0) : 4096;
  const std::int64_t pages =
      std::max<std::int64_t>(1, bytes / std::max<std::int64_t>(page_size, 1));
  impl_->db->exec(fmt::format("PRAGMA max_page_count = {}", pages));
}

int Store::dim() const { return impl_->g.dim; }
const std::string& Store::path() const { return impl_->path; }

StoreStats Store::stats() const {
  auto lock = impl_->read_lock();
  StoreStats s;
  s.nodes = impl_->g.n();
  s.edges = static_cast<std::int64_t>(impl_->g.edges.size());
  s.dim = impl_->g.dim;
  std::vector<char> used(impl_->g.type_names.size(), 0);
  for (const auto& e : impl_->g.edges) used[std::size_t(e.type)] = 1;
  s.edge_types = std::count(used.begin(), used.end(), 1);
  for (const Node& n : impl_->g.nodes) s.universal += n.universal;
  s.embedder = impl_->embedder;
  return s;
}

std::int64_t Store::num_nodes() const {
  auto lock = impl_->read_lock();
  return impl_->g.n();
}

Node Store::node(std::int64_t index) const {
  auto lock = impl_->read_lock();
  if (index < 0 || index >= impl_->g.n())
    throw Error(ErrorCode::invalid_argument,
                fmt::format("node index {} is out of range [0, {})", index, impl_->g.n()));
  return impl_->g.nodes[std::size_t(index)];
}

std::int64_t Store::find(const std::string& id) const {
  auto lock = impl_->read_lock();
  auto it = impl_->g.index.find(id);
  return it == impl_->g.index.end() ? -1 : it->second;
}

std::vector<Edge> Store::edges() const {
  auto lock = impl_->read_lock();
  const GraphData& g = impl_->g;
  std::vector<Edge> out;
  out.reserve(g.edges.size());
  for (const auto& r : g.edges)
    out.push_back(Edge{g.nodes[std::size_t(r.src)].id, g.nodes[std::size_t(r.dst)].id,
                       g.type_names[std::size_t(r.type)], r.weight, r.confidence, r.success_rate});
  return out;
}

void Store::add_nodes(const std::vector<Node>& nodes, const std::vector<float>& embeddings) {
  auto lock = impl_->write_lock();
  impl_->insert(
      nodes, embeddings, {}, [](std::size_t k) { return fmt::format("nodes[{}]", k); },
      [](std::size_t k) { return fmt::format("edges[{}]", k); });
}

void Store::add_edges(const std::vector<Edge>& edges) {
  auto lock = impl_->write_lock();
  impl_->insert(
      {}, {}, edges, [](std::size_t k) { return fmt::format("nodes[{}]", k); },
      [](std::size_t k) { return fmt::format("edges[{}]", k); });
}

namespace {
std::size_t find_edge(const GraphData& g, const std::string& s, const std::string& t,
                      const std::string& type) {
  auto si = g.index.find(s), ti = g.index.find(t);
  auto ty = g.type_index.find(type);
  if (si != g.index.end() && ti != g.index.end() && ty != g.type_index.end()) {
    for (std::int64_t p = g.row_offsets[std::size_t(si->second)];
         p < g.row_offsets[std::size_t(si->second) + 1]; ++p) {
      const auto k = std::size_t(g.csr_edge[std::size_t(p)]);
      if (g.edges[k].dst == ti->second && g.edges[k].type == ty->second) return k;
    }
  }
  throw Error(ErrorCode::invalid_argument,
              fmt::format("no edge {} -[{}]-> {} in the store", s, type, t));
}
}  // namespace

void Store::remove_edge(const std::string& source, const std::string& target,
                        const std::string& type) {
  auto lock = impl_->write_lock();
  GraphData& g = impl_->g;
  const std::size_t k = find_edge(g, source, target, type);
  sql::Stmt del(*impl_->db, "DELETE FROM edges WHERE eid = ?");
  del.bind(1, g.edges[k].rowid).run();
  g.edges.erase(g.edges.begin() + std::ptrdiff_t(k));
  g.rebuild_csr();
  impl_->invalidate_devices();
}

void Store::remove_nodes(const std::vector<std::string>& ids) {
  auto lock = impl_->write_lock();
  GraphData& g = impl_->g;
  std::vector<char> gone(std::size_t(g.n()), 0);
  for (std::size_t k = 0; k < ids.size(); ++k) {
    auto it = g.index.find(ids[k]);
    if (it == g.index.end())
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("remove_nodes: ids[{}]: unknown node id '{}'", k, ids[k]));
    if (gone[std::size_t(it->second)])
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("remove_nodes: ids[{}]: node id '{}' given twice", k, ids[k]));
    gone[std::size_t(it->second)] = 1;
  }
  if (ids.empty()) return;
  // The last nodes that stay fill the freed indices below the new count.
  const std::int64_t n_new = g.n() - std::int64_t(ids.size());
  std::vector<std::int64_t> holes, movers;
  for (std::int64_t i = 0; i < n_new; ++i)
    if (gone[std::size_t(i)]) holes.push_back(i);
  for (std::int64_t i = n_new; i < g.n(); ++i)
    if (!gone[std::size_t(i)]) movers.push_back(i);
  {
    sql::Transaction tx(*impl_->db);
    sql::Stmt de(*impl_->db, "DELETE FROM edges WHERE source = ?1 OR target = ?1");
    sql::Stmt dn(*impl_->db, "DELETE FROM nodes WHERE idx = ?");
    for (std::int64_t i = 0; i < g.n(); ++i) {
      if (!gone[std::size_t(i)]) continue;
      de.bind(1, i).run();
      dn.bind(1, i).run();
    }
    sql::Stmt mn(*impl_->db, "UPDATE nodes SET idx = ?1 WHERE idx = ?2");
    sql::Stmt ms(*impl_->db, "UPDATE edges SET source = ?1 WHERE source = ?2");
    sql::Stmt mt(*impl_->db, "UPDATE edges SET target = ?1 WHERE target = ?2");
    for (std::size_t k = 0; k < holes.size(); ++k) {
      for (sql::Stmt* st : {&mn, &ms, &mt}) st->bind(1, holes[k]).bind(2, movers[k]).run();
    }
    tx.commit();
  }
  // The loaded graph: the same moves, then the node arrays and the CSR (not the embeddings of
  // the nodes that stay, nor anything from the file).
  std::vector<std::int64_t> to(std::size_t(g.n()));
  for (std::int64_t i = 0; i < g.n(); ++i) to[std::size_t(i)] = gone[std::size_t(i)] ? -1 : i;
  const std::size_t dim = std::size_t(g.dim);
  for (std::size_t k = 0; k < holes.size(); ++k) {
    const auto h = std::size_t(holes[k]), m = std::size_t(movers[k]);
    to[m] = holes[k];
    g.nodes[h] = std::move(g.nodes[m]);
    std::copy_n(g.emb_raw.begin() + std::ptrdiff_t(m * dim), dim,
                g.emb_raw.begin() + std::ptrdiff_t(h * dim));
    std::copy_n(g.emb_norm.begin() + std::ptrdiff_t(m * dim), dim,
                g.emb_norm.begin() + std::ptrdiff_t(h * dim));
  }
  g.nodes.resize(std::size_t(n_new));
  g.emb_raw.resize(std::size_t(n_new) * dim);
  g.emb_norm.resize(std::size_t(n_new) * dim);
  g.index.clear();
  for (std::int64_t i = 0; i < n_new; ++i) g.index.emplace(g.nodes[std::size_t(i)].id, i);
  std::vector<detail::EdgeRec> kept;
  kept.reserve(g.edges.size());
  for (detail::EdgeRec e : g.edges) {
    if (to[std::size_t(e.src)] < 0 || to[std::size_t(e.dst)] < 0) continue;
    e.src = std::int32_t(to[std::size_t(e.src)]);
    e.dst = std::int32_t(to[std::size_t(e.dst)]);
    kept.push_back(e);
  }
  g.edges.swap(kept);
  g.rebuild_node_arrays();
  g.rebuild_csr();
  impl_->invalidate_devices();
}

void Store::set_edge_weight(const std::string& source, const std::string& target,
                            const std::string& type, float weight) {
  auto lock = impl_->write_lock();
  GraphData& g = impl_->g;
  const std::size_t k = find_edge(g, source, target, type);
  if (!detail::unit(weight))
    throw Error(ErrorCode::invalid_argument,
                fmt::format("set_edge_weight {} -[{}]-> {}: weight {} is outside [0, 1]", source,
                            type, target, weight));
  sql::Stmt up(*impl_->db, "UPDATE edges SET weight = ? WHERE eid = ?");
  up.bind(1, double(weight)).bind(2, g.edges[k].rowid).run();
  g.edges[k].weight = weight;
  g.resort_row(g.edges[k].src);
  impl_->invalidate_devices();
}

}  // namespace mpe::relevance
