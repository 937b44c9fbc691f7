// CPU AIF-MP planning: the shared core (kernels/common/aif_core.hpp) with plain loops, one
// problem per OpenMP thread.
#include <vector>

#include "aif_plan.hpp"
#include "common/aif_core.hpp"

namespace mpe::kernels {

namespace {
// A row walked by one thread; `omp simd` lets the compiler reorder the reductions so that the
// loops vectorise (lse_exp is branch-free for that reason).
struct SerialRow {
  std::int64_t len;
  template <class F>
  float max(const F& f) const {
    float m = kLogZero;
#pragma omp simd reduction(max : m)
    for (std::int64_t k = 0; k < len; ++k) {
      const float v = f(k);
      m = v > m ? v : m;
    }
    return m;
  }
  template <class F>
  float sum(const F& f) const {
    float s = 0.0f;
#pragma omp simd reduction(+ : s)
    for (std::int64_t k = 0; k < len; ++k) s += f(k);
    return s;
  }
  template <class F>
  void each(const F& f) const {
    for (std::int64_t k = 0; k < len; ++k) f(k);
  }
  template <class F>
  void once(const F& f) const {
    f();
  }
};

struct SerialExec {
  template <class F>
  void for_each(std::int64_t n, const F& f) const {
    for (std::int64_t i = 0; i < n; ++i) f(i);
  }
  template <class F>
  void for_each_simd(std::int64_t n, const F& f) const {
#pragma omp simd
    for (std::int64_t i = 0; i < n; ++i) f(i);
  }

  float max_all(float v) const { return v; }

  template <class Body>
  void for_each_row(std::int64_t rows, std::int64_t len, const Body& body) const {
    SerialRow row{len};
    for (std::int64_t r = 0; r < rows; ++r) body(row, r);
  }

  // Rows outer, columns inner (contiguous, vectorised): a max pass, then a sum pass.
  template <class RowC, class Term>
  void column_lse(std::int64_t rows, std::int64_t cols, const RowC& rowc, const Term& term,
                  float* out, float* scratch) const {
    float* mx = scratch;
    float* sm = scratch + cols;
    for (std::int64_t n = 0; n < cols; ++n) {
      mx[n] = kLogZero;
      sm[n] = 0.0f;
    }
    for (std::int64_t r = 0; r < rows; ++r) {
      const float c = rowc(r);
#pragma omp simd
      for (std::int64_t n = 0; n < cols; ++n) {
        const float v = term(r, n, c);
        mx[n] = v > mx[n] ? v : mx[n];
      }
    }
    for (std::int64_t r = 0; r < rows; ++r) {
      const float c = rowc(r);
#pragma omp simd
      for (std::int64_t n = 0; n < cols; ++n) {
        const float v = term(r, n, c);
        const float ex = lse_exp(v - mx[n]);  // unconditional: a select vectorises
        sm[n] += v > kLogZeroHalf ? ex : 0.0f;
      }
    }
    for (std::int64_t n = 0; n < cols; ++n) out[n] = aif_lse_finish(mx[n], sm[n]);
  }
};
}  // namespace

std::int64_t aif_workspace_floats(const AifConfig& cfg) { return AifLayout(cfg).total; }

void aif_plan_cpu(const AifConfig& cfg, const AifProblem* problems, std::int64_t count) {
  const std::int64_t ws = aif_workspace_floats(cfg);
#pragma omp parallel if (count > 1)
  {
    std::vector<float> workspace(static_cast<std::size_t>(ws));
    const SerialExec exec;
#pragma omp for schedule(dynamic, 1)
    for (std::int64_t i = 0; i < count; ++i) {
      AifCore<SerialExec>(cfg, problems[i], workspace.data(), exec).run();
    }
  }
}

}  // namespace mpe::kernels
