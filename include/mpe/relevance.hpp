#pragma once
/// @file relevance.hpp
/// The relevance engine: a knowledge graph of an assistant's capabilities, constraints,
/// guidelines and concepts, kept in an embedded SQLite store, and queries that find the few
/// nodes that matter for a message — by meaning (cosine seeding), through the graph's
/// structure (gated, frontier-sparse propagation) — plus learning from outcomes.
///
///     auto store = mpe::relevance::Store::open("graph.db");
///     mpe::relevance::Query q;
///     q.embedding = mpe::relevance::TextEmbedder(store.dim()).embed("show me serenity");
///     mpe::relevance::QueryResult r = store.query(q);          // r.results: the extraction
///     store.learn(r, mpe::relevance::Outcome::turn(1.0f));     // one reward for the turn
///
/// Propagation, per query (spec: relevance.md, step 2). a_j is node j's activation.
///  - an active node j (a_j > 0) sends a_j · w_e along each outgoing edge e = (j → i) whose
///    relevance a_j · w_e exceeds the edge gate; i aggregates Σ a_j · w_e · tw_i[type(e)] · s_e
///    (tw_i: node i's per-edge-type weights, default 1; s_e: the level scale, 1 within a level,
///    level_up_scale when level(i) > level(j), level_down_scale when level(i) < level(j));
///  - with messages: c = ρ_i · a_i + (1 − ρ_i) · aggregate; without: c = decay_i · a_i;
///  - a_i ← clamp(max(0, c − θ_i), 0, 1), and 0 when below the propagation threshold (the node
///    leaves the active set);
///  - stop when max_i |Δa_i| < tolerance or after max_iterations.
/// The update is synchronous (every node reads the previous iteration's activations).
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <mpe/device.hpp>

namespace mpe::text {
class SentenceEncoder;
}

namespace mpe::relevance {

/// Version of the store's SQLite schema this build writes and reads.
inline constexpr int kSchemaVersion = 1;

/// A node of the knowledge graph.
struct Node {
  std::string id;          ///< unique, non-empty (e.g. "img_gen_capability")
  std::string type;        ///< e.g. "capability", "constraint", "guideline", "concept"
  std::string title;       ///< short human-readable title
  std::string content;     ///< the text the node stands for
  bool universal = false;  ///< always extracted, whatever its activation
  int level = 0;           ///< hierarchy level (e.g. 0 token, 1 chunk, 2 summary)
  float residual = 0.5f;   ///< ρ in [0, 1]: weight of the node's own activation
  float decay = 0.9f;      ///< in [0, 1]: factor applied when no message arrives
  float threshold = 0.0f;  ///< θ in [0, 1]: subtracted before the clamp (ReLU with threshold)
  /// Weight of each incoming edge type at this node (types not listed weigh 1), each >= 0.
  std::map<std::string, float> type_weights;
};

/// A directed, typed edge. (source, target, type) is unique in a store.
struct Edge {
  std::string source;          ///< id of the source node
  std::string target;          ///< id of the target node
  std::string type;            ///< e.g. "ENABLES", "REQUIRES", "HAS_CONSTRAINT", "PART_OF"
  float weight = 1.0f;         ///< learnable weight in [0, 1]
  float confidence = 0.5f;     ///< in [0, 1]; feeds the confidence of the nodes it reaches
  float success_rate = 0.5f;   ///< running success rate in [0, 1] (learning)
};

/// How a query spreads relevance from its seeds.
enum class Propagation {
  spreading,  ///< the spec's gated spreading activation (relevance.md step 2)
  ppr,        ///< personalised PageRank with the seeds as reset distribution (see QueryParams)
};

/// Per-query parameters; every one has the spec's default.
struct QueryParams {
  int top_k = 10;                      ///< seeds kept (most similar first), >= 0
  float seed_threshold = 0.3f;         ///< minimum cosine similarity of a seed
  int max_iterations = 5;              ///< propagation iteration cap, >= 0
  float tolerance = 1e-3f;             ///< stop when max |Δa| < tolerance
  float propagation_threshold = 0.05f; ///< activations below it leave the active set (→ 0)
  float edge_gate = 0.0f;              ///< messages only where a_j · w_e > edge_gate
  float level_up_scale = 1.0f;         ///< message factor towards a higher level
  float level_down_scale = 1.0f;       ///< message factor towards a lower level
  float min_activation = 0.2f;         ///< extraction minimum
  /// Node types extracted (empty: every type).
  std::vector<std::string> types = {"constraint", "capability", "guideline"};
  bool include_universal = true;       ///< append universal nodes whatever their activation
  int max_results = 0;                 ///< cap on non-universal results (0: no cap)

