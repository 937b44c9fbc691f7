#include "cpu_info.hpp"

#include <fstream>
#include <string>
#include <thread>

#include <unistd.h>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace mpe::detail {

namespace {
std::string cpu_model_name() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(' ', colon + 1));
    }
  }
  return "host CPU";
}
}  // namespace

DeviceInfo host_device_info() {
  DeviceInfo info;
  info.device = Device::cpu();
  info.name = cpu_model_name();
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long avail = sysconf(_SC_AVPHYS_PAGES);
  const long page = sysconf(_SC_PAGE_SIZE);
  if (pages > 0 && page > 0) info.total_memory = static_cast<std::size_t>(pages) * page;
  if (avail > 0 && page > 0) info.free_memory = static_cast<std::size_t>(avail) * page;
#ifdef _OPENMP
  info.multiprocessors = omp_get_max_threads();
#else
  info.multiprocessors = static_cast<int>(std::thread::hardware_concurrency());
#endif
  return info;
}

}  // namespace mpe::detail
