// mpe relevance: the relevance engine from the command line — import a knowledge graph from
// CSV into a SQLite store, query it with a message, learn from an outcome, export it back, and
// a demo on the assistant graph built into the program (data/relevance).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <unistd.h>

#include <fmt/format.h>
#include <mpe/mpe.hpp>
#include <mpe/relevance.hpp>
#include <mpe/text.hpp>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "relevance_demo_data.hpp"  // generated: kDemoNodesCsv, kDemoEdgesCsv

namespace mpe::cli {

namespace {
using namespace mpe::relevance;

struct QueryFlags {
  std::string text;
  std::string embedding_npy;
  std::vector<std::string> seeds;  // id or id=activation
  QueryParams p;
  std::string types = "constraint,capability,guideline";
  std::string device = "cpu";
  std::string mode = "spreading";
  bool all_active = false;
  bool json = false;
  CLI::Option* seed_threshold = nullptr;  // given on the command line when count() > 0
};

// MiniLM's cosines run lower than the hashed embedder's: on the demo graph a paraphrase's
// intended node scores 0.26-0.45 and unrelated ones 0.1-0.3 (docs/relevance.md), so stores it
// embedded seed from 0.25 unless --seed-threshold says otherwise.
constexpr float kMiniLmSeedThreshold = 0.25f;

void add_query_flags(CLI::App* cmd, QueryFlags& f, bool with_text) {
  if (with_text)
    cmd->add_option("message", f.text, "The message (embedded with the store's text embedder)");
  cmd->add_option("--embedding", f.embedding_npy,
                  "The message's embedding as a 1-D .npy file (from any model) instead of text");
  cmd->add_option("--seed", f.seeds, "Explicit seed node id[=activation] (repeatable; no "
                                      "semantic seeding then)");
  cmd->add_option("--top-k", f.p.top_k, "Seeds kept")->capture_default_str();
  f.seed_threshold = cmd->add_option("--seed-threshold", f.p.seed_threshold,
                                     "Minimum cosine of a seed (0.25 on MiniLM-embedded stores)")
                         ->capture_default_str();
  cmd->add_option("--iterations", f.p.max_iterations, "Propagation iteration cap")
      ->capture_default_str();
  cmd->add_option("--tolerance", f.p.tolerance, "Stop when max |change| is below it")
      ->capture_default_str();
  cmd->add_option("--propagation-threshold", f.p.propagation_threshold,
                  "Activations below it leave the active set")
      ->capture_default_str();
  cmd->add_option("--gate", f.p.edge_gate, "Edge gate: messages only where a_j * w_e exceeds it")
      ->capture_default_str();
  cmd->add_option("--level-up", f.p.level_up_scale, "Message factor towards a higher level")
      ->capture_default_str();
  cmd->add_option("--level-down", f.p.level_down_scale, "Message factor towards a lower level")
      ->capture_default_str();
  cmd->add_option("--min-activation", f.p.min_activation, "Extraction minimum")
      ->capture_default_str();
  cmd->add_option("--types", f.types, "Node types to extract, comma-separated ('' = all)")
      ->capture_default_str();
  cmd->add_option("--max-results", f.p.max_results, "Cap on non-universal results (0 = none)")
      ->capture_default_str();
  cmd->add_option("--mode", f.mode,
                  "spreading (gated spreading activation) or ppr (personalised PageRank from the "
                  "seeds, igraph's personalized_pagerank)")
      ->check(CLI::IsMember({"spreading", "ppr"}))
      ->capture_default_str();
  cmd->add_option("--damping", f.p.damping, "ppr: probability of following an edge")
      ->capture_default_str();
  cmd->add_option("--ppr-top", f.p.ppr_top_k, "ppr: nodes returned")->capture_default_str();
  cmd->add_option("--ppr-tolerance", f.p.ppr_tolerance, "ppr: bound on the scores' error (L1)")
      ->capture_default_str();
  cmd->add_flag("--unweighted{false}", f.p.ppr_weighted, "ppr: every edge weighs 1");
  cmd->add_flag("--undirected", f.p.ppr_undirected, "ppr: walk edges both ways");
  cmd->add_option("--device", f.device, "cpu, cuda, cuda:N or auto")->capture_default_str();
  cmd->add_flag("--all", f.all_active, "Also list every active node (any type, any activation)");
  cmd->add_flag("--json", f.json, "Print JSON instead of tables");
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos <= s.size()) {
    const std::size_t end = std::min(s.find(sep, pos), s.size());
    if (end > pos) out.push_back(s.substr(pos, end - pos));
    pos = end + 1;
  }
  return out;
}

Query build_query(const Store& store, const QueryFlags& f) {
  Query q;
  q.params = f.p;
  q.params.types = split(f.types, ',');
  if (f.mode == "ppr") q.params.propagation = Propagation::ppr;
  for (const std::string& s : f.seeds) q.seeds.push_back(parse_seed_spec(s));
  if (!q.seeds.empty()) return q;
  if (!f.embedding_npy.empty()) {
    const Tensor t = read_npy_f32(f.embedding_npy);
    if (t.rank() != 1)
      throw Error(ErrorCode::shape_mismatch, fmt::format("{}: the embedding must be 1-D, got {}",
                                                         f.embedding_npy, shape_str(t.shape())));
    q.embedding = t.to_vector<float>();
    return q;
  }
  if (f.text.empty())
    throw Error(ErrorCode::invalid_argument, "give a message, --embedding FILE.npy or --seed ID");
  if (store.stats().embedder.rfind("minilm:", 0) == 0 &&
      (f.seed_threshold == nullptr || f.seed_threshold->count() == 0))
    q.params.seed_threshold = kMiniLmSeedThreshold;
  try {
    q.embedding = embed_for(store, f.text);  // the embedder the store recorded
  } catch (const Error& e) {
    if (e.code() != ErrorCode::invalid_argument) throw;
    throw Error(e.code(), e.message() + " with --embedding FILE.npy");
  }
  return q;
}

nlohmann::json result_json(const Store& store, const QueryResult& r, bool all_active) {
  nlohmann::json j;
  j["iterations"] = r.iterations;
  j["converged"] = r.converged;
  j["messages"] = r.edges_touched;
  j["seeds"] = nlohmann::json::array();
  for (const SeedHit& s : r.seeds) j["seeds"].push_back({{"id", s.id}, {"similarity", s.similarity}});
  j["results"] = nlohmann::json::array();
  for (const Activated& a : r.results)
    j["results"].push_back({{"id", a.id}, {"type", a.type}, {"title", a.title},
                            {"activation", a.activation}, {"confidence", a.confidence},
                            {"universal", a.universal}, {"seed", a.seed}});
  if (all_active) {
    j["active"] = nlohmann::json::array();
    for (const auto& [i, a] : r.active) j["active"].push_back({{"id", store.node(i).id}, {"activation", a}});
  }
  return j;
}

std::string clip(const std::string& s, std::size_t n) {
  return s.size() <= n ? s : s.substr(0, n - 1) + "~";
}

void print_result(const Store& store, const QueryResult& r, bool all_active, double ms) {
  if (!r.seeds.empty()) {
    fmt::print("seeds:");
    for (const SeedHit& s : r.seeds) fmt::print(" {} ({:.3f})", s.id, s.similarity);
    fmt::print("\n");
  } else {
    fmt::print("seeds: none (no node reaches the seed threshold)\n");
  }
  fmt::print("propagation: {} iteration{}{}, {} messages, {:.3f} ms\n\n", r.iterations,
             r.iterations == 1 ? "" : "s", r.converged ? " (converged)" : " (iteration cap)",
             r.edges_touched, ms);
  fmt::print("| # | node | type | title | activation | confidence | |\n");
  fmt::print("|---:|---|---|---|---:|---:|---|\n");
  int k = 0;
  for (const Activated& a : r.results) {
    std::string flags = a.universal ? "universal" : "";
    if (a.seed) flags += flags.empty() ? "seed" : ", seed";
    fmt::print("| {} | {} | {} | {} | {:.3f} | {:.3f} | {} |\n", ++k, a.id, a.type,
               clip(a.title, 48), a.activation, a.confidence, flags);
  }
  if (all_active) {
    fmt::print("\nactive nodes ({}):\n", r.active.size());
    for (const auto& [i, a] : r.active) fmt::print("  {:<36} {:.4f}\n", store.node(i).id, a);
  }
}

void run_query_on(const Store& store, const QueryFlags& f) {
  const Query q = build_query(store, f);
  const Device dev = parse_device(f.device);
  const auto t0 = std::chrono::steady_clock::now();
  const QueryResult r = store.query(q, dev);
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  if (f.json) {
    nlohmann::json j = result_json(store, r, f.all_active);
    if (!f.text.empty()) j["message"] = f.text;
    j["device"] = dev.str();
    j["ms"] = ms;
    fmt::print("{}\n", j.dump(2));
  } else {
    if (!f.text.empty()) fmt::print("message: \"{}\"\n", f.text);
    print_result(store, r, f.all_active, ms);
  }
}

// ------------------------------------------------------------------ demo

struct TempDir {
  std::string path;
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/mpe-relevance-XXXXXX";
    if (!::mkdtemp(tmpl.data()))
      throw Error(ErrorCode::io_error, fmt::format("cannot create a temporary directory {}", tmpl));
    path = tmpl;
  }
  ~TempDir() {
    std::remove((path + "/nodes.csv").c_str());
    std::remove((path + "/edges.csv").c_str());
    ::rmdir(path.c_str());
  }
};

