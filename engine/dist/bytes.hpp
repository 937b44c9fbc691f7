#pragma once
// Flat byte buffers for what ranks send each other (results of sharded batches): values and
// vectors of trivially copyable types appended in order and read back in the same order.
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include <mpe/error.hpp>

namespace mpe::dist::detail {

class ByteWriter {
 public:
  template <class T>
  void put(const T& v) {
    static_assert(std::is_trivially_copyable_v<T>);
    const auto* p = reinterpret_cast<const std::uint8_t*>(&v);
    bytes_.insert(bytes_.end(), p, p + sizeof(T));
  }
  template <class T>
  void put_vector(const std::vector<T>& v) {
    put<std::uint64_t>(v.size());
    const auto* p = reinterpret_cast<const std::uint8_t*>(v.data());
    bytes_.insert(bytes_.end(), p, p + v.size() * sizeof(T));
  }
  void put_string(const std::string& v) {
    put<std::uint64_t>(v.size());
    bytes_.insert(bytes_.end(), v.begin(), v.end());
  }
  std::vector<std::uint8_t>& bytes() { return bytes_; }

 private:
  std::vector<std::uint8_t> bytes_;
};

class ByteReader {
 public:
  ByteReader(const std::uint8_t* data, std::size_t size) : p_(data), end_(data + size) {}
  template <class T>
  T get() {
    T v;
    take(&v, sizeof(T));
    return v;
  }
  template <class T>
  std::vector<T> get_vector() {
    const auto n = get<std::uint64_t>();
    if (n > static_cast<std::uint64_t>(end_ - p_) / sizeof(T)) fail();
    std::vector<T> v(static_cast<std::size_t>(n));
    take(v.data(), v.size() * sizeof(T));
    return v;
  }
  std::string get_string() {
    const auto v = get_vector<char>();
    return std::string(v.begin(), v.end());
  }
  bool done() const { return p_ == end_; }

 private:
  void take(void* dst, std::size_t n) {
    if (n > static_cast<std::size_t>(end_ - p_)) fail();
    if (n) std::memcpy(dst, p_, n);
    p_ += n;
  }
  [[noreturn]] static void fail() {
    throw Error(ErrorCode::internal, "a rank's result buffer ended early (mismatched ranks)");
  }
  const std::uint8_t* p_;
  const std::uint8_t* end_;
};

}  // namespace mpe::dist::detail
