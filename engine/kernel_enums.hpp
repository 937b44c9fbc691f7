#pragma once
// Public enums to the kernels' enums: one switch per pair, no default, so that a value added to
// either side fails to compile (-Werror=switch) instead of reaching a kernel as a wrong number.
#include <mpe/aif.hpp>
#include <mpe/error.hpp>
#include <mpe/graph_mp.hpp>
#include <mpe/ops.hpp>
#include <mpe/tensor.hpp>

#include "aif_plan.hpp"
#include "common/graph_mp.hpp"
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

// A value outside the enum (a cast integer) is a user error: invalid_argument naming `op`.
[[noreturn]] void throw_unknown_enum(const char* op, const char* what);

inline kernels::MpAgg to_kernel(Aggregation a, const char* op) {
  switch (a) {
    case Aggregation::sum: return kernels::MpAgg::sum;
    case Aggregation::mean: return kernels::MpAgg::mean;
    case Aggregation::max: return kernels::MpAgg::max;
    case Aggregation::min: return kernels::MpAgg::min;
    case Aggregation::logsumexp: return kernels::MpAgg::logsumexp;
  }
  throw_unknown_enum(op, "aggregation");
}

inline kernels::MpAct to_kernel(Activation a, const char* op) {
  switch (a) {
    case Activation::none: return kernels::MpAct::none;
    case Activation::relu: return kernels::MpAct::relu;
    case Activation::sigmoid: return kernels::MpAct::sigmoid;
    case Activation::tanh: return kernels::MpAct::tanh;
  }
  throw_unknown_enum(op, "activation");
}

inline kernels::AifMethod to_kernel(aif::Method m, const char* op) {
  switch (m) {
    case aif::Method::bp: return kernels::kAifBp;
    case aif::Method::vbp: return kernels::kAifVbp;
    case aif::Method::rm: return kernels::kAifRm;
    case aif::Method::aif: return kernels::kAifAif;
  }
  throw_unknown_enum(op, "planning method");
}

}  // namespace mpe::detail