// The demo graph embedded by `encoder` (the hashed embedder when null).
Store demo_store(const text::SentenceEncoder* encoder) {
  TempDir dir;
  std::ofstream(dir.path + "/nodes.csv", std::ios::binary) << kDemoNodesCsv;
  std::ofstream(dir.path + "/edges.csv", std::ios::binary) << kDemoEdgesCsv;
  ImportOptions o;
  o.encoder = encoder;
  Store s = Store::in_memory(encoder ? encoder->dim() : o.embed_dim);
  s.import_csv(dir.path + "/nodes.csv", dir.path + "/edges.csv", o);
  return s;
}

struct DemoFlags {
  QueryFlags q;
  std::string save;
  std::string embedder = "auto";
};

void run_demo(DemoFlags& d) {
  if (d.q.text.empty() && d.q.seeds.empty() && d.q.embedding_npy.empty())
    d.q.text = "show me what serenity looks like";
  const auto encoder = text::encoder_by_name(d.embedder);
  const Store store = demo_store(encoder.get());
  if (!d.q.json) {
    const StoreStats st = store.stats();
    fmt::print("demo graph: an assistant's capabilities, constraints and guidelines — {} nodes, "
               "{} edges, {} edge types, {} universal; embeddings: {} (dim {})\n",
               st.nodes, st.edges, st.edge_types, st.universal, st.embedder, st.dim);
  }
  run_query_on(store, d.q);
  if (!d.save.empty()) {
    store.export_csv(d.save);
    if (!d.q.json) fmt::print("\nexported the demo graph to {}\n", d.save);
  }
}

