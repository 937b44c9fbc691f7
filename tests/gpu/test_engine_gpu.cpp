// mpe::Engine on a CUDA device: batches from several workers (each on its own stream) give the
// CPU's plans; a device that keeps failing sends requests to the CPU.
#include <cmath>
#include <random>
#include <thread>

#include <gtest/gtest.h>
#include <mpe/engine.hpp>

#include "support/aif_models.hpp"
#include "support/gpu.hpp"

namespace mpe {
namespace {

using namespace std::chrono_literals;

TEST(GpuEngine, ManyThreadsTwoStreamsMatchTheCpu) {
  MPE_REQUIRE_CUDA_OR_SKIP();
  std::mt19937_64 rng(11);
  const test::AifSizes z{12, 3, 4, 2, 2};
  const auto model = std::make_shared<const aif::Model>(test::random_aif_model(z, rng, false));
  std::vector<aif::PlanRequest> reqs;
  for (int i = 0; i < 240; ++i) {
    aif::PlanRequest r = test::random_aif_request(z, rng, 3);
    r.iterations = 5;
    r.return_channels = false;
    reqs.push_back(r);
  }
  const auto want = aif::plan(*model, reqs, Device::cpu());
  EngineOptions o;
  o.device = "cuda:0";
  o.workers_per_device = 2;
  o.max_batch = 16;
  o.max_delay = 1ms;
  Engine engine(o);
  std::vector<std::vector<float>> got(reqs.size());
  std::vector<std::thread> clients;
  for (int c = 0; c < 8; ++c) {
    clients.emplace_back([&, c] {
      for (std::size_t i = static_cast<std::size_t>(c); i < reqs.size(); i += 8) {
        got[i] = engine.submit(model, reqs[i]).result.get().action_dist;
      }
    });
  }
  for (auto& t : clients) t.join();
  for (std::size_t i = 0; i < reqs.size(); ++i) {
    ASSERT_EQ(got[i].size(), want[i].action_dist.size());
    for (std::size_t u = 0; u < got[i].size(); ++u) {
      EXPECT_NEAR(got[i][u], want[i].action_dist[u], 1e-4) << "request " << i;
    }
  }
  EXPECT_EQ(engine.stats().completed, reqs.size());
}

TEST(GpuEngine, RequestsTheDeviceCannotRunGoToTheCpu) {
  MPE_REQUIRE_CUDA_OR_SKIP();
  std::mt19937_64 rng(12);
  const test::AifSizes z{6, 2, 3, 1, 2};
  const auto model = std::make_shared<const aif::Model>(test::random_aif_model(z, rng, true));
  aif::PlanRequest r = test::random_aif_request(z, rng, 2);
  r.return_channels = false;
  EngineOptions o;
  o.device = "cuda:0";
  o.max_batch = 8;
  o.on_batch = [](const BatchInfo& b) {
    if (b.device.kind == DeviceKind::cuda) throw Error(ErrorCode::out_of_memory, "simulated");
  };
  Engine engine(o);
  std::vector<std::future<aif::Plan>> f;
  for (int i = 0; i < 8; ++i) f.push_back(engine.submit(model, r).result);
  const auto want = aif::plan(*model, {r}, Device::cpu())[0].action_dist;
  for (auto& x : f) EXPECT_EQ(x.get().action_dist, want);  // computed on the CPU
  EXPECT_GT(engine.stats().retries, 0u);
}

}  // namespace
}  // namespace mpe
