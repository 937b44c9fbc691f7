// CSR construction from COO (counting sort by row), conversions and small queries.
#include <algorithm>
#include <cmath>
#include <numeric>

#include <fmt/format.h>
#include <mpe/graph.hpp>
#include <mpe/limits.hpp>

namespace mpe {

std::int64_t Csr::nnz() const { return col_indices.defined() ? col_indices.numel() : 0; }

Csr Csr::to(Device device) const {
  Csr out;
  out.num_rows = num_rows;
  out.num_cols = num_cols;
  out.row_offsets = row_offsets.to(device);
  out.col_indices = col_indices.to(device);
  if (weights.defined()) out.weights = weights.to(device);
  return out;
}

namespace {
void check_coo(const Coo& coo) {
  if (coo.num_rows < 0 || coo.num_cols < 0) {
    throw Error(ErrorCode::invalid_graph,
                fmt::format("COO has negative size {} x {}", coo.num_rows, coo.num_cols));
  }
  if (coo.num_cols > std::int64_t(INT32_MAX)) {
    throw Error(ErrorCode::invalid_graph,
                fmt::format("COO has {} columns; column indices are int32", coo.num_cols));
  }
  if (coo.rows.size() != coo.cols.size()) {
    throw Error(ErrorCode::invalid_graph, fmt::format("COO has {} rows but {} cols entries",
                                                      coo.rows.size(), coo.cols.size()));
  }
  if (!coo.weights.empty() && coo.weights.size() != coo.rows.size()) {
    throw Error(ErrorCode::invalid_graph,
                fmt::format("COO has {} weights for {} entries (give none or one per entry)",
                            coo.weights.size(), coo.rows.size()));
  }
  for (std::size_t k = 0; k < coo.rows.size(); ++k) {
    if (coo.rows[k] < 0 || coo.rows[k] >= coo.num_rows) {
      throw Error(ErrorCode::invalid_graph, fmt::format("COO entry {}: row {} is outside [0, {})",
                                                        k, coo.rows[k], coo.num_rows));
    }
    if (coo.cols[k] < 0 || coo.cols[k] >= coo.num_cols) {
      throw Error(
          ErrorCode::invalid_graph,
          fmt::format("COO entry {}: column {} is outside [0, {})", k, coo.cols[k], coo.num_cols));
    }
    if (!coo.weights.empty() && !std::isfinite(coo.weights[k])) {
      throw Error(ErrorCode::invalid_graph,
                  fmt::format("COO entry {}: weight {} is not finite", k, coo.weights[k]));
    }
  }
}

struct Entry {
  std::int64_t col;
  float weight;
};
}  // namespace

Csr csr_from_coo(const Coo& coo, const CsrBuildOptions& options) {
  check_coo(coo);
  const bool square = coo.num_rows == coo.num_cols;
  if ((options.symmetrize || options.add_self_loops) && !square) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("symmetrize and add_self_loops need a square matrix, got {} x {}",
                            coo.num_rows, coo.num_cols));
  }
  const bool weighted = !coo.weights.empty();
  const std::size_t n_in = coo.rows.size();
  const std::size_t n_all = options.symmetrize ? 2 * n_in : n_in;
  // Three int64 arrays per row (counts, fill positions, offsets) and per entry a sort slot,
  // a column and a weight: a declared row count far beyond the entries (a header saying
  // 5 x 54294967297, then transposed) fails here, not in the allocator.
  check_input_bytes(24.0 * (static_cast<double>(coo.num_rows) + 1) +
                        32.0 * (static_cast<double>(n_all) + static_cast<double>(coo.num_rows)),
                    fmt::format("csr_from_coo: a {} x {} graph with {} entries", coo.num_rows,
                                coo.num_cols, n_all));
  auto row_of = [&](std::size_t k) { return k < n_in ? coo.rows[k] : coo.cols[k - n_in]; };
  auto col_of = [&](std::size_t k) { return k < n_in ? coo.cols[k] : coo.rows[k - n_in]; };
  auto w_of = [&](std::size_t k) { return weighted ? coo.weights[k % n_in] : 1.0f; };

  // Counting sort by row keeps input order within a row (mirrors after originals).
  const auto rows = static_cast<std::size_t>(coo.num_rows);
  std::vector<std::int64_t> start(rows + 1, 0);
  for (std::size_t k = 0; k < n_all; ++k) {
    if (k >= n_in && row_of(k) == col_of(k)) continue;  // a self-loop is its own mirror
    ++start[static_cast<std::size_t>(row_of(k)) + 1];
  }
  std::partial_sum(start.begin(), start.end(), start.begin());
  std::vector<Entry> entries(static_cast<std::size_t>(start[rows]));
  std::vector<std::int64_t> fill(start.begin(), start.end() - 1);
  for (std::size_t k = 0; k < n_all; ++k) {
    if (k >= n_in && row_of(k) == col_of(k)) continue;
    const auto r = static_cast<std::size_t>(row_of(k));
    entries[static_cast<std::size_t>(fill[r]++)] = Entry{col_of(k), w_of(k)};
  }

  std::vector<std::int64_t> offsets{0};
  offsets.reserve(rows + 1);
  std::vector<std::int32_t> cols;
  std::vector<float> wts;
  cols.reserve(entries.size());
  wts.reserve(entries.size());
  const bool merge = options.duplicates != Duplicates::keep;
  std::vector<Entry> with_loop;  // scratch for a row that gains a self-loop
  for (std::size_t r = 0; r < rows; ++r) {
    Entry* b = entries.data() + start[r];
    Entry* e = entries.data() + start[r + 1];
    if (options.add_self_loops &&
        std::none_of(b, e, [&](const Entry& x) { return x.col == static_cast<std::int64_t>(r); })) {
      with_loop.assign(b, e);
      with_loop.push_back(Entry{static_cast<std::int64_t>(r), options.self_loop_weight});
      b = with_loop.data();
      e = b + with_loop.size();
    }
    if (options.sort_columns || merge) {
      std::stable_sort(b, e, [](const Entry& x, const Entry& y) { return x.col < y.col; });
    }
    const std::size_t count = static_cast<std::size_t>(e - b);
    const Entry* row = b;
    for (std::size_t k = 0; k < count; ++k) {
      const bool repeat = merge && k > 0 && row[k].col == row[k - 1].col;
      if (!repeat) {
        cols.push_back(static_cast<std::int32_t>(row[k].col));
        wts.push_back(row[k].weight);
        continue;
      }
      float& w = wts.back();
      switch (options.duplicates) {
        case Duplicates::sum: w += row[k].weight; break;
        case Duplicates::max: w = std::max(w, row[k].weight); break;
        default: break;  // first: keep the earlier weight (stable sort preserves input order)
      }
    }
    offsets.push_back(static_cast<std::int64_t>(cols.size()));
  }

  Csr csr;
  csr.num_rows = coo.num_rows;
  csr.num_cols = coo.num_cols;
  csr.row_offsets = Tensor::from_vector(offsets, {coo.num_rows + 1});
  csr.col_indices = Tensor::from_vector(cols, {static_cast<std::int64_t>(cols.size())});
  // Store weights only when one differs from 1 (all-ones is the unweighted case).
  if (std::any_of(wts.begin(), wts.end(), [](float w) { return w != 1.0f; }))
    csr.weights = Tensor::from_vector(wts, {static_cast<std::int64_t>(wts.size())});
  return csr;
}

