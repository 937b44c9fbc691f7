// Device naming, discovery and the default-device policy (MPE_DEVICE).
#include <cstdlib>
#include <string>

#include <fmt/format.h>

#include "backend.hpp"
#include "build_config.hpp"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace mpe {

std::string Device::str() const {
  return kind == DeviceKind::cpu ? std::string("cpu") : fmt::format("cuda:{}", index);
}

bool cuda_built() noexcept { return detail::cuda_backend() != nullptr; }

int cuda_device_count() noexcept {
  detail::Backend* cuda = detail::cuda_backend();
  return cuda ? cuda->device_count() : 0;
}

namespace {
// `what` names where the request came from, e.g. "device 'cuda'" or "MPE_DEVICE='cuda'".
Device cuda_or_throw(int index, const std::string& what) {
  const Device d = Device::cuda(index);
  if (!cuda_built()) {
    throw Error(ErrorCode::device_unavailable,
                fmt::format("{} asks for {}, but this build of mpengine has no CUDA backend", what,
                            d.str()));
  }
  const int n = cuda_device_count();
  if (index >= n) {
    throw Error(ErrorCode::device_unavailable,
                fmt::format("{} asks for {}, but {} CUDA device(s) answer", what, d.str(), n));
  }
  return d;
}

Device auto_device() { return cuda_device_count() > 0 ? Device::cuda(0) : Device::cpu(); }

Device parse_device_from(const std::string& text, const std::string& source) {
  const std::string what = source == "MPE_DEVICE" ? fmt::format("MPE_DEVICE='{}'", text)
                                                  : fmt::format("device '{}'", text);
  if (text == "cpu") return Device::cpu();
  if (text == "auto" || text.empty()) return auto_device();
  if (text == "cuda" || text == "gpu") return cuda_or_throw(0, what);
  if (text.rfind("cuda:", 0) == 0) {
    const std::string num = text.substr(5);
    if (!num.empty() && num.find_first_not_of("0123456789") == std::string::npos &&
        num.size() < 6) {
      return cuda_or_throw(std::stoi(num), what);
    }
  }
  throw Error(
      ErrorCode::invalid_argument,
      fmt::format("{}: unknown device '{}' (expected cpu, cuda, cuda:N or auto)", source, text));
}
}  // namespace

Device parse_device(const std::string& text) { return parse_device_from(text, "device"); }

Device default_device() {
  const char* env = std::getenv("MPE_DEVICE");
  if (env && *env) return parse_device_from(env, "MPE_DEVICE");
  return auto_device();
}

std::vector<DeviceInfo> list_devices() {
  std::vector<DeviceInfo> out{detail::cpu_backend().info(0)};
  if (detail::Backend* cuda = detail::cuda_backend()) {
    for (int i = 0; i < cuda->device_count(); ++i) out.push_back(cuda->info(i));
  }
  return out;
}

DeviceInfo device_info(const Device& device) {
  return detail::backend_for(device).info(device.index);
}

void synchronize(const Device& device) { detail::backend_for(device).synchronize(device.index); }

BuildInfo build_info() {
  BuildInfo b;
  b.version = MPE_VERSION_STRING;
  b.git_commit = MPE_GIT_COMMIT;
  b.build_type = MPE_BUILD_TYPE;
  b.compiler = MPE_COMPILER;
  b.cuda = MPE_HAVE_CUDA != 0;
  b.cuda_version = MPE_CUDA_VERSION;
  b.cuda_archs = MPE_CUDA_ARCHS;
  b.sanitizers = MPE_SANITIZERS != 0;
#ifdef _OPENMP
  b.openmp = true;
  b.cpu_threads = omp_get_max_threads();
#endif
  return b;
}

}  // namespace mpe
