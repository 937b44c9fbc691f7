// Belief propagation batch members (evidence samples) split over ranks: each rank runs its
// block with bp::run_batch, the results go to the root in rank order (= batch order).
#include <fmt/format.h>
#include <mpe/dist_batches.hpp>

#include "dist/bytes.hpp"

namespace mpe::dist {

namespace {
void put_rows(detail::ByteWriter& w, const std::vector<std::vector<double>>& rows) {
  w.put<std::uint64_t>(rows.size());
  for (const auto& r : rows) w.put_vector(r);
}
std::vector<std::vector<double>> get_rows(detail::ByteReader& r) {
  std::vector<std::vector<double>> rows(static_cast<std::size_t>(r.get<std::uint64_t>()));
  for (auto& row : rows) row = r.get_vector<double>();
  return rows;
}
}  // namespace

std::vector<bp::Result> run_batch(Communicator& comm, const bp::FactorGraph& g,
                                  const std::vector<bp::Instance>& batch,
                                  const bp::Options& options, int root) {
  const Shard s = shard(static_cast<std::int64_t>(batch.size()), comm.rank(), comm.size());
  std::vector<bp::Result> mine;
  run_checked(comm, [&] {
    const auto first = batch.begin() + s.first;
    const std::vector<bp::Instance> local(first, first + s.count);
    for (std::size_t i = 0; i < local.size(); ++i) {  // errors name the global index
      try {
        bp::validate(g, local[i], options);
      } catch (const Error& e) {
        throw Error(e.code(), fmt::format("batch member {}: {}",
                                          s.first + static_cast<std::int64_t>(i), e.message()));
      }
    }
    if (!local.empty()) mine = bp::run_batch(g, local, options);
  });
  detail::ByteWriter w;
  w.put<std::uint64_t>(mine.size());
  for (const auto& r : mine) {
    w.put<std::uint8_t>(r.converged ? 1 : 0);
    w.put(r.iterations);
    w.put(r.max_change);
    put_rows(w, r.var_beliefs);
    put_rows(w, r.factor_beliefs);
    w.put(r.log_z);
    w.put_vector(r.map);
    w.put(r.map_log_score);
  }
  const auto all = comm.gather(w.bytes(), root);
  std::vector<bp::Result> out;
  if (comm.rank() != root) return out;
  detail::ByteReader rd(all.data(), all.size());
  for (int k = 0; k < comm.size(); ++k) {
    const auto n = rd.get<std::uint64_t>();
    for (std::uint64_t i = 0; i < n; ++i) {
      bp::Result r;
      r.converged = rd.get<std::uint8_t>() != 0;
      r.iterations = rd.get<int>();
      r.max_change = rd.get<double>();
      r.var_beliefs = get_rows(rd);
      r.factor_beliefs = get_rows(rd);
      r.log_z = rd.get<double>();
      r.map = rd.get_vector<int>();
      r.map_log_score = rd.get<double>();
      out.push_back(std::move(r));
    }
  }
  return out;
}

}  // namespace mpe::dist
