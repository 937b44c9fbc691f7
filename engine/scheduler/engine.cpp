// mpe::Engine (include/mpe/engine.hpp): a queue of groups of compatible requests, worker
// threads bound to devices that take a group's batch when it is full or its oldest request
// has waited max_delay, and failure isolation by splitting failed batches.
#include <mpe/engine.hpp>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <limits>
#include <mutex>
#include <thread>

#include <fmt/format.h>
#include <mpe/error.hpp>

#include "scheduler/aif_job.hpp"
#include "scheduler/bp_job.hpp"
#include "scheduler/job.hpp"
#include "scheduler/relevance_job.hpp"
#include "stream_slot.hpp"

namespace mpe {

namespace {
using detail::Clock;
using JobPtr = std::unique_ptr<detail::Job>;

// Requests that can share one launch (Job::batches_with the group's first).
struct Group {
  std::deque<JobPtr> queue;
  bool accepts(const detail::Job& j) const { return queue.front()->batches_with(j); }
};

// The most recent samples of a latency, for percentiles.
class Window {
 public:
  void add(double us) {
    if (samples_.size() < kSize) {
      samples_.push_back(us);
    } else {
      samples_[next_] = us;
    }
    next_ = (next_ + 1) % kSize;
  }
  double percentile(double p) const {
    if (samples_.empty()) return 0;
    std::vector<double> v = samples_;
    const auto k = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
    std::nth_element(v.begin(), v.begin() + static_cast<long>(k), v.end());
    return v[k];
  }

 private:
  static constexpr std::size_t kSize = 8192;
  std::vector<double> samples_;
  std::size_t next_ = 0;
};

bool device_fault(ErrorCode c) {
  return c == ErrorCode::out_of_memory || c == ErrorCode::device_error;
}

std::vector<Device> resolve_devices(const EngineOptions& o) {
  const Device named = parse_device(o.device);  // throws for unknown names / missing devices
  if (named.kind == DeviceKind::cpu) return {Device::cpu()};
  std::vector<Device> out;
  const bool one = o.device.rfind("cuda:", 0) == 0;
  if (!o.device_ids.empty()) {
    for (int id : o.device_ids) out.push_back(parse_device(fmt::format("cuda:{}", id)));
  } else if (one) {
    out.push_back(named);
  } else {
    for (int i = 0; i < cuda_device_count(); ++i) out.push_back(Device::cuda(i));
  }
  if (out.empty()) out.push_back(named);
  return out;
}
}  // namespace

struct Engine::State {
  EngineOptions opt;
  std::vector<Device> devices;
  mutable std::mutex mu;
  std::condition_variable work;  // workers: a batch may be ready
  std::condition_variable room;  // submitters: the queue has room
  std::vector<std::unique_ptr<Group>> groups;
  std::size_t queued = 0;
  bool stopping = false;
  bool joined = false;
  std::uint64_t next_id = 1;
  std::vector<std::thread> workers;
  std::mutex join_mu;
  // Statistics, under mu.
  EngineStats stats;
  double batch_sizes = 0;
  Window queue_us, run_us;

