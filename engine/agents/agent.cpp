// The agent loop of aif-mp.md §6.1: random source, observation sampling, exact filtering and
// the lock-step evaluation (one batched filter and one batched planning call per time step).
#include <algorithm>
#include <chrono>
#include <cmath>

#include <fmt/format.h>
#include <mpe/agents.hpp>
#include <mpe/error.hpp>

#include "splitmix.hpp"

namespace mpe::agents {

namespace {
std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
}  // namespace

Rng::Rng(std::uint64_t seed) {
  for (auto& s : s_) s = detail::splitmix64(seed);
}

std::uint64_t Rng::next() {
  const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const std::uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

double Rng::uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

std::int64_t Rng::below(std::int64_t n) {
  if (n < 1) throw Error(ErrorCode::invalid_argument, "Rng::below: n must be >= 1");
  return static_cast<std::int64_t>(uniform() * static_cast<double>(n));
}

void Environment::index_transitions() {
  const std::int64_t S = states(), K = thetas(), A = actions();
  const float* T = T_.data<float>();
  std::vector<std::vector<std::int64_t>> by_from(static_cast<std::size_t>(S));
  for (std::int64_t n = 0; n < S; ++n)
    for (std::int64_t o = 0; o < S; ++o)
      for (std::int64_t i = 0; i < K * A; ++i)
        if (T[(n * S + o) * K * A + i] > 0) by_from[static_cast<std::size_t>(o)].push_back(n * K * A + i);
  from_off_.assign(1, 0);
  for (std::int64_t o = 0; o < S; ++o) {
    for (std::int64_t key : by_from[static_cast<std::size_t>(o)]) {
      const std::int64_t n = key / (K * A), th = (key / A) % K, u = key % A;
      from_next_.push_back(static_cast<std::int32_t>(n));
      from_theta_.push_back(static_cast<std::int32_t>(th));
      from_action_.push_back(static_cast<std::int32_t>(u));
      from_prob_.push_back(T[((n * S + o) * K + th) * A + u]);
    }
    from_off_.push_back(static_cast<std::int64_t>(from_next_.size()));
  }
}

std::vector<std::int32_t> Environment::observe(std::int64_t state, std::int64_t theta,
                                               Rng& rng) const {
  const std::int64_t F = B_.dim(0), O = B_.dim(1), S = states(), K = thetas();
  const float* B = B_.data<float>();
  auto prob = [&](std::int64_t f, std::int64_t y) {
    return static_cast<double>(B[((f * O + y) * S + state) * K + theta]);
  };
  std::vector<std::int32_t> y(static_cast<std::size_t>(F));
  for (std::int64_t f = 0; f < F; ++f) {
    const double u = rng.uniform();
    if (O == 2) {  // a binary channel fires when the draw is below its firing probability
      y[static_cast<std::size_t>(f)] = u < prob(f, 1) ? 1 : 0;
      continue;
    }
    double cum = 0;
    std::int32_t out = static_cast<std::int32_t>(O - 1);
    for (std::int64_t k = 0; k < O; ++k) {
      cum += prob(f, k);
      if (u < cum) {
        out = static_cast<std::int32_t>(k);
        break;
      }
    }
    y[static_cast<std::size_t>(f)] = out;
  }
  return y;
}

void filter(const Environment& env, std::int64_t action, const std::vector<std::int32_t>& y,
            std::vector<float>& q_x, std::vector<float>& q_theta) {
  const std::int64_t S = env.states(), K = env.thetas(), A = env.actions();
  const std::int64_t F = env.B().dim(0), O = env.B().dim(1);
  if (static_cast<std::int64_t>(q_x.size()) != S || static_cast<std::int64_t>(q_theta.size()) != K ||
      static_cast<std::int64_t>(y.size()) != F || action < -1 || action >= A) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("filter: q_x [{}], q_theta [{}], {} outcomes and action {} do not "
                            "fit S={}, K={}, F={}, A={}",
                            q_x.size(), q_theta.size(), y.size(), action, S, K, F, A));
  }
  const float* B = env.B().data<float>();
  // predicted(x') = Σ_{x,θ,u} T(x'|x,θ,u) q(x) q(θ) a(u), over T's non-zero entries
  std::vector<double> pred(static_cast<std::size_t>(S), 0.0);
  const auto& off = env.from_offsets();
  for (std::int64_t o = 0; o < S; ++o) {
    const double qo = q_x[static_cast<std::size_t>(o)];
    if (qo == 0) continue;
    for (std::int64_t e = off[static_cast<std::size_t>(o)]; e < off[static_cast<std::size_t>(o) + 1]; ++e) {
      const auto i = static_cast<std::size_t>(e);
      const std::int64_t u = env.from_action()[i];
      const double a = action < 0 ? 1.0 / static_cast<double>(A) : (u == action ? 1.0 : 0.0);
      pred[static_cast<std::size_t>(env.from_next()[i])] +=
          static_cast<double>(env.from_prob()[i]) * qo *
          q_theta[static_cast<std::size_t>(env.from_theta()[i])] * a;
    }
  }
  double z = 1e-12;
  for (double p : pred) z += p;
  for (double& p : pred) p /= z;
  // log joint(x, θ) = Σ_f log(B[f, y_f, x, θ] + 1e-12) + log(pred(x) + 1e-12) + log(q(θ) + 1e-12)
  std::vector<double> lj(static_cast<std::size_t>(S * K));
  double mx = -INFINITY;
  for (std::int64_t x = 0; x < S; ++x)
    for (std::int64_t th = 0; th < K; ++th) {
      double v = std::log(pred[static_cast<std::size_t>(x)] + 1e-12) +
                 std::log(static_cast<double>(q_theta[static_cast<std::size_t>(th)]) + 1e-12);
      for (std::int64_t f = 0; f < F; ++f) {
        const std::int64_t yf = y[static_cast<std::size_t>(f)];
        if (yf < 0 || yf >= O) {
          throw Error(ErrorCode::invalid_argument,
                      fmt::format("filter: outcome {} of channel {} is not in [0, {})", yf, f, O));
        }
        v += std::log(static_cast<double>(B[((f * O + yf) * S + x) * K + th]) + 1e-12);
      }
      lj[static_cast<std::size_t>(x * K + th)] = v;
      mx = std::max(mx, v);
    }
  std::vector<double> qx(static_cast<std::size_t>(S), 0.0), qt(static_cast<std::size_t>(K), 0.0);
  double total = 0;
  for (std::int64_t x = 0; x < S; ++x)
    for (std::int64_t th = 0; th < K; ++th) {
      const double p = std::exp(lj[static_cast<std::size_t>(x * K + th)] - mx);
      qx[static_cast<std::size_t>(x)] += p;
      qt[static_cast<std::size_t>(th)] += p;
      total += p;
    }
  for (std::int64_t x = 0; x < S; ++x) {
    q_x[static_cast<std::size_t>(x)] = static_cast<float>(qx[static_cast<std::size_t>(x)] / total);
  }
  for (std::int64_t th = 0; th < K; ++th) {
    q_theta[static_cast<std::size_t>(th)] =
        static_cast<float>(qt[static_cast<std::size_t>(th)] / total);
  }
}

