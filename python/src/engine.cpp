// mpe::Engine, the scheduler: submit() from any number of Python threads. The C++ futures are
// wrapped as tickets; mpengine/engine.py turns them into concurrent.futures.Future.
#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include <nanobind/stl/shared_ptr.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <mpe/engine.hpp>

#include "arrays.hpp"
#include "bindings.hpp"

namespace mpe::py {
namespace {

// The engine, destroyed without the GIL: its workers may need the GIL to drop references to
// Python-owned inputs while it drains.
struct EngineHolder {
  std::unique_ptr<Engine> engine;
  ~EngineHolder() {
    nb::gil_scoped_release release;
    engine.reset();
  }
  Engine& get() {
    if (!engine) throw Error(ErrorCode::busy, "the engine has been closed");
    return *engine;
  }
};

template <class T>
struct PyTicket {
  std::future<T> result;
  std::uint64_t id = 0;
  // Waits without the GIL; the request's mpe::Error is raised as its Python class.
  T get() {
    if (!result.valid()) throw Error(ErrorCode::invalid_argument, "ticket already consumed");
    nb::gil_scoped_release release;
    return result.get();
  }
  bool ready() const {
    return result.valid() &&
           result.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
  }
};

template <class T>
void bind_ticket(nb::module_& m, const char* name) {
  nb::class_<PyTicket<T>>(m, name, "A submitted request (use Engine.submit's Future).")
      .def("get", &PyTicket<T>::get, "Waits for the result (the GIL is released).")
      .def("ready", &PyTicket<T>::ready)
      .def_ro("id", &PyTicket<T>::id);
}

template <class T>
PyTicket<T> ticket(Ticket<T>&& t) {
  return PyTicket<T>{std::move(t.result), t.id};
}

}  // namespace

void bind_engine(nb::module_& m) {
  bind_ticket<aif::Plan>(m, "_PlanTicket");
  bind_ticket<relevance::QueryResult>(m, "_QueryTicket");
  bind_ticket<bp::Result>(m, "_BPTicket");

  nb::class_<EngineHolder>(m, "_Engine", "mpe::Engine (wrapped by mpengine.Engine).")
      .def("__init__",
           [](EngineHolder* self, const std::string& device, std::size_t max_batch,
              double max_delay_ms, int cpu_workers, int workers_per_device,
              std::size_t queue_capacity, bool block_when_full) {
             EngineOptions o;
             o.device = device;
             o.max_batch = max_batch;
             o.max_delay = std::chrono::microseconds(static_cast<long long>(max_delay_ms * 1000));
             o.cpu_workers = cpu_workers;
             o.workers_per_device = workers_per_device;
             o.queue_capacity = queue_capacity;
             o.when_full = block_when_full ? WhenFull::block : WhenFull::reject;
             auto e = std::make_unique<Engine>(o);
             new (self) EngineHolder{std::move(e)};
           },
           nb::arg("device") = "auto", nb::arg("max_batch") = 256, nb::arg("max_delay_ms") = 2.0,
           nb::arg("cpu_workers") = 1, nb::arg("workers_per_device") = 2,
           nb::arg("queue_capacity") = 1 << 16, nb::arg("block_when_full") = true)
      .def("submit_plan",
           [](EngineHolder& h, std::shared_ptr<aif::Model> model, aif::PlanRequest request) {
             Engine& e = h.get();
             nb::gil_scoped_release release;
             return ticket(e.submit(std::shared_ptr<const aif::Model>(std::move(model)),
                                    std::move(request)));
           },
           nb::arg("model"), nb::arg("request"))
      .def("submit_query",
           [](EngineHolder& h, std::shared_ptr<relevance::Store> store, MessageArg message,
              SeedsArg seeds, const nb::kwargs& params) {
             relevance::Query q = make_query(*store, message, seeds, params);
             Engine& e = h.get();
             nb::gil_scoped_release release;
             return ticket(e.submit(std::shared_ptr<const relevance::Store>(std::move(store)),
                                    std::move(q)));
           },
           nb::arg("store"), nb::arg("message") = nb::none(), nb::kw_only(),
           nb::arg("seeds") = nb::none(), nb::arg("params"))
      .def("submit_bp",
           [](EngineHolder& h, std::shared_ptr<bp::FactorGraph> graph, std::vector<int> evidence,
              const std::string& method, const std::string& schedule, double damping, double tol,
              int max_iter) {
             bp::Options o;
             o.method = bp::parse_method(method);
             o.schedule = bp::parse_schedule(schedule);
             o.damping = damping;
             o.tol = tol;
             o.max_iter = max_iter;
             o.factor_beliefs = false;
             bp::Instance inst;
             inst.evidence = std::move(evidence);
             Engine& e = h.get();
             nb::gil_scoped_release release;
             return ticket(e.submit(std::shared_ptr<const bp::FactorGraph>(std::move(graph)),
                                    std::move(inst), o));
           },
           nb::arg("graph"), nb::arg("evidence") = std::vector<int>(), nb::kw_only(),
           nb::arg("method") = "sum", nb::arg("schedule") = "flooding", nb::arg("damping") = 0.0,
           nb::arg("tol") = 1e-9, nb::arg("max_iter") = 1000)
      .def("cancel", [](EngineHolder& h, std::uint64_t id) { return h.get().cancel(id); },
           nb::arg("id"))
      .def("shutdown",
           [](EngineHolder& h, bool drain) {
             if (!h.engine) return;
             nb::gil_scoped_release release;
             h.engine->shutdown(drain);
           },
           nb::arg("drain") = true)
      .def("stats", [](EngineHolder& h) {
        const EngineStats s = h.get().stats();
        nb::dict d;
        d["submitted"] = s.submitted;
        d["completed"] = s.completed;
        d["failed"] = s.failed;
        d["cancelled"] = s.cancelled;
        d["rejected"] = s.rejected;
        d["batches"] = s.batches;
        d["retries"] = s.retries;
        d["mean_batch"] = s.mean_batch;
        d["max_batch_seen"] = s.max_batch_seen;
        d["queue_p50_us"] = s.queue_p50_us;
        d["queue_p99_us"] = s.queue_p99_us;
        d["run_p50_us"] = s.run_p50_us;
        d["run_p99_us"] = s.run_p99_us;
        return d;
      })
      .def("devices", [](EngineHolder& h) {
        std::vector<std::string> out;
        for (const Device& d : h.get().devices()) out.push_back(d.str());
        return out;
      });
}

}  // namespace mpe::py