Coo transposed(const Coo& coo) {
  Coo t;
  t.num_rows = coo.num_cols;
  t.num_cols = coo.num_rows;
  t.rows = coo.cols;
  t.cols = coo.rows;
  t.weights = coo.weights;
  return t;
}

std::vector<std::int64_t> row_degrees(const Csr& csr) {
  const Tensor& ro = csr.row_offsets;
  if (csr.num_rows < 0 || !ro.defined() || ro.dtype() != DType::i64 ||
      ro.numel() != csr.num_rows + 1) {
    throw Error(ErrorCode::invalid_graph,
                fmt::format("row_degrees: row_offsets must be int64 [{}], got {}", csr.num_rows + 1,
                            ro.str()));
  }
  const auto off = ro.to_vector<std::int64_t>();
  std::vector<std::int64_t> deg(static_cast<std::size_t>(csr.num_rows));
  for (std::size_t i = 0; i < deg.size(); ++i) deg[i] = off[i + 1] - off[i];
  return deg;
}

Coo csr_to_coo(const Csr& csr) {
  validate(csr);  // the loops below index by row_offsets
  Coo coo;
  coo.num_rows = csr.num_rows;
  coo.num_cols = csr.num_cols;
  const auto off = csr.row_offsets.to_vector<std::int64_t>();
  const auto cols = csr.col_indices.to_vector<std::int32_t>();
  coo.rows.reserve(cols.size());
  coo.cols.reserve(cols.size());
  for (std::int64_t i = 0; i < csr.num_rows; ++i) {
    for (std::int64_t e = off[i]; e < off[i + 1]; ++e) {
      coo.rows.push_back(i);
      coo.cols.push_back(cols[static_cast<std::size_t>(e)]);
    }
  }
  if (csr.weighted()) coo.weights = csr.weights.to_vector<float>();
  return coo;
}

}  // namespace mpe
