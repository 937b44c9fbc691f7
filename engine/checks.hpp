#pragma once
// The argument checks of every public op (as RAFT's RAFT_EXPECTS): each throws mpe::Error with
// the error code of its kind and a message naming the op and the argument at fault. Arguments
// in one order everywhere: the op, the tensor, what is required of it, its name.
#include <mpe/graph.hpp>
#include <mpe/tensor.hpp>

namespace mpe::detail {

// t is a defined tensor (invalid_argument).
void require_defined(const char* op, const Tensor& t, const char* name);
// t's element type is `want` (dtype_mismatch).
void require_dtype(const char* op, const Tensor& t, DType want, const char* name);
// t has `rank` dimensions (shape_mismatch; the message shows `layout`, e.g. "[B, N, D]").
void require_rank(const char* op, const Tensor& t, int rank, const char* name, const char* layout);
// t's shape is `want` (shape_mismatch; with a layout the message reads "{layout} = {want}").
void require_shape(const char* op, const Tensor& t, const Shape& want, const char* name,
                   const char* layout = nullptr);
// t is on `want` (device_mismatch; the message says who is there: "{other} on {want}").
void require_device(const char* op, const Tensor& t, const Device& want, const char* name,
                    const char* other = "the other inputs are");
// A float32 tensor of shape `want` on `dev`.
void require_f32(const char* op, const Tensor& t, const Shape& want, const Device& dev,
                 const char* name);

// With check_finite() on (include/mpe/limits.hpp) and t a float tensor (f32, bf16 or f16) on
// the host: every element is finite, or -inf where allow_neg_inf (log-domain inputs); otherwise
// invalid_argument "{op}: {name}[i, j] is nan". Nothing for other devices or element types.
void require_finite(const char* op, const Tensor& t, const char* name, bool allow_neg_inf = false);

// A CSR graph's arrays: dtypes, sizes and device; on the host also row_offsets[0] == 0 and
// row_offsets[rows] == nnz (Csr::validate() does the full check).
void check_csr(const char* op, const Csr& g, const Device& dev);

}  // namespace mpe::detail
