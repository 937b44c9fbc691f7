// Links the installed libmpengine and checks one contraction against a hand-computed value.
#include <cmath>
#include <cstdio>

#include <mpe/mpe.hpp>

int main() {
  // y = log(e^0 * e^0 + e^1 * e^1) = log(1 + e^2) for the single row [0, 1] and x = [0, 1].
  const mpe::Tensor M = mpe::Tensor::from_vector<float>({0.0f, 1.0f}, {1, 2});
  const mpe::Tensor x = mpe::Tensor::from_vector<float>({0.0f, 1.0f}, {1, 2});
  const float y = mpe::lse_contract(M, x).to_vector<float>()[0];
  const double want = std::log(1.0 + std::exp(2.0));
  std::printf("mpengine %s: lse_contract = %.6f (expected %.6f)\n",
              mpe::build_info().version.c_str(), y, want);
  return std::fabs(y - want) < 1e-5 ? 0 : 1;
}