namespace {
float damping_for(aif::Method m, const Environment& env) {
  switch (m) {
    case aif::Method::bp: return 1.0f;
    case aif::Method::vbp: return 0.9f;
    case aif::Method::rm: return 0.25f;
    case aif::Method::aif: return env.aif_damping();
  }
  return 0.9f;
}

struct Episode {
  Rng rng{0};
  std::int64_t theta = 0, state = 0, prev_action = -1;
  std::vector<float> q_x, q_theta;
  int steps = 0;
  double reward = 0;
  bool done = false;
  std::vector<std::int64_t> actions;
};
}  // namespace

EvalResult evaluate(const Environment& env, const EvalOptions& opt) {
  if (opt.episodes < 1) throw Error(ErrorCode::invalid_argument, "evaluate: episodes must be >= 1");
  if (opt.iterations < 0 || opt.horizon < 0) {
    throw Error(ErrorCode::invalid_argument, "evaluate: iterations and horizon must be >= 0");
  }
  if (!(opt.tolerance >= 0.0f)) {
    throw Error(ErrorCode::invalid_argument, "evaluate: tolerance must be >= 0");
  }
  const auto start = std::chrono::steady_clock::now();
  const std::int64_t S = env.states(), K = env.thetas();
  std::vector<Episode> eps(static_cast<std::size_t>(opt.episodes));
  for (std::size_t e = 0; e < eps.size(); ++e) {
    Episode& ep = eps[e];
    ep.rng = Rng(opt.seed * 0x100000001b3ULL + static_cast<std::uint64_t>(opt.first_episode) + e + 1);
    ep.theta = ep.rng.below(K);  // the true configuration, uniform per episode
    ep.state = env.start_state();
    ep.q_x.assign(static_cast<std::size_t>(S), 0.0f);
    ep.q_x[static_cast<std::size_t>(ep.state)] = 1.0f;
    ep.q_theta.assign(static_cast<std::size_t>(K), 1.0f / static_cast<float>(K));
  }
  const int H = opt.horizon > 0 ? opt.horizon : env.horizon();
  const int I = opt.iterations > 0 ? opt.iterations : env.iterations();
  std::int64_t plans_made = 0, iterations_run = 0, checked = 0, differing = 0;
  double largest_gap = 0;
  int most_iterations = 0;
  int step = 0;
  for (;;) {
    std::vector<std::size_t> running;
    for (std::size_t e = 0; e < eps.size(); ++e) {
      if (!eps[e].done) running.push_back(e);
    }
    if (running.empty()) break;
    // (1) observe and (2) filter, every running episode
    std::vector<aif::Model> models;
    std::vector<aif::PlanRequest> requests;
    for (std::size_t e : running) {
      Episode& ep = eps[e];
      const auto y = env.observe(ep.state, ep.theta, ep.rng);
      filter(env, ep.prev_action, y, ep.q_x, ep.q_theta);
      aif::PlanRequest r;
      r.q0 = ep.q_x;
      r.q_theta = ep.q_theta;
      r.horizon = env.receding_horizon() ? std::max(1, std::min(H, env.max_steps() - ep.steps)) : H;
      r.iterations = I;
      r.tolerance = opt.tolerance;
      r.damping = damping_for(opt.method, env);
      r.method = opt.method;
      r.theta = opt.theta;
      r.return_channels = false;
      // Filtering in float can leave sums a hair off 1: renormalise for the planner's check.
      for (auto* v : {&r.q0, &r.q_theta}) {
        double z = 0;
        for (float p : *v) z += p;
        for (float& p : *v) p = static_cast<float>(p / z);
      }
      requests.push_back(std::move(r));
      models.push_back(env.planning_model(ep.q_theta));
    }
    // (3) plan, one call for all running episodes
    std::vector<aif::Plan> plans;
    std::vector<aif::Plan> full;  // check_tolerance: the same requests with every iteration
    if (opt.check_tolerance) {
      std::vector<aif::PlanRequest> all = requests;
      for (auto& r : all) r.tolerance = 0.0f;
      full = aif::plan(models, all, opt.engine ? Device::cpu() : opt.device);
    }
    if (opt.engine) {
      std::vector<std::future<aif::Plan>> pending;
      for (std::size_t i = 0; i < requests.size(); ++i) {
        pending.push_back(
            opt.engine->submit(std::make_shared<const aif::Model>(std::move(models[i])),
                               std::move(requests[i]))
                .result);
      }
      for (auto& f : pending) plans.push_back(f.get());
    } else {
      plans = aif::plan(models, requests, opt.device);
    }
    // (4) act and (5) step
    for (std::size_t i = 0; i < running.size(); ++i) {
      Episode& ep = eps[running[i]];
      const auto& d = plans[i].action_dist;
      const std::int64_t a = std::max_element(d.begin(), d.end()) - d.begin();  // ties: lowest
      ++plans_made;
      iterations_run += plans[i].iterations_run;
      most_iterations = std::max(most_iterations, plans[i].iterations_run);
      if (opt.check_tolerance) {
        const auto& f = full[i].action_dist;
        ++checked;
        const std::int64_t a_full = std::max_element(f.begin(), f.end()) - f.begin();
        if (a_full != a) {
          ++differing;
          const double gap = double(f[static_cast<std::size_t>(a_full)]) - f[static_cast<std::size_t>(a)];
          largest_gap = std::max(largest_gap, gap);
        }
      }
      const StepResult r = env.step(ep.state, a, ep.theta, ep.rng);
      ep.actions.push_back(a);
      ep.reward += r.reward;
      ep.state = r.next_state;
      ep.prev_action = a;
      ++ep.steps;
      if (r.terminated || ep.steps >= env.max_steps()) ep.done = true;
      if (opt.render && static_cast<int>(running[i]) == opt.render_episode) {
        std::string belief;
        for (std::int64_t th = 0; th < K; ++th) {
          const int bar = static_cast<int>(std::lround(ep.q_theta[static_cast<std::size_t>(th)] * 20));
          belief += fmt::format("  θ{:<2} {:5.3f} {}{}\n", th, ep.q_theta[static_cast<std::size_t>(th)],
                                std::string(static_cast<std::size_t>(bar), '#'),
                                th == ep.theta ? "  <- true" : "");
        }
        opt.render(fmt::format("episode {} step {}: action {} -> {}{}\n{}q(θ) before acting:\n{}",
                               running[i], ep.steps, env.action_names()[static_cast<std::size_t>(a)],
                               ep.state, ep.done ? " (episode over)" : "",
                               env.render(ep.state, ep.theta), belief));
      }
    }
    ++step;
    if (opt.progress) {
      int left = 0;
      for (const auto& ep : eps) left += ep.done ? 0 : 1;
      opt.progress(step, left);
    }
  }
  EvalResult out;
  for (const auto& ep : eps) {
    out.successes.push_back(env.success(ep.state, ep.theta) ? 1 : 0);
    out.actions.push_back(ep.actions);
    out.rewards.push_back(ep.reward);
    out.steps_taken.push_back(ep.steps);
    std::vector<double> extra;
    env.episode_extras(ep.state, ep.theta, extra);
    out.retrieved.push_back(extra.size() == 2 ? extra[0] : 0.0);
    out.retrievable.push_back(extra.size() == 2 ? extra[1] : 0.0);
  }
  out.plans = plans_made;
  out.iterations_total = iterations_run;
  out.max_iterations = most_iterations;
  out.actions_checked = checked;
  out.actions_differing = differing;
  out.differing_gap_max = largest_gap;
  out.wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  summarize(out);
  return out;
}

