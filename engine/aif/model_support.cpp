// T's support, computed once per model (and shared by its copies).
#include "aif/model_support.hpp"

namespace mpe::aif {

namespace {
void compute_support(const Model& m, ModelSupport& sp) {
  const std::int64_t S = m.states(), K = m.thetas(), A = m.actions();
  const float* T = m.T().data<float>();
  // live[o][u][n]: T[n, o, θ, u] > 0 for some θ, gathered in T's own order for locality.
  std::vector<unsigned char> live(static_cast<std::size_t>(S * A * S), 0);
  for (std::int64_t n = 0; n < S; ++n)
    for (std::int64_t o = 0; o < S; ++o) {
      const float* t = T + (n * S + o) * K * A;
      for (std::int64_t th = 0; th < K; ++th)
        for (std::int64_t u = 0; u < A; ++u)
          if (t[th * A + u] > 0) live[static_cast<std::size_t>((o * A + u) * S + n)] = 1;
    }
  sp.off.assign(1, 0);
  for (std::int64_t ou = 0; ou < S * A; ++ou) {
    for (std::int64_t n = 0; n < S; ++n) {
      if (live[static_cast<std::size_t>(ou * S + n)]) {
        sp.n.push_back(static_cast<std::int32_t>(n));
        sp.ou.push_back(static_cast<std::int32_t>(ou));
      }
    }
    sp.off.push_back(static_cast<std::int32_t>(sp.n.size()));
  }
  sp.in_off.assign(static_cast<std::size_t>(S + 1), 0);
  for (std::int32_t t : sp.n) ++sp.in_off[static_cast<std::size_t>(t) + 1];
  for (std::size_t x = 0; x < static_cast<std::size_t>(S); ++x) sp.in_off[x + 1] += sp.in_off[x];
  sp.in_e.resize(sp.n.size());
  std::vector<std::int32_t> fill(sp.in_off.begin(), sp.in_off.end() - 1);
  for (std::size_t e = 0; e < sp.n.size(); ++e) {
    sp.in_e[static_cast<std::size_t>(fill[static_cast<std::size_t>(sp.n[e])]++)] =
        static_cast<std::int32_t>(e);
  }
  sp.density = double(sp.nnz()) / double(S * S * A);
}
}  // namespace

const ModelSupport& model_support(const Model& m) {
  ModelSupport& sp = *m.support_;
  std::call_once(sp.computed, [&] { compute_support(m, sp); });
  return sp;
}

const DeviceDynamics& device_dynamics(const Model& m, Device dev, bool sparse) {
  const ModelSupport& sp = sparse ? model_support(m) : *m.support_;
  ModelSupport& cache = *m.support_;
  std::lock_guard<std::mutex> lock(cache.device_mu);
  auto it = cache.on_device.find(dev);
  if (it == cache.on_device.end()) {
    DeviceDynamics d;
    d.T = m.T().to(dev);
    d.B = m.B().to(dev);
    d.pu = m.action_prior().to(dev);
    it = cache.on_device.emplace(dev, std::move(d)).first;
  }
  DeviceDynamics& d = it->second;
  if (sparse && !d.sp_off.defined()) {
    auto up = [&dev](const std::vector<std::int32_t>& v) {
      return Tensor::from_vector(v, {static_cast<std::int64_t>(v.size())}, dev);
    };
    d.sp_off = up(sp.off);
    d.sp_n = up(sp.n);
    d.sp_ou = up(sp.ou);
    d.in_off = up(sp.in_off);
    d.in_e = up(sp.in_e);
  }
  return d;
}

}  // namespace mpe::aif
