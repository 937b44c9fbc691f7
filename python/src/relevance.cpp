// The relevance engine: Store, queries and learning (include/mpe/relevance.hpp).
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nanobind/stl/map.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/shared_ptr.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <mpe/relevance.hpp>

#include "arrays.hpp"
#include "bindings.hpp"

namespace mpe::py {
namespace rel = mpe::relevance;

namespace {

// QueryParams from keyword arguments (the spec's defaults for the rest).
rel::QueryParams params_arg(const nb::kwargs& kw) {
  rel::QueryParams p;
  for (auto [key, value] : kw) {
    const std::string k = nb::cast<std::string>(key);
    if (k == "top_k") p.top_k = nb::cast<int>(value);
    else if (k == "seed_threshold") p.seed_threshold = nb::cast<float>(value);
    else if (k == "max_iterations") p.max_iterations = nb::cast<int>(value);
    else if (k == "tolerance") p.tolerance = nb::cast<float>(value);
    else if (k == "propagation_threshold") p.propagation_threshold = nb::cast<float>(value);
    else if (k == "edge_gate") p.edge_gate = nb::cast<float>(value);
    else if (k == "level_up_scale") p.level_up_scale = nb::cast<float>(value);
    else if (k == "level_down_scale") p.level_down_scale = nb::cast<float>(value);
    else if (k == "min_activation") p.min_activation = nb::cast<float>(value);
    else if (k == "types") p.types = nb::cast<std::vector<std::string>>(value);
    else if (k == "include_universal") p.include_universal = nb::cast<bool>(value);
    else if (k == "max_results") p.max_results = nb::cast<int>(value);
    else throw Error(ErrorCode::invalid_argument, "query: unknown parameter '" + k + "'");
  }
  return p;
}

// A query from a message (text, embedded with the store's own embedder), an embedding
// (any 1-D float array) or explicit seeds {id: activation}.
rel::Query query_arg(const rel::Store& store, nb::handle message, nb::handle seeds,
                     const nb::kwargs& kw) {
  rel::Query q;
  q.params = params_arg(kw);
  if (!seeds.is_none()) {
    for (auto [id, a] : nb::borrow<nb::dict>(seeds)) {
      q.seeds.push_back({nb::cast<std::string>(id), nb::cast<float>(a)});
    }
    return q;
  }
  if (nb::isinstance<nb::str>(message)) {
    q.embedding = rel::embed_for(store, nb::cast<std::string>(message));  // the store's embedder
  } else if (!message.is_none()) {
    q.embedding = arg_tensor(message, "message", DType::f32, 1).to_vector<float>();
  } else {
    throw Error(ErrorCode::invalid_argument, "query: give a message, an embedding or seeds=");
  }
  return q;
}

nb::dict activated_dict(const rel::Activated& a) {
  nb::dict d;
  d["id"] = a.id;
  d["type"] = a.type;
  d["title"] = a.title;
  d["activation"] = a.activation;
  d["confidence"] = a.confidence;
  d["universal"] = a.universal;
  d["seed"] = a.seed;
  d["node"] = a.node;
  return d;
}

}  // namespace

rel::Query make_query(const rel::Store& store, nb::handle message, nb::handle seeds,
                      const nb::kwargs& kw) {
  return query_arg(store, message, seeds, kw);
}

void bind_relevance(nb::module_& m) {
  nb::class_<rel::QueryResult>(m, "QueryResult", "The answer to one relevance query.")
      .def_prop_ro("results", [](const rel::QueryResult& r) {
        nb::list out;
        for (const rel::Activated& a : r.results) out.append(activated_dict(a));
        return out;
      }, "the extraction: dicts (id, type, title, activation, confidence, universal, seed)")
      .def_prop_ro("ids", [](const rel::QueryResult& r) {
        std::vector<std::string> ids;
        for (const rel::Activated& a : r.results) ids.push_back(a.id);
        return ids;
      }, "the extracted node ids, in order")
      .def_prop_ro("seeds", [](const rel::QueryResult& r) {
        nb::list out;
        for (const rel::SeedHit& s : r.seeds) out.append(nb::make_tuple(s.id, s.similarity));
        return out;
      }, "(id, similarity) of each seed, most similar first")
      .def_ro("active", &rel::QueryResult::active, "(node index, activation) of active nodes")
      .def_ro("iterations", &rel::QueryResult::iterations)
      .def_ro("converged", &rel::QueryResult::converged)
      .def_ro("edges_touched", &rel::QueryResult::edges_touched);

  nb::class_<rel::LearnReport>(m, "LearnReport")
      .def_ro("nodes", &rel::LearnReport::nodes)
      .def_ro("edges", &rel::LearnReport::edges);

  nb::class_<rel::Store>(m, "Store",
      "A relevance store: a knowledge graph in an SQLite file (mpe::relevance::Store).")
      .def_static("open", [](const std::string& path) {
        return std::make_shared<rel::Store>(rel::Store::open(path));
      }, nb::arg("path"), "Opens an existing store file.")
      .def_static("create", [](const std::string& path, int dim) {
        return std::make_shared<rel::Store>(rel::Store::create(path, dim));
      }, nb::arg("path"), nb::arg("dim"), "Creates a new, empty store file.")
      .def_static("in_memory", [](int dim) {
        return std::make_shared<rel::Store>(rel::Store::in_memory(dim));
      }, nb::arg("dim"), "A store with nothing on disk.")
      .def_static("import_csv",
                  [](const std::string& path, const std::string& nodes, const std::string& edges,
                     const std::string& embeddings_npy, int embed_dim) {
                    rel::ImportOptions o;
                    o.embeddings_npy = embeddings_npy;
                    o.embed_dim = embed_dim;
                    return std::make_shared<rel::Store>(
                        rel::Store::import(path, nodes, edges, o));
                  },
                  nb::arg("path"), nb::arg("nodes_csv"), nb::arg("edges_csv"), nb::kw_only(),
                  nb::arg("embeddings_npy") = "", nb::arg("embed_dim") = 256,
                  "Creates `path` from nodes.csv and edges.csv (docs/relevance.md).")
      .def_prop_ro("dim", &rel::Store::dim)
      .def_prop_ro("num_nodes", &rel::Store::num_nodes)
      .def_prop_ro("path", &rel::Store::path)
      .def("find", &rel::Store::find, nb::arg("id"), "Index of a node id, or -1.")
      .def("stats", [](const rel::Store& s) {
        const rel::StoreStats st = s.stats();
        nb::dict d;
        d["nodes"] = st.nodes;
        d["edges"] = st.edges;
        d["dim"] = st.dim;
        d["edge_types"] = st.edge_types;
        d["universal"] = st.universal;
        d["embedder"] = st.embedder;
        return d;
      })
      .def("edges", [](const rel::Store& s) {
        nb::list out;
        for (const rel::Edge& e : s.edges()) {
          nb::dict d;
          d["source"] = e.source;
          d["target"] = e.target;
          d["type"] = e.type;
          d["weight"] = e.weight;
          d["confidence"] = e.confidence;
          d["success_rate"] = e.success_rate;
          out.append(d);
        }
        return out;
      }, "Every edge as a dict, in insertion order.")
      .def("query",
           [](const rel::Store& s, MessageArg message, SeedsArg seeds, DeviceArg device,
              const nb::kwargs& kw) {
             const rel::Query q = query_arg(s, message, seeds, kw);
             const Device dev = device.is_none() ? Device::cpu() : device_arg(device);
             nb::gil_scoped_release release;
             return s.query(q, dev);
           },
           nb::arg("message") = nb::none(), nb::kw_only(), nb::arg("seeds") = nb::none(),
           nb::arg("device") = nb::none(), nb::arg("params"),
           "Runs one query: `message` a text (the store's embedder) or a 1-D float32\n"
           "embedding; or seeds={id: activation}. Keyword parameters as QueryParams (top_k,\n"
           "seed_threshold, max_iterations, tolerance, propagation_threshold, edge_gate,\n"
           "level_up_scale, level_down_scale, min_activation, types, include_universal,\n"
           "max_results). The GIL is released while it runs.")
      .def("learn",
           [](rel::Store& s, const rel::QueryResult& r, float reward,
              std::map<std::string, float> node_rewards, float learning_rate) {
             rel::Outcome o{reward, std::move(node_rewards)};
             rel::LearnOptions lo;
             lo.learning_rate = learning_rate;
             nb::gil_scoped_release release;
             return s.learn(r, o, lo);
           },
           nb::arg("result"), nb::arg("reward") = -1.0f, nb::kw_only(),
           nb::arg("node_rewards") = std::map<std::string, float>(),
           nb::arg("learning_rate") = 0.1f,
           "Learns from an outcome: one reward in [0, 1] for the turn and/or per-node rewards.");
}

}  // namespace mpe::py
