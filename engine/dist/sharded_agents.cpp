// Agents' episodes split over ranks: each rank runs evaluate() on its block of episode indices
// (first_episode), the per-episode figures are gathered in rank order (= index order) and
// summarized once, exactly as one process does.
#include <algorithm>

#include <mpe/dist_batches.hpp>

#include "dist/bytes.hpp"

namespace mpe::dist {

agents::EvalResult evaluate(Communicator& comm, const agents::Environment& env,
                            const agents::EvalOptions& options) {
  agents::EvalOptions mine = options;
  if (options.episodes < 1) {
    throw Error(ErrorCode::invalid_argument, "evaluate: episodes must be >= 1");
  }
  const Shard s = shard(options.episodes, comm.rank(), comm.size());
  mine.first_episode = options.first_episode + static_cast<int>(s.first);
  mine.episodes = static_cast<int>(s.count);
  if (comm.rank() != 0) mine.progress = nullptr;
  if (options.render_episode >= 0) {  // only the rank that runs it draws it
    const int local = options.render_episode - static_cast<int>(s.first);
    mine.render_episode = local >= 0 && local < s.count ? local : -1;
  }
  agents::EvalResult part;
  run_checked(comm, [&] {
    if (mine.episodes > 0) part = agents::evaluate(env, mine);
  });
  detail::ByteWriter w;
  w.put_vector(part.successes);
  w.put_vector(part.rewards);
  w.put_vector(part.steps_taken);
  w.put_vector(part.retrieved);
  w.put_vector(part.retrievable);
  w.put<std::uint64_t>(part.actions.size());
  for (const auto& a : part.actions) w.put_vector(a);
  const auto all = comm.all_gather(w.bytes());
  agents::EvalResult out;
  detail::ByteReader r(all.data(), all.size());
  for (int k = 0; k < comm.size(); ++k) {
    auto append = [](auto& into, const auto& more) {
      into.insert(into.end(), more.begin(), more.end());
    };
    append(out.successes, r.get_vector<int>());
    append(out.rewards, r.get_vector<double>());
    append(out.steps_taken, r.get_vector<int>());
    append(out.retrieved, r.get_vector<double>());
    append(out.retrievable, r.get_vector<double>());
    const auto n = r.get<std::uint64_t>();
    for (std::uint64_t e = 0; e < n; ++e) out.actions.push_back(r.get_vector<std::int64_t>());
  }
  std::int64_t sums[4] = {part.plans, part.iterations_total, part.actions_checked,
                          part.actions_differing};
  comm.all_reduce(sums, 4, ReduceOp::sum);
  std::int64_t most = part.max_iterations;
  comm.all_reduce(&most, 1, ReduceOp::max);
  double maxes[2] = {part.differing_gap_max, part.wall_seconds};
  comm.all_reduce(maxes, 2, ReduceOp::max);
  out.plans = sums[0];
  out.iterations_total = sums[1];
  out.actions_checked = sums[2];
  out.actions_differing = sums[3];
  out.max_iterations = static_cast<int>(most);
  out.differing_gap_max = maxes[0];
  out.wall_seconds = maxes[1];
  agents::summarize(out);
  return out;
}

}  // namespace mpe::dist
