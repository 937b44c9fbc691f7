// Tensor, Error and device selection on the CPU.
#include <cstdlib>
#include <memory>
#include <vector>

#include <gtest/gtest.h>
#include <mpe/mpe.hpp>

#include "support/errors.hpp"

namespace mpe {
namespace {

using test::catch_error;

TEST(Tensor, ShapesSizesAndDtypes) {
  const Tensor t = Tensor::zeros({2, 3, 4}, DType::f64);
  EXPECT_EQ(t.rank(), 3);
  EXPECT_EQ(t.numel(), 24);
  EXPECT_EQ(t.nbytes(), 24u * 8u);
  EXPECT_EQ(t.dim(-1), 4);
  EXPECT_EQ(t.dim(0), 2);
  EXPECT_TRUE(t.is_cpu());
  EXPECT_EQ(t.str(), "Tensor(float64, [2, 3, 4], cpu)");
  for (double v : t.to_vector<double>()) EXPECT_EQ(v, 0.0);
  EXPECT_EQ(dtype_size(DType::i32), 4u);
  EXPECT_EQ(dtype_size(DType::i64), 8u);
  EXPECT_STREQ(dtype_name(DType::i64), "int64");
  EXPECT_FALSE(Tensor().defined());
  EXPECT_EQ(Tensor().numel(), 0);
}

TEST(Tensor, CopiesAreDeepAndCopiesOfHandlesShare) {
  Tensor a = Tensor::from_vector<std::int32_t>({1, 2, 3, 4}, {2, 2});
  Tensor shared = a;
  Tensor deep = a.clone();
  a.data<std::int32_t>()[0] = 99;
  EXPECT_EQ(shared.to_vector<std::int32_t>()[0], 99);
  EXPECT_EQ(deep.to_vector<std::int32_t>()[0], 1);
  Tensor dst = Tensor::zeros({2, 2}, DType::i32);
  dst.copy_from(deep);
  EXPECT_EQ(dst.to_vector<std::int32_t>(), (std::vector<std::int32_t>{1, 2, 3, 4}));
  const Tensor r = a.reshape({4});
  EXPECT_EQ(r.shape(), (Shape{4}));
  EXPECT_EQ(r.to_vector<std::int32_t>()[0], 99);
}

// Tensor::from_external: the caller's memory, no copy; the owner lives as long as any tensor
// shares the storage and mpengine never frees the memory itself.
TEST(Tensor, ExternalMemoryIsSharedAndKeptAliveByItsOwner) {
  auto buffer = std::make_shared<std::vector<float>>(std::vector<float>{1, 2, 3, 4, 5, 6});
  std::weak_ptr<std::vector<float>> watch = buffer;
  Tensor t = Tensor::from_external(buffer->data(), {2, 3}, DType::f32, Device::cpu(), buffer);
  EXPECT_EQ(t.raw(), buffer->data());
  (*buffer)[0] = 10;
  EXPECT_EQ(t.to_vector<float>()[0], 10);
  Tensor view = t.reshape({6});
  buffer.reset();
  t = Tensor();
  EXPECT_FALSE(watch.expired());  // the reshaped handle still shares the storage
  EXPECT_EQ(view.to_vector<float>(), (std::vector<float>{10, 2, 3, 4, 5, 6}));
  EXPECT_EQ(Tensor(view).clone().to_vector<float>()[5], 6);
  view = Tensor();
  EXPECT_TRUE(watch.expired());
  Error e = catch_error([] {
    (void)Tensor::from_external(nullptr, {2}, DType::f32, Device::cpu(), nullptr);
  });
  EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
  EXPECT_FALSE(Tensor::from_external(nullptr, {0}, DType::f32, Device::cpu(), nullptr).numel());
}

TEST(Tensor, BadUseGivesClearErrors) {
  const Tensor t = Tensor::zeros({2, 2}, DType::f32);
  Error e = catch_error([&] { (void)t.data<double>(); });
  EXPECT_EQ(e.code(), ErrorCode::dtype_mismatch);
  EXPECT_NE(std::string(e.what()).find("float32"), std::string::npos);
  e = catch_error([&] { (void)t.dim(2); });
  EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
  e = catch_error([] { (void)Tensor::empty({3, -1}, DType::f32); });
  EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
  EXPECT_NE(std::string(e.what()).find("[3, -1]"), std::string::npos);
  e = catch_error([] { (void)Tensor::from_vector<float>({1.f, 2.f}, {3}); });
  EXPECT_EQ(e.code(), ErrorCode::shape_mismatch);
  e = catch_error([&] { (void)t.reshape({3}); });
  EXPECT_EQ(e.code(), ErrorCode::shape_mismatch);
  Tensor dst = Tensor::zeros({4}, DType::f32);
  e = catch_error([&] { dst.copy_from(t); });
  EXPECT_EQ(e.code(), ErrorCode::shape_mismatch);
  e = catch_error([] { (void)Tensor::empty({std::int64_t(1) << 62, 16}, DType::f64); });
  EXPECT_EQ(e.code(), ErrorCode::out_of_memory);
}

TEST(Tensor, HostOutOfMemoryIsAnError) {
  // 2^50 bytes cannot be allocated on any machine this runs on (ASan: allocator_may_return_null).
  const Error e = catch_error([] { (void)Tensor::empty({std::int64_t(1) << 48}, DType::f32); });
  EXPECT_EQ(e.code(), ErrorCode::out_of_memory);
  EXPECT_EQ(Tensor::zeros({4}, DType::f32).to_vector<float>().size(), 4u);
}

TEST(Error, CodeNamesAndMessage) {
  const Error e(ErrorCode::parse_error, "graph.mtx:3: expected 3 numbers");
  EXPECT_EQ(e.code(), ErrorCode::parse_error);
  EXPECT_EQ(e.message(), "graph.mtx:3: expected 3 numbers");
  EXPECT_STREQ(e.what(), "parse_error: graph.mtx:3: expected 3 numbers");
  EXPECT_STREQ(error_code_name(ErrorCode::out_of_memory), "out_of_memory");
}

class DeviceEnv : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* v = std::getenv("MPE_DEVICE");
    saved_ = v ? v : "";
    had_ = v != nullptr;
  }
  void TearDown() override {
    if (had_) {
      setenv("MPE_DEVICE", saved_.c_str(), 1);
    } else {
      unsetenv("MPE_DEVICE");
    }
  }
  std::string saved_;
  bool had_ = false;
};

