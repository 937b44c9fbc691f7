#include "graph/text_io.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>
#include <unistd.h>
#include <mpe/error.hpp>

namespace mpe::detail {

LineReader::LineReader(const std::string& path) : path_(path), in_(path) {
  if (!in_) {
    throw Error(ErrorCode::io_error,
                fmt::format("cannot open '{}' for reading: {}", path, std::strerror(errno)));
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
  errno = 0;
  const double v = std::strtod(token.c_str(), &end);
  if (errno != 0 || end != token.c_str() + token.size()) return false;
  value = static_cast<float>(v);
  return true;
}

void write_atomically(const std::string& path, const std::function<void(std::ostream&)>& write) {
  const std::string tmp = fmt::format("{}.tmp.{}", path, static_cast<long>(getpid()));
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) {
      throw Error(ErrorCode::io_error,
                  fmt::format("cannot open '{}' for writing: {}", path, std::strerror(errno)));
    }
    try {
      write(out);
      out.flush();
    } catch (...) {
      out.close();
      std::remove(tmp.c_str());
      throw;
    }
    if (!out) {
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