  void worker(Device device, int slot);
  std::vector<JobPtr> next_batch(std::unique_lock<std::mutex>& lock);
  void run(std::vector<JobPtr> batch, Device device, int attempt);
  std::vector<std::vector<JobPtr>> fit_budget(std::vector<JobPtr> batch, Device device);
  void finish(const std::vector<JobPtr>& batch, Clock::time_point start, std::size_t completed,
              std::size_t failed);
};

Engine::Engine(EngineOptions options) : state_(std::make_unique<State>()) {
  if (options.max_batch < 1)
    throw Error(ErrorCode::invalid_argument, "Engine: max_batch must be >= 1");
  if (options.queue_capacity < 1) {
    throw Error(ErrorCode::invalid_argument, "Engine: queue_capacity must be >= 1");
  }
  if (options.workers_per_device < 1 || options.cpu_workers < 1) {
    throw Error(ErrorCode::invalid_argument,
                "Engine: workers_per_device and cpu_workers must be >= 1");
  }
  if (options.max_delay.count() < 0) {
    throw Error(ErrorCode::invalid_argument, "Engine: max_delay must not be negative");
  }
  State& s = *state_;
  s.opt = std::move(options);
  s.devices = resolve_devices(s.opt);
  for (const Device& d : s.devices) {
    const int n = d.kind == DeviceKind::cpu ? s.opt.cpu_workers : s.opt.workers_per_device;
    for (int i = 0; i < n; ++i) s.workers.emplace_back([&s, d, i] { s.worker(d, i); });
  }
}

Engine::~Engine() { shutdown(true); }

std::vector<Device> Engine::devices() const { return state_->devices; }

std::uint64_t Engine::count_invalid() {
  State& s = *state_;
  std::lock_guard<std::mutex> lock(s.mu);
  ++s.stats.submitted;
  ++s.stats.failed;
  return s.next_id++;
}

std::uint64_t Engine::enqueue(JobPtr job) {
  State& s = *state_;
  std::unique_lock<std::mutex> lock(s.mu);
  if (s.stopping) throw Error(ErrorCode::busy, "Engine::submit: the engine is shutting down");
  if (s.queued >= s.opt.queue_capacity) {
    const bool room =
        s.opt.when_full == WhenFull::block && s.room.wait_for(lock, s.opt.block_timeout, [&s] {
          return s.stopping || s.queued < s.opt.queue_capacity;
        });
    if (s.stopping) throw Error(ErrorCode::busy, "Engine::submit: the engine is shutting down");
    if (!room) {
      ++s.stats.rejected;
      throw Error(
          ErrorCode::busy,
          fmt::format("Engine::submit: the queue is full ({} requests){}", s.opt.queue_capacity,
                      s.opt.when_full == WhenFull::block ? " and stayed full" : ""));
    }
  }
  job->id = s.next_id++;
  job->enqueued = Clock::now();
  const std::uint64_t id = job->id;
  Group* group = nullptr;
  for (auto& g : s.groups) {
    if (!g->queue.empty() && g->accepts(*job)) {
      group = g.get();
      break;
    }
  }
  if (!group) {
    s.groups.push_back(std::make_unique<Group>());
    group = s.groups.back().get();
  }
  group->queue.push_back(std::move(job));
  ++s.queued;
  ++s.stats.submitted;
  lock.unlock();
  s.work.notify_one();
  return id;
}

namespace {
// Submits a job of one request kind: `check` validates the request (a bad one is rejected alone,
// its Error in its own future, never queued); `make` builds the job.
template <class Result, class Check, class Make>
Ticket<Result> submit_checked(Check check, Make make,
                              const std::function<std::uint64_t()>& count_invalid,
                              const std::function<std::uint64_t(JobPtr)>& enqueue) {
  Ticket<Result> ticket;
  try {
    check();
  } catch (const Error&) {
    std::promise<Result> rejected;
    rejected.set_exception(std::current_exception());
    ticket.result = rejected.get_future();
    ticket.id = count_invalid();
    return ticket;
  }
  auto job = make();
  ticket.result = job->future();
  ticket.id = enqueue(std::move(job));
  return ticket;
}
}  // namespace

Ticket<aif::Plan> Engine::submit(std::shared_ptr<const aif::Model> model,
                                 aif::PlanRequest request) {
  if (!model) throw Error(ErrorCode::invalid_argument, "Engine::submit: the model is null");
  return submit_checked<aif::Plan>(
      [&] { aif::validate_request(*model, request); },
      [&] { return std::make_unique<detail::AifJob>(std::move(model), std::move(request)); },
      [this] { return count_invalid(); }, [this](JobPtr job) { return enqueue(std::move(job)); });
}

aif::Plan Engine::plan(std::shared_ptr<const aif::Model> model, aif::PlanRequest request) {
  return submit(std::move(model), std::move(request)).result.get();
}

Ticket<relevance::QueryResult> Engine::submit(std::shared_ptr<const relevance::Store> store,
                                              relevance::Query query) {
  if (!store) throw Error(ErrorCode::invalid_argument, "Engine::submit: the store is null");
  return submit_checked<relevance::QueryResult>(
      [&] { store->validate(query); },
      [&] { return std::make_unique<detail::RelevanceJob>(std::move(store), std::move(query)); },
      [this] { return count_invalid(); }, [this](JobPtr job) { return enqueue(std::move(job)); });
}

relevance::QueryResult Engine::query(std::shared_ptr<const relevance::Store> store,
                                     relevance::Query query) {
  return submit(std::move(store), std::move(query)).result.get();
}

Ticket<bp::Result> Engine::submit(std::shared_ptr<const bp::FactorGraph> graph,
                                  bp::Instance instance, bp::Options options) {
  if (!graph) throw Error(ErrorCode::invalid_argument, "Engine::submit: the factor graph is null");
  options.device = Device::cpu();  // the engine chooses; checked as for the CPU
  return submit_checked<bp::Result>(
      [&] { bp::validate(*graph, instance, options); },
      [&] {
        return std::make_unique<detail::BpJob>(std::move(graph), std::move(instance), options);
      },
      [this] { return count_invalid(); }, [this](JobPtr job) { return enqueue(std::move(job)); });
}

bool Engine::cancel(std::uint64_t id) {
  State& s = *state_;
  JobPtr found;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    for (auto& g : s.groups) {
      auto it = std::find_if(g->queue.begin(), g->queue.end(),
                             [id](const JobPtr& e) { return e->id == id; });
      if (it != g->queue.end()) {
        found = std::move(*it);
        g->queue.erase(it);
        --s.queued;
        ++s.stats.cancelled;
        break;
      }
    }
  }
  if (!found) return false;
  s.room.notify_one();
  found->fail(std::make_exception_ptr(
      Error(ErrorCode::cancelled, fmt::format("request {} was cancelled", id))));
  return true;
}

