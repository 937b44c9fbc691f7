#include "support/aif_models.hpp"

namespace mpe::test {

std::vector<float> random_dist(std::mt19937_64& rng, std::int64_t outer, std::int64_t len,
                               std::int64_t inner, float zero_fraction) {
  std::uniform_real_distribution<float> d(0.05f, 1.0f), coin(0.0f, 1.0f);
  std::vector<float> v(static_cast<std::size_t>(outer * len * inner));
  auto at = [&](std::int64_t o, std::int64_t k, std::int64_t i) -> float& {
    return v[static_cast<std::size_t>((o * len + k) * inner + i)];
  };
  for (std::int64_t o = 0; o < outer; ++o)
    for (std::int64_t i = 0; i < inner; ++i) {
      double sum = 0;
      for (std::int64_t k = 0; k < len; ++k) {
        at(o, k, i) = (k > 0 && coin(rng) < zero_fraction) ? 0.0f : d(rng);
        sum += at(o, k, i);
      }
      for (std::int64_t k = 0; k < len; ++k) at(o, k, i) /= static_cast<float>(sum);
    }
  return v;
}

aif::Model random_aif_model(const AifSizes& z, std::mt19937_64& rng, bool theta_goal, float zeros) {
  const Tensor T =
      Tensor::from_vector(random_dist(rng, 1, z.S, z.S * z.K * z.A, zeros), {z.S, z.S, z.K, z.A});
  const Tensor B = Tensor::from_vector(random_dist(rng, z.F, z.O, z.S * z.K), {z.F, z.O, z.S, z.K});
  const Tensor pu = Tensor::from_vector(random_dist(rng, 1, z.A, 1), {z.A});
  if (theta_goal) {
    return aif::Model::with_theta_goal(
        T, B, pu, Tensor::from_vector(random_dist(rng, 1, z.S, z.K), {z.S, z.K}));
  }
  return aif::Model::with_terminal_goal(T, B, pu,
                                        Tensor::from_vector(random_dist(rng, 1, z.S, 1), {z.S}));
}

aif::Model deterministic_aif_model(std::int64_t S, std::int64_t K, std::int64_t A,
                                   std::mt19937_64& rng, bool theta_goal) {
  std::uniform_int_distribution<std::int64_t> pick(0, S - 1);
  std::vector<float> T(static_cast<std::size_t>(S * S * K * A), 0.0f);
  for (std::int64_t o = 0; o < S; ++o)
    for (std::int64_t th = 0; th < K; ++th)
      for (std::int64_t u = 0; u < A; ++u) {
        T[static_cast<std::size_t>(((pick(rng) * S + o) * K + th) * A + u)] = 1.0f;
      }
  const std::int64_t F = 2, O = 3;
  const Tensor B = Tensor::from_vector(random_dist(rng, F, O, S * K), {F, O, S, K});
  const Tensor pu = Tensor::from_vector(random_dist(rng, 1, A, 1), {A});
  const Tensor Tt = Tensor::from_vector(T, {S, S, K, A});
  if (theta_goal) {
    return aif::Model::with_theta_goal(Tt, B, pu,
                                       Tensor::from_vector(random_dist(rng, 1, S, K), {S, K}));
  }
  return aif::Model::with_terminal_goal(Tt, B, pu,
                                        Tensor::from_vector(random_dist(rng, 1, S, 1), {S}));
}

aif::PlanRequest random_aif_request(const AifSizes& z, std::mt19937_64& rng, int H) {
  aif::PlanRequest r;
  r.q0 = random_dist(rng, 1, z.S, 1);
  r.q_theta = random_dist(rng, 1, z.K, 1);
  r.horizon = H;
  return r;
}

aif::Model fixture_model(bool theta_goal, bool sparse, const std::vector<float>& pu) {
  std::vector<float> t = {0.9f, 0.2f, 0.4f, 0.7f, 0.3f, 0.8f, 0.6f, 0.1f,
                          0.1f, 0.8f, 0.6f, 0.3f, 0.7f, 0.2f, 0.4f, 0.9f};
  if (sparse) {  // T[n,o,θ,u] = 1 when n = idx[(o·2 + u)·2 + θ]
    const int idx[8] = {0, 1, 1, 0, 1, 0, 0, 1};
    t.assign(16, 0.0f);
    for (int o = 0; o < 2; ++o)
      for (int u = 0; u < 2; ++u)
        for (int th = 0; th < 2; ++th) {
          const int n = idx[(o * 2 + u) * 2 + th];
          t[static_cast<std::size_t>(((n * 2 + o) * 2 + th) * 2 + u)] = 1.0f;
        }
  }
  const Tensor T = Tensor::from_vector(t, {2, 2, 2, 2});
  const Tensor B =
      Tensor::from_vector<float>({0.9f, 0.2f, 0.3f, 0.8f, 0.1f, 0.8f, 0.7f, 0.2f}, {1, 2, 2, 2});
  const Tensor prior = Tensor::from_vector(pu, {2});
  if (theta_goal) {
    return aif::Model::with_theta_goal(
        T, B, prior, Tensor::from_vector<float>({0.15f, 0.75f, 0.85f, 0.25f}, {2, 2}));
  }
  return aif::Model::with_terminal_goal(T, B, prior,
                                        Tensor::from_vector<float>({0.15f, 0.85f}, {2}));
}

aif::PlanRequest fixture_request(aif::ObservationPath path) {
  aif::PlanRequest r;
  r.q0 = {0.65f, 0.35f};
  r.q_theta = {0.55f, 0.45f};
  r.horizon = 2;
  r.iterations = 2;
  r.damping = 0.5f;
  r.method = aif::Method::aif;
  r.observation_path = path;
  return r;
}

}  // namespace mpe::test
