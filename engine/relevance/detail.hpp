#pragma once
// Internals of the relevance store: the loaded graph (node columns, edges in insertion order,
// the out-edge CSR sorted by weight), its device copies, and the Store's implementation.
#include <atomic>
#include <cmath>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include <mpe/relevance.hpp>
#include <mpe/tensor.hpp>

#include "relevance.hpp"
#include "relevance/sqlite.hpp"

namespace mpe::relevance::detail {

// tuning: a query's iteration pulls over every row when its frontier's out-edges exceed this
// share of all edges (Store::set_dense_switch; measured in bench/NOTES.md, issue 20).
inline constexpr float kDefaultDenseFraction = 0.1f;

struct EdgeRec {
  std::int64_t rowid = 0;  // edges.eid in the file
  std::int32_t src = 0, dst = 0, type = 0;
  float weight = 1.0f, confidence = 0.5f, success_rate = 0.5f;
};

// The graph as loaded from the file (host).
struct GraphData {
  int dim = 0;
  std::vector<Node> nodes;                          // by index
  std::unordered_map<std::string, std::int64_t> index;  // id -> node index
  std::vector<float> emb_raw;                       // [n, dim] as stored
  std::vector<float> emb_norm;                      // [n, dim] L2-normalised
  std::vector<EdgeRec> edges;                       // insertion order
  std::vector<std::string> type_names;              // edge type index -> name
  std::unordered_map<std::string, std::int32_t> type_index;
  // Derived: per-node arrays and the out-edge CSR (rows sorted by weight desc, target asc).
  std::vector<float> residual, decay, threshold;
  std::vector<std::int32_t> level;                  // empty when every node is on level 0
  std::vector<std::int64_t> universal;              // indices of the universal nodes
  std::vector<float> type_weights;                  // [n, types] or empty (all 1)
  std::vector<std::int32_t> node_type;              // node -> index in node_type_names
  std::vector<std::string> node_type_names;
  std::vector<std::int32_t> id_rank;                // node -> rank of its id in id order
  std::vector<std::int64_t> row_offsets;
  std::vector<std::int32_t> csr_targets, csr_types;
  std::vector<float> csr_weights, csr_conf;
  std::vector<std::int64_t> csr_edge;               // CSR position -> edge index
  std::vector<std::int64_t> edge_pos;               // edge index -> CSR position

  std::int64_t n() const { return static_cast<std::int64_t>(nodes.size()); }
  std::int32_t type_id(const std::string& name);    // adds unknown names
  void rebuild_node_arrays();
  void rebuild_csr();
  void resort_row(std::int32_t j);  // after weights of row j changed
  kernels::RelevanceGraph view() const;
};

// The pull view of the loaded graph (row i = in-edges of i) for dense iterations, built on
// the first query after a write.
struct PullView {
  std::vector<std::int64_t> offsets;
  std::vector<std::int32_t> sources;
  std::vector<float> weights, scale, scale_conf;  // w, tw_i[type], tw_i[type] · confidence
  std::vector<std::int32_t> out_positive;         // per node: out-edges of weight > 0
  bool scale_positive = true;
  explicit PullView(const GraphData& g);
  void attach(kernels::RelevanceGraph& v) const;
};

// Personalised PageRank's pull view (row i = the transitions into i, weights w / out-strength
// of the source; a source without out-strength sends nothing: it is dangling), its rows in a
// topological order of the strongly connected components (a row's sources are earlier rows,
// or rows of its own component), self-loops apart as `diag`, zero transitions dropped. Rows
// are positions: `order[p]` is the node at position p, `position[i]` the position of node i.
struct PprView {
  // Rows [begin, end): one strongly connected component of several nodes (cyclic: swept until
  // the stopping rule holds), or a run of single-node components (one sweep is exact).
  struct Block {
    std::int64_t begin = 0, end = 0;
    bool cyclic = false;
  };
  std::int64_t nodes = 0;
  std::vector<std::int64_t> offsets;
  std::vector<std::int32_t> sources;
  std::vector<double> weights;
  std::vector<double> diag;
  std::vector<double> back;  // transition weight of a row to earlier rows of its cyclic block
  std::vector<std::int32_t> order, position;
  std::vector<Block> blocks;
  PprView(const GraphData& g, bool weighted, bool undirected);
};
using PprSeeds = std::vector<std::pair<std::int64_t, double>>;  // (node, reset weight > 0)
struct PprOut {
  std::vector<std::pair<std::int64_t, double>> top;  // (node, score), best first
  int iterations = 0;
  bool converged = false;
};
// A group of PPR queries whose float64 scores pass this many bytes keeps them in float32 where
// the tolerance allows (ppr.cpp); tests set it to 0 to run that path on small graphs. Atomic:
// a test may set it while another thread's store runs a query.
extern std::atomic<std::int64_t> ppr_float32_above_bytes;
// Scores of every query (seeds[k], *params[k]) on one view, in one batch; the top k among the
// nodes where eligible[k] is 1 (nullptr: every node).
void run_ppr(const PprView& v, const std::vector<PprSeeds>& seeds,
             const std::vector<const QueryParams*>& params,
             const std::vector<const std::vector<char>*>& eligible, std::vector<PprOut>& out);

// A device copy of the CSR and node arrays (tensors own the memory).
struct DeviceGraph {
  Device device;
  Tensor row_offsets, targets, weights, types, conf, type_weights, residual, decay, threshold,
      level, embeddings;
  kernels::RelevanceGraph view(std::int64_t nodes, std::int32_t num_types) const;
};

}  // namespace mpe::relevance::detail

