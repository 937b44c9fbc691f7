#include "graph/text_io.hpp"

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <system_error>

#include <fmt/format.h>
#include <unistd.h>
#include <mpe/error.hpp>

namespace mpe::detail {

LineReader::LineReader(const std::string& path) : path_(path), in_(path) {
  const int open_errno = errno;
  if (!in_) {
    throw Error(ErrorCode::io_error,
                fmt::format("cannot open '{}' for reading: {}", path, std::strerror(open_errno)));
  }
  std::error_code ec;  // a directory opens but reads as nothing: say so instead
  if (std::filesystem::is_directory(path, ec)) {
    throw Error(ErrorCode::io_error, fmt::format("cannot read '{}': it is a directory", path));
  }
}

bool LineReader::next(std::string& line) {
  if (!std::getline(in_, line)) {
    if (in_.bad()) throw Error(ErrorCode::io_error, fmt::format("read error in '{}'", path_));
    return false;
  }
  ++line_;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return true;
}

void LineReader::fail(const std::string& what) const {
  throw Error(ErrorCode::parse_error, fmt::format("{}:{}: {}", path_, line_, what));
}

bool parse_int64(const std::string& token, std::int64_t& value) {
  if (token.empty()) return false;
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(token.c_str(), &end, 10);
  if (errno != 0 || end != token.c_str() + token.size()) return false;
  value = v;
  return true;
}

bool parse_float(const std::string& token, float& value) {
  if (token.empty()) return false;
  char* end = nullptr;
  // Range errors are not parse errors: overflow gives +-inf (callers reject non-finite values
  // by name) and underflow gives a value at or near zero, which is what the file says.
  const double v = std::strtod(token.c_str(), &end);
  if (end != token.c_str() + token.size()) return false;
  value = static_cast<float>(v);
  return true;
}

void write_atomically(const std::string& path, const std::function<void(std::ostream&)>& write) {
  // Unique per process and per call, so concurrent writers never share a temporary file.
  static std::atomic<unsigned long> counter{0};
  const std::string tmp =
      fmt::format("{}.tmp.{}.{}", path, static_cast<long>(getpid()), counter.fetch_add(1));
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) {
      throw Error(ErrorCode::io_error,
                  fmt::format("cannot open '{}' for writing: {}", path, std::strerror(errno)));
    }
    try {
      write(out);
      out.close();  // flushes; a failure here (disk full) sets failbit
    } catch (...) {
      out.close();
      std::remove(tmp.c_str());
      throw;
    }
    if (out.fail()) {
      std::remove(tmp.c_str());
      throw Error(ErrorCode::io_error, fmt::format("writing '{}' failed", path));
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    std::remove(tmp.c_str());
    throw Error(ErrorCode::io_error,
                fmt::format("cannot rename '{}' to '{}': {}", tmp, path, std::strerror(err)));
  }
}

}  // namespace mpe::detail