  /// Personalised PageRank instead of spreading activation: scores p with
  /// p = damping · (Pᵀ p + (Σ_dangling p) · r) + (1 − damping) · r, where r is the seeds'
  /// activations (or similarities) normalised to sum 1, P[j → i] = w_e / Σ_out w (every edge
  /// weight 1 when `ppr_weighted` is false) and a node without out-weight (dangling) restarts
  /// from r — what python-igraph's personalized_pagerank (PRPACK) computes; Σ p = 1. The
  /// results are the `ppr_top_k` best-scored nodes of `types` (activation = score, by score
  /// descending then id), no universal rows; `active` holds the same nodes. The spreading
  /// parameters (gate, thresholds, iterations, levels) do not apply. CPU (any device runs it
  /// there).
  Propagation propagation = Propagation::spreading;
  float damping = 0.85f;               ///< PPR: probability of following an edge, in [0, 1)
  /// PPR: iterate until the L1 mass further iterations could still add, relative to the
  /// result, is below this (a bound on every score's error), in (0, 1).
  float ppr_tolerance = 1e-6f;
  int ppr_max_iterations = 1000;       ///< PPR: iteration cap, >= 1
  bool ppr_weighted = true;            ///< PPR: edge weights as transition weights
  bool ppr_undirected = false;         ///< PPR: walk edges both ways (igraph's directed=False)
  int ppr_top_k = 10;                  ///< PPR: nodes returned, >= 1
};

/// A seed given by the caller instead of semantic seeding.
struct SeedSpec {
  std::string id;           ///< node id
  float activation = 1.0f;  ///< initial activation in (0, 1]
};

/// Parses "ID" or "ID=ACTIVATION" (the CLI's --seed): the id is everything before the last
/// '=' and must not be empty; the activation, when given, is a number in (0, 1]. Throws
/// invalid_argument naming the text otherwise.
SeedSpec parse_seed_spec(const std::string& text);

/// One query: a message embedding (any external model's, or TextEmbedder's) of the store's
/// dimension, or explicit seeds (then `embedding` may be empty).
struct Query {
  std::vector<float> embedding;  ///< the message's embedding (dim() floats), or empty
  std::vector<SeedSpec> seeds;   ///< explicit seeds; when non-empty, no semantic seeding
  QueryParams params;            ///< parameters of this query
};

/// A seed found by cosine similarity.
struct SeedHit {
  std::int64_t node = 0;   ///< node index in the store
  std::string id;          ///< node id
  float similarity = 0.0f; ///< cosine similarity (= initial activation)
};

/// One extracted node.
struct Activated {
  std::int64_t node = 0;    ///< node index in the store
  std::string id;           ///< node id
  std::string type;         ///< node type
  std::string title;        ///< node title
  float activation = 0.0f;  ///< final activation in [0, 1]
  /// Seeds: their similarity; others: the edge confidences of the messages the node last
  /// received, weighted by message strength. 0 for a universal node that was never reached.
  float confidence = 0.0f;
  bool universal = false;   ///< a universal node
  bool seed = false;        ///< one of the query's seeds
};

/// The answer to one query.
struct QueryResult {
  std::vector<Activated> results;  ///< extraction: sorted by activation, then universal nodes
  std::vector<SeedHit> seeds;      ///< the seeds, most similar first
  /// Every node active at the end (index, activation), by index: what learn() updates.
  std::vector<std::pair<std::int64_t, float>> active;
  int iterations = 0;              ///< propagation iterations that ran
  bool converged = false;          ///< stopped by the tolerance (not by the cap)
  std::int64_t edges_touched = 0;  ///< messages sent (edges that passed the gate), all iterations
};

/// An outcome to learn from: one reward for the turn and/or per-node rewards, each in [0, 1].
struct Outcome {
  float turn_reward = -1.0f;                    ///< < 0: none
  std::map<std::string, float> node_rewards;    ///< node id -> reward (overrides turn_reward)
  /// One reward for every activated node.
  static Outcome turn(float reward) { return Outcome{reward, {}}; }
};

/// Learning options.
struct LearnOptions {
  float learning_rate = 0.1f;  ///< η
  /// Called inside the transaction after each edge row is written (edges done, edges total),
  /// before the commit; for progress reporting (and the crash test).
  std::function<void(std::int64_t, std::int64_t)> on_edge;
};

/// What learn() changed.
struct LearnReport {
  std::int64_t nodes = 0;  ///< activated nodes that had a reward
  std::int64_t edges = 0;  ///< edges updated
};

/// Counts of a store.
struct StoreStats {
  std::int64_t nodes = 0;       ///< nodes
  std::int64_t edges = 0;       ///< edges
  int dim = 0;                  ///< embedding dimension
  std::int64_t edge_types = 0;  ///< distinct edge types
  std::int64_t universal = 0;   ///< universal nodes
  /// Who made the embeddings: "hashed-ngram-v1" (TextEmbedder), "minilm:<folder>" (a
  /// text::SentenceEncoder), "external" (a .npy file), "mixed", or "" (none yet).
  std::string embedder;
};

/// Deterministic text embedder of our own: hashed character n-grams (3, 4, 5 of each
/// lower-cased word with boundary marks) and whole words, signed feature hashing into `dim`
/// buckets, L2-normalised. Needs no model; two texts sharing words and word pieces get a
/// positive cosine. Name: "hashed-ngram-v1".
class TextEmbedder {
 public:
  /// An embedder into `dim` dimensions (>= 8; Error(invalid_argument) otherwise).
  explicit TextEmbedder(int dim = 256);
  /// Dimension of the embeddings.
  int dim() const { return dim_; }
  /// The embedding of `text` (all zeros for a text without letters or digits).
  std::vector<float> embed(const std::string& text) const;
  /// The name recorded in stores it embedded.
  static const char* name() { return "hashed-ngram-v1"; }

