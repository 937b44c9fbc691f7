#pragma once
// Which of a CUDA device's streams the calling thread queues its work on (CudaContext::stream).
// The scheduler gives each of a device's workers its own slot so that their batches overlap;
// every other thread uses slot 0. Plain C++: the scheduler sets it without CUDA headers.
namespace mpe::detail {

int thread_stream_slot() noexcept;
void set_thread_stream_slot(int slot) noexcept;

}  // namespace mpe::detail
