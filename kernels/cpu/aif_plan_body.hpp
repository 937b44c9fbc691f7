#pragma once
// The CPU AIF-MP planner body: the shared core (kernels/common/aif_core.hpp) run with plain,
// vectorisable loops, one problem per OpenMP thread. Compiled more than once: plainly in
// aif_plan.cpp, and for newer x86-64 levels in kernels/cpu/isa/*.cpp, where `kernels` is
// #defined to a level-specific name first so that no inline function of one build can stand in
// for another's (aif_plan.cpp picks the build at run time).
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>

#include "aif_plan.hpp"
#include "common/aif_core.hpp"
#include "cpu/aif_host_paths.hpp"

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
  static constexpr bool kHostRows = true;  // AifCore's host row paths (single-pass sums)

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

// Plans `count` problems. The arguments are the caller's AifConfig and AifProblem array,
// passed untyped because a level-specific build has its own (identical) copies of those types;
// they are copied byte for byte into this build's types.
inline void aif_plan_cpu_body(const void* cfg_bytes, const void* problem_bytes,
                              std::int64_t count) {
  AifConfig cfg;
  std::memcpy(&cfg, cfg_bytes, sizeof cfg);
  const auto* problems = static_cast<const unsigned char*>(problem_bytes);
  const std::int64_t ws = AifLayout(cfg, SerialExec::kHostRows).total;
  bool out_of_memory = false;
#pragma omp parallel if (count > 1)
  {
    // malloc, not std::vector: a level-specific build must not emit shared std:: code.
    auto* workspace = static_cast<float*>(std::malloc(static_cast<std::size_t>(ws) * sizeof(float)));
    if (!workspace) {
#pragma omp atomic write
      out_of_memory = true;
    }
    const SerialExec exec;
#pragma omp for schedule(dynamic, 1)
    for (std::int64_t i = 0; i < count; ++i) {
      if (!workspace) continue;
      AifProblem p;
      std::memcpy(&p, problems + i * static_cast<std::int64_t>(sizeof(AifProblem)), sizeof p);
      AifCore<SerialExec>(cfg, p, workspace, exec).run();
    }
    std::free(workspace);
  }
  if (out_of_memory) throw std::bad_alloc();
}

}  // namespace mpe::kernels
