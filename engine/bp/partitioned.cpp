// Flooding loopy BP with the factors split over ranks (include/mpe/dist_models.hpp). Each rank
// sweeps the factors it owns on a local graph that also holds the remote factors sharing a
// variable with them (ghosts): their messages are copies, received after every sweep, so each
// variable's totals sum the same messages in the same (global edge) order as one process.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include <fmt/format.h>
#include <mpe/dist_models.hpp>
#include <mpe/error.hpp>

#include "backend.hpp"
#include "bp.hpp"
#include "bp/parts.hpp"
#include "bp/structure.hpp"

namespace mpe::dist {
namespace {
using bp::FactorGraph;

[[noreturn]] void bad(const std::string& what) { throw Error(ErrorCode::invalid_argument, what); }

const std::vector<double>& table_of(const FactorGraph& g, const bp::Instance& in, std::size_t f) {
  return in.log_potentials.empty() ? g.factors[f].log_values : in.log_potentials[f];
}

bool has(const std::vector<int>& sorted, int x) {
  return std::binary_search(sorted.begin(), sorted.end(), x);
}

// This rank's share: the local graph (owned and ghost factors in ascending global order, the
// variables they touch in ascending global order) and which local edges travel to and from
// each peer (ascending global edge order on both sides, so the buffers line up).
struct LocalPlan {
  FactorGraph local;
  std::vector<int> factor_global, var_global, owned_local;
  std::vector<int> evidence;  // local, or empty
  std::vector<std::vector<std::int32_t>> send_edges, recv_edges;
};

LocalPlan make_plan(const FactorGraph& g, const bp::Instance& in, const std::vector<int>& owner,
                    const std::vector<std::vector<int>>& readers, int me, int P) {
  LocalPlan p;
  const auto V = g.cardinalities.size();
  std::vector<char> used(V, 0);
  std::vector<int> var_local(V, -1);
  for (std::size_t f = 0; f < g.factors.size(); ++f) {
    bool keep = owner[f] == me;
    for (int v : g.factors[f].vars) keep = keep || has(readers[static_cast<std::size_t>(v)], me);
    if (!keep) continue;
    p.factor_global.push_back(static_cast<int>(f));
    for (int v : g.factors[f].vars) used[static_cast<std::size_t>(v)] = 1;
  }
  for (std::size_t v = 0; v < V; ++v) {
    if (!used[v]) continue;
    var_local[v] = static_cast<int>(p.var_global.size());
    p.var_global.push_back(static_cast<int>(v));
    p.local.cardinalities.push_back(g.cardinalities[v]);
    if (!in.evidence.empty()) p.evidence.push_back(in.evidence[v]);
  }
  p.send_edges.resize(static_cast<std::size_t>(P));
  p.recv_edges.resize(static_cast<std::size_t>(P));
  std::int32_t le = 0;
  for (std::size_t lf = 0; lf < p.factor_global.size(); ++lf) {
    const auto f = static_cast<std::size_t>(p.factor_global[lf]);
    bp::Factor fac;
    fac.log_values = table_of(g, in, f);
    const bool mine = owner[f] == me;
    if (mine) p.owned_local.push_back(static_cast<int>(lf));
    for (int v : g.factors[f].vars) {
      fac.vars.push_back(var_local[static_cast<std::size_t>(v)]);
      const auto& rv = readers[static_cast<std::size_t>(v)];
      if (mine) {
        for (int q : rv)
          if (q != me) p.send_edges[static_cast<std::size_t>(q)].push_back(le);
      } else if (has(rv, me)) {
        p.recv_edges[static_cast<std::size_t>(owner[f])].push_back(le);
      }
      ++le;
    }
    p.local.factors.push_back(std::move(fac));
  }
  return p;
}

// One exchange of the cut edges' messages: pack what each peer reads, post everything, unpack
// the ghosts' messages into r.
template <class T>
void exchange(Communicator& comm, const LocalPlan& p, const bp::Structure& s, T* r,
              std::vector<std::vector<T>>& out, std::vector<std::vector<T>>& in) {
  std::vector<Neighbour> peers;
  for (std::size_t q = 0; q < p.send_edges.size(); ++q) {
    out[q].clear();
    for (std::int32_t e : p.send_edges[q]) {
      const T* m = r + s.edge_msg_off[static_cast<std::size_t>(e)];
      out[q].insert(out[q].end(), m,
                    m + s.card[static_cast<std::size_t>(s.edge_var[static_cast<std::size_t>(e)])]);
    }
    std::size_t n_in = 0;
    for (std::int32_t e : p.recv_edges[q])
      n_in += static_cast<std::size_t>(
          s.card[static_cast<std::size_t>(s.edge_var[static_cast<std::size_t>(e)])]);
    in[q].resize(n_in);
    if (out[q].empty() && in[q].empty()) continue;
    peers.push_back({static_cast<int>(q), out[q].data(), out[q].size() * sizeof(T), in[q].data(),
                     in[q].size() * sizeof(T)});
  }
  comm.neighbour_exchange(peers);
  for (std::size_t q = 0; q < p.recv_edges.size(); ++q) {
    std::size_t at = 0;
    for (std::int32_t e : p.recv_edges[q]) {
      const auto k = static_cast<std::size_t>(
          s.card[static_cast<std::size_t>(s.edge_var[static_cast<std::size_t>(e)])]);
      std::copy_n(in[q].data() + at, k, r + s.edge_msg_off[static_cast<std::size_t>(e)]);
      at += k;
    }
  }
}

template <class T>
bp::Result run_typed(Communicator& comm, const FactorGraph& g, const std::vector<int>& owner,
                     const bp::Options& o, const bp::Instance& in, const LocalPlan& p) {
  const bp::Structure s = bp::build_structure(p.local);
  // Potentials, probability tables and uniform messages exactly as the single-process solver.
  std::vector<T> pot(static_cast<std::size_t>(s.factor_tab_off.back()));
  for (std::size_t f = 0; f < p.local.factors.size(); ++f)
    bp::parts::kernel_table(p.local.factors[f].log_values, pot.data() + s.factor_tab_off[f]);
  const std::vector<T> prob = bp::parts::probability_tables(p.local, s, pot);
  // The work lists hold only the owned factors: the kernel updates nothing else.
  const bp::parts::FastLists lists = bp::parts::fast_lists(p.local, s, p.owned_local);
  const std::vector<T> shape_prob =
      bp::parts::shape_tables(lists, prob, s.factor_tab_off.back());
  std::vector<T> r(static_cast<std::size_t>(s.msg_len)), q(r.size()), scratch(r.size()), change(1);
  for (std::size_t e = 0; e < s.edge_var.size(); ++e) {
    const int k = s.card[static_cast<std::size_t>(s.edge_var[e])];
    std::fill_n(r.begin() + s.edge_msg_off[e], k,
                static_cast<T>(-std::log(static_cast<double>(k))));
  }
  std::vector<T> tot(static_cast<std::size_t>(s.var_state_off.back()));
  std::vector<std::int32_t> zeros(tot.size()), ev(p.evidence.begin(), p.evidence.end());
  const std::int32_t active = 1;
  kernels::BpArgs<T> a = bp::parts::host_args<T>(p.local, s);
  bp::parts::set_host_buffers(a, ev, &active, q, r, scratch, change, o.method);
  a.log_pot = pot.data();
  a.damping = static_cast<T>(o.damping);
  a.pair2_factors = lists.pair2.data();
  a.num_pair2 = static_cast<std::int32_t>(lists.pair2.size());
  if (!pot.empty()) {  // the CPU flooding fast path, as the single-process solver takes it
    bp::parts::set_fast_path(a, prob.data(), shape_prob, 0, tot.data(), zeros.data(), lists);
  }
  ::mpe::detail::Backend& be = ::mpe::detail::backend_for(Device::cpu());
  const auto P = static_cast<std::size_t>(comm.size());
  std::vector<std::vector<T>> out(P), inbox(P);
  bp::Result res;
  for (int it = 1; it <= o.max_iter; ++it) {
    change[0] = 0;
    be.bp_sweep(0, a, kernels::kBpBothSteps);
    a.skip_unary = a.pot_prob != nullptr && o.damping == 0;  // as Solver::sweep
    exchange(comm, p, s, r.data(), out, inbox);
    double ch = static_cast<double>(change[0]);
    comm.all_reduce(&ch, 1, ReduceOp::max);
    res.iterations = it;
    res.max_change = ch;
    if (ch < o.tol) {
      res.converged = true;
      break;
    }
  }
  // Every owned message to every rank (owned factors ascending, ranks in order), then the
  // single-process finish on the whole graph.
  std::vector<T> mine;
  for (int lf : p.owned_local) {
    const auto e0 = static_cast<std::size_t>(s.factor_edge_off[static_cast<std::size_t>(lf)]);
    const auto e1 = static_cast<std::size_t>(s.factor_edge_off[static_cast<std::size_t>(lf) + 1]);
    mine.insert(mine.end(), r.begin() + s.edge_msg_off[e0],
                e1 < s.edge_msg_off.size() ? r.begin() + s.edge_msg_off[e1] : r.end());
  }
  std::vector<std::uint8_t> bytes(mine.size() * sizeof(T));
  if (!bytes.empty()) std::memcpy(bytes.data(), mine.data(), bytes.size());
  const std::vector<std::uint8_t> all = comm.all_gather(bytes);
  const bp::Structure gs = bp::build_structure(g);
  std::vector<T> global(static_cast<std::size_t>(gs.msg_len));
  std::size_t at = 0;
  for (int rank = 0; rank < comm.size(); ++rank) {
    for (std::size_t f = 0; f < g.factors.size(); ++f) {
      if (owner[f] != rank) continue;
      const auto e0 = static_cast<std::size_t>(gs.factor_edge_off[f]);
      const auto e1 = static_cast<std::size_t>(gs.factor_edge_off[f + 1]);
      const std::int64_t lo = gs.edge_msg_off[e0];
      const std::int64_t hi = e1 < gs.edge_msg_off.size() ? gs.edge_msg_off[e1] : gs.msg_len;
      const auto n = static_cast<std::size_t>(hi - lo) * sizeof(T);
      if (at + n > all.size()) throw Error(ErrorCode::internal, "partitioned bp: short gather");
      std::memcpy(global.data() + lo, all.data() + at, n);
      at += n;
    }
  }
  if (at != all.size()) throw Error(ErrorCode::internal, "partitioned bp: long gather");
  bp::Result fin = bp::parts::finish_messages(g, gs, in, o, std::move(global));
  fin.converged = res.converged;
  fin.iterations = res.iterations;
  fin.max_change = res.max_change;
  return fin;
}

// FNV-1a over the owner vector and the graph's shape: every rank must pass the same ones.
std::int64_t fingerprint(const FactorGraph& g, const std::vector<int>& owner) {
  std::uint64_t h = 1469598103934665603ull;
  auto mix = [&h](std::int64_t x) {
    h ^= static_cast<std::uint64_t>(x);
    h *= 1099511628211ull;
  };
  for (int o : owner) mix(o);
  for (int c : g.cardinalities) mix(c);
  for (const auto& f : g.factors) {
    mix(-1);
    for (int v : f.vars) mix(v);
  }
  return static_cast<std::int64_t>(h >> 1);
}
}  // namespace

bp::Result run_partitioned(Communicator& comm, const FactorGraph& g,
                           const std::vector<int>& factor_owner, const bp::Options& options,
                           const bp::Instance& instance) {
  const int P = comm.size(), me = comm.rank();
  std::int64_t mine = 0;
  run_checked(comm, [&] {
    bp::validate(g, instance, options);
    if (options.schedule != bp::Schedule::flooding)
      throw Error(ErrorCode::not_supported,
                  "partitioned bp: only the flooding schedule runs partitioned (the sequential "
                  "one is sequential by definition)");
    if (options.device.kind != DeviceKind::cpu)
      throw Error(ErrorCode::not_supported,
                  fmt::format("partitioned bp runs on the CPU, not {}", options.device.str()));
    if (g.num_edges() > std::numeric_limits<std::int32_t>::max() / 2)
      bad(fmt::format("bp: {} edges exceed the limit of 2^30", g.num_edges()));
    if (factor_owner.size() != g.factors.size())
      bad(fmt::format("partitioned bp: {} owners for {} factors", factor_owner.size(),
                      g.factors.size()));
    for (std::size_t f = 0; f < factor_owner.size(); ++f)
      if (factor_owner[f] < 0 || factor_owner[f] >= P)
        bad(fmt::format("partitioned bp: factor {} has part {}, not in [0, {})", f, factor_owner[f],
                        P));
    mine = fingerprint(g, factor_owner);
  });
  std::int64_t lo = mine, hi = mine;
  comm.all_reduce(&lo, 1, ReduceOp::min);
  comm.all_reduce(&hi, 1, ReduceOp::max);
  if (lo != hi)
    throw AgreedError(ErrorCode::invalid_argument,
                      "partitioned bp: the ranks passed different graphs or owner vectors", 0);
  LocalPlan plan;
  run_checked(comm, [&] {
    plan = make_plan(g, instance, factor_owner, bp::parts::factor_readers(g, factor_owner), me, P);
  });
  if (options.precision == bp::Precision::f32)
    return run_typed<float>(comm, g, factor_owner, options, instance, plan);
  return run_typed<double>(comm, g, factor_owner, options, instance, plan);
}

}  // namespace mpe::dist
