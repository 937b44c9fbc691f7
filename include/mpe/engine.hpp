#pragma once
/// @file engine.hpp
/// mpe::Engine: one object that takes requests (AIF-MP plans, relevance queries, belief
/// propagation runs) from many threads, groups the ones
/// that can share a launch into batches (by size and by queueing delay), runs the batches on
/// the devices (CUDA devices or a CPU worker pool) and completes each request's future, with
/// its own error when it fails, never taking its batch-mates down.
///
///     mpe::Engine engine;                                  // device auto: CUDA if present
///     auto model = std::make_shared<mpe::aif::Model>(mpe::aif::Model::load("model.json"));
///     std::future<mpe::aif::Plan> f = engine.submit(model, request);
///     mpe::aif::Plan p = f.get();                          // throws the request's mpe::Error
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include <mpe/aif.hpp>
#include <mpe/device.hpp>
#include <mpe/factor_graph.hpp>
#include <mpe/relevance.hpp>

namespace mpe {

namespace detail {
class Job;
}

/// What a full queue does to submit().
enum class WhenFull {
  block,  ///< wait for room up to EngineOptions::block_timeout, then throw Error(busy)
  reject  ///< throw Error(busy) at once
};

/// One batch about to run (EngineOptions::on_batch).
struct BatchInfo {
  Device device;                       ///< where it runs
  std::vector<std::uint64_t> requests; ///< the ids of its requests (Ticket::id)
  int attempt = 0;                     ///< 0 first; more after a failure split it or moved it
};

/// How an Engine runs. Defaults suit a server: batches of up to 256 requests, a partial batch
/// waits at most 2 ms for company.
struct EngineOptions {
  std::string device = "auto";  ///< "auto", "cpu", "cuda" or "cuda:N" (as parse_device)
  /// CUDA devices to spread batches over (empty: every visible device when `device` is auto or
  /// cuda, the named one for cuda:N).
  std::vector<int> device_ids;
  /// Batches in flight per CUDA device, each worker on its own CUDA stream (so one batch's
  /// copies and host work overlap another's kernels).
  int workers_per_device = 2;
  int cpu_workers = 1;         ///< CPU batches in flight (each is parallel inside, OpenMP)
  std::size_t max_batch = 256;                             ///< requests per batch, >= 1
  std::chrono::microseconds max_delay{2000};               ///< queueing delay of a partial batch
  std::size_t queue_capacity = 1 << 16;                    ///< queued requests, >= 1
  WhenFull when_full = WhenFull::block;                    ///< back-pressure policy
  std::chrono::milliseconds block_timeout{10000};          ///< WhenFull::block's limit
  /// Largest batch a device runs in one go, in requests (0: max_batch); bigger batches are
  /// split. A device that runs out of memory splits further by itself.
  std::size_t device_batch_limit = 0;
  /// Working memory one batch may take on a device, in bytes (0: no limit). Each request's
  /// inputs, outputs and workspace are estimated by its kind (per-model data such as an AIF
  /// model's T is shared and not counted); a batch is split so that every part fits. A request
  /// that needs more than the budget on its own fails with Error(out_of_memory), except on the
  /// CPU after a CUDA device failed it (cpu_fallback), where it runs whatever it needs.
  std::size_t memory_budget = 0;
  /// Retry a request on the CPU when its device fails it even alone (out of memory, device
  /// error).
  bool cpu_fallback = true;
  /// Called on the worker thread before each batch runs (observation, fault injection in tests).
  /// An mpe::Error it throws counts as that batch failing on the device.
  std::function<void(const BatchInfo&)> on_batch;
};

/// Counters and latency figures since the engine started (EngineStats::str() prints them).
struct EngineStats {
  std::uint64_t submitted = 0;   ///< requests accepted by submit()
  std::uint64_t completed = 0;   ///< futures fulfilled with a plan
  std::uint64_t failed = 0;      ///< futures fulfilled with an error (validation included)
  std::uint64_t cancelled = 0;   ///< cancelled while queued (cancel(), shutdown without drain)
  std::uint64_t rejected = 0;    ///< refused by back-pressure (submit threw busy)
  std::uint64_t batches = 0;     ///< batch runs, retries included
  std::uint64_t retries = 0;     ///< batch runs after a failure (splits and CPU fallbacks)
  double mean_batch = 0;         ///< requests per batch run
  std::size_t max_batch_seen = 0;
  /// Queueing delay (submit to batch start) and run time (batch start to completion) of
  /// requests, in microseconds, over the most recent 8192 requests.
  double queue_p50_us = 0, queue_p99_us = 0, run_p50_us = 0, run_p99_us = 0;
  std::string str() const;  ///< one readable line
};

/// A submitted request: its result and an id for cancel().
template <class T>
struct Ticket {
  std::future<T> result;
  std::uint64_t id = 0;
};

/// The scheduler. Thread-safe: any number of threads may submit at once. Destruction drains
/// the queue (every queued request runs) unless shutdown(false) was called.
class Engine {
 public:
  /// Starts the workers. Throws Error(invalid_argument) for bad options and
  /// Error(device_unavailable) when a named device does not answer.
  explicit Engine(EngineOptions options = {});
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  /// Queues one AIF-MP planning request. The request is validated at once: a bad one gets a
  /// future holding its Error(invalid_argument) and never joins a batch. Requests with the
  /// same model dynamics (models sharing T, e.g. made with Model::with_goal), shapes and
  /// options (aif::same_options) are batched together. Throws Error(busy) when the queue is
  /// full (see WhenFull) or the engine is shutting down.
  Ticket<aif::Plan> submit(std::shared_ptr<const aif::Model> model, aif::PlanRequest request);

