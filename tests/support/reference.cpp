#include "support/reference.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace mpe::test {

std::vector<double> lse_contract_ref(const std::vector<float>& M, const std::vector<float>& x,
                                     std::int64_t batch, std::int64_t rows, std::int64_t cols,
                                     bool shared) {
  std::vector<double> y(static_cast<std::size_t>(batch * rows));
  for (std::int64_t b = 0; b < batch; ++b) {
    for (std::int64_t i = 0; i < rows; ++i) {
      const std::size_t base = static_cast<std::size_t>(((shared ? 0 : b * rows) + i) * cols);
      double mx = -std::numeric_limits<double>::infinity();
      for (std::int64_t j = 0; j < cols; ++j) {
        const double v = double(M[base + j]) + double(x[b * cols + j]);
        if (v > -5e11) mx = std::max(mx, v);
      }
      double out = -1e12;
      if (std::isfinite(mx)) {
        double s = 0;
        for (std::int64_t j = 0; j < cols; ++j) {
          const double v = double(M[base + j]) + double(x[b * cols + j]);
          if (v > -5e11) s += std::exp(v - mx);
        }
        out = mx + std::log(s);
      }
      y[static_cast<std::size_t>(b * rows + i)] = out;
    }
  }
  return y;
}

std::vector<double> csr_aggregate_ref(const Csr& graph, const std::vector<float>& x,
                                      std::int64_t width, Aggregation agg) {
  const auto off = graph.row_offsets.to_vector<std::int64_t>();
  const auto col = graph.col_indices.to_vector<std::int32_t>();
  const auto w = graph.weights.defined() ? graph.weights.to_vector<float>() : std::vector<float>();
  std::vector<double> y(static_cast<std::size_t>(graph.num_rows * width), 0.0);
  for (std::int64_t i = 0; i < graph.num_rows; ++i) {
    const std::int64_t deg = off[i + 1] - off[i];
    if (deg == 0) {  // 0, or log 0 for log-sum-exp
      if (agg == Aggregation::logsumexp) {
        std::fill(y.begin() + i * width, y.begin() + (i + 1) * width, double(kLogZero));
      }
      continue;
    }
    for (std::int64_t f = 0; f < width; ++f) {
      std::vector<double> vals;
      for (std::int64_t e = off[i]; e < off[i + 1]; ++e) {
        const double we = w.empty() ? 1.0 : double(w[e]);
        vals.push_back(we * double(x[static_cast<std::size_t>(col[e] * width + f)]));
      }
      double r = 0;
      switch (agg) {
        case Aggregation::sum:
          for (double v : vals) r += v;
          break;
        case Aggregation::mean:
          for (double v : vals) r += v;
          r /= double(deg);
          break;
        case Aggregation::max: r = *std::max_element(vals.begin(), vals.end()); break;
        case Aggregation::min: r = *std::min_element(vals.begin(), vals.end()); break;
        case Aggregation::logsumexp: {  // messages above kLogZero / 2 (as the tests use)
          const double m = *std::max_element(vals.begin(), vals.end());
          for (double v : vals) r += std::exp(v - m);
          r = m + std::log(r);
          break;
        }
      }
      y[static_cast<std::size_t>(i * width + f)] = r;
    }
  }
  return y;
}

std::vector<float> random_floats(std::size_t n, float lo, float hi, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (auto& e : v) e = dist(rng);
  return v;
}

Csr make_csr(std::int64_t rows, std::int64_t cols, const std::vector<std::int64_t>& offsets,
             const std::vector<std::int32_t>& cols_idx, const std::vector<float>& weights) {
  Csr g;
  g.num_rows = rows;
  g.num_cols = cols;
  g.row_offsets = Tensor::from_vector(offsets, {static_cast<std::int64_t>(offsets.size())});
  g.col_indices = Tensor::from_vector(cols_idx, {static_cast<std::int64_t>(cols_idx.size())});
  if (!weights.empty()) {
    g.weights = Tensor::from_vector(weights, {static_cast<std::int64_t>(weights.size())});
  }
  return g;
}

Csr random_csr(std::int64_t rows, std::int64_t cols, double avg_degree, bool weighted,
               std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  // Geometric-ish degrees: many small rows, a few large ones, some empty.
  std::exponential_distribution<double> deg_dist(1.0 / std::max(avg_degree, 1e-9));
  std::uniform_int_distribution<std::int32_t> col_dist(0, static_cast<std::int32_t>(cols - 1));
  std::uniform_real_distribution<float> w_dist(-2.0f, 2.0f);
  std::vector<std::int64_t> off{0};
  std::vector<std::int32_t> idx;
  std::vector<float> w;
  for (std::int64_t i = 0; i < rows; ++i) {
    const auto deg = cols > 0 ? static_cast<std::int64_t>(deg_dist(rng)) : 0;
    for (std::int64_t k = 0; k < deg; ++k) {
      idx.push_back(col_dist(rng));
      if (weighted) w.push_back(w_dist(rng));
    }
    off.push_back(static_cast<std::int64_t>(idx.size()));
  }
  return make_csr(rows, cols, off, idx, w);
}

}  // namespace mpe::test
