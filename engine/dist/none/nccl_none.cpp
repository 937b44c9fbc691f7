// Built when NCCL is not (no CUDA, MPE_NCCL=OFF, or nccl.h / libnccl not found): device
// buffers between ranks are staged through the host communicator instead.
#include <fmt/format.h>
#include <mpe/distributed.hpp>

namespace mpe::dist {
bool nccl_built() noexcept { return false; }
std::shared_ptr<DeviceCommunicator> nccl(Communicator&, const Device& device) {
  throw Error(ErrorCode::not_supported,
              fmt::format("nccl ({}): this build has no NCCL (a CUDA build that finds nccl.h "
                          "and libnccl; MPE_NCCL)",
                          device.str()));
}
}  // namespace mpe::dist
