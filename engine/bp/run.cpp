// Belief propagation host driver: checks, the structure arrays, the sweep loop with per-member
// convergence, then beliefs, the Bethe log Z and MAP on the host in float64.
#include <algorithm>
#include <cmath>
#include <limits>
#include <mpe/error.hpp>
#include <mpe/factor_graph.hpp>
#include <mpe/tensor.hpp>
#include <numeric>
#include <utility>

#include <fmt/format.h>

#include "backend.hpp"
#include "bp.hpp"
#include "bp/parts.hpp"
#include "bp/structure.hpp"

namespace mpe::bp {
namespace {

constexpr double kNan = std::numeric_limits<double>::quiet_NaN();
constexpr double kNegInf = -std::numeric_limits<double>::infinity();

[[noreturn]] void bad(const std::string& what) { throw Error(ErrorCode::invalid_argument, what); }

void check_inputs(const FactorGraph& g, const std::vector<Instance>& batch, const Options& o) {
  g.validate();
  if (!(o.damping >= 0.0 && o.damping < 1.0)) {
    bad(fmt::format("bp: damping must be in [0, 1), got {}", o.damping));
  }
  if (!(o.tol >= 0.0) || !std::isfinite(o.tol)) {
    bad(fmt::format("bp: tol must be finite and >= 0, got {}", o.tol));
  }
  if (o.max_iter < 1) bad(fmt::format("bp: max_iter must be >= 1, got {}", o.max_iter));
  if (o.method != Method::sum_product && o.method != Method::max_product) bad("bp: bad method");
  if (o.schedule == Schedule::sequential && o.device.kind != DeviceKind::cpu) {
    throw Error(ErrorCode::not_supported,
                "bp: the sequential schedule runs on the CPU only (use --schedule flooding on a "
                "GPU)");
  }
  for (std::size_t b = 0; b < batch.size(); ++b) {
    const Instance& in = batch[b];
    if (!in.log_potentials.empty()) {
      if (in.log_potentials.size() != g.factors.size()) {
        bad(fmt::format("bp: batch member {} has {} potential tables for {} factors", b,
                        in.log_potentials.size(), g.factors.size()));
      }
      FactorGraph probe;
      probe.cardinalities = g.cardinalities;
      probe.factors = g.factors;
      for (std::size_t f = 0; f < g.factors.size(); ++f) {
        probe.factors[f].log_values = in.log_potentials[f];
      }
      try {
        probe.validate();
      } catch (const Error& e) {
        bad(fmt::format("bp: batch member {}: {}", b, e.message()));
      }
    }
    if (!in.evidence.empty()) {
      if (static_cast<int>(in.evidence.size()) != g.num_variables()) {
        bad(fmt::format("bp: batch member {} has evidence for {} variables, expected {}", b,
                        in.evidence.size(), g.num_variables()));
      }
      for (int v = 0; v < g.num_variables(); ++v) {
        const int x = in.evidence[static_cast<std::size_t>(v)];
        if (x < -1 || x >= g.cardinalities[static_cast<std::size_t>(v)]) {
          bad(
              fmt::format("bp: batch member {}: evidence state {} of variable {} is out of range "
                          "[-1, {})",
                          b, x, v, g.cardinalities[static_cast<std::size_t>(v)]));
        }
      }
    }
  }
}

const std::vector<double>& table_of(const FactorGraph& g, const Instance& in, std::size_t f) {
  return in.log_potentials.empty() ? g.factors[f].log_values : in.log_potentials[f];
}

// Normalises log-values v[0 .. n) into probabilities in place (all zeros when every entry is
// zero). libm's exp and log: this file is built for baseline x86-64, where the kernels' inline
// series (no FMA, not vectorised for these short loops) cost several times more. Returns
// m + log Σ exp(v − m), the log of the normaliser (−inf when every entry is zero), so that
// log p = v − returned value without a log per entry.
double normalise(double* v, std::size_t n) {
  double m = kNegInf;
  for (std::size_t i = 0; i < n; ++i) m = std::max(m, v[i]);
  if (m == kNegInf) {
    std::fill(v, v + n, 0.0);
    return kNegInf;
  }
  double s = 0;
  for (std::size_t i = 0; i < n; ++i) {
    v[i] = v[i] == kNegInf ? 0.0 : std::exp(v[i] - m);
    s += v[i];
  }
  for (std::size_t i = 0; i < n; ++i) v[i] /= s;
  return m + std::log(s);  // s >= 1: the largest entry contributes exp(0)
}

template <class T>
double as_log(T v) {
  return kernels::bp_live(v) ? static_cast<double>(v) : kNegInf;
}

// Beliefs, log Z and MAP of member b from its final messages (q consistent with r).
template <class T>
Result finish(const FactorGraph& g, const Structure& s, const Instance& in, const Options& o,
              const T* q, const T* r) {
  Result res;
  const int nv = g.num_variables();
  double log_z = 0;
  bool impossible = false;
  res.var_beliefs.resize(static_cast<std::size_t>(nv));
  std::vector<double> lraw;  // a variable's log-belief before normalising
  for (int v = 0; v < nv; ++v) {
    const int k = g.cardinalities[static_cast<std::size_t>(v)];
    const int obs = in.evidence.empty() ? -1 : in.evidence[static_cast<std::size_t>(v)];
    std::vector<double> lb(static_cast<std::size_t>(k), 0.0);
    lraw.resize(static_cast<std::size_t>(k));
    for (int x = 0; x < k; ++x) {
      if (obs >= 0 && x != obs) lb[static_cast<std::size_t>(x)] = kNegInf;
    }
    for (std::int32_t j = s.var_edge_off[static_cast<std::size_t>(v)];
         j < s.var_edge_off[static_cast<std::size_t>(v) + 1]; ++j) {
      const std::int64_t off =
          s.edge_msg_off[static_cast<std::size_t>(s.var_edges[static_cast<std::size_t>(j)])];
      for (int x = 0; x < k; ++x) lb[static_cast<std::size_t>(x)] += as_log(r[off + x]);
    }
    // H(b) = −Σ p log p with log p = l − log Σ exp l: one log per variable, not per state.
    std::copy(lb.begin(), lb.end(), lraw.begin());
    const double lnorm = normalise(lb.data(), lb.size());
    std::vector<double>& b = lb;
    double h = 0, total = 0;
    for (int x = 0; x < k; ++x) {
      const double p = b[static_cast<std::size_t>(x)];
      total += p;
      if (p > 0) h -= p * (lraw[static_cast<std::size_t>(x)] - lnorm);
    }
    if (total == 0) impossible = true;
    const int deg = s.var_edge_off[static_cast<std::size_t>(v) + 1] -
                    s.var_edge_off[static_cast<std::size_t>(v)];
    log_z += (1.0 - deg) * h;
    res.var_beliefs[static_cast<std::size_t>(v)] = std::move(b);
  }
  if (o.factor_beliefs) res.factor_beliefs.resize(g.factors.size());
  // One set of buffers for every factor (no allocation per factor). KL(b_f ‖ φ_f) = Σ p·(log p
  // − φ) with log p = φ + Σ_e q_e − log normaliser: Σ p·Σ_e q_e − log normaliser · Σ p.
  std::vector<double> fb, qsum;
  std::vector<int> digit;
  for (std::size_t f = 0; f < g.factors.size(); ++f) {
    const std::vector<double>& phi = table_of(g, in, f);
    const std::size_t size = phi.size();
    fb.resize(size);
    qsum.resize(size);
    const std::int32_t e0 = s.factor_edge_off[f];
    const std::int32_t e1 = s.factor_edge_off[f + 1];
    const std::int64_t* mo = s.edge_msg_off.data() + e0;
    if (e1 - e0 <= 2) {  // unary and pairwise: the table's entries in two plain loops
      const T* q0 = q + mo[0];
      const T* q1 = e1 - e0 == 2 ? q + mo[1] : nullptr;
      const std::size_t k0 =
          q1 ? static_cast<std::size_t>(s.card[static_cast<std::size_t>(s.edge_var[e0])]) : 1;
      const std::size_t k1 = size / k0;  // entry t = x0 + k0·x1
      for (std::size_t x1 = 0; x1 < k1; ++x1) {
        const double l1 = q1 ? as_log(q1[x1]) : 0.0;
        for (std::size_t x0 = 0; x0 < k0; ++x0) {
          const std::size_t t = x0 + k0 * x1;
          const double qs = q1 ? as_log(q0[x0]) + l1 : as_log(q0[x1]);
          qsum[t] = qs;
          fb[t] = phi[t] == kNegInf ? kNegInf : phi[t] + qs;
        }
      }
    }
    digit.assign(static_cast<std::size_t>(e1 - e0), 0);  // states of f's variables at entry t
    for (std::size_t t = 0; e1 - e0 > 2 && t < size; ++t) {
      double qs = 0;
      for (std::int32_t e = e0; e < e1; ++e) {
        qs += as_log(q[s.edge_msg_off[static_cast<std::size_t>(e)] +
                       digit[static_cast<std::size_t>(e - e0)]]);
      }
      qsum[t] = qs;
      fb[t] = phi[t] == kNegInf ? kNegInf : phi[t] + qs;
      for (std::int32_t e = e0; e < e1; ++e) {  // first variable fastest
        int& d = digit[static_cast<std::size_t>(e - e0)];
        if (++d <
            g.cardinalities[static_cast<std::size_t>(s.edge_var[static_cast<std::size_t>(e)])])
          break;
        d = 0;
      }
    }
    const double lnorm = normalise(fb.data(), size);
    double kl = 0, total = 0;
    for (std::size_t t = 0; t < size; ++t) {
      total += fb[t];
      if (fb[t] > 0) kl += fb[t] * qsum[t];
    }
    if (total == 0) impossible = true;
    if (total > 0) kl -= lnorm * total;
    log_z -= kl;
    if (o.factor_beliefs) res.factor_beliefs[f] = fb;
  }
  if (o.method == Method::sum_product) {
    res.log_z = impossible ? kNegInf : log_z;
    res.map_log_score = kNan;
  } else {
    res.log_z = kNan;
    res.map.resize(static_cast<std::size_t>(nv));
    for (int v = 0; v < nv; ++v) {
      const std::vector<double>& b = res.var_beliefs[static_cast<std::size_t>(v)];
      res.map[static_cast<std::size_t>(v)] =
          static_cast<int>(std::max_element(b.begin(), b.end()) - b.begin());
      if (!in.evidence.empty() && in.evidence[static_cast<std::size_t>(v)] >= 0) {
        res.map[static_cast<std::size_t>(v)] = in.evidence[static_cast<std::size_t>(v)];
      }
    }
    FactorGraph scored;
    scored.cardinalities = g.cardinalities;
    scored.factors = g.factors;
    if (!in.log_potentials.empty()) {
      for (std::size_t f = 0; f < g.factors.size(); ++f) {
        scored.factors[f].log_values = in.log_potentials[f];
      }
    }
    res.map_log_score = log_score(scored, res.map);
  }
  return res;
}

// The CPU flooding kernel's probability tables (kernels::BpArgs::pot_prob): per factor
// exp(φ − max φ), or entry 0 = −1 when the factor has a zero or too wide a spread.
template <class T>
std::vector<T> probability_tables(const FactorGraph& g, const Structure& s,
                                  const std::vector<T>& pot) {
  std::vector<T> prob(pot.size());
  const std::int64_t tab_len = s.factor_tab_off.back();
  const double spread = static_cast<double>(kernels::bp_prob_spread<T>());
  for (std::int64_t base = 0; base < static_cast<std::int64_t>(pot.size()); base += tab_len) {
    for (std::size_t f = 0; f < g.factors.size(); ++f) {
      const T* lp = pot.data() + base + s.factor_tab_off[f];
      T* pr = prob.data() + base + s.factor_tab_off[f];
      const std::int64_t n = s.factor_tab_off[f + 1] - s.factor_tab_off[f];
      double hi = kNegInf, lo = -kNegInf;
      bool zero = false;
      for (std::int64_t t = 0; t < n; ++t) {
        zero = zero || !kernels::bp_live(lp[t]);
        hi = std::max(hi, static_cast<double>(lp[t]));
        lo = std::min(lo, static_cast<double>(lp[t]));
      }
      for (std::int64_t t = 0; t < n; ++t) {
        pr[t] = static_cast<T>(std::exp(static_cast<double>(lp[t]) - hi));
      }
      if (zero || !(hi - lo < spread)) pr[0] = T(-1);
    }
  }
  return prob;
}

}  // namespace

struct Solver::Impl {
  virtual ~Impl() = default;
  virtual void reset() = 0;
  virtual void sweeps(int n) = 0;
  virtual std::vector<Result> solve() = 0;
  std::int64_t edges = 0;
};

namespace {

template <class T>
class TypedSolver final : public Solver::Impl {
 public:
  // `borrowed`: g and batch outlive the solver (run_batch), so they are not copied.
  TypedSolver(const FactorGraph& g, const std::vector<Instance>& batch, const Options& o,
              bool borrowed)
      : owned_g_(borrowed ? nullptr : std::make_unique<FactorGraph>(g)),
        owned_batch_(borrowed ? nullptr : std::make_unique<std::vector<Instance>>(batch)),
        g_(owned_g_ ? *owned_g_ : g),
        batch_(owned_batch_ ? *owned_batch_ : batch),
        o_(o),
        s_(build_structure(g)),
        be_(detail::backend_for(o.device)) {
    edges = static_cast<std::int64_t>(s_.edge_var.size());
    const Device dev = o.device;
    const auto nb = static_cast<std::int32_t>(batch.size());
    const std::int64_t nv = g.num_variables();
    auto i32 = [&](const std::vector<std::int32_t>& v) {
      return Tensor::from_vector<std::int32_t>(v, {static_cast<std::int64_t>(v.size())}, dev);
    };
    auto i64 = [&](const std::vector<std::int64_t>& v) {
      return Tensor::from_vector<std::int64_t>(v, {static_cast<std::int64_t>(v.size())}, dev);
    };
    // A device copy of the structure; the CPU reads s_ itself (no copy to allocate and fill).
    if (dev.kind != DeviceKind::cpu) {
      structure_ = {i32(s_.card),          i32(s_.var_edge_off),   i32(s_.var_edges),
                    i32(s_.edge_var),      i32(s_.edge_factor),    i32(s_.factor_edge_off),
                    i32(s_.pair2_factors), i32(s_.other_edges),    i64(s_.edge_msg_off),
                    i64(s_.edge_stride),   i64(s_.factor_tab_off), i64(s_.var_state_off),
                    i64(s_.var_edge_msg)};
    }
    auto at32 = [&](int i, const std::vector<std::int32_t>& host) {
      return structure_.empty() ? host.data() : structure_[static_cast<std::size_t>(i)].data<std::int32_t>();
    };
    auto at64 = [&](int i, const std::vector<std::int64_t>& host) {
      return structure_.empty() ? host.data() : structure_[static_cast<std::size_t>(i)].data<std::int64_t>();
    };
    // Potentials: one shared set unless a member brings its own.
    const bool per_member = std::any_of(
        batch.begin(), batch.end(), [](const Instance& in) { return !in.log_potentials.empty(); });
    const std::int64_t tab_len = s_.factor_tab_off.back();
    const std::int32_t sets = per_member ? nb : 1;
    std::vector<T> pot(static_cast<std::size_t>(tab_len * sets));
    for (std::int32_t b = 0; b < sets; ++b) {
      for (std::size_t f = 0; f < g.factors.size(); ++f) {
        const std::vector<double>& tab = table_of(g, batch[static_cast<std::size_t>(b)], f);
        parts::kernel_table(tab, pot.data() + b * tab_len + s_.factor_tab_off[f]);
      }
    }
    pot_ = Tensor::from_vector<T>(pot, {static_cast<std::int64_t>(pot.size())}, dev);
    const bool cpu_fast = dev.kind == DeviceKind::cpu && o.schedule == Schedule::flooding;
    if (cpu_fast) {
      pot_prob_ = probability_tables(g, s_, pot);
      std::vector<int> all(static_cast<std::size_t>(g.num_factors()));
      std::iota(all.begin(), all.end(), 0);
      fast_ = parts::fast_lists(g, s_, all);
      shape_prob_ = parts::shape_tables(fast_, pot_prob_, tab_len);
    }
    const bool any_ev = std::any_of(batch.begin(), batch.end(),
                                    [](const Instance& in) { return !in.evidence.empty(); });
    if (any_ev) {
      std::vector<std::int32_t> ev(static_cast<std::size_t>(nb * nv), -1);
      for (std::int32_t b = 0; b < nb; ++b) {
        const std::vector<int>& e = batch[static_cast<std::size_t>(b)].evidence;
        std::copy(e.begin(), e.end(), ev.begin() + b * nv);
      }
      evid_ = i32(ev);
    }
    active_host_.assign(static_cast<std::size_t>(nb), 1);
    active_ = i32(active_host_);
    std::vector<T> r0(static_cast<std::size_t>(s_.msg_len * nb));
    std::vector<T> uniform;  // -log k by cardinality k
    for (std::int32_t b = 0; b < nb; ++b) {
      for (std::size_t e = 0; e < s_.edge_var.size(); ++e) {
        const auto k = static_cast<std::size_t>(s_.card[static_cast<std::size_t>(s_.edge_var[e])]);
        if (uniform.size() <= k) {
          for (std::size_t c = uniform.size(); c <= k; ++c) {
            uniform.push_back(static_cast<T>(-std::log(static_cast<double>(c))));
          }
        }
        std::fill_n(r0.begin() + b * s_.msg_len + s_.edge_msg_off[e], k, uniform[k]);
      }
    }
    const Shape mshape{static_cast<std::int64_t>(r0.size())};
    r_init_ = Tensor::from_vector<T>(r0, mshape, dev);
    r_ = r_init_.clone();
    q_ = Tensor::zeros(mshape, dtype_of<T>(), dev);
    scratch_ = Tensor::zeros(mshape, dtype_of<T>(), dev);
    change_ = Tensor::zeros({nb}, dtype_of<T>(), dev);
    if (o.schedule == Schedule::sequential || cpu_fast) {
      // One set of totals per member: the CPU may run members on different threads.
      tot_live_.resize(static_cast<std::size_t>(s_.var_state_off.back() * nb));
      tot_zero_.resize(tot_live_.size());
      args_.var_tot_stride = s_.var_state_off.back();
    }
    kernels::BpArgs<T>& a = args_;
    a.num_vars = static_cast<std::int32_t>(nv);
    a.num_factors = g.num_factors();
    a.num_edges = static_cast<std::int32_t>(s_.edge_var.size());
    a.card = at32(0, s_.card);
    a.var_edge_off = at32(1, s_.var_edge_off);
    a.var_edges = at32(2, s_.var_edges);
    a.edge_var = at32(3, s_.edge_var);
    a.edge_factor = at32(4, s_.edge_factor);
    a.factor_edge_off = at32(5, s_.factor_edge_off);
    a.pair2_factors = at32(6, s_.pair2_factors);
    a.num_pair2 = static_cast<std::int32_t>(s_.pair2_factors.size());
    a.other_edges = at32(7, s_.other_edges);
    a.num_other = static_cast<std::int32_t>(s_.other_edges.size());
    a.edge_msg_off = at64(8, s_.edge_msg_off);
    a.edge_stride = at64(9, s_.edge_stride);
    a.factor_tab_off = at64(10, s_.factor_tab_off);
    a.var_state_off = at64(11, s_.var_state_off);
    a.var_edge_msg = at64(12, s_.var_edge_msg);
    a.msg_len = s_.msg_len;
    a.uniform_card = parts::uniform_card(s_);
    a.batch = nb;
    a.log_pot = pot_.data<T>();
    a.pot_stride = per_member ? tab_len : 0;
    a.evidence = any_ev ? evid_.data<std::int32_t>() : nullptr;
    a.active = active_.data<std::int32_t>();
    a.q = q_.data<T>();
    a.r = r_.data<T>();
    a.scratch = scratch_.data<T>();
    a.change = change_.data<T>();
    a.max_product = o.method == Method::max_product;
    a.damping = static_cast<T>(o.damping);
    if (cpu_fast) {
      const std::int64_t shape_stride = per_member ? fast_.shape_len * kernels::kBpShapeBlock : 0;
      parts::set_fast_path(a, pot_prob_.data(), shape_prob_, shape_stride, tot_live_.data(),
                           tot_zero_.data(), fast_);
    }
  }

