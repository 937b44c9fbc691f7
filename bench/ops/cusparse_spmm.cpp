// cuSPARSE SpMM (CSR, ALG2, float32, row-major dense operands): the vendor peer of
// csr_aggregate's sum on the GPU, on the same graphs and features. Built when CUDA is; the
// case checks its output against csr_aggregate once before timing.
#include "cases.hpp"
#include "ops/common.hpp"
#include "ops/registry.hpp"

#if MPE_BENCH_CUSPARSE
#include <cusparse.h>

#include <cmath>
#include <limits>
#include <memory>
#include <random>
#include <vector>

#include <fmt/format.h>
#include <mpe/ops.hpp>

#include "cuda/cuda_context.hpp"

namespace mpe::bench {

namespace {
void check(cusparseStatus_t s, const char* call) {
  if (s != CUSPARSE_STATUS_SUCCESS) {
    throw Error(ErrorCode::device_error,
                fmt::format("{} failed: {}", call, cusparseGetErrorString(s)));
  }
}

// Everything one timed SpMM needs, alive as long as the case.
struct SpmmState {
  cusparseHandle_t handle = nullptr;
  cusparseSpMatDescr_t a = nullptr;
  cusparseDnMatDescr_t x = nullptr, y = nullptr;
  Tensor offsets, cols, values, xt, yt, buffer;
  ~SpmmState() {
    if (a) cusparseDestroySpMat(a);
    if (x) cusparseDestroyDnMat(x);
    if (y) cusparseDestroyDnMat(y);
    if (handle) cusparseDestroy(handle);
  }
  void run() {
    const float one = 1.0f, zero = 0.0f;
    check(cusparseSpMM(handle, CUSPARSE_OPERATION_NON_TRANSPOSE, CUSPARSE_OPERATION_NON_TRANSPOSE,
                       &one, a, x, &zero, y, CUDA_R_32F, CUSPARSE_SPMM_CSR_ALG2, buffer.raw()),
          "cusparseSpMM");
  }
};
}  // namespace

PreparedCase prepare_cusparse(const CasePoint& p, const Device& device, std::uint64_t seed) {
  if (device.kind != DeviceKind::cuda) {
    throw Error(ErrorCode::not_supported, "cusparse_spmm runs on CUDA devices only");
  }
  const Csr& host = csr_host_graph(p, seed);
  if (host.nnz() > std::numeric_limits<std::int32_t>::max()) {
    throw Error(ErrorCode::not_supported, "cusparse_spmm: more than 2^31 - 1 edges");
  }
  const std::int64_t F = param(p, "width");
  auto s = std::make_shared<SpmmState>();
  // cuSPARSE wants one index type for offsets and columns: 32-bit offsets here.
  std::vector<std::int32_t> off32;
  for (std::int64_t o : host.row_offsets.to_vector<std::int64_t>()) {
    off32.push_back(static_cast<std::int32_t>(o));
  }
  s->offsets = Tensor::from_vector(off32, {host.num_rows + 1}, device);
  s->cols = host.col_indices.to(device);
  s->values = host.weighted() ? host.weights.to(device)
                              : Tensor::from_vector(
                                    std::vector<float>(static_cast<std::size_t>(host.nnz()), 1.0f),
                                    {host.nnz()}, device);
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> dist(-1.f, 1.f);
  std::vector<float> xv(static_cast<std::size_t>(host.num_cols * F));
  for (auto& v : xv) v = dist(rng);
  s->xt = Tensor::from_vector(xv, {host.num_cols, F}, device);
  s->yt = Tensor::empty({host.num_rows, F}, DType::f32, device);
  s->yt.fill_bytes(0xFF);
  check(cusparseCreate(&s->handle), "cusparseCreate");
  check(cusparseSetStream(s->handle, detail::cuda_context(device.index).stream()),
        "cusparseSetStream");
  check(cusparseCreateCsr(&s->a, host.num_rows, host.num_cols, host.nnz(), s->offsets.raw(),
                          s->cols.raw(), s->values.raw(), CUSPARSE_INDEX_32I, CUSPARSE_INDEX_32I,
                          CUSPARSE_INDEX_BASE_ZERO, CUDA_R_32F),
        "cusparseCreateCsr");
  check(
      cusparseCreateDnMat(&s->x, host.num_cols, F, F, s->xt.raw(), CUDA_R_32F, CUSPARSE_ORDER_ROW),
      "cusparseCreateDnMat(x)");
  check(
      cusparseCreateDnMat(&s->y, host.num_rows, F, F, s->yt.raw(), CUDA_R_32F, CUSPARSE_ORDER_ROW),
      "cusparseCreateDnMat(y)");
  const float one = 1.0f, zero = 0.0f;
  std::size_t bytes = 0;
  check(cusparseSpMM_bufferSize(s->handle, CUSPARSE_OPERATION_NON_TRANSPOSE,
                                CUSPARSE_OPERATION_NON_TRANSPOSE, &one, s->a, s->x, &zero, s->y,
                                CUDA_R_32F, CUSPARSE_SPMM_CSR_ALG2, &bytes),
        "cusparseSpMM_bufferSize");
  s->buffer = Tensor::empty({static_cast<std::int64_t>(bytes / 4 + 1)}, DType::f32, device);
  // Same numbers as csr_aggregate's weighted sum (within float32 reordering), or no timing.
  s->run();
  const Csr g = host.to(device);
  const auto want = csr_aggregate(g, s->xt, Aggregation::sum).to_vector<float>();
  const auto got = s->yt.to_vector<float>();
  for (std::size_t k = 0; k < got.size(); ++k) {
    if (!(std::fabs(got[k] - want[k]) <= 1e-3f * (1.0f + std::fabs(want[k])))) {
      throw Error(ErrorCode::internal,
                  fmt::format("cusparse_spmm: element {} is {}, csr_aggregate gives {}", k, got[k],
                              want[k]));
    }
  }
  s->yt.fill_bytes(0xFF);
  PreparedCase c;
  c.run = [s] { s->run(); };
  const double nnz = double(host.nnz());
  c.bytes = 4.0 * double(host.num_rows + 1) + 8.0 * nnz + 4.0 * double(host.num_cols * F) +
            4.0 * double(host.num_rows * F);
  c.flops = 2.0 * nnz * double(F);
  c.nnz = host.nnz();
  c.shape = fmt::format("{} F={} sum (cuSPARSE CSR ALG2)", csr_graph_words(p, host), F);
  return c;
}

}  // namespace mpe::bench

#else

#include <mpe/error.hpp>

namespace mpe::bench {
PreparedCase prepare_cusparse(const CasePoint&, const Device&, std::uint64_t) {
  throw Error(ErrorCode::not_supported, "cusparse_spmm needs a CUDA build of mpe-bench");
}
}  // namespace mpe::bench

#endif

namespace mpe::bench {
MPE_BENCH_OP(OpSpec{"cusparse_spmm",
                    "cuSPARSE's CSR SpMM, the GPU peer of csr_aggregate sum; the "
                    "csr_aggregate parameters",
                    "", csr_graph_params(), prepare_cusparse, csr_adjust})
}  // namespace mpe::bench
