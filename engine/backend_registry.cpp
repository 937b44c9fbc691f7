// The only place that knows both backends.
#include <fmt/format.h>

#include "backend.hpp"

namespace mpe::detail {

#if MPE_HAVE_CUDA
Backend* make_cuda_backend();  // cuda/cuda_backend.cpp
#endif

Backend* cuda_backend() noexcept {
#if MPE_HAVE_CUDA
  return make_cuda_backend();
#else
  return nullptr;
#endif
}

Backend& backend_for(const Device& device) {
  if (device.kind == DeviceKind::cpu) return cpu_backend();
  Backend* cuda = cuda_backend();
  if (!cuda) {
    throw Error(ErrorCode::device_unavailable,
                fmt::format("{} requested, but this build of mpengine has no CUDA backend "
                            "(configure with -DMPE_CUDA=ON)",
                            device.str()));
  }
  const int n = cuda->device_count();
  if (device.index < 0 || device.index >= n) {
    throw Error(ErrorCode::device_unavailable,
                fmt::format("{} requested, but {} CUDA device(s) answer", device.str(), n));
  }
  return *cuda;
}

}  // namespace mpe::detail