 private:
  int dim_;
};

/// Options for importing nodes.csv / edges.csv.
struct ImportOptions {
  /// `.npy` file of float32/float64 embeddings [nodes, d] in nodes.csv's row order; empty:
  /// TextEmbedder(embed_dim) over "title. content".
  std::string embeddings_npy;
  int embed_dim = 256;  ///< TextEmbedder's dimension when no embeddings file is given
  /// When set (and no embeddings file is given), this sentence encoder embeds "title. content"
  /// instead of TextEmbedder; its dimension is the store's and its name() is recorded.
  const text::SentenceEncoder* encoder = nullptr;
};

class Store;

/// The embedding of `message` by the embedder recorded in `store` (StoreStats::embedder):
/// TextEmbedder(store.dim()) for "hashed-ngram-v1", the sentence encoder of <folder> for
/// "minilm:<folder>" (loaded on first use and kept for the process). Text to activated nodes
/// in one line: `store.query({embed_for(store, message)})`. Error(invalid_argument) for a store
/// whose embeddings came from a file ("external") or several embedders; Error(io_error) when
/// the recorded encoder folder is gone.
std::vector<float> embed_for(const Store& store, const std::string& message);

/// The store: a SQLite file (nodes, edges, embeddings, learned weights and success rates,
/// schema version) plus the graph loaded from it (the out-edge CSR, normalised embeddings,
/// node parameters, device copies made on first use). Writes go to the file in one
/// transaction and then to the loaded graph; a failed write changes neither.
///
/// Thread safety: query()/query_batch()/node()/edges()/stats() may run from many threads at
/// once; writes (add_*, remove_edge, set_edge_weight, learn, import_csv) take an exclusive lock
/// and wait for running queries. Move-only.
class Store {
 public:
  /// Creates a new, empty store file for embeddings of dimension `dim` (>= 1). Throws
  /// Error(io_error) when the file already exists or cannot be created.
  static Store create(const std::string& path, int dim);
  /// Opens an existing store; Error(io_error) when missing, Error(parse_error) when it is not a
  /// store, has another schema version or fails SQLite's `PRAGMA quick_check` (a corrupted
  /// file; the check reads every page once, so opening takes time proportional to the file).
  /// A failed open leaves the file as it was.
  static Store open(const std::string& path);
  /// An in-memory store (nothing on disk), for tests and one-off graphs.
  static Store in_memory(int dim);
  /// Creates `path` from nodes.csv and edges.csv (see import_csv).
  static Store import(const std::string& path, const std::string& nodes_csv,
                      const std::string& edges_csv, const ImportOptions& options = {});

  Store(Store&&) noexcept;
  Store& operator=(Store&&) noexcept;
  ~Store();

  /// Embedding dimension.
  int dim() const;
  /// Counts and facts.
  StoreStats stats() const;
  /// File path ("" when in memory).
  const std::string& path() const;

  /// Adds nodes with their embeddings (row-major [nodes.size(), dim()]), all or none: a
  /// duplicate or empty id, a parameter out of range, a NaN/infinite or all-zero embedding or
  /// a size mismatch throws Error naming the node, and nothing is added.
  void add_nodes(const std::vector<Node>& nodes, const std::vector<float>& embeddings);
  /// Adds edges, all or none: unknown node ids, a duplicate (source, target, type) (in the
  /// store or in the list), weights/confidence/success rate outside [0, 1] throw Error naming
  /// the edge, and nothing is added.
  void add_edges(const std::vector<Edge>& edges);
  /// Removes nodes and every edge that touches them, all or none (Error(invalid_argument)
  /// naming an unknown or repeated id; nothing changes). The nodes with the highest indices move
  /// into the freed indices (every other node keeps its index); the loaded graph is patched in
  /// memory, not read again from the file.
  void remove_nodes(const std::vector<std::string>& ids);
  /// Removes an edge; Error(invalid_argument) when there is no such edge.
  void remove_edge(const std::string& source, const std::string& target, const std::string& type);
  /// Sets an edge's weight (in [0, 1]); Error(invalid_argument) for an unknown edge or a bad
  /// weight.
  void set_edge_weight(const std::string& source, const std::string& target,
                       const std::string& type, float weight);