  void reset() override {
    r_.copy_from(r_init_);
    args_.skip_unary = false;
    set_all_active();
  }

  void sweeps(int n) override {
    for (int i = 0; i < n; ++i) sweep();
    synchronize(o_.device);
  }

  std::vector<Result> solve() override {
    reset();
    const auto nb = static_cast<std::int32_t>(batch_.size());
    std::vector<Result> out(static_cast<std::size_t>(nb));
    int live = nb;
    for (int it = 1; it <= o_.max_iter && live > 0; ++it) {
      sweep();
      const std::vector<T> ch = change_.to_vector<T>();
      bool changed = false;
      for (std::int32_t b = 0; b < nb; ++b) {
        if (!active_host_[static_cast<std::size_t>(b)]) continue;
        Result& res = out[static_cast<std::size_t>(b)];
        res.iterations = it;
        res.max_change = static_cast<double>(ch[static_cast<std::size_t>(b)]);
        if (res.max_change < o_.tol) {
          res.converged = true;
          active_host_[static_cast<std::size_t>(b)] = 0;
          changed = true;
          --live;
        }
      }
      if (changed && live > 0) {
        active_.copy_from(Tensor::from_vector<std::int32_t>(active_host_, {nb}));
      }
    }
    // q from the final r for every member, then everything to the host.
    set_all_active();
    be_.bp_sweep(o_.device.index, args_, kernels::kBpVarStep);
    // The CPU reads the messages in place; a device copies them to the host first.
    const bool host = o_.device.kind == DeviceKind::cpu;
    const std::vector<T> qh = host ? std::vector<T>() : q_.to_vector<T>();
    const std::vector<T> rh = host ? std::vector<T>() : r_.to_vector<T>();
    const T* q = host ? q_.data<T>() : qh.data();
    const T* r = host ? r_.data<T>() : rh.data();
    for (std::int32_t b = 0; b < nb; ++b) {
      const Result& it = out[static_cast<std::size_t>(b)];
      Result res = finish(g_, s_, batch_[static_cast<std::size_t>(b)], o_, q + b * s_.msg_len,
                          r + b * s_.msg_len);
      res.converged = it.converged;
      res.iterations = it.iterations;
      res.max_change = it.max_change;
      out[static_cast<std::size_t>(b)] = std::move(res);
    }
    return out;
  }