// ------------------------------------------------------------------ other subcommands

struct ImportFlags {
  std::string store, nodes, edges, embeddings, embedder = "hashed";
  int dim = 256;
  bool json = false;
};

void print_stats(const Store& s, bool json) {
  const StoreStats st = s.stats();
  if (json) {
    fmt::print("{}\n", nlohmann::json{{"store", s.path()}, {"nodes", st.nodes}, {"edges", st.edges},
                                      {"dim", st.dim}, {"edge_types", st.edge_types},
                                      {"universal", st.universal}, {"embedder", st.embedder},
                                      {"schema_version", kSchemaVersion}}
                           .dump(2));
  } else {
    fmt::print("store {}: {} nodes ({} universal), {} edges of {} types, embeddings dim {} ({}), "
               "schema {}\n",
               s.path(), st.nodes, st.universal, st.edges, st.edge_types, st.dim,
               st.embedder.empty() ? "none" : st.embedder, kSchemaVersion);
  }
}

struct LearnFlags {
  std::string store;
  QueryFlags q;
  std::vector<std::string> nodes;
  float reward = -1.0f;
  float lr = 0.1f;
};

void run_learn(LearnFlags& f) {
  if (!(f.reward >= 0.0f && f.reward <= 1.0f))
    throw Error(ErrorCode::invalid_argument,
                fmt::format("--reward {} must be in [0, 1]", f.reward));
  Store store = Store::open(f.store);
  const std::vector<Edge> before = store.edges();
  LearnOptions lo;
  lo.learning_rate = f.lr;
  LearnReport rep;
  std::vector<std::string> learned_from;
  if (!f.nodes.empty()) {
    rep = store.learn(f.nodes, Outcome::turn(f.reward), lo);
    learned_from = f.nodes;
  } else {
    const QueryResult r = store.query(build_query(store, f.q), parse_device(f.q.device));
    for (const auto& [i, a] : r.active) learned_from.push_back(store.node(i).id);
    rep = store.learn(r, Outcome::turn(f.reward), lo);
  }
  const std::vector<Edge> after = store.edges();
  nlohmann::json changed = nlohmann::json::array();
  for (std::size_t k = 0; k < after.size(); ++k) {
    if (after[k].weight == before[k].weight && after[k].success_rate == before[k].success_rate)
      continue;
    changed.push_back({{"source", after[k].source}, {"target", after[k].target},
                       {"type", after[k].type}, {"weight_before", before[k].weight},
                       {"weight", after[k].weight}, {"success_rate_before", before[k].success_rate},
                       {"success_rate", after[k].success_rate}});
  }
  if (f.q.json) {
    fmt::print("{}\n", nlohmann::json{{"reward", f.reward}, {"learning_rate", f.lr},
                                      {"activated", learned_from}, {"nodes", rep.nodes},
                                      {"edges", rep.edges}, {"changed", changed}}
                           .dump(2));
    return;
  }
  fmt::print("learned from {} activated node(s) with reward {} (learning rate {}): {} edge(s) "
             "updated in one transaction\n\n",
             rep.nodes, f.reward, f.lr, rep.edges);
  fmt::print("| edge | weight | success rate |\n|---|---:|---:|\n");
  for (const auto& c : changed)
    fmt::print("| {} -[{}]-> {} | {:.4f} → {:.4f} | {:.4f} → {:.4f} |\n",
               c["source"].get<std::string>(), c["type"].get<std::string>(),
               c["target"].get<std::string>(), c["weight_before"].get<float>(),
               c["weight"].get<float>(), c["success_rate_before"].get<float>(),
               c["success_rate"].get<float>());
}
}  // namespace

