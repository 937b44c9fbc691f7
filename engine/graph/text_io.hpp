#pragma once
// Helpers shared by the graph file formats: a line reader that counts lines, number parsing
// that reports file:line, and atomic writes (temporary file + rename).
#include <cstdint>
#include <fstream>
#include <functional>
#include <string>

namespace mpe::detail {

class LineReader {
 public:
  // Opens `path`; throws Error(io_error) when it cannot.
  explicit LineReader(const std::string& path);
  // Next line (without the newline); false at the end of the file.
  bool next(std::string& line);
  int line_number() const { return line_; }
  const std::string& path() const { return path_; }
  // Throws Error(parse_error) with "<path>:<line>: <what>".
  [[noreturn]] void fail(const std::string& what) const;

 private:
  std::string path_;
  std::ifstream in_;
  int line_ = 0;
};

// Whole-token parses; false when the token is not entirely a number of that kind. A float
// out of range parses to +-inf or (near) zero; callers reject non-finite values themselves.
bool parse_int64(const std::string& token, std::int64_t& value);
bool parse_float(const std::string& token, float& value);

// Writes a file through `write` into "<path>.tmp.<pid>.<n>" (same directory) and renames it
// over `path`, so that a failure leaves no partial file. Throws Error(io_error).
void write_atomically(const std::string& path, const std::function<void(std::ostream&)>& write);

}  // namespace mpe::detail
