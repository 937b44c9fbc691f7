// Build facts and devices: mpengine.info() is built on these.
#include <string>

#include <nanobind/stl/string.h>

#include <mpe/device.hpp>

#include "bindings.hpp"

namespace mpe::py {

void bind_info(nb::module_& m) {
  m.def("build_info", [] {
    const BuildInfo b = build_info();
    nb::dict d;
    d["version"] = b.version;
    d["git_commit"] = b.git_commit;
    d["build_type"] = b.build_type;
    d["compiler"] = b.compiler;
    d["cuda"] = b.cuda;
    d["cuda_version"] = b.cuda_version;
    d["cuda_archs"] = b.cuda_archs;
    d["openmp"] = b.openmp;
    d["cpu_threads"] = b.cpu_threads;
    d["sanitizers"] = b.sanitizers;
    return d;
  }, "How the linked libmpengine was built (mpe::build_info) as a dict.");
  m.def("devices", [] {
    nb::list out;
    for (const DeviceInfo& i : list_devices()) {
      nb::dict d;
      d["device"] = i.device.str();
      d["name"] = i.name;
      d["total_memory"] = i.total_memory;
      d["free_memory"] = i.free_memory;
      d["multiprocessors"] = i.multiprocessors;
      d["compute_capability"] = nb::make_tuple(i.compute_major, i.compute_minor);
      d["peak_bandwidth_gbs"] = i.peak_bandwidth_gbs;
      out.append(d);
    }
    return out;
  }, "Every device found, the CPU first (mpe::list_devices), as dicts.");
  m.def("default_device", [] { return default_device().str(); },
        "The device ops use when none is named (MPE_DEVICE, else a CUDA device when one "
        "answers, else 'cpu').");
  m.def("cuda_built", &cuda_built, "True when this build contains the CUDA backend.");
}

}  // namespace mpe::py
