#pragma once
// Facts about the host for DeviceInfo: CPU model name, RAM, hardware threads.
#include <mpe/device.hpp>

namespace mpe::detail {
DeviceInfo host_device_info();
}
