// Relevance queries split over ranks (each with the whole store): each rank runs its block
// with Store::query_batch, the results go to the root in rank order (= query order).
#include <fmt/format.h>
#include <mpe/dist_batches.hpp>

#include "dist/bytes.hpp"

namespace mpe::dist {

std::vector<relevance::QueryResult> query_batch(Communicator& comm, const relevance::Store& store,
                                                const std::vector<relevance::Query>& queries,
                                                const Device& device, int root) {
  const Shard s = shard(static_cast<std::int64_t>(queries.size()), comm.rank(), comm.size());
  std::vector<relevance::QueryResult> mine;
  run_checked(comm, [&] {
    const auto first = queries.begin() + s.first;
    const std::vector<relevance::Query> local(first, first + s.count);
    for (std::size_t i = 0; i < local.size(); ++i) {  // errors name the global index
      try {
        store.validate(local[i]);
      } catch (const Error& e) {
        throw Error(e.code(), fmt::format("query {}: {}", s.first + static_cast<std::int64_t>(i),
                                          e.message()));
      }
    }
    if (!local.empty()) mine = store.query_batch(local, device);
  });
  detail::ByteWriter w;
  w.put<std::uint64_t>(mine.size());
  for (const auto& r : mine) {
    w.put<std::uint64_t>(r.results.size());
    for (const auto& a : r.results) {
      w.put(a.node);
      w.put_string(a.id);
      w.put_string(a.type);
      w.put_string(a.title);
      w.put(a.activation);
      w.put(a.confidence);
      w.put<std::uint8_t>(static_cast<std::uint8_t>((a.universal ? 1 : 0) | (a.seed ? 2 : 0)));
    }
    w.put<std::uint64_t>(r.seeds.size());
    for (const auto& h : r.seeds) {
      w.put(h.node);
      w.put_string(h.id);
      w.put(h.similarity);
    }
    w.put<std::uint64_t>(r.active.size());
    for (const auto& [node, act] : r.active) {
      w.put(node);
      w.put(act);
    }
    w.put(r.iterations);
    w.put<std::uint8_t>(r.converged ? 1 : 0);
    w.put(r.edges_touched);
  }
  const auto all = comm.gather(w.bytes(), root);
  std::vector<relevance::QueryResult> out;
  if (comm.rank() != root) return out;
  detail::ByteReader rd(all.data(), all.size());
  for (int k = 0; k < comm.size(); ++k) {
    const auto n = rd.get<std::uint64_t>();
    for (std::uint64_t i = 0; i < n; ++i) {
      relevance::QueryResult r;
      r.results.resize(static_cast<std::size_t>(rd.get<std::uint64_t>()));
      for (auto& a : r.results) {
        a.node = rd.get<std::int64_t>();
        a.id = rd.get_string();
        a.type = rd.get_string();
        a.title = rd.get_string();
        a.activation = rd.get<float>();
        a.confidence = rd.get<float>();
        const auto flags = rd.get<std::uint8_t>();
        a.universal = flags & 1;
        a.seed = flags & 2;
      }
      r.seeds.resize(static_cast<std::size_t>(rd.get<std::uint64_t>()));
      for (auto& h : r.seeds) {
        h.node = rd.get<std::int64_t>();
        h.id = rd.get_string();
        h.similarity = rd.get<float>();
      }
      r.active.resize(static_cast<std::size_t>(rd.get<std::uint64_t>()));
      for (auto& [node, act] : r.active) {
        node = rd.get<std::int64_t>();
        act = rd.get<float>();
      }
      r.iterations = rd.get<int>();
      r.converged = rd.get<std::uint8_t>() != 0;
      r.edges_touched = rd.get<std::int64_t>();
      out.push_back(std::move(r));
    }
  }
  return out;
}

}  // namespace mpe::dist
