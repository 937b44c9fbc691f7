#pragma once
/// @file tensor.hpp
/// A dense, contiguous, row-major tensor on the host or on a CUDA device.

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include <mpe/device.hpp>
#include <mpe/error.hpp>

namespace mpe {

/// Element types a tensor can hold. bf16 (bfloat16: 8 exponent and 7 mantissa bits) and f16
/// (IEEE binary16: 5 exponent and 10 mantissa bits) are storage formats: kernels that accept
/// them compute in float32. Ops that do not support a dtype throw Error(dtype_mismatch).
enum class DType { f32, f64, i32, i64, bf16, f16 };

/// Bytes per element of `t`.
std::size_t dtype_size(DType t) noexcept;
/// "float32", "float64", "int32", "int64", "bfloat16" or "float16".
const char* dtype_name(DType t) noexcept;
/// True for f32, f64, bf16 and f16.
bool dtype_is_floating(DType t) noexcept;

/// One bfloat16 element as a tensor stores it (the raw bits; the top half of a float32).
struct bfloat16 {
  std::uint16_t bits;
};
/// One IEEE binary16 element as a tensor stores it (the raw bits).
struct float16 {
  std::uint16_t bits;
};
/// float32 to bfloat16 / float16, rounding to nearest (ties to even); infinities and NaN are
/// kept, float16 overflows to infinity beyond its range (|x| >= 65520).
bfloat16 to_bfloat16(float x) noexcept;
float16 to_float16(float x) noexcept;
/// The exact float32 value of a bfloat16 / float16.
float to_float(bfloat16 x) noexcept;
float to_float(float16 x) noexcept;

/// The DType of a C++ element type (float, double, int32_t, int64_t, bfloat16, float16).
template <class T>
constexpr DType dtype_of();
template <>
constexpr DType dtype_of<float>() {
  return DType::f32;
}
template <>
constexpr DType dtype_of<double>() {
  return DType::f64;
}
template <>
constexpr DType dtype_of<std::int32_t>() {
  return DType::i32;
}
template <>
constexpr DType dtype_of<std::int64_t>() {
  return DType::i64;
}
template <>
constexpr DType dtype_of<bfloat16>() {
  return DType::bf16;
}
template <>
constexpr DType dtype_of<float16>() {
  return DType::f16;
}

/// Extents of a tensor, outermost first.
using Shape = std::vector<std::int64_t>;
/// "[2, 3, 4]".
std::string shape_str(const Shape& shape);

namespace detail {
struct Storage;
}

/// A dense row-major tensor. Storage is reference-counted and freed by the backend that
/// allocated it (device memory goes back to the device's stream-ordered pool). Copying a
/// Tensor shares its storage; use clone() or to() for a deep copy. Host<->device copies
/// synchronise with the device's stream, so host data read after to(cpu) is complete.
class Tensor {
 public:
  /// An empty tensor: no storage, numel() == 0, defined() == false.
  Tensor() = default;

  /// Uninitialised tensor. Throws Error(invalid_argument) for a negative extent,
  /// Error(out_of_memory) when the allocation fails, Error(device_unavailable) for a
  /// device that does not exist.
  static Tensor empty(const Shape& shape, DType dtype, Device device = Device::cpu());
  /// Tensor of zeros.
  static Tensor zeros(const Shape& shape, DType dtype, Device device = Device::cpu());
  /// Tensor holding a copy of `values` (size must equal the product of `shape`), placed
  /// on `device`.
  template <class T>
  static Tensor from_vector(const std::vector<T>& values, const Shape& shape,
                            Device device = Device::cpu()) {
    return from_host(values.data(), values.size(), dtype_of<T>(), shape, device);
  }
  /// Tensor copied from `count` host elements of type `dtype` at `data`.
  static Tensor from_host(const void* data, std::size_t count, DType dtype, const Shape& shape,
                          Device device = Device::cpu());

  /// A tensor over `shape` elements of `dtype` at `data` (contiguous, row-major, on `device`),
  /// without copying: memory the caller owns, e.g. a NumPy or DLPack array. `owner` is kept
  /// alive while any tensor shares this storage, and releasing it is what frees the memory
  /// (mpengine never does). Throws Error(invalid_argument) for a null `data` with elements.
  static Tensor from_external(void* data, const Shape& shape, DType dtype, Device device,
                              std::shared_ptr<void> owner);

  /// True when the tensor has storage.
  bool defined() const noexcept { return storage_ != nullptr; }
  /// Element type.
  DType dtype() const noexcept { return dtype_; }
  /// Extents.
  const Shape& shape() const noexcept { return shape_; }
  /// Number of dimensions.
  int rank() const noexcept { return static_cast<int>(shape_.size()); }
  /// Extent of dimension `d` (negative counts from the end). Throws on a bad index.
  std::int64_t dim(int d) const;
  /// Number of elements.
  std::int64_t numel() const noexcept { return numel_; }
  /// Size in bytes.
  std::size_t nbytes() const noexcept {
    return static_cast<std::size_t>(numel_) * dtype_size(dtype_);
  }
  /// Where the data lives.
  Device device() const noexcept { return device_; }
  /// True on the host.
  bool is_cpu() const noexcept { return device_.kind == DeviceKind::cpu; }

  /// Raw pointer (device pointer for CUDA tensors); nullptr for an empty tensor.
  void* raw() noexcept;
  const void* raw() const noexcept;
  /// Typed pointer; throws Error(dtype_mismatch) when T does not match dtype().
  template <class T>
  T* data() {
    check_dtype(dtype_of<T>());
    return static_cast<T*>(raw());
  }
  template <class T>
  const T* data() const {
    check_dtype(dtype_of<T>());
    return static_cast<const T*>(raw());
  }

  /// Deep copy on `device` (a copy even when already there).
  Tensor to(Device device) const;
  /// Deep copy on the same device.
  Tensor clone() const { return to(device_); }
  /// Copy converted to another floating dtype (f32, f64, bf16, f16) on the same device;
  /// narrowing rounds to nearest, ties to even (f64 to bf16/f16 goes through float32). The
  /// conversion runs on the host (device tensors are copied there and back). Same dtype gives
  /// a deep copy. Throws Error(dtype_mismatch) when either dtype is an integer type.
  Tensor astype(DType dtype) const;
  /// Copies `src` (same shape and dtype, any device) into this tensor's storage.
  void copy_from(const Tensor& src);
  /// All elements as a host vector (copies from the device when needed).
  template <class T>
  std::vector<T> to_vector() const {
    check_dtype(dtype_of<T>());
    std::vector<T> out(static_cast<std::size_t>(numel_));
    copy_to_host(out.data());
    return out;
  }
  /// Fills every byte of the storage with `byte` (used to poison outputs in tests).
  void fill_bytes(unsigned char byte);
  /// Same storage, new shape with the same number of elements.
  Tensor reshape(const Shape& shape) const;
  /// "Tensor(float32, [2, 3], cpu)".
  std::string str() const;

 private:
  void check_dtype(DType want) const;
  void copy_to_host(void* dst) const;

  std::shared_ptr<detail::Storage> storage_;
  Shape shape_;
  std::int64_t numel_ = 0;
  DType dtype_ = DType::f32;
  Device device_;
};

}  // namespace mpe
