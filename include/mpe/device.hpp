#pragma once
/// @file device.hpp
/// Devices, their discovery and the run-time choice between the CPU and CUDA backends.

#include <cstddef>
#include <string>
#include <vector>

namespace mpe {

/// The kind of processor a tensor lives on and an op runs on.
enum class DeviceKind { cpu, cuda };

/// A device: its kind and, for CUDA, its ordinal.
struct Device {
  DeviceKind kind = DeviceKind::cpu;  ///< which backend
  int index = 0;                      ///< CUDA device ordinal (0 for the CPU)

  /// The host CPU.
  static Device cpu() { return Device{DeviceKind::cpu, 0}; }
  /// CUDA device number `index`.
  static Device cuda(int index = 0) { return Device{DeviceKind::cuda, index}; }
  /// "cpu" or "cuda:N".
  std::string str() const;
  bool operator==(const Device& o) const { return kind == o.kind && index == o.index; }
  bool operator!=(const Device& o) const { return !(*this == o); }
  /// An order (by kind, then index), so that devices can key maps of per-device caches.
  bool operator<(const Device& o) const {
    return kind != o.kind ? kind < o.kind : index < o.index;
  }
};

/// Parses "cpu", "cuda", "cuda:N" or "auto" (auto resolves through default_device()).
/// Throws Error(invalid_argument) for anything else, and Error(device_unavailable) when the
/// named CUDA device does not exist.
Device parse_device(const std::string& text);

/// What a device is: shown by `mpe info` and recorded by `mpe-bench`.
struct DeviceInfo {
  Device device;                  ///< which one
  std::string name;               ///< e.g. "NVIDIA H100 80GB HBM3" or the CPU model
  std::size_t total_memory = 0;   ///< bytes (host RAM for the CPU)
  std::size_t free_memory = 0;    ///< bytes free when asked
  int multiprocessors = 0;        ///< SMs for CUDA, hardware threads for the CPU
  int compute_major = 0;          ///< CUDA compute capability (0 for the CPU)
  int compute_minor = 0;          ///< CUDA compute capability (0 for the CPU)
  double peak_bandwidth_gbs = 0;  ///< nominal memory bandwidth in GB/s, 0 when unknown
};

/// True when this build contains the CUDA backend.
bool cuda_built() noexcept;

/// Number of CUDA devices that answer (0 without CUDA, a driver or a GPU). Never throws.
int cuda_device_count() noexcept;

/// All devices found: the CPU first, then every CUDA device.
std::vector<DeviceInfo> list_devices();

/// Facts about one device. Throws Error(device_unavailable) when it does not exist.
DeviceInfo device_info(const Device& device);

/// The device ops use when none is named: the environment variable MPE_DEVICE
/// (cpu|cuda|cuda:N|auto) when set, else auto = cuda:0 when a CUDA device answers, else cpu.
/// Throws Error(device_unavailable) when MPE_DEVICE asks for CUDA and none answers, and
/// Error(invalid_argument) for an unknown value.
Device default_device();

/// Waits until all work queued on `device` has finished (a no-op for the CPU).
void synchronize(const Device& device);

/// How this library was built, for `mpe info` and benchmark records.
struct BuildInfo {
  std::string version;       ///< mpengine version, e.g. "0.1.0"
  std::string git_commit;    ///< commit the build came from ("unknown" outside git)
  std::string build_type;    ///< CMake build type
  std::string compiler;      ///< C++ compiler and version
  bool cuda = false;         ///< CUDA backend compiled in
  std::string cuda_version;  ///< CUDA toolkit version used to build ("" without CUDA)
  std::string cuda_archs;    ///< CMAKE_CUDA_ARCHITECTURES
  bool openmp = false;       ///< CPU kernels parallelised with OpenMP
  int cpu_threads = 1;       ///< threads the CPU backend uses
  bool sanitizers = false;   ///< built with ASan/UBSan
};

/// The build configuration of the linked library.
BuildInfo build_info();

}  // namespace mpe
