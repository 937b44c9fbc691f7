// Full structural check of a CSR; errors name the first offending index.
#include <cmath>

#include <fmt/format.h>
#include <mpe/graph.hpp>

namespace mpe {

namespace {
[[noreturn]] void fail(const std::string& what) { throw Error(ErrorCode::invalid_graph, what); }

void check_array(const Tensor& t, DType dtype, std::int64_t n, const char* name) {
  if (!t.defined()) fail(fmt::format("CSR {} is missing", name));
  if (t.dtype() != dtype || t.rank() != 1 || t.numel() != n) {
    fail(fmt::format("CSR {} must be {} [{}], got {}", name, dtype_name(dtype), n, t.str()));
  }
}
}  // namespace

void validate(const Csr& csr) {
  if (csr.num_rows < 0 || csr.num_cols < 0) {
    fail(fmt::format("CSR has negative size {} x {}", csr.num_rows, csr.num_cols));
  }
  if (csr.num_cols > std::int64_t(INT32_MAX)) {
    fail(fmt::format("CSR has {} columns; column indices are int32", csr.num_cols));
  }
  check_array(csr.row_offsets, DType::i64, csr.num_rows + 1, "row_offsets");
  if (!csr.col_indices.defined()) fail("CSR col_indices is missing");
  const std::int64_t nnz = csr.col_indices.numel();
  check_array(csr.col_indices, DType::i32, nnz, "col_indices");
  if (csr.weights.defined()) check_array(csr.weights, DType::f32, nnz, "weights");
  const Device dev = csr.row_offsets.device();
  if (csr.col_indices.device() != dev || (csr.weights.defined() && csr.weights.device() != dev)) {
    fail(fmt::format("CSR arrays are on different devices: row_offsets on {}, col_indices on {}{}",
                     dev.str(), csr.col_indices.device().str(),
                     csr.weights.defined() ? ", weights on " + csr.weights.device().str() : ""));
  }

  const auto off = csr.row_offsets.to_vector<std::int64_t>();
  if (off[0] != 0) fail(fmt::format("row_offsets[0] = {}, expected 0", off[0]));
  for (std::size_t i = 1; i < off.size(); ++i) {
    if (off[i] < off[i - 1]) {
      fail(fmt::format("row_offsets[{}] = {} is less than row_offsets[{}] = {}", i, off[i], i - 1,
                       off[i - 1]));
    }
  }
  if (off.back() != nnz) {
    fail(fmt::format("row_offsets[{}] = {} but there are {} column indices", off.size() - 1,
                     off.back(), nnz));
  }
  const auto cols = csr.col_indices.to_vector<std::int32_t>();
  for (std::size_t e = 0; e < cols.size(); ++e) {
    if (cols[e] < 0 || cols[e] >= csr.num_cols) {
      fail(fmt::format("col_indices[{}] = {} is outside [0, {})", e, cols[e], csr.num_cols));
    }
  }
  if (csr.weights.defined()) {
    const auto w = csr.weights.to_vector<float>();
    for (std::size_t e = 0; e < w.size(); ++e) {
      if (!std::isfinite(w[e])) fail(fmt::format("weights[{}] = {} is not finite", e, w[e]));
    }
  }
}

}  // namespace mpe
