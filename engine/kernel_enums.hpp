#pragma once
// Public enums to the kernels' enums: one switch per pair, no default, so that a value added to
// either side fails to compile (-Werror=switch) instead of reaching a kernel as a wrong number.
#include <mpe/error.hpp>
#include <mpe/tensor.hpp>

#include "common/storage.hpp"

namespace mpe::detail {

// The storage of a float tensor's elements (f32, bf16, f16); other dtypes are an internal error
// (the op's checks reject them first).
inline kernels::Storage storage_of(DType t) {
  switch (t) {
    case DType::f32: return kernels::Storage::f32;
    case DType::bf16: return kernels::Storage::bf16;
    case DType::f16: return kernels::Storage::f16;
    case DType::f64:
    case DType::i32:
    case DType::i64: break;
  }
  throw Error(ErrorCode::dtype_mismatch, "storage_of: not a float32 / bfloat16 / float16 dtype");
}

}  // namespace mpe::detail