  /// The same, waiting for the plan (throws the request's Error).
  aif::Plan plan(std::shared_ptr<const aif::Model> model, aif::PlanRequest request);

  /// Queues one relevance query against a loaded store. Validated at once (Store::validate): a
  /// bad one gets a future holding its Error. Queries against the same store object are
  /// batched into one Store::query_batch call (each keeps its own parameters). The store may
  /// take writes (learning) meanwhile: a batch sees the store as it is when the batch runs.
  Ticket<relevance::QueryResult> submit(std::shared_ptr<const relevance::Store> store,
                                        relevance::Query query);

  /// The same, waiting for the result (throws the query's Error).
  relevance::QueryResult query(std::shared_ptr<const relevance::Store> store,
                               relevance::Query query);

  /// Queues one belief-propagation run: `instance` (potentials and/or evidence) of `graph`.
  /// Validated at once (bp::validate). Runs of the same graph object with equal options
  /// (method, schedule, precision, damping, tol, max_iter, factor_beliefs) are batched into one
  /// bp::run_batch call. options.device is ignored: the engine chooses, except that the
  /// sequential schedule always runs on the CPU.
  Ticket<bp::Result> submit(std::shared_ptr<const bp::FactorGraph> graph, bp::Instance instance,
                            bp::Options options = {});

  /// Cancels a request that has not started: its future gets Error(cancelled). Returns false
  /// when it already runs, ran, or was never queued.
  bool cancel(std::uint64_t id);

  /// Stops taking requests. drain = true runs everything queued first; false cancels it. Waits
  /// for running batches either way. Called by the destructor (with drain = true).
  void shutdown(bool drain = true);

  /// A snapshot of the counters.
  EngineStats stats() const;

  /// The devices batches run on (after resolving "auto").
  std::vector<Device> devices() const;

 private:
  // Queues a validated job (or throws busy) and returns its id.
  std::uint64_t enqueue(std::unique_ptr<detail::Job> job);
  // Counts a request rejected by validation before it was queued; returns its id.
  std::uint64_t count_invalid();

  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace mpe