  /// Imports nodes.csv (header names the columns: id, type, title[, content, universal, level,
  /// residual, decay, threshold, type_weights "TYPE=w;TYPE=w"]; Neo4j-style `:ID`/`:LABEL`
  /// accepted) and edges.csv (source, target, type[, weight, confidence, success_rate];
  /// `:START_ID`, `:END_ID`, `:TYPE` accepted) into this store, with embeddings from a `.npy`
  /// file or TextEmbedder, in one transaction. Errors name the file and line; nothing changes.
  void import_csv(const std::string& nodes_csv, const std::string& edges_csv,
                  const ImportOptions& options = {});
  /// Writes nodes.csv, edges.csv and embeddings.npy (in nodes.csv's order) into `dir`.
  void export_csv(const std::string& dir) const;

  /// Caps the file at about `bytes` (SQLite's max_page_count for this connection; at least
  /// the current size): a write that would grow it further fails with Error(io_error) saying
  /// the store is full, and changes neither the file nor the loaded graph, as when the disk
  /// fills. Error(invalid_argument) when `bytes` is not positive. No effect in memory.
  void set_max_file_bytes(std::int64_t bytes);

  /// Number of nodes.
  std::int64_t num_nodes() const;
  /// Node by index (Error(invalid_argument) when out of range).
  Node node(std::int64_t index) const;
  /// Index of a node id, or -1.
  std::int64_t find(const std::string& id) const;
  /// Every edge, in insertion order, with its current weight and success rate.
  std::vector<Edge> edges() const;

  /// Checks one query as query_batch does (dimension, NaN, seed ids, parameter ranges); throws
  /// Error(invalid_argument) naming the field. mpe::Engine calls it at submit.
  void validate(const Query& query) const;
  /// Runs one query on `device` (see query_batch).
  QueryResult query(const Query& query, const Device& device = Device::cpu()) const;
  /// Runs a batch of queries against the loaded graph in one call: seeding is one matrix
  /// product of the (normalised) query embeddings with the node embeddings, propagation runs
  /// per query on the shared CSR (OpenMP over queries on the CPU; one set of launches for the
  /// batch on a CUDA device). Results in the order of `queries`. A bad query (wrong dimension,
  /// NaN, unknown seed id, parameter out of range) throws Error naming it, before any work.
  /// Thread-safe with other readers; the same numbers on every device (float tolerance).
  std::vector<QueryResult> query_batch(const std::vector<Query>& queries,
                                       const Device& device = Device::cpu()) const;

  /// Learns from an outcome (spec step 4): for every outgoing edge of every node active in
  /// `result` that has a reward r: w ← clamp(w + η (r − success_rate), 0, 1), then
  /// success_rate ← 0.9 success_rate + 0.1 r. Persisted in one transaction (a crash leaves
  /// the file before or after, never between), then applied to the loaded graph. w and
  /// success_rate are read from the file inside that transaction, so several processes may
  /// learn on one file at once without losing updates (each waits up to 10 s for another's
  /// write lock, then throws Error(busy)); other edges keep the values loaded at open.
  LearnReport learn(const QueryResult& result, const Outcome& outcome,
                    const LearnOptions& options = {});
  /// The same for an explicit list of activated node ids.
  LearnReport learn(const std::vector<std::string>& activated, const Outcome& outcome,
                    const LearnOptions& options = {});

  /// The dense switch of propagation on the CPU: an iteration of a query whose frontier would
  /// send at least `fraction` × (all edges) messages (edges that pass the gate) pulls over every
  /// node instead of pushing from the frontier, and every such query of a batch shares one
  /// sparse × dense product; the next iteration pushes again when the frontier has thinned.
  /// 0: pull whenever a message is sent; above 1: always push. The results are the same either way (float rounding: sums
  /// run in another order). Default 0.1 (measured: bench/NOTES.md, issue 20). Thread-safe.
  /// Error(invalid_argument) when `fraction` is negative or not finite.
  void set_dense_switch(float fraction);
  /// The current dense switch fraction.
  float dense_switch() const;

  struct Impl;  ///< implementation (engine/relevance)
  /// The implementation, for the library's own drivers (the partitioned store, dist_models.hpp).
  const Impl& impl() const { return *impl_; }

 private:
  explicit Store(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mpe::relevance
