// A C++ timing loop over aif::plan, for bench/python_overhead.py: the same call, model and
// requests as mpengine.plan() makes from Python, so the difference is the binding's cost.
#include <chrono>
#include <vector>

#include <nanobind/stl/vector.h>

#include <mpe/aif.hpp>

#include "arrays.hpp"
#include "bindings.hpp"

namespace mpe::py {

void bind_bench(nb::module_& m) {
  m.def("_bench_plan_cpp",
        [](const aif::Model& model, const std::vector<aif::PlanRequest>& requests, int calls,
           DeviceArg device) {
          const Device dev = device_arg(device);
          nb::gil_scoped_release release;
          const auto t0 = std::chrono::steady_clock::now();
          for (int i = 0; i < calls; ++i) {
            std::vector<aif::Plan> plans = aif::plan(model, requests, dev);
            if (plans.size() != requests.size()) throw Error(ErrorCode::internal, "plan count");
          }
          const std::chrono::duration<double> s = std::chrono::steady_clock::now() - t0;
          return s.count() / calls;
        },
        nb::arg("model"), nb::arg("requests"), nb::arg("calls"), nb::kw_only(),
        nb::arg("device") = nb::none(),
        "Seconds per aif::plan call, timed in C++ (bench/python_overhead.py).");
}

}  // namespace mpe::py
