#include <mpe/tensor.hpp>

#include <limits>
#include <utility>

#include <fmt/format.h>

#include "backend.hpp"
#include "common/half_types.hpp"

namespace mpe {

namespace detail {
// Memory owned by one backend; freed by that backend when the last Tensor lets go.
struct Storage {
  Storage(Device d, std::size_t n) : device(d), bytes(n) {
    ptr = backend_for(d).allocate(d.index, n);
  }
  // Memory owned by someone else (Tensor::from_external): `keep` holds it alive, and
  // releasing `keep` is what frees it.
  Storage(Device d, std::size_t n, void* p, std::shared_ptr<void> owner)
      : device(d), bytes(n), ptr(p), keep(std::move(owner)), external(true) {}
  ~Storage() {
    if (!external) backend_for_noexcept().deallocate(device.index, ptr);
  }
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  Backend& backend_for_noexcept() const noexcept {
    return device.kind == DeviceKind::cpu ? cpu_backend() : *cuda_backend();
  }

  Device device;
  std::size_t bytes;
  void* ptr = nullptr;
  std::shared_ptr<void> keep;
  bool external = false;
};
}  // namespace detail

std::size_t dtype_size(DType t) noexcept {
  switch (t) {
    case DType::f32: return 4;
    case DType::f64: return 8;
    case DType::i32: return 4;
    case DType::i64: return 8;
    case DType::bf16: return 2;
    case DType::f16: return 2;
  }
  return 0;
}

const char* dtype_name(DType t) noexcept {
  switch (t) {
    case DType::f32: return "float32";
    case DType::f64: return "float64";
    case DType::i32: return "int32";
    case DType::i64: return "int64";
    case DType::bf16: return "bfloat16";
    case DType::f16: return "float16";
  }
  return "unknown";
}

bool dtype_is_floating(DType t) noexcept {
  return t == DType::f32 || t == DType::f64 || t == DType::bf16 || t == DType::f16;
}

bfloat16 to_bfloat16(float x) noexcept { return bfloat16{kernels::f32_to_bf16_bits(x)}; }
float16 to_float16(float x) noexcept { return float16{kernels::f32_to_f16_bits(x)}; }
float to_float(bfloat16 x) noexcept { return kernels::bf16_bits_to_f32(x.bits); }
float to_float(float16 x) noexcept { return kernels::f16_bits_to_f32(x.bits); }

std::string shape_str(const Shape& shape) { return fmt::format("[{}]", fmt::join(shape, ", ")); }

namespace {
std::int64_t checked_numel(const Shape& shape, DType dtype) {
  std::int64_t n = 1;
  const std::int64_t limit =
      std::numeric_limits<std::int64_t>::max() / static_cast<std::int64_t>(dtype_size(dtype));
  for (std::size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] < 0) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("tensor shape {} has a negative extent in dimension {}",
                              shape_str(shape), d));
    }
    if (shape[d] != 0 && n > limit / shape[d]) {
      throw Error(ErrorCode::out_of_memory,
                  fmt::format("tensor shape {} is too large to address", shape_str(shape)));
    }
    n *= shape[d];
  }
  return n;
}
}  // namespace

Tensor Tensor::empty(const Shape& shape, DType dtype, Device device) {
  Tensor t;
  t.numel_ = checked_numel(shape, dtype);
  t.shape_ = shape;
  t.dtype_ = dtype;
  t.device_ = device;
  t.storage_ = std::make_shared<detail::Storage>(device, t.nbytes());
  return t;
}

Tensor Tensor::from_external(void* data, const Shape& shape, DType dtype, Device device,
                             std::shared_ptr<void> owner) {
  Tensor t;
  t.numel_ = checked_numel(shape, dtype);
  if (data == nullptr && t.numel_ > 0) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("external tensor of shape {} has no data pointer", shape_str(shape)));
  }
  t.shape_ = shape;
  t.dtype_ = dtype;
  t.device_ = device;
  t.storage_ = std::make_shared<detail::Storage>(device, t.nbytes(), data, std::move(owner));
  return t;
}

Tensor Tensor::zeros(const Shape& shape, DType dtype, Device device) {
  Tensor t = empty(shape, dtype, device);
  t.fill_bytes(0);  // all-zero bytes are 0 for every supported dtype
  return t;
}

Tensor Tensor::from_host(const void* data, std::size_t count, DType dtype, const Shape& shape,
                         Device device) {
  const std::int64_t n = checked_numel(shape, dtype);
  if (static_cast<std::int64_t>(count) != n) {
    throw Error(ErrorCode::shape_mismatch,
                fmt::format("{} values given for a tensor of shape {} ({} elements)", count,
                            shape_str(shape), n));
  }
  Tensor t = empty(shape, dtype, device);
  detail::backend_for(device).copy_from_host(device.index, t.raw(), data, t.nbytes());
  return t;
}

