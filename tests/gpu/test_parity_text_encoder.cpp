// The sentence encoder on a CUDA device against the CPU encoder: the same tiny random BERT (every
// code path: F16 word embeddings, padding, several batch sizes) and, where it is installed,
// all-MiniLM-L6-v2; embeddings, token vectors with padding, and the bad-input errors.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <mpe/text.hpp>
#include <nlohmann/json.hpp>

#include "support/gpu.hpp"

namespace {
namespace fs = std::filesystem;
using mpe::Device;
using mpe::Tensor;
using mpe::text::SentenceEncoder;
using mpe::text::TokenBatch;

const fs::path kData = fs::path(MPE_SOURCE_DIR) / "tests/data/text";

std::vector<std::string> sentences() {
  std::ifstream in(kData / "sentences.json");
  return nlohmann::json::parse(in).get<std::vector<std::string>>();
}

// Row by row: cosine >= 0.9999 and every component within max_abs.
void expect_same_rows(const Tensor& gpu, const Tensor& cpu, double max_abs) {
  ASSERT_EQ(gpu.shape(), cpu.shape());
  const auto g = gpu.to_vector<float>(), c = cpu.to_vector<float>();
  const std::int64_t d = cpu.dim(-1), rows = cpu.numel() / std::max<std::int64_t>(d, 1);
  for (std::int64_t r = 0; r < rows; ++r) {
    double dot = 0, ng = 0, nc = 0, worst = 0;
    for (std::int64_t j = 0; j < d; ++j) {
      const double a = g[std::size_t(r * d + j)], b = c[std::size_t(r * d + j)];
      ASSERT_TRUE(std::isfinite(a)) << "row " << r << ", element " << j;
      dot += a * b;
      ng += a * a;
      nc += b * b;
      worst = std::max(worst, std::abs(a - b));
    }
    if (nc > 0) {
      EXPECT_GE(dot / std::sqrt(ng * nc), 0.9999) << "row " << r;
    }
    EXPECT_LE(worst, max_abs) << "row " << r;
  }
}

TEST(ParityTextEncoder, TinyBertEmbeddingsAndTokenVectors) {
  MPE_REQUIRE_CUDA_OR_SKIP();
  const std::string dir = (kData / "tiny").string();
  const SentenceEncoder cpu = SentenceEncoder::load(dir);
  const SentenceEncoder gpu = SentenceEncoder::load(dir, Device::cuda(0));
  EXPECT_EQ(gpu.device(), Device::cuda(0));
  const auto text = sentences();
  for (std::int64_t batch : {1, 7, 64, 300})
    expect_same_rows(gpu.encode(text, batch), cpu.encode(text, batch), 1e-4);
  // Every position of a padded batch (hidden_states), and the pooled forward pass.
  const std::vector<std::string> few(text.begin(), text.begin() + 9);
  TokenBatch b = cpu.tokenizer().encode_batch(few, cpu.max_length());
  expect_same_rows(gpu.hidden_states(b), cpu.hidden_states(b), 1e-3);
  expect_same_rows(gpu.forward(b), cpu.forward(b), 1e-4);
  b.ids[2] = 1 << 30;
  EXPECT_THROW(gpu.forward(b), mpe::Error);
}

// 16-bit weights (and GEMM inputs) on the device against the float32 CPU encoder: rounding to
// 8 (bf16) or 11 (f16) significant bits, so a looser agreement than float32's.
TEST(ParityTextEncoder, TinyBertWith16BitWeights) {
  MPE_REQUIRE_CUDA_OR_SKIP();
  const std::string dir = (kData / "tiny").string();
  const SentenceEncoder cpu = SentenceEncoder::load(dir);
  const Tensor want = cpu.encode(sentences(), 32);
  for (mpe::DType st : {mpe::DType::bf16, mpe::DType::f16}) {
    const SentenceEncoder gpu = SentenceEncoder::load(dir, Device::cuda(0), st);
    EXPECT_EQ(gpu.storage(), st);
    const auto g = gpu.encode(sentences(), 32).to_vector<float>(), c = want.to_vector<float>();
    const std::int64_t d = want.dim(1);
    for (std::int64_t r = 0; r < want.dim(0); ++r) {
      double dot = 0;
      for (std::int64_t j = 0; j < d; ++j)
        dot += double(g[std::size_t(r * d + j)]) * c[std::size_t(r * d + j)];
      EXPECT_GE(dot, st == mpe::DType::bf16 ? 0.99 : 0.999) << mpe::dtype_name(st) << ", row " << r;
    }
  }
}

TEST(ParityTextEncoder, RealMiniLm) {
  MPE_REQUIRE_CUDA_OR_SKIP();
  const std::string dir = mpe::text::default_minilm_dir();
  if (dir.empty()) GTEST_SKIP() << "SKIPPED: no all-MiniLM-L6-v2 folder";
  const SentenceEncoder cpu = SentenceEncoder::load(dir);
  const SentenceEncoder gpu = SentenceEncoder::load(dir, Device::cuda(0));
  auto text = sentences();
  text.resize(64);
  expect_same_rows(gpu.encode(text, 32), cpu.encode(text, 32), 1e-4);
}

}  // namespace