void summarize(EvalResult& out) {
  const std::size_t E = out.successes.size();
  if (out.rewards.size() != E || out.steps_taken.size() != E || out.retrieved.size() != E ||
      out.retrievable.size() != E) {
    throw Error(ErrorCode::shape_mismatch,
                fmt::format("summarize: per-episode vectors of different lengths ({} successes, "
                            "{} rewards, {} steps, {}/{} retrieval)",
                            E, out.rewards.size(), out.steps_taken.size(), out.retrieved.size(),
                            out.retrievable.size()));
  }
  out.episodes = static_cast<int>(E);
  const double n = static_cast<double>(E);
  double succ = 0, rew = 0, rew2 = 0, steps = 0, got = 0, present = 0;
  for (std::size_t e = 0; e < E; ++e) {
    succ += out.successes[e];
    rew += out.rewards[e];
    rew2 += out.rewards[e] * out.rewards[e];
    steps += out.steps_taken[e];
    got += out.retrieved[e];
    present += out.retrievable[e];
  }
  out.success_rate = succ / n;
  out.success_ci95 = 1.96 * std::sqrt(out.success_rate * (1 - out.success_rate) / n);
  out.mean_reward = rew / n;
  const double var = std::max(0.0, rew2 / n - out.mean_reward * out.mean_reward);
  out.reward_ci95 = 1.96 * std::sqrt(var / n);
  out.mean_steps = steps / n;
  out.retrieval = present > 0 ? got / present : -1;
  out.episodes_per_second = n / std::max(out.wall_seconds, 1e-9);
  out.mean_iterations = out.plans ? double(out.iterations_total) / double(out.plans) : 0.0;
}

}  // namespace mpe::agents
