#include "support/gpu.hpp"

#include <cstdlib>
#include <string>

#include <mpe/device.hpp>

namespace mpe::test {
bool cuda_available() { return mpe::cuda_device_count() > 0; }
bool cuda_required() {
  const char* v = std::getenv("MPE_REQUIRE_CUDA");
  return v && std::string(v) != "0" && std::string(v) != "";
}
}  // namespace mpe::test
