// Relevance nodes.csv / edges.csv import. The input is nodes.csv, a line "=====", then
// edges.csv. An accepted import has edges between known nodes with parameters in range;
// exporting it and importing the export (with its embeddings.npy) gives the same nodes, edges
// and query answer.
#include <cmath>
#include <filesystem>

#include <mpe/error.hpp>
#include <mpe/relevance.hpp>

#include "fuzz_support.hpp"

using namespace mpe;
namespace rel = mpe::relevance;

namespace {
constexpr int kDim = 16;

bool same_node(const rel::Node& a, const rel::Node& b) {
  return a.id == b.id && a.type == b.type && a.title == b.title && a.content == b.content &&
         a.universal == b.universal && a.level == b.level && a.residual == b.residual &&
         a.decay == b.decay && a.threshold == b.threshold && a.type_weights == b.type_weights;
}

bool same_edge(const rel::Edge& a, const rel::Edge& b) {
  return a.source == b.source && a.target == b.target && a.type == b.type && a.weight == b.weight &&
         a.confidence == b.confidence && a.success_rate == b.success_rate;
}
}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::init();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string nodes_text, edges_text;
  fuzz::split(data, size, "=====", nodes_text, edges_text);
  const std::string nodes = fuzz::scratch("nodes.csv"), edges = fuzz::scratch("edges.csv");
  fuzz::write_file(nodes, reinterpret_cast<const std::uint8_t*>(nodes_text.data()),
                   nodes_text.size());
  fuzz::write_file(edges, reinterpret_cast<const std::uint8_t*>(edges_text.data()),
                   edges_text.size());
  rel::Store store = rel::Store::in_memory(kDim);
  rel::ImportOptions opt;
  opt.embed_dim = kDim;
  try {
    store.import_csv(nodes, edges, opt);
  } catch (const Error&) {
    MPE_FUZZ_CHECK(store.num_nodes() == 0 && store.edges().empty(), "a failed import left data");
    return 0;
  }
  fuzz::check_store(store);
  const std::int64_t n = store.num_nodes();
  const std::vector<rel::Edge> es = store.edges();
  const std::string dir = fuzz::scratch("export");
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  try {
    store.export_csv(dir);
    rel::Store back = rel::Store::in_memory(kDim);
    rel::ImportOptions back_opt;
    back_opt.embeddings_npy = dir + "/embeddings.npy";
    back.import_csv(dir + "/nodes.csv", dir + "/edges.csv", back_opt);
    MPE_FUZZ_CHECK(back.num_nodes() == n, "the node count changed");
    for (std::int64_t i = 0; i < n; ++i) {
      MPE_FUZZ_CHECK(same_node(store.node(i), back.node(i)), "a node changed");
    }
    const std::vector<rel::Edge> back_es = back.edges();
    MPE_FUZZ_CHECK(back_es.size() == es.size(), "the edge count changed");
    for (std::size_t k = 0; k < es.size(); ++k) {
      MPE_FUZZ_CHECK(same_edge(es[k], back_es[k]), "an edge changed");
    }
    if (n > 0) {
      rel::Query q;
      q.seeds = {{store.node(0).id, 1.0f}};
      q.params.types.clear();
      MPE_FUZZ_CHECK(store.query(q).active == back.query(q).active, "the query answer changed");
    }
  } catch (const Error& e) {
    fuzz::fail(std::string("export + import of an accepted graph failed: ") + e.what());
  }
  return 0;
}