void Engine::shutdown(bool drain) {
  State& s = *state_;
  std::lock_guard<std::mutex> join_lock(s.join_mu);
  if (s.joined) return;
  std::vector<JobPtr> dropped;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    s.stopping = true;
    if (!drain) {
      for (auto& g : s.groups) {
        for (auto& e : g->queue) dropped.push_back(std::move(e));
        g->queue.clear();
      }
      s.stats.cancelled += dropped.size();
      s.queued = 0;
    }
  }
  for (auto& e : dropped) {
    e->fail(std::make_exception_ptr(
        Error(ErrorCode::cancelled, fmt::format("request {}: the engine shut down first", e->id))));
  }
  s.work.notify_all();
  s.room.notify_all();
  for (auto& t : s.workers) t.join();
  s.joined = true;
}

EngineStats Engine::stats() const {
  const State& s = *state_;
  std::lock_guard<std::mutex> lock(s.mu);
  EngineStats out = s.stats;
  out.mean_batch = s.stats.batches ? s.batch_sizes / static_cast<double>(s.stats.batches) : 0;
  out.queue_p50_us = s.queue_us.percentile(0.5);
  out.queue_p99_us = s.queue_us.percentile(0.99);
  out.run_p50_us = s.run_us.percentile(0.5);
  out.run_p99_us = s.run_us.percentile(0.99);
  return out;
}

std::string EngineStats::str() const {
  return fmt::format(
      "requests: {} submitted, {} completed, {} failed, {} cancelled, {} rejected; batches: {} "
      "(mean {:.1f}, max {}), {} retries; queue wait p50 {:.0f} us p99 {:.0f} us; run p50 "
      "{:.0f} us p99 {:.0f} us",
      submitted, completed, failed, cancelled, rejected, batches, mean_batch, max_batch_seen,
      retries, queue_p50_us, queue_p99_us, run_p50_us, run_p99_us);
}

// Takes the next ready batch (a full group, a group whose oldest request waited max_delay, or
// anything while draining); waits while there is none. Empty result: time to stop.
std::vector<JobPtr> Engine::State::next_batch(std::unique_lock<std::mutex>& lock) {
  for (;;) {
    if (stopping && queued == 0) return {};
    const auto now = Clock::now();
    auto earliest = Clock::time_point::max();
    Group* ready = nullptr;
    for (auto& g : groups) {
      if (g->queue.empty()) continue;
      const auto due = g->queue.front()->enqueued + opt.max_delay;
      if (g->queue.size() >= opt.max_batch || stopping || due <= now) {
        ready = g.get();
        break;
      }
      earliest = std::min(earliest, due);
    }
    if (ready) {
      std::vector<JobPtr> batch;
      while (!ready->queue.empty() && batch.size() < opt.max_batch) {
        batch.push_back(std::move(ready->queue.front()));
        ready->queue.pop_front();
      }
      queued -= batch.size();
      groups.erase(std::remove_if(groups.begin(), groups.end(),
                                  [](const auto& g) { return g->queue.empty(); }),
                   groups.end());
      return batch;
    }
    if (earliest == Clock::time_point::max()) {
      work.wait(lock);
    } else {
      work.wait_until(lock, earliest);
    }
  }
}

void Engine::State::worker(Device device, int slot) {
  detail::set_thread_stream_slot(slot);  // a device's workers queue on different CUDA streams
  for (;;) {
    std::vector<JobPtr> batch;
    {
      std::unique_lock<std::mutex> lock(mu);
      batch = next_batch(lock);
      if (!batch.empty()) {
        const auto now = Clock::now();
        for (const auto& e : batch) {
          queue_us.add(std::chrono::duration<double, std::micro>(now - e->enqueued).count());
        }
      }
    }
    if (batch.empty()) return;
    room.notify_all();
    if (opt.memory_budget == 0) {
      run(std::move(batch), device, 0);
    } else {  // only first runs are fitted: splits only shrink, a CPU fallback is not limited
      for (auto& part : fit_budget(std::move(batch), device)) run(std::move(part), device, 0);
    }
  }
}

