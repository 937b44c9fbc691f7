#include "stream_slot.hpp"

namespace mpe::detail {

namespace {
thread_local int t_slot = 0;
}

int thread_stream_slot() noexcept { return t_slot; }
void set_thread_stream_slot(int slot) noexcept { t_slot = slot < 0 ? 0 : slot; }

}  // namespace mpe::detail
