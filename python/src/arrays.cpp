// Arrays in and out without copies (see arrays.hpp).
#include "arrays.hpp"

#include <nanobind/stl/string.h>

#include <memory>
#include <string>

namespace mpe::py {
namespace {

using nb::dlpack::dtype_code;

// The DLPack dtype of a tensor dtype, and back (false when mpengine has no such dtype).
nb::dlpack::dtype dl_dtype(DType t) {
  switch (t) {
    case DType::f32: return nb::dtype<float>();
    case DType::f64: return nb::dtype<double>();
    case DType::i32: return nb::dtype<std::int32_t>();
    case DType::i64: return nb::dtype<std::int64_t>();
    case DType::f16: return {static_cast<std::uint8_t>(dtype_code::Float), 16, 1};
    case DType::bf16: return {static_cast<std::uint8_t>(dtype_code::Bfloat), 16, 1};
  }
  return {};
}

bool from_dl_dtype(nb::dlpack::dtype d, DType& out) {
  for (DType t : {DType::f32, DType::f64, DType::i32, DType::i64, DType::f16, DType::bf16}) {
    if (dl_dtype(t) == d) {
      out = t;
      return true;
    }
  }
  return false;
}

std::string dl_dtype_str(nb::dlpack::dtype d) {
  DType t;
  if (from_dl_dtype(d, t)) return dtype_name(t);
  return "a dtype of code " + std::to_string(d.code) + " with " + std::to_string(d.bits) +
         " bits";
}

[[noreturn]] void type_error(const char* name, const std::string& what) {
  throw nb::type_error((std::string("argument '") + name + "': " + what).c_str());
}

Device array_device(const AnyArray& a, const char* name) {
  const int type = a.device_type();
  if (type == nb::device::cpu::value || type == nb::device::cuda_host::value) return Device::cpu();
  if (type == nb::device::cuda::value) {
    if (!cuda_built()) {
      type_error(name, "a CUDA array, but this mpengine was built without CUDA; pass a host array");
    }
    return Device::cuda(a.device_id());
  }
  type_error(name, "an array on DLPack device type " + std::to_string(type) +
                       "; mpengine takes host (cpu) or CUDA arrays");
}

Tensor wrap(const AnyArray& a, const char* name, DType dtype, int rank) {
  if (rank != kAnyRank && static_cast<int>(a.ndim()) != rank) {
    type_error(name, "needs a " + std::to_string(rank) + "-D array, got " +
                         std::to_string(a.ndim()) + "-D");
  }
  Shape shape(a.ndim());
  std::int64_t expect = 1;
  bool contiguous = true;
  for (int d = static_cast<int>(a.ndim()) - 1; d >= 0; --d) {
    const auto n = static_cast<std::int64_t>(a.shape(static_cast<std::size_t>(d)));
    shape[static_cast<std::size_t>(d)] = n;
    if (n > 1 && a.stride(static_cast<std::size_t>(d)) != expect) contiguous = false;
    expect *= n;
  }
  if (!contiguous) {
    type_error(name, "needs a C-contiguous (row-major) array; pass np.ascontiguousarray(...) "
                     "or .contiguous()");
  }
  const Device device = array_device(a, name);
  // The tensor keeps the array (and so its Python owner) alive; dropping that reference needs
  // the GIL, which the engine's threads do not hold.
  auto* keep = new AnyArray(a);
  std::shared_ptr<void> owner(keep, [](void* p) {
    nb::gil_scoped_acquire gil;
    delete static_cast<AnyArray*>(p);
  });
  void* data = static_cast<char*>(a.data_handle()) + a.byte_offset();
  return Tensor::from_external(data, shape, dtype, device, std::move(owner));
}

template <class F>
nb::object make_array(const Tensor& t, int device_type, nb::dlpack::dtype dt) {
  std::vector<std::size_t> shape(t.shape().begin(), t.shape().end());
  auto* keep = new Tensor(t);
  nb::capsule owner(keep, [](void* p) noexcept { delete static_cast<Tensor*>(p); });
  nb::ndarray<F> arr(const_cast<void*>(t.raw()), shape.size(), shape.data(), owner, nullptr, dt,
                     device_type, t.device().index);
  return nb::cast(arr, nb::rv_policy::reference);
}

}  // namespace

Tensor as_tensor(const AnyArray& a, const char* name, DType want, int rank) {
  DType got;
  if (!from_dl_dtype(a.dtype(), got) || got != want) {
    type_error(name, std::string("needs ") + dtype_name(want) + ", got " +
                         dl_dtype_str(a.dtype()) + " (convert it, e.g. x.astype(np." +
                         dtype_name(want) + "))");
  }
  return wrap(a, name, want, rank);
}

Tensor as_tensor_any(const AnyArray& a, const char* name, int rank) {
  DType got;
  if (!from_dl_dtype(a.dtype(), got)) {
    type_error(name, "needs float32, float64, int32, int64, bfloat16 or float16, got " +
                         dl_dtype_str(a.dtype()));
  }
  return wrap(a, name, got, rank);
}

Tensor as_out_tensor(const nb::ndarray<>& a, const char* name, DType want, int rank) {
  return as_tensor(AnyArray(a), name, want, rank);
}

namespace {
AnyArray cast_array(nb::handle obj, const char* name) {
  AnyArray a;
  if (!nb::try_cast<AnyArray>(obj, a, false)) {
    type_error(name, std::string("needs an array (NumPy, PyTorch, JAX, CuPy or any DLPack "
                                 "array), got ") +
                         nb::cast<std::string>(nb::str(obj.type().attr("__name__"))));
  }
  return a;
}
}  // namespace

Tensor arg_tensor(nb::handle obj, const char* name, DType want, int rank) {
  return as_tensor(cast_array(obj, name), name, want, rank);
}

Tensor arg_tensor_any(nb::handle obj, const char* name, int rank) {
  return as_tensor_any(cast_array(obj, name), name, rank);
}

Tensor optional_tensor(nb::handle obj, const char* name, DType want, int rank) {
  return obj.is_none() ? Tensor() : arg_tensor(obj, name, want, rank);
}

Framework result_framework(nb::handle like, nb::handle input, const Tensor& result) {
  return framework_of(like.is_none() ? input : like, !result.is_cpu());
}

Framework framework_of(nb::handle like, bool device_result) {
  if (like.is_none()) return device_result ? Framework::dlpack : Framework::numpy;
  std::string key;
  if (nb::isinstance<nb::str>(like)) {
    key = nb::cast<std::string>(like);
  } else {
    key = nb::cast<std::string>(nb::getattr(like.type(), "__module__", nb::str("")));
    key = key.substr(0, key.find('.'));
  }
  if (key == "numpy") return device_result ? Framework::dlpack : Framework::numpy;
  if (key == "torch" || key == "pytorch") return Framework::pytorch;
  if (key == "jax" || key == "jaxlib") return Framework::jax;
  if (key == "cupy") return Framework::cupy;
  if (key == "dlpack") return Framework::dlpack;
  throw nb::type_error(("like=: expected None, 'numpy', 'torch', 'jax', 'cupy', 'dlpack' or an "
                        "array of one of them, got '" + key + "'").c_str());
}

nb::object to_array(const Tensor& t, Framework framework) {
  const int dev = t.is_cpu() ? nb::device::cpu::value : nb::device::cuda::value;
  const nb::dlpack::dtype dt = dl_dtype(t.dtype());
  if (framework == Framework::numpy && !t.is_cpu()) framework = Framework::dlpack;
  // A device result is complete when the call returns: the caller's stream may read it at once.
  if (!t.is_cpu()) synchronize(t.device());
  switch (framework) {
    case Framework::numpy: return make_array<nb::numpy>(t, dev, dt);
    case Framework::pytorch: return make_array<nb::pytorch>(t, dev, dt);
    case Framework::jax: return make_array<nb::jax>(t, dev, dt);
    case Framework::cupy: return make_array<nb::cupy>(t, dev, dt);
    case Framework::dlpack: return make_array<nb::array_api>(t, dev, dt);
  }
  return nb::none();
}

nb::object to_array_or_none(const Tensor& t, Framework framework) {
  return t.defined() ? to_array(t, framework) : nb::none();
}

nb::object view_vector(const std::vector<float>& v, nb::handle owner) {
  const std::size_t n = v.size();
  nb::ndarray<nb::numpy, float> arr(const_cast<float*>(v.data()), 1, &n, owner);
  return nb::cast(arr, nb::rv_policy::reference);
}

nb::object view_vector(const std::vector<double>& v, nb::handle owner) {
  const std::size_t n = v.size();
  nb::ndarray<nb::numpy, double> arr(const_cast<double*>(v.data()), 1, &n, owner);
  return nb::cast(arr, nb::rv_policy::reference);
}

Device device_arg(const nb::handle& device) {
  if (device.is_none()) return default_device();
  if (!nb::isinstance<nb::str>(device)) {
    throw nb::type_error("device=: expected None or a string ('cpu', 'cuda', 'cuda:N', 'auto')");
  }
  return parse_device(nb::cast<std::string>(device));
}

}  // namespace mpe::py
