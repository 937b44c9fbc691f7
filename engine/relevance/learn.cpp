// Learning from outcomes (spec step 4): every outgoing edge of every rewarded active node moves
// its weight towards the reward by the surprise (reward − success rate), then the success rate
// follows the reward; all edge rows are read and written in one SQLite transaction, so
// processes learning on the same file at once lose no update.
#include <algorithm>
#include <cmath>
#include <unordered_map>

#include <fmt/format.h>
#include <mpe/error.hpp>

#include "relevance/detail.hpp"

namespace mpe::relevance {

namespace {
struct Update {
  std::size_t edge;
  float weight, success_rate;
};

LearnReport learn_nodes(Store::Impl& impl, const std::vector<std::int64_t>& active,
                        const Outcome& outcome, const LearnOptions& opt) {
  detail::GraphData& g = impl.g;
  const float eta = opt.learning_rate;
  if (!std::isfinite(eta) || eta < 0.0f || eta > 1.0f)
    throw Error(ErrorCode::invalid_argument,
                fmt::format("learn: learning rate {} is outside [0, 1]", eta));
  const bool has_turn = outcome.turn_reward >= 0.0f;
  if (has_turn && !(outcome.turn_reward <= 1.0f))
    throw Error(ErrorCode::invalid_argument,
                fmt::format("learn: turn reward {} is outside [0, 1]", outcome.turn_reward));
  if (std::isnan(outcome.turn_reward))
    throw Error(ErrorCode::invalid_argument, "learn: turn reward is NaN");
  std::unordered_map<std::int64_t, float> reward;  // node -> reward
  for (const std::int64_t i : active) {
    if (i < 0 || i >= g.n())
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("learn: active node index {} is not in this store ({} nodes)", i, g.n()));
    if (has_turn) reward[i] = outcome.turn_reward;
  }
  for (const auto& [id, r] : outcome.node_rewards) {
    auto it = g.index.find(id);
    if (it == g.index.end())
      throw Error(ErrorCode::invalid_argument, fmt::format("learn: unknown node id '{}'", id));
    if (!(r >= 0.0f && r <= 1.0f))
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("learn: reward {} of node '{}' is outside [0, 1]", r, id));
    if (std::find(active.begin(), active.end(), it->second) == active.end())
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("learn: node '{}' has a reward but is not active", id));
    reward[it->second] = r;
  }
  // The affected edges with their rewards, in edge order.
  std::vector<std::int64_t> nodes;
  for (const auto& kv : reward) nodes.push_back(kv.first);
  std::sort(nodes.begin(), nodes.end());
  std::vector<std::pair<std::size_t, float>> touched;  // (edge, reward)
  for (const std::int64_t j : nodes) {
    for (std::int64_t p = g.row_offsets[std::size_t(j)]; p < g.row_offsets[std::size_t(j) + 1]; ++p) {
      touched.emplace_back(std::size_t(g.csr_edge[std::size_t(p)]), reward[j]);
    }
  }
  std::sort(touched.begin(), touched.end());
  // The new values are computed from the file's current values, read inside the write
  // transaction (BEGIN IMMEDIATE holds the write lock): another process that learned since
  // this store was opened is built upon, not overwritten.
  std::vector<Update> ups;
  {
    sql::Transaction tx(*impl.db);
    sql::Stmt cur(*impl.db, "SELECT weight, success_rate FROM edges WHERE eid = ?");
    sql::Stmt st(*impl.db, "UPDATE edges SET weight = ?, success_rate = ? WHERE eid = ?");
    const auto total = std::int64_t(touched.size());
    for (std::size_t u = 0; u < touched.size(); ++u) {
      const auto [k, r] = touched[u];
      const detail::EdgeRec& e = g.edges[k];
      cur.bind(1, e.rowid);
      if (!cur.step()) {
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("learn: edge {} -> {} was removed from {} by another writer; "
                                "reopen the store",
                                g.nodes[std::size_t(e.src)].id, g.nodes[std::size_t(e.dst)].id,
                                impl.path));
      }
      const float w0 = static_cast<float>(cur.col_double(0));
      const float sr0 = static_cast<float>(cur.col_double(1));
      cur.reset();
      const float w = std::min(1.0f, std::max(0.0f, w0 + eta * (r - sr0)));
      const float sr = 0.9f * sr0 + 0.1f * r;
      ups.push_back(Update{k, w, sr});
      st.bind(1, double(w)).bind(2, double(sr)).bind(3, e.rowid);
      st.run();
      if (opt.on_edge) opt.on_edge(std::int64_t(u) + 1, total);
    }
    tx.commit();
  }
  for (const Update& u : ups) {
    g.edges[u.edge].weight = u.weight;
    g.edges[u.edge].success_rate = u.success_rate;
  }
  for (const std::int64_t j : nodes) g.resort_row(static_cast<std::int32_t>(j));
  impl.invalidate_devices();
  return LearnReport{std::int64_t(nodes.size()), std::int64_t(ups.size())};
}
}  // namespace

LearnReport Store::learn(const QueryResult& result, const Outcome& outcome,
                         const LearnOptions& options) {
  auto lock = impl_->write_lock();
  std::vector<std::int64_t> active;
  for (const auto& [i, a] : result.active)
    if (a > 0.0f) active.push_back(i);
  return learn_nodes(*impl_, active, outcome, options);
}

LearnReport Store::learn(const std::vector<std::string>& activated, const Outcome& outcome,
                         const LearnOptions& options) {
  auto lock = impl_->write_lock();
  std::vector<std::int64_t> active;
  for (const std::string& id : activated) {
    auto it = impl_->g.index.find(id);
    if (it == impl_->g.index.end())
      throw Error(ErrorCode::invalid_argument, fmt::format("learn: unknown node id '{}'", id));
    active.push_back(it->second);
  }
  std::sort(active.begin(), active.end());
  active.erase(std::unique(active.begin(), active.end()), active.end());
  return learn_nodes(*impl_, active, outcome, options);
}

}  // namespace mpe::relevance
