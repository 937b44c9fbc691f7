// Planning requests split over ranks: each rank plans its block with aif::plan, the plans go to
// the root in rank order (= request order).
#include <fmt/format.h>
#include <mpe/dist_batches.hpp>

#include "dist/bytes.hpp"

namespace mpe::dist {

namespace {
void put_tensor(detail::ByteWriter& w, const Tensor& t) {
  w.put<std::uint8_t>(t.defined() ? 1 : 0);
  if (!t.defined()) return;
  w.put_vector(t.shape());
  w.put_vector(t.to_vector<float>());
}

Tensor get_tensor(detail::ByteReader& r) {
  if (r.get<std::uint8_t>() == 0) return {};
  const auto shape = r.get_vector<std::int64_t>();
  return Tensor::from_vector(r.get_vector<float>(), shape);
}
}  // namespace

std::vector<aif::Plan> plan(Communicator& comm, const aif::Model& model,
                            const std::vector<aif::PlanRequest>& requests, Device device,
                            int root) {
  const Shard s = shard(static_cast<std::int64_t>(requests.size()), comm.rank(), comm.size());
  std::vector<aif::Plan> mine;
  run_checked(comm, [&] {
    const auto first = requests.begin() + s.first;
    const std::vector<aif::PlanRequest> local(first, first + s.count);
    for (std::size_t i = 0; i < local.size(); ++i) {  // errors name the global index
      try {
        aif::validate_request(model, local[i]);
      } catch (const Error& e) {
        throw Error(e.code(), fmt::format("request {}: {}", s.first + static_cast<std::int64_t>(i),
                                          e.message()));
      }
    }
    if (!local.empty()) mine = aif::plan(model, local, device);
  });
  detail::ByteWriter w;
  w.put<std::uint64_t>(mine.size());
  for (const auto& p : mine) {
    w.put_vector(p.action_dist);
    put_tensor(w, p.q_u);
    put_tensor(w, p.log_r_x);
    put_tensor(w, p.log_r_c);
    w.put(p.iterations_run);
    w.put<std::uint8_t>(p.sparse_dynamics ? 1 : 0);
    w.put(p.max_change);
  }
  const auto all = comm.gather(w.bytes(), root);
  std::vector<aif::Plan> out;
  if (comm.rank() != root) return out;
  detail::ByteReader r(all.data(), all.size());
  for (int k = 0; k < comm.size(); ++k) {
    const auto n = r.get<std::uint64_t>();
    for (std::uint64_t i = 0; i < n; ++i) {
      aif::Plan p;
      p.action_dist = r.get_vector<float>();
      p.q_u = get_tensor(r);
      p.log_r_x = get_tensor(r);
      p.log_r_c = get_tensor(r);
      p.iterations_run = r.get<int>();
      p.sparse_dynamics = r.get<std::uint8_t>() != 0;
      p.max_change = r.get<float>();
      out.push_back(std::move(p));
    }
  }
  return out;
}

}  // namespace mpe::dist