void add_relevance_command(CLI::App& app) {
  CLI::App* rel = app.add_subcommand(
      "relevance",
      "Relevance engine: a knowledge graph in a SQLite store, queried by meaning (cosine seeds) "
      "and structure (gated propagation), learning from outcomes");
  rel->require_subcommand(1);

  auto imp = std::make_shared<ImportFlags>();
  CLI::App* ic = rel->add_subcommand("import", "Create a store from nodes.csv and edges.csv");
  ic->add_option("store", imp->store, "The store file to create (must not exist)")->required();
  ic->add_option("nodes", imp->nodes,
                 "nodes.csv: id,type,title[,content,universal,level,residual,decay,threshold,"
                 "type_weights]")
      ->required()
      ->check(CLI::ExistingFile);
  ic->add_option("edges", imp->edges,
                 "edges.csv: source,target,type[,weight,confidence,success_rate]")
      ->check(CLI::ExistingFile);
  ic->add_option("--embeddings", imp->embeddings,
                 ".npy [nodes, d] embeddings in nodes.csv's order (default: the built-in hashed "
                 "n-gram text embedder over title and content)")
      ->check(CLI::ExistingFile);
  ic->add_option("--dim", imp->dim, "Dimension of the text embedder")
      ->check(CLI::Range(8, 1 << 16))
      ->capture_default_str();
  ic->add_option("--embedder", imp->embedder,
                 "Text embedder of titles and content: hashed, minilm (the installed "
                 "all-MiniLM-L6-v2), minilm:PATH (a BERT sentence-encoder folder) or auto; "
                 "queries then embed messages with the same one")
      ->capture_default_str();
  ic->add_flag("--json", imp->json, "Print JSON");
  ic->callback([imp] {
    ImportOptions o;
    o.embeddings_npy = imp->embeddings;
    o.embed_dim = imp->dim;
    const auto encoder = imp->embeddings.empty() ? text::encoder_by_name(imp->embedder) : nullptr;
    o.encoder = encoder.get();
    const Store s = Store::import(imp->store, imp->nodes, imp->edges, o);
    print_stats(s, imp->json);
  });

  auto info_store = std::make_shared<std::pair<std::string, bool>>();
  CLI::App* inf = rel->add_subcommand("info", "Counts and facts of a store");
  inf->add_option("store", info_store->first, "Store file")->required()->check(CLI::ExistingFile);
  inf->add_flag("--json", info_store->second, "Print JSON");
  inf->callback([info_store] { print_stats(Store::open(info_store->first), info_store->second); });

  auto qf = std::make_shared<std::pair<std::string, QueryFlags>>();
  CLI::App* qc = rel->add_subcommand(
      "query", "Find the nodes relevant to a message: seeds, propagation, extraction");
  qc->add_option("store", qf->first, "Store file")->required()->check(CLI::ExistingFile);
  add_query_flags(qc, qf->second, true);
  qc->callback([qf] { run_query_on(Store::open(qf->first), qf->second); });

  auto lf = std::make_shared<LearnFlags>();
  CLI::App* lc = rel->add_subcommand(
      "learn",
      "Apply an outcome: w += lr (reward - success_rate), clamped to [0, 1], on every edge "
      "leaving an activated node; success_rate = 0.9 success_rate + 0.1 reward; one transaction");
  lc->add_option("store", lf->store, "Store file")->required()->check(CLI::ExistingFile);
  add_query_flags(lc, lf->q, true);
  lc->add_option("--nodes", lf->nodes, "Activated node ids (instead of running the query)")
      ->delimiter(',');
  lc->add_option("--reward", lf->reward, "Reward of the turn in [0, 1]")->required();
  lc->add_option("--lr", lf->lr, "Learning rate")->capture_default_str();
  lc->callback([lf] { run_learn(*lf); });

  auto ef = std::make_shared<std::pair<std::string, std::string>>();
  CLI::App* ec = rel->add_subcommand(
      "export", "Write nodes.csv, edges.csv and embeddings.npy (learned weights included)");
  ec->add_option("store", ef->first, "Store file")->required()->check(CLI::ExistingFile);
  ec->add_option("dir", ef->second, "Output directory (created if missing)")->required();
  ec->callback([ef] {
    const Store s = Store::open(ef->first);
    s.export_csv(ef->second);
    fmt::print("exported {} nodes and {} edges to {}\n", s.stats().nodes, s.stats().edges, ef->second);
  });

  auto df = std::make_shared<DemoFlags>();
  CLI::App* dc = rel->add_subcommand(
      "demo",
      "Query the built-in demo graph (an assistant's capabilities, constraints and guidelines; "
      "data/relevance) with a message, default \"show me what serenity looks like\"");
  add_query_flags(dc, df->q, true);
  dc->add_option("--save", df->save, "Also export the demo graph (CSV + embeddings) to this directory");
  dc->add_option("--embedder", df->embedder,
                 "auto (MiniLM when installed, else hashed), hashed, minilm or minilm:PATH")
      ->capture_default_str();
  dc->callback([df] { run_demo(*df); });
}

}  // namespace mpe::cli