namespace mpe::relevance {

struct Store::Impl {
  std::unique_ptr<sql::Db> db;
  std::string path;
  std::string embedder;
  mutable std::shared_mutex mu;  // readers: queries; writers: updates
  mutable std::mutex turnstile;  // a waiting writer holds it, so new readers queue behind it
  std::shared_lock<std::shared_mutex> read_lock() const {
    { std::lock_guard<std::mutex> pass(turnstile); }
    return std::shared_lock<std::shared_mutex>(mu);
  }
  std::unique_lock<std::shared_mutex> write_lock() const {
    std::lock_guard<std::mutex> hold(turnstile);
    return std::unique_lock<std::shared_mutex>(mu);
  }
  detail::GraphData g;
  mutable std::mutex dev_mu;
  mutable std::map<Device, std::shared_ptr<const detail::DeviceGraph>> dev_cache;

  void load();  // reads the whole graph from the file into g
  void invalidate_devices() {
    std::lock_guard<std::mutex> lock(dev_mu);
    dev_cache.clear();
    pull.reset();
    for (auto& v : ppr_views) v.reset();
  }
  std::shared_ptr<const detail::DeviceGraph> device_graph(const Device& d) const;
  mutable std::shared_ptr<const detail::PullView> pull;  // guarded by dev_mu
  mutable std::shared_ptr<const detail::PprView> ppr_views[4];  // guarded by dev_mu
  std::shared_ptr<const detail::PullView> pull_view() const;
  std::atomic<float> dense_fraction{detail::kDefaultDenseFraction};
  // Validates and inserts in one transaction (nodes first), then updates g. `node_where` /
  // `edge_where` name an item for error messages (file and line, or list index).
  void insert(const std::vector<Node>& nodes, const std::vector<float>& emb,
              const std::vector<Edge>& edges,
              const std::function<std::string(std::size_t)>& node_where,
              const std::function<std::string(std::size_t)>& edge_where);
};

namespace detail {
// The PPR view of (weighted, undirected) of the loaded graph, built on first use after a write.
std::shared_ptr<const PprView> ppr_view(const Store::Impl& impl, const QueryParams& p);
// Extraction (spec step 3) of r.active (sorted by node, confidences alongside) into r.results,
// as query_batch does it (extract.cpp); the partitioned store calls it too.
void extract_results(const GraphData& g, const Query& q, QueryResult& r,
                     const std::vector<float>& conf_of_active);
// v is finite and in [0, 1].
inline bool unit(float v) { return std::isfinite(v) && v >= 0.0f && v <= 1.0f; }
// Checks shared by the store's writers; each throws Error(invalid_argument) prefixed by where.
void check_node(const Node& n, const std::string& where);
void check_edge_values(const Edge& e, const std::string& where);
void check_embedding(const float* v, int dim, const std::string& where);
// Parses "TYPE=w;TYPE=w" and formats it back.
std::map<std::string, float> parse_type_weights(const std::string& text, const std::string& where);
std::string format_type_weights(const std::map<std::string, float>& tw);
}  // namespace detail

}  // namespace mpe::relevance
