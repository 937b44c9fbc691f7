// .npy files: fixtures written by NumPy (tests/data/npy/make_fixtures.py), round trips, the
// error cases, and AIF models given as .npy tensors.
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>

#include <gtest/gtest.h>
#include <mpe/aif.hpp>
#include <mpe/npy.hpp>

#include "support/errors.hpp"

namespace mpe {
namespace {

std::string fixture(const std::string& name) {
  return std::string(MPE_SOURCE_DIR) + "/tests/data/npy/" + name;
}

std::filesystem::path scratch_dir(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("mpe_npy_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

TEST(NpyRead, NumpyWrittenFixtures) {
  const Tensor a = read_npy(fixture("f64_2x3.npy"));
  EXPECT_EQ(a.dtype(), DType::f64);
  EXPECT_EQ(a.shape(), (Shape{2, 3}));
  EXPECT_EQ(a.to_vector<double>(), (std::vector<double>{-0.5, -0.25, 0.0, 0.25, 0.5, 0.75}));
  const Tensor b = read_npy(fixture("f32_4.npy"));
  EXPECT_EQ(b.shape(), (Shape{4}));
  EXPECT_EQ(b.to_vector<float>(), (std::vector<float>{1.5f, -2.25f, 3.0f, 1e-30f}));
  const Tensor c = read_npy(fixture("i64_scalar.npy"));
  EXPECT_EQ(c.shape(), Shape{});
  EXPECT_EQ(c.to_vector<std::int64_t>(), (std::vector<std::int64_t>{7}));
  const Tensor d = read_npy(fixture("i32_2x0.npy"));
  EXPECT_EQ(d.shape(), (Shape{2, 0}));
  EXPECT_EQ(d.numel(), 0);
  const Tensor e = read_npy(fixture("v2_f32_3x2.npy"));  // format version 2.0
  EXPECT_EQ(e.shape(), (Shape{3, 2}));
  EXPECT_EQ(e.to_vector<float>(), (std::vector<float>{1, 2, 3, 4, 5, 6}));
  // Conversion to float32 on request.
  EXPECT_EQ(read_npy_f32(fixture("f64_2x3.npy")).to_vector<float>(),
            (std::vector<float>{-0.5f, -0.25f, 0.0f, 0.25f, 0.5f, 0.75f}));
  // float16 ('<f2'): bits exactly as NumPy wrote them, and their float32 values.
  const Tensor h = read_npy(fixture("f16_5.npy"));
  EXPECT_EQ(h.dtype(), DType::f16);
  EXPECT_EQ(h.shape(), (Shape{5}));
  std::vector<std::uint16_t> bits;
  for (float16 x : h.to_vector<float16>()) bits.push_back(x.bits);
  EXPECT_EQ(bits, (std::vector<std::uint16_t>{0x3e00, 0x0001, 0x7bff, 0xfc00, 0x8000}));
  const std::vector<float> hf = read_npy_f32(fixture("f16_5.npy")).to_vector<float>();
  EXPECT_EQ(hf[0], 1.5f);
  EXPECT_EQ(hf[1], std::ldexp(1.0f, -24));
  EXPECT_EQ(hf[2], 65504.0f);
  EXPECT_EQ(hf[3], -std::numeric_limits<float>::infinity());
  EXPECT_TRUE(hf[4] == 0.0f && std::signbit(hf[4]));
}

TEST(NpyRead, RejectsWhatItCannotRead) {
  test::expect_error([] { read_npy(fixture("fortran_2x2.npy")); }, ErrorCode::parse_error,
                     "Fortran");
  test::expect_error([] { read_npy(fixture("bigendian_f4.npy")); }, ErrorCode::parse_error,
                     "'>f4' is not supported");
  test::expect_error([] { read_npy(fixture("complex.npy")); }, ErrorCode::parse_error,
                     "'<c8' is not supported");
  test::expect_error([] { read_npy(fixture("truncated.npy")); }, ErrorCode::parse_error,
                     "fewer than the 16 bytes");
  test::expect_error([] { read_npy(fixture("not_npy.npy")); }, ErrorCode::parse_error, "magic");
  test::expect_error([] { read_npy(fixture("missing.npy")); }, ErrorCode::io_error,
                     "cannot open");
}

TEST(NpyWrite, RoundTripsEveryType) {
  const auto dir = scratch_dir("roundtrip");
  const Tensor f = Tensor::from_vector<float>({1.f, -2.f, 3.5f, 0.f, 7.f, 8.f}, {3, 1, 2});
  const Tensor g = Tensor::from_vector<double>({1e-300, 2.0}, {2});
  const Tensor h = Tensor::from_vector<std::int32_t>({-1, 2, 3}, {3});
  const Tensor k = Tensor::from_vector<std::int64_t>({1LL << 40}, {1, 1});
  const Tensor m = Tensor::from_vector<float>({0.1f, -3.0f, 1e-6f}, {3}).astype(DType::f16);
  for (const Tensor* t : {&f, &g, &h, &k, &m}) {
    const std::string path = (dir / "t.npy").string();
    write_npy(path, *t);
    const Tensor back = read_npy(path);
    EXPECT_EQ(back.dtype(), t->dtype());
    EXPECT_EQ(back.shape(), t->shape());
    ASSERT_EQ(back.nbytes(), t->nbytes());
    EXPECT_EQ(std::memcmp(back.raw(), t->raw(), t->nbytes()), 0);
    // Version 1.0 header padded to a multiple of 64 bytes, as NumPy writes it.
    std::ifstream in(path, std::ios::binary);
    unsigned char head[10];
    in.read(reinterpret_cast<char*>(head), 10);
    EXPECT_EQ((10 + head[8] + head[9] * 256) % 64, 0);
  }
  test::expect_error([&] { write_npy((dir / "no/such/dir/t.npy").string(), f); },
                     ErrorCode::io_error, "cannot open");
  // NumPy has no bfloat16: refused before anything is written.
  test::expect_error([&] { write_npy((dir / "b.npy").string(), f.astype(DType::bf16)); },
                     ErrorCode::dtype_mismatch, "NumPy has no bfloat16");
  EXPECT_FALSE(std::filesystem::exists(dir / "b.npy"));
  std::filesystem::remove_all(dir);
}

TEST(NpyModels, FolderAndJsonReferencesPlanLikeTheJsonModel) {
  const std::string examples = std::string(MPE_SOURCE_DIR) + "/examples/aif/";
  const aif::Model json_model = aif::Model::load(examples + "fixture_model.json");
  const auto requests = aif::load_requests(examples + "fixture_request.json");
  const auto want = aif::plan(json_model, requests, Device::cpu())[0].action_dist;

  const auto dir = scratch_dir("model");
  write_npy((dir / "T.npy").string(), json_model.T());
  write_npy((dir / "B.npy").string(), json_model.B());
  write_npy((dir / "action_prior.npy").string(), json_model.action_prior());
  write_npy((dir / "goal.npy").string(), json_model.goal());
  const aif::Model from_folder = aif::Model::load(dir.string());
  EXPECT_EQ(aif::plan(from_folder, requests, Device::cpu())[0].action_dist, want);

  // The same tensors named from a JSON model (paths relative to the JSON file).
  {
    std::ofstream out(dir / "model.json");
    out << R"({"T": "T.npy", "B": "B.npy", "action_prior": "action_prior.npy",
               "goal": {"terminal": "goal.npy"}})";
  }
  const aif::Model from_json = aif::Model::load((dir / "model.json").string());
  EXPECT_EQ(aif::plan(from_json, requests, Device::cpu())[0].action_dist, want);

  // A missing file is named; a folder without a goal says what it needs.
  {
    std::ofstream out(dir / "bad.json");
    out << R"({"T": "nope.npy", "B": "B.npy", "action_prior": "action_prior.npy",
               "goal": {"terminal": "goal.npy"}})";
  }
  test::expect_error([&] { aif::Model::load((dir / "bad.json").string()); }, ErrorCode::io_error,
                     "nope.npy");
  std::filesystem::remove(dir / "goal.npy");
  test::expect_error([&] { aif::Model::load(dir.string()); }, ErrorCode::parse_error,
                     "goal.npy");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace mpe
