#pragma once
// An output buffer with poisoned guard zones on both sides, for checking that a kernel writes
// exactly its output and nothing around it. The interior is poisoned with 0xFF bytes (NaN), so
// an element the kernel forgot to write fails any value comparison.
#include <cstdint>
#include <vector>

#include <mpe/tensor.hpp>

namespace mpe::test {

class GuardedOutput {
 public:
  static constexpr std::int64_t kGuard = 64;  // floats on each side

  GuardedOutput(std::int64_t n, Device device);
  // Pointer to the n writable floats.
  float* data();
  // The n floats written, copied to the host.
  std::vector<float> values() const;
  // True when every guard float still holds its poison pattern.
  bool guards_intact() const;

 private:
  std::int64_t n_;
  Tensor buffer_;
};

}  // namespace mpe::test
