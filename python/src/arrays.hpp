#pragma once
// Arrays between Python and mpengine: any DLPack array in (taken without a copy when its
// dtype, layout and device fit, else a TypeError naming the argument), tensors out as views
// on memory the engine owns, in the caller's framework.
#include <cstdint>
#include <string>
#include <vector>

#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>

#include <mpe/device.hpp>
#include <mpe/tensor.hpp>

namespace mpe::py {

namespace nb = nanobind;

/// Any array an argument may be: NumPy, PyTorch, JAX, CuPy, ... (read-only is fine).
using AnyArray = nb::ndarray<nb::ro>;

// Arguments taken as Python objects and checked by the functions below, with the type the
// stub file (nanobind's stubgen) shows for them.
#define MPE_PY_TYPED_HANDLE(Class, TypeName)                                        \
  class Class : public nb::handle {                                                \
   public:                                                                         \
    static constexpr auto Name = nb::detail::const_name(TypeName);                 \
    static bool check_(nb::handle) { return true; }                                \
    using nb::handle::handle;                                                      \
    Class(nb::handle h, nb::detail::steal_t) : nb::handle(h) {}                    \
    Class(nb::handle h, nb::detail::borrow_t) : nb::handle(h) {}                   \
    Class& operator=(nb::handle h) {                                               \
      nb::handle::operator=(h);                                                    \
      return *this;                                                                \
    }                                                                              \
  }

/// An array of any framework (DLPack or the buffer protocol).
MPE_PY_TYPED_HANDLE(Array, "numpy.typing.ArrayLike");
/// The same where None is allowed (stubgen adds "| None" for a None default).
MPE_PY_TYPED_HANDLE(OptArray, "numpy.typing.ArrayLike");
/// A device name ('cpu', 'cuda', 'cuda:N', 'auto') or None (the default device).
MPE_PY_TYPED_HANDLE(DeviceArg, "str");
/// The framework of a result: None, a name or an array to follow.
MPE_PY_TYPED_HANDLE(LikeArg, "str | numpy.typing.ArrayLike");

/// AIF-MP requests: one PlanRequest, a dict of its fields, or a sequence of them.
MPE_PY_TYPED_HANDLE(RequestsArg, "PlanRequest | dict | collections.abc.Sequence[PlanRequest | dict]");
/// A relevance message: a text, an embedding, or None (with seeds=).
MPE_PY_TYPED_HANDLE(MessageArg, "str | numpy.typing.ArrayLike");
/// Explicit relevance seeds {node id: activation}, or None.
MPE_PY_TYPED_HANDLE(SeedsArg, "dict[str, float]");

/// What an argument accepts; kAnyDType takes every dtype mpengine knows.
inline constexpr int kAnyRank = -1;

/// The array as a tensor over the same memory (no copy). Throws nb::type_error naming `name`
/// when the dtype is not `want`, the array is not C-contiguous, its rank is not `rank`
/// (kAnyRank: any) or it lives on a device mpengine cannot use.
Tensor as_tensor(const AnyArray& a, const char* name, DType want, int rank = kAnyRank);
/// The same, accepting any dtype mpengine knows (float32/64, int32/64, bfloat16, float16).
Tensor as_tensor_any(const AnyArray& a, const char* name, int rank = kAnyRank);
/// A writable output array (out=): as as_tensor, and refused when read-only.
Tensor as_out_tensor(const nb::ndarray<>& a, const char* name, DType want, int rank = kAnyRank);

/// The framework a result is returned in.
enum class Framework { numpy, pytorch, jax, cupy, dlpack };
/// From `like`: None (NumPy for host results, a bare DLPack array for device ones), a name
/// ("numpy", "torch", "jax", "cupy", "dlpack") or an array whose framework to follow.
Framework framework_of(nb::handle like, bool device_result = false);
/// A view on `t`'s memory (which it keeps alive) as an array of `framework`.
nb::object to_array(const Tensor& t, Framework framework = Framework::numpy);
/// A view on a host vector owned by the Python object `owner`.
nb::object view_vector(const std::vector<float>& v, nb::handle owner);
nb::object view_vector(const std::vector<double>& v, nb::handle owner);
/// None for an undefined tensor, else to_array(t).
nb::object to_array_or_none(const Tensor& t, Framework framework = Framework::numpy);

/// as_tensor for an argument given as a Python object (a TypeError naming it when it is no
/// array at all).
Tensor arg_tensor(nb::handle obj, const char* name, DType want, int rank = kAnyRank);
Tensor arg_tensor_any(nb::handle obj, const char* name, int rank = kAnyRank);
/// None, or arg_tensor.
Tensor optional_tensor(nb::handle obj, const char* name, DType want, int rank = kAnyRank);
/// The framework of a result computed from `input`: `like` when given, else the input's.
Framework result_framework(nb::handle like, nb::handle input, const Tensor& result);

/// "cpu", "cuda", "cuda:N", "auto" or None (the default device: MPE_DEVICE, else auto).
Device device_arg(const nb::handle& device);

}  // namespace mpe::py