// Records a finished batch run (before its futures are fulfilled, so that a caller who has its
// result also sees it counted).
void Engine::State::finish(const std::vector<JobPtr>& batch, Clock::time_point start,
                           std::size_t completed, std::size_t failed) {
  const double us = std::chrono::duration<double, std::micro>(Clock::now() - start).count();
  std::lock_guard<std::mutex> lock(mu);
  for (std::size_t i = 0; i < batch.size(); ++i) run_us.add(us);
  stats.completed += completed;
  stats.failed += failed;
}

// Splits `batch` into parts whose working memory fits the budget (each part at least one
// request); a request over the budget on its own is failed here. Returns the parts to run.
std::vector<std::vector<JobPtr>> Engine::State::fit_budget(std::vector<JobPtr> batch,
                                                           Device device) {
  std::vector<std::vector<JobPtr>> parts;
  std::size_t used = 0;
  for (auto& job : batch) {
    const std::size_t need = job->working_bytes(device);
    if (need > opt.memory_budget) {
      {
        std::lock_guard<std::mutex> lock(mu);
        ++stats.failed;
      }
      job->fail(std::make_exception_ptr(Error(
          ErrorCode::out_of_memory,
          fmt::format("request {} needs {:.1f} MiB of working memory on {}, more than the engine's "
                      "memory_budget of {:.1f} MiB",
                      job->id, static_cast<double>(need) / (1 << 20), device.str(),
                      static_cast<double>(opt.memory_budget) / (1 << 20)))));
      continue;
    }
    if (parts.empty() || used + need > opt.memory_budget) {
      parts.emplace_back();
      used = 0;
    }
    parts.back().push_back(std::move(job));
    used += need;
  }
  return parts;
}

// Runs a batch; on failure splits it in halves (a bad request or an out-of-memory batch fails
// only itself), and finally moves a request its device cannot run to the CPU.
void Engine::State::run(std::vector<JobPtr> batch, Device device, int attempt) {
  const std::size_t limit = device.kind == DeviceKind::cuda && opt.device_batch_limit > 0
                                ? opt.device_batch_limit
                                : batch.size();
  if (batch.size() > limit) {
    std::vector<JobPtr> rest(std::make_move_iterator(batch.begin() + static_cast<long>(limit)),
                             std::make_move_iterator(batch.end()));
    batch.resize(limit);
    run(std::move(batch), device, attempt);
    run(std::move(rest), device, attempt);
    return;
  }
  const auto start = Clock::now();
  {
    std::lock_guard<std::mutex> lock(mu);
    ++stats.batches;
    if (attempt > 0) ++stats.retries;
    batch_sizes += static_cast<double>(batch.size());
    stats.max_batch_seen = std::max(stats.max_batch_seen, batch.size());
  }
  std::exception_ptr failure;
  ErrorCode code = ErrorCode::internal;
  try {
    if (opt.on_batch) {
      BatchInfo info{device, {}, attempt};
      for (const auto& e : batch) info.requests.push_back(e->id);
      opt.on_batch(info);
    }
    std::vector<detail::Job*> jobs;
    jobs.reserve(batch.size());
    for (const auto& e : batch) jobs.push_back(e.get());
    batch[0]->run_batch(jobs, device);
    finish(batch, start, batch.size(), 0);  // counted before the futures become ready
    for (auto& e : batch) e->complete();
    return;
  } catch (const Error& e) {
    failure = std::current_exception();
    code = e.code();
  } catch (const std::exception& e) {
    failure = std::make_exception_ptr(
        Error(ErrorCode::internal, fmt::format("batch failed: {}", e.what())));
  }
  if (batch.size() > 1) {  // isolate: each half fails or succeeds on its own
    std::vector<JobPtr> second(
        std::make_move_iterator(batch.begin() + static_cast<long>(batch.size() / 2)),
        std::make_move_iterator(batch.end()));
    batch.resize(batch.size() / 2);
    run(std::move(batch), device, attempt + 1);
    run(std::move(second), device, attempt + 1);
    return;
  }
  if (device.kind == DeviceKind::cuda && opt.cpu_fallback && device_fault(code)) {
    run(std::move(batch), Device::cpu(), attempt + 1);
    return;
  }
  finish(batch, start, 0, 1);
  batch[0]->fail(failure);
}

}  // namespace mpe
