// The input-size ceiling and the non-finite input check (include/mpe/limits.hpp): one
// process-wide atomic each, initialised from MPE_MAX_INPUT_BYTES / MPE_CHECK_FINITE on first use.
#include <mpe/limits.hpp>

#include <atomic>
#include <cstdlib>

#include <fmt/format.h>
#include <mpe/error.hpp>

namespace mpe {

namespace {
constexpr std::int64_t kDefaultMaxInputBytes = std::int64_t{1} << 34;  // 16 GiB

std::int64_t initial_ceiling() noexcept {
  const char* env = std::getenv("MPE_MAX_INPUT_BYTES");
  if (env == nullptr || *env == '\0') return kDefaultMaxInputBytes;
  char* end = nullptr;
  const long long v = std::strtoll(env, &end, 10);
  // A malformed value keeps the default rather than disabling the check.
  return (end != nullptr && *end == '\0' && v > 0) ? static_cast<std::int64_t>(v)
                                                   : kDefaultMaxInputBytes;
}

std::atomic<std::int64_t>& ceiling() {
  static std::atomic<std::int64_t> value{initial_ceiling()};
  return value;
}
}  // namespace

std::int64_t max_input_bytes() noexcept { return ceiling().load(std::memory_order_relaxed); }

std::int64_t set_max_input_bytes(std::int64_t bytes) {
  if (bytes <= 0) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("set_max_input_bytes: the ceiling must be positive, got {}", bytes));
  }
  return ceiling().exchange(bytes, std::memory_order_relaxed);
}

void check_input_bytes(double bytes, const std::string& what) {
  const std::int64_t limit = max_input_bytes();
  if (!(bytes <= static_cast<double>(limit))) {
    throw Error(ErrorCode::out_of_memory,
                fmt::format("{} would need {:.4g} bytes, more than the input ceiling of {} bytes "
                            "(raise it with mpe::set_max_input_bytes or MPE_MAX_INPUT_BYTES)",
                            what, bytes, limit));
  }
}

namespace {
std::atomic<bool>& finite_check() {
  static std::atomic<bool> on{[] {
    const char* env = std::getenv("MPE_CHECK_FINITE");
    return !(env != nullptr && env[0] == '0' && env[1] == '\0');  // only "0" turns it off
  }()};
  return on;
}
}  // namespace

bool check_finite() noexcept { return finite_check().load(std::memory_order_relaxed); }

bool set_check_finite(bool on) noexcept {
  return finite_check().exchange(on, std::memory_order_relaxed);
}

}  // namespace mpe
