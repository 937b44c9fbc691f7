#include "support/guarded.hpp"

#include <cstring>

namespace mpe::test {

namespace {
constexpr unsigned char kGuardByte = 0xA5;
constexpr unsigned char kInteriorByte = 0xFF;
}  // namespace

GuardedOutput::GuardedOutput(std::int64_t n, Device device)
    : n_(n), buffer_(Tensor::empty({n + 2 * kGuard}, DType::f32, device)) {
  std::vector<unsigned char> bytes(buffer_.nbytes(), kInteriorByte);
  std::memset(bytes.data(), kGuardByte, kGuard * sizeof(float));
  std::memset(bytes.data() + (kGuard + n) * sizeof(float), kGuardByte, kGuard * sizeof(float));
  std::vector<float> as_floats(static_cast<std::size_t>(n + 2 * kGuard));
  std::memcpy(as_floats.data(), bytes.data(), bytes.size());
  buffer_.copy_from(Tensor::from_vector(as_floats, buffer_.shape()));
}

float* GuardedOutput::data() { return buffer_.data<float>() + kGuard; }

std::vector<float> GuardedOutput::values() const {
  const auto all = buffer_.to_vector<float>();
  return std::vector<float>(all.begin() + kGuard, all.begin() + kGuard + n_);
}

bool GuardedOutput::guards_intact() const {
  const auto all = buffer_.to_vector<float>();
  std::vector<unsigned char> bytes(all.size() * sizeof(float));
  std::memcpy(bytes.data(), all.data(), bytes.size());
  for (std::size_t k = 0; k < bytes.size(); ++k) {
    const bool guard = k < kGuard * sizeof(float) || k >= (kGuard + n_) * sizeof(float);
    if (guard && bytes[k] != kGuardByte) return false;
  }
  return true;
}

}  // namespace mpe::test
