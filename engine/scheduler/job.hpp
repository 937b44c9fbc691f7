#pragma once
// The scheduler's view of one queued request, whatever model it is for: whether it may share a
// launch with another request, what memory it needs, how a batch of its kind runs, and how its
// future is fulfilled. Each model kind (AIF-MP plans, relevance queries, ...) derives one.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <future>
#include <vector>

#include <mpe/device.hpp>

namespace mpe::detail {

using Clock = std::chrono::steady_clock;

class Job {
 public:
  virtual ~Job() = default;

  // Whether `other` (of any kind) may run in the same batch as this job: same kind, same
  // shared model or graph, same shapes and options.
  virtual bool batches_with(const Job& other) const = 0;

  // Working memory of this request on `device` in bytes (inputs, outputs, workspace): what the
  // memory budget counts.
  virtual std::size_t working_bytes(Device device) const = 0;

  // Runs `batch` (all of them batch with this job, which is batch[0]) on `device` and keeps each
  // job's result in the job. Throws mpe::Error when the batch fails; no future is touched.
  virtual void run_batch(const std::vector<Job*>& batch, Device device) const = 0;

  // Fulfils the future with the result kept by run_batch.
  virtual void complete() = 0;
  // Fulfils the future with an error.
  virtual void fail(std::exception_ptr error) = 0;

  std::uint64_t id = 0;
  Clock::time_point enqueued;
};

// A job whose future holds a Result.
template <class Result>
class JobOf : public Job {
 public:
  std::future<Result> future() { return promise_.get_future(); }
  void complete() override { promise_.set_value(std::move(result_)); }
  void fail(std::exception_ptr error) override { promise_.set_exception(std::move(error)); }
  void set_result(Result r) { result_ = std::move(r); }

 private:
  std::promise<Result> promise_;
  Result result_{};
};

}  // namespace mpe::detail