 private:
  void sweep() {
    if (o_.schedule == Schedule::sequential) {
      kernels::bp_sequential_sweep_cpu(args_, tot_live_.data(), tot_zero_.data());
    } else {
      be_.bp_sweep(o_.device.index, args_, kernels::kBpBothSteps);
      // Undamped, a unary factor's message is final after one sweep (CPU fast path only).
      args_.skip_unary = args_.pot_prob != nullptr && o_.damping == 0;
    }
  }
  void set_all_active() {
    std::fill(active_host_.begin(), active_host_.end(), 1);
    active_.copy_from(Tensor::from_vector<std::int32_t>(
        active_host_, {static_cast<std::int64_t>(active_host_.size())}));
  }

  std::unique_ptr<const FactorGraph> owned_g_;
  std::unique_ptr<const std::vector<Instance>> owned_batch_;
  const FactorGraph& g_;
  const std::vector<Instance>& batch_;
  Options o_;
  Structure s_;
  detail::Backend& be_;
  std::vector<Tensor> structure_;
  Tensor pot_, evid_, active_, r_init_, r_, q_, scratch_, change_;
  std::vector<std::int32_t> active_host_;
  std::vector<T> pot_prob_;
  std::vector<T> shape_prob_;  // the shape rows' tables, lane-major (BpArgs::shape_prob)
  parts::FastLists fast_;  // CPU flooding fast path's work lists
  std::vector<T> tot_live_;
  std::vector<std::int32_t> tot_zero_;
  kernels::BpArgs<T> args_;
};

void check_size(const FactorGraph& g) {
  if (g.num_edges() > std::numeric_limits<std::int32_t>::max() / 2) {
    bad(fmt::format("bp: {} edges exceed the limit of 2^30", g.num_edges()));
  }
}

std::unique_ptr<Solver::Impl> make_solver(const FactorGraph& g, const std::vector<Instance>& batch,
                                          const Options& options, bool borrowed) {
  check_inputs(g, batch, options);
  if (batch.empty()) bad("bp::Solver: the batch is empty");
  check_size(g);
  if (options.precision == Precision::f32) {
    return std::make_unique<TypedSolver<float>>(g, batch, options, borrowed);
  }
  return std::make_unique<TypedSolver<double>>(g, batch, options, borrowed);
}

}  // namespace

Solver::Solver(const FactorGraph& g, const std::vector<Instance>& batch, const Options& options)
    : impl_(make_solver(g, batch, options, false)) {}
Solver::~Solver() = default;
Solver::Solver(Solver&&) noexcept = default;
Solver& Solver::operator=(Solver&&) noexcept = default;
void Solver::reset() { impl_->reset(); }
void Solver::sweeps(int n) { impl_->sweeps(n); }
std::vector<Result> Solver::solve() { return impl_->solve(); }
std::int64_t Solver::num_edges() const { return impl_->edges; }

void validate(const FactorGraph& g, const Instance& instance, const Options& options) {
  check_inputs(g, {instance}, options);
}

std::vector<Result> run_batch(const FactorGraph& g, const std::vector<Instance>& batch,
                              const Options& options) {
  if (batch.empty()) {
    check_inputs(g, batch, options);
    return {};
  }
  // The inputs outlive this call: the solver borrows them instead of copying (it checks them).
  return make_solver(g, batch, options, true)->solve();
}

Result run(const FactorGraph& g, const Options& options, const std::vector<int>& evidence) {
  Instance in;
  in.evidence = evidence;
  return std::move(run_batch(g, {in}, options).front());
}

// ---- pieces for the partitioned driver (bp/parts.hpp) ----
namespace parts {
namespace {
template <class T>
Result finish_typed(const FactorGraph& g, const Structure& s, const Instance& in, const Options& o,
                    std::vector<T> r) {
  // The var step through the CPU backend, as solve() runs it (the same build of the kernel).
  std::vector<T> q(r.size()), scratch(r.size()), change(1);
  std::vector<std::int32_t> ev;
  if (!in.evidence.empty()) ev.assign(in.evidence.begin(), in.evidence.end());
  const std::int32_t active = 1;
  kernels::BpArgs<T> a = host_args<T>(g, s);
  set_host_buffers(a, ev, &active, q, r, scratch, change, o.method);
  ::mpe::detail::backend_for(Device::cpu()).bp_sweep(0, a, kernels::kBpVarStep);
  return finish(g, s, in, o, q.data(), r.data());
}
}  // namespace

std::vector<double> probability_tables(const FactorGraph& g, const Structure& s,
                                       const std::vector<double>& pot) {
  return ::mpe::bp::probability_tables(g, s, pot);
}
namespace {
// The shape (arity, K) of factor f if it takes the shaped blocks, else (0, 0).
std::pair<int, int> shape_of(const FactorGraph& g, const Structure& s, int f) {
  const std::vector<int>& vars = g.factors[static_cast<std::size_t>(f)].vars;
  const int arity = static_cast<int>(vars.size());
  if (arity < 2 || arity > kernels::kBpShapeMaxArity) return {0, 0};
  const int k = s.card[static_cast<std::size_t>(vars[0])];
  std::int64_t size = 1;
  for (const int v : vars) {
    if (s.card[static_cast<std::size_t>(v)] != k) return {0, 0};
    size *= k;
  }
  if (k < 2 || size > kernels::kBpShapeTable || arity * k > kernels::kBpShapeStates) return {0, 0};
  return {arity, k};
}
}  // namespace

FastLists fast_lists(const FactorGraph& g, const Structure& s, const std::vector<int>& factors) {
  FastLists l;
  std::vector<std::int32_t> unary;
  std::vector<std::pair<std::pair<int, int>, std::int32_t>> shaped;  // (shape, factor)
  for (const int f : factors) {
    const auto fi = static_cast<std::size_t>(f);
    if (is_binary_pair(g.factors[fi], s.card)) {
      l.pair2.push_back(f);
      const auto e0 = static_cast<std::size_t>(s.factor_edge_off[fi]);
      l.pair2_info.insert(l.pair2_info.end(),
                          {s.edge_msg_off[e0], s.factor_tab_off[fi],
                           s.var_state_off[static_cast<std::size_t>(s.edge_var[e0])],
                           s.var_state_off[static_cast<std::size_t>(s.edge_var[e0 + 1])]});
    } else if (const std::pair<int, int> sh = shape_of(g, s, f); sh.first > 0) {
      shaped.push_back({sh, f});
    } else {
      (g.factors[fi].vars.size() == 1 ? unary : l.other).push_back(f);
    }
  }
  // Grouped by shape; ids ascending within a shape; rows of at most kBpShapeBlock factors,
  // each with its lane-major info block (lanes past the count repeat the row's first factor).
  constexpr int B = kernels::kBpShapeBlock;
  std::stable_sort(shaped.begin(), shaped.end(),
                   [](const auto& x, const auto& y) { return x.first < y.first; });
  for (std::size_t i = 0; i < shaped.size(); ++i) {
    const auto [arity, k] = shaped[i].first;
    if (i == 0 || shaped[i - 1].first != shaped[i].first || l.shape_rows.end()[-2] == B) {
      std::int32_t size = 1;
      for (int j = 0; j < arity; ++j) size *= k;
      l.shape_rows.insert(l.shape_rows.end(), {arity, k, static_cast<std::int32_t>(i), 0,
                                               static_cast<std::int32_t>(l.shape_len)});
      l.shape_info.resize(l.shape_info.size() + std::size_t{kernels::kBpShapeInfo} * B);
      l.shape_len += size;
    }
    const int lane = l.shape_rows.end()[-2]++;
    const std::int32_t f = shaped[i].second;
    l.shape.push_back(f);
    const auto fi = static_cast<std::size_t>(f);
    const auto e0 = static_cast<std::size_t>(s.factor_edge_off[fi]);
    std::int64_t info[kernels::kBpShapeInfo] = {s.edge_msg_off[e0], s.factor_tab_off[fi]};
    for (int j = 0; j < arity; ++j) {
      info[2 + j] = s.var_state_off[static_cast<std::size_t>(s.edge_var[e0 + j])];
    }
    std::int64_t* blk = l.shape_info.data() + l.shape_info.size() - std::size_t{kernels::kBpShapeInfo} * B;
    for (int fld = 0; fld < kernels::kBpShapeInfo; ++fld) {
      // Lane 0 also fills the lanes a short row leaves empty.
      for (int ln = lane; ln < (lane == 0 ? B : lane + 1); ++ln) blk[fld * B + ln] = info[fld];
    }
  }
  l.num_nonunary = static_cast<std::int32_t>(l.other.size());
  l.other.insert(l.other.end(), unary.begin(), unary.end());
  return l;
}
std::vector<float> probability_tables(const FactorGraph& g, const Structure& s,
                                      const std::vector<float>& pot) {
  return ::mpe::bp::probability_tables(g, s, pot);
}
Result finish_messages(const FactorGraph& g, const Structure& s, const Instance& in,
                       const Options& o, std::vector<double> r) {
  return finish_typed(g, s, in, o, std::move(r));
}
Result finish_messages(const FactorGraph& g, const Structure& s, const Instance& in,
                       const Options& o, std::vector<float> r) {
  return finish_typed(g, s, in, o, std::move(r));
}
}  // namespace parts

}  // namespace mpe::bp