std::int64_t Tensor::dim(int d) const {
  const int r = rank();
  const int k = d < 0 ? d + r : d;
  if (k < 0 || k >= r) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("dimension {} out of range for a tensor of rank {}", d, r));
  }
  return shape_[static_cast<std::size_t>(k)];
}

void* Tensor::raw() noexcept { return storage_ ? storage_->ptr : nullptr; }
const void* Tensor::raw() const noexcept { return storage_ ? storage_->ptr : nullptr; }

void Tensor::check_dtype(DType want) const {
  if (want != dtype_) {
    throw Error(ErrorCode::dtype_mismatch, fmt::format("tensor holds {} but {} was requested",
                                                       dtype_name(dtype_), dtype_name(want)));
  }
}

void Tensor::copy_to_host(void* dst) const {
  if (!storage_) return;
  detail::backend_for(device_).copy_to_host(device_.index, dst, raw(), nbytes());
}

Tensor Tensor::to(Device device) const {
  if (!storage_) return Tensor();
  Tensor out = empty(shape_, dtype_, device);
  out.copy_from(*this);
  return out;
}

namespace {
// Element i of a host floating buffer of dtype `t`, widened to double (exact for all four).
double load_floating(const void* p, DType t, std::size_t i) {
  switch (t) {
    case DType::f32: return static_cast<const float*>(p)[i];
    case DType::f64: return static_cast<const double*>(p)[i];
    case DType::bf16: return kernels::bf16_bits_to_f32(static_cast<const std::uint16_t*>(p)[i]);
    case DType::f16: return kernels::f16_bits_to_f32(static_cast<const std::uint16_t*>(p)[i]);
    case DType::i32:
    case DType::i64: break;
  }
  return 0.0;  // unreachable: astype checks the dtypes first
}

void store_floating(void* p, DType t, std::size_t i, double x) {
  switch (t) {
    case DType::f32: static_cast<float*>(p)[i] = static_cast<float>(x); break;
    case DType::f64: static_cast<double*>(p)[i] = x; break;
    case DType::bf16:
      static_cast<std::uint16_t*>(p)[i] = kernels::f32_to_bf16_bits(static_cast<float>(x));
      break;
    case DType::f16:
      static_cast<std::uint16_t*>(p)[i] = kernels::f32_to_f16_bits(static_cast<float>(x));
      break;
    case DType::i32:
    case DType::i64: break;
  }
}
}  // namespace

Tensor Tensor::astype(DType dtype) const {
  if (!storage_) return Tensor();
  if (!dtype_is_floating(dtype_) || !dtype_is_floating(dtype)) {
    throw Error(ErrorCode::dtype_mismatch,
                fmt::format("astype converts between float32, float64, bfloat16 and float16; "
                            "asked to convert {} to {}",
                            dtype_name(dtype_), dtype_name(dtype)));
  }
  if (dtype == dtype_) return clone();
  const Tensor src = is_cpu() ? *this : to(Device::cpu());
  Tensor dst = empty(shape_, dtype, Device::cpu());
  const std::size_t n = static_cast<std::size_t>(numel_);
  for (std::size_t i = 0; i < n; ++i) {
    store_floating(dst.raw(), dtype, i, load_floating(src.raw(), dtype_, i));
  }
  return is_cpu() ? dst : dst.to(device_);
}

void Tensor::copy_from(const Tensor& src) {
  if (src.shape_ != shape_ || src.dtype_ != dtype_) {
    throw Error(
        ErrorCode::shape_mismatch,
        fmt::format("copy_from: source {} does not match destination {}", src.str(), str()));
  }
  if (nbytes() == 0) return;
  if (src.is_cpu()) {
    detail::backend_for(device_).copy_from_host(device_.index, raw(), src.raw(), nbytes());
  } else if (is_cpu()) {
    detail::backend_for(src.device_).copy_to_host(src.device_.index, raw(), src.raw(), nbytes());
  } else if (src.device_ == device_) {
    detail::backend_for(device_).copy_on_device(device_.index, raw(), src.raw(), nbytes());
  } else {  // between two GPUs: through the host (rare; peer copies can come later)
    copy_from(src.to(Device::cpu()));
  }
}

void Tensor::fill_bytes(unsigned char byte) {
  if (storage_) detail::backend_for(device_).fill_bytes(device_.index, raw(), byte, nbytes());
}

Tensor Tensor::reshape(const Shape& shape) const {
  if (checked_numel(shape, dtype_) != numel_) {
    throw Error(ErrorCode::shape_mismatch,
                fmt::format("cannot reshape {} ({} elements) to {}", shape_str(shape_), numel_,
                            shape_str(shape)));
  }
  Tensor t = *this;
  t.shape_ = shape;
  return t;
}

std::string Tensor::str() const {
  if (!storage_) return "Tensor(undefined)";
  return fmt::format("Tensor({}, {}, {})", dtype_name(dtype_), shape_str(shape_), device_.str());
}

}  // namespace mpe
