// Predictive coding example: learn to reconstruct a small synthetic data set.
//
// The data are 64 vectors of 16 values made from 3 hidden causes through a fixed random
// nonlinear map. A hierarchy 16 -> 8 -> 3 (tanh predictions) relaxes its latent states on each
// batch and then updates its weights locally; the printed energy (mean squared prediction error
// after relaxation) goes down epoch by epoch, and so does the reconstruction error of the data
// layer. Exits with status 1 if learning did not lower the energy.
//
//   pc_reconstruct [epochs=200]
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include <mpe/predictive_coding.hpp>

namespace {
// A small deterministic generator (the example prints the same numbers everywhere).
struct Lcg {
  std::uint64_t s;
  float next() {  // in [-1, 1)
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<float>(static_cast<double>(s >> 40) / double(1ull << 24)) * 2.0f - 1.0f;
  }
};
}  // namespace

int main(int argc, char** argv) {
  const int epochs = argc > 1 ? std::atoi(argv[1]) : 200;
  const std::int64_t B = 64, n0 = 16, causes = 3;
  Lcg rng{12345};
  std::vector<float> mix(static_cast<std::size_t>(n0 * causes));
  for (float& m : mix) m = 0.8f * rng.next();
  std::vector<float> data(static_cast<std::size_t>(B * n0));
  for (std::int64_t b = 0; b < B; ++b) {
    float z[causes];
    for (auto& c : z) c = rng.next();
    for (std::int64_t i = 0; i < n0; ++i) {
      float a = 0;
      for (std::int64_t c = 0; c < causes; ++c) a += mix[i * causes + c] * z[c];
      data[b * n0 + i] = std::tanh(a);
    }
  }
  try {
    const mpe::Tensor x = mpe::Tensor::from_vector(data, {B, n0});
    mpe::pc::Network net({n0, 8, causes}, mpe::pc::Activation::tanh, /*seed=*/7,
                         /*weight_scale=*/0.3f);
    mpe::pc::InferenceOptions opt;
    opt.steps = 40;
    opt.step_size = 0.1f;
    const float learning_rate = 0.5f;
    std::printf(
        "predictive coding: layers 16-8-3 (tanh), %lld samples, %d relaxation steps of "
        "%.2f, learning rate %.2f\n",
        static_cast<long long>(B), opt.steps, opt.step_size, learning_rate);
    std::printf("%6s %14s %14s %16s\n", "epoch", "energy before", "energy after", "recon. MSE");
    double first = 0, last = 0;
    for (int epoch = 0; epoch < epochs; ++epoch) {
      mpe::pc::State s = mpe::pc::initial_state(net, x);
      const std::vector<double> e = mpe::pc::infer(net, s, opt);
      if (epoch == 0) first = e.back();
      last = e.back();
      if (epoch % 20 == 0 || epoch == epochs - 1) {
        const auto rec = mpe::pc::reconstruct(net, s).to_vector<float>();
        double mse = 0;
        for (std::size_t k = 0; k < rec.size(); ++k) mse += (rec[k] - data[k]) * (rec[k] - data[k]);
        std::printf("%6d %14.6f %14.6f %16.6f\n", epoch, e.front(), e.back(),
                    mse / double(rec.size()));
      }
      mpe::pc::update_weights(net, s, learning_rate);
    }
    std::printf("energy after relaxation: %.6f (epoch 0) -> %.6f (epoch %d)\n", first, last,
                epochs - 1);
    return last < first ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "pc_reconstruct: %s\n", e.what());
    return 2;
  }
}