TEST_F(DeviceEnv, ParseAndDefaultDevice) {
  EXPECT_EQ(parse_device("cpu"), Device::cpu());
  EXPECT_EQ(Device::cuda(2).str(), "cuda:2");
  EXPECT_EQ(catch_error([] { parse_device("tpu"); }).code(), ErrorCode::invalid_argument);
  EXPECT_EQ(catch_error([] { parse_device("cuda:x"); }).code(), ErrorCode::invalid_argument);
  setenv("MPE_DEVICE", "cpu", 1);
  EXPECT_EQ(default_device(), Device::cpu());
  setenv("MPE_DEVICE", "quantum", 1);
  const Error bad = catch_error([] { default_device(); });
  EXPECT_EQ(bad.code(), ErrorCode::invalid_argument);
  EXPECT_NE(std::string(bad.what()).find("MPE_DEVICE"), std::string::npos);
  unsetenv("MPE_DEVICE");
  EXPECT_EQ(default_device(), cuda_device_count() > 0 ? Device::cuda(0) : Device::cpu());
  if (cuda_device_count() == 0) {
    setenv("MPE_DEVICE", "cuda", 1);
    const Error e = catch_error([] { default_device(); });
    EXPECT_EQ(e.code(), ErrorCode::device_unavailable);
    EXPECT_EQ(catch_error([] { (void)Tensor::empty({4}, DType::f32, Device::cuda(0)); }).code(),
              ErrorCode::device_unavailable);
  }
}

TEST(Device, ListAndBuildInfo) {
  const auto devices = list_devices();
  ASSERT_FALSE(devices.empty());
  EXPECT_EQ(devices[0].device, Device::cpu());
  EXPECT_GT(devices[0].multiprocessors, 0);
  EXPECT_EQ(static_cast<int>(devices.size()), 1 + cuda_device_count());
  const BuildInfo b = build_info();
  EXPECT_EQ(b.version, "0.1.0");
  EXPECT_EQ(b.cuda, cuda_built());
}

}  // namespace
}  // namespace mpe
