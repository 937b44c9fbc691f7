// Device buffers between ranks over NCCL (include/mpe/distributed.hpp, DeviceCommunicator):
// rank 0's ncclUniqueId travels over the host communicator, every rank joins with
// ncclCommInitRank on its GPU; a halo round is one ncclGroupStart/End of ncclSend/ncclRecv on
// device pointers (NVLink or GPUDirect RDMA where the system has them). Only this file sees
// nccl.h. Compiled in CUDA builds where NCCL is found (MPE_NCCL); not run here (one rank per
// GPU: more than one rank needs more than one GPU).
#include <cuda_runtime.h>
#include <nccl.h>

#include <fmt/format.h>
#include <mpe/distributed.hpp>

namespace mpe::dist {
namespace {

void check_nccl(ncclResult_t rc, const char* call) {
  if (rc != ncclSuccess) {
    throw Error(ErrorCode::internal, fmt::format("{} failed: {}", call, ncclGetErrorString(rc)));
  }
}

void check_cuda(cudaError_t rc, const char* call) {
  if (rc != cudaSuccess) {
    throw Error(ErrorCode::device_error, fmt::format("{} failed: {} ({})", call,
                                                     cudaGetErrorName(rc), cudaGetErrorString(rc)));
  }
}

ncclRedOp_t op_of(ReduceOp op) {
  switch (op) {
    case ReduceOp::sum: return ncclSum;
    case ReduceOp::max: return ncclMax;
    case ReduceOp::min: return ncclMin;
  }
  return ncclSum;
}

class NcclCommunicator final : public DeviceCommunicator {
 public:
  NcclCommunicator(Communicator& host, const Device& device)
      : rank_(host.rank()), size_(host.size()), device_(device) {
    ncclUniqueId id{};
    run_checked(host, [&] {
      check_cuda(cudaSetDevice(device_.index), "cudaSetDevice");
      if (rank_ == 0) check_nccl(ncclGetUniqueId(&id), "ncclGetUniqueId");
    });
    host.broadcast(&id, sizeof(id), 0);
    run_checked(host, [&] {
      check_cuda(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking),
                 "cudaStreamCreateWithFlags");
      check_nccl(ncclCommInitRank(&comm_, size_, id, rank_), "ncclCommInitRank");
    });
  }
  ~NcclCommunicator() override {
    if (comm_) ncclCommDestroy(comm_);
    if (stream_) cudaStreamDestroy(stream_);
  }
  NcclCommunicator(const NcclCommunicator&) = delete;
  NcclCommunicator& operator=(const NcclCommunicator&) = delete;

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  Device device() const override { return device_; }

  void neighbour_exchange(const std::vector<Neighbour>& neighbours) override {
    begin();
    for (const Neighbour& n : neighbours) {
      if (n.peer < 0 || n.peer >= size_) {
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("neighbour_exchange: peer {} of {} ranks", n.peer, size_));
      }
      if (n.peer == rank_) {
        if (n.send_bytes != n.recv_bytes) {
          throw Error(ErrorCode::invalid_argument,
                      fmt::format("neighbour_exchange: {} bytes to itself, {} expected",
                                  n.send_bytes, n.recv_bytes));
        }
        if (n.send_bytes) {
          check_cuda(
              cudaMemcpyAsync(n.recv, n.send, n.send_bytes, cudaMemcpyDeviceToDevice, stream_),
              "cudaMemcpyAsync");
        }
      }
    }
    check_nccl(ncclGroupStart(), "ncclGroupStart");
    for (const Neighbour& n : neighbours) {
      if (n.peer == rank_) continue;
      if (n.recv_bytes) {
        check_nccl(ncclRecv(n.recv, n.recv_bytes, ncclUint8, n.peer, comm_, stream_), "ncclRecv");
      }
      if (n.send_bytes) {
        check_nccl(ncclSend(n.send, n.send_bytes, ncclUint8, n.peer, comm_, stream_), "ncclSend");
      }
    }
    check_nccl(ncclGroupEnd(), "ncclGroupEnd");
    check_cuda(cudaStreamSynchronize(stream_), "cudaStreamSynchronize");
  }
  void all_reduce(float* data, std::size_t count, ReduceOp op) override {
    reduce(data, count, ncclFloat32, op);
  }
  void all_reduce(double* data, std::size_t count, ReduceOp op) override {
    reduce(data, count, ncclFloat64, op);
  }

 private:
  // The buffers come from the engine's streams: their producers must have finished.
  void begin() {
    check_cuda(cudaSetDevice(device_.index), "cudaSetDevice");
    check_cuda(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
  }
  void reduce(void* data, std::size_t count, ncclDataType_t type, ReduceOp op) {
    begin();
    check_nccl(ncclAllReduce(data, data, count, type, op_of(op), comm_, stream_), "ncclAllReduce");
    check_cuda(cudaStreamSynchronize(stream_), "cudaStreamSynchronize");
  }

  int rank_, size_;
  Device device_;
  ncclComm_t comm_ = nullptr;
  cudaStream_t stream_ = nullptr;
};
}  // namespace

bool nccl_built() noexcept { return true; }

std::shared_ptr<DeviceCommunicator> nccl(Communicator& host, const Device& device) {
  if (device.kind != DeviceKind::cuda) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("nccl: needs a CUDA device, got {}", device.str()));
  }
  return std::make_shared<NcclCommunicator>(host, device);
}

}  // namespace mpe::dist
