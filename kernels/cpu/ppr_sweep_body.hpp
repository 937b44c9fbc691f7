#pragma once
// The CPU body of ppr_sweep (kernels/ppr_sweep.hpp), included by kernels/cpu/ppr_sweep.cpp
// (baseline build) and kernels/cpu/isa/ppr_sweep_x86_64_v3.cpp (AVX2 and FMA, `kernels`
// renamed). One template per width so that a row's W sums stay in registers.
#include <cmath>
#include <cstring>

#include "ppr_sweep.hpp"

namespace mpe::kernels {

namespace ppr_detail {
// Four doubles (GCC/Clang vector extension: one AVX register in the x86-64-v3 build, two SSE
// registers in the baseline one), and four floats widened to them.
typedef double V4 __attribute__((vector_size(32)));
typedef float V4f __attribute__((vector_size(16)));

// Four scores as doubles (through a reference: a returned AVX vector changes the baseline ABI).
template <typename T>
inline __attribute__((always_inline)) void load4(const T* p, V4& v) {
  if constexpr (sizeof(T) == sizeof(double)) {
    std::memcpy(&v, p, sizeof v);
  } else {
    V4f f;
    std::memcpy(&f, p, sizeof f);
    v = __builtin_convertvector(f, V4);
  }
}

// W = 0: any width up to kPprMaxWidth, read at run time (slower loops). T: how y is stored.
template <int W, typename T>
void sweep(const PprSweepArgs& a, T* y) {
  constexpr int kCap = W ? W : int(kPprMaxWidth);
  const int w = W ? W : int(a.width);
  double d[kCap], change[kCap], mass[kCap];
  for (int k = 0; k < w; ++k) {
    d[k] = a.damping[k];
    change[k] = 0.0;
    mass[k] = 0.0;
  }
  std::int64_t s = 0;
  for (std::int64_t i = a.begin; i < a.end; ++i) {
    const std::int64_t e0 = a.row_offsets[i], e1 = a.row_offsets[i + 1];
    double acc[kCap];
    for (int k = 0; k < w; ++k) acc[k] = 0.0;
    if constexpr (W == 1) {  // four chains: the gathers' and the adds' latencies overlap
      double c0 = 0.0, c1 = 0.0, c2 = 0.0, c3 = 0.0;
      std::int64_t e = e0;
      for (; e + 3 < e1; e += 4) {
        c0 += a.weights[e] * double(y[a.sources[e]]);
        c1 += a.weights[e + 1] * double(y[a.sources[e + 1]]);
        c2 += a.weights[e + 2] * double(y[a.sources[e + 2]]);
        c3 += a.weights[e + 3] * double(y[a.sources[e + 3]]);
      }
      for (; e < e1; ++e) c0 += a.weights[e] * double(y[a.sources[e]]);
      acc[0] = (c0 + c1) + (c2 + c3);
    } else if constexpr (W >= 4 && W % 4 == 0) {
      // W / 4 vectors of 4 sums, two sets over alternate edges (the adds' latency overlaps;
      // GCC leaves the plain loop scalar).
      V4 v[W / 4], u[W / 4];
      for (int q = 0; q < W / 4; ++q) v[q] = u[q] = V4{0.0, 0.0, 0.0, 0.0};
      std::int64_t e = e0;
      for (; e + 1 < e1; e += 2) {
        const double w0 = a.weights[e], w1 = a.weights[e + 1];
        const T* x0 = y + std::int64_t(a.sources[e]) * W;
        const T* x1 = y + std::int64_t(a.sources[e + 1]) * W;
        for (int q = 0; q < W / 4; ++q) {
          V4 p0, p1;
          load4(x0 + 4 * q, p0);
          load4(x1 + 4 * q, p1);
          v[q] += w0 * p0;
          u[q] += w1 * p1;
        }
      }
      if (e < e1) {
        const double w0 = a.weights[e];
        const T* x0 = y + std::int64_t(a.sources[e]) * W;
        for (int q = 0; q < W / 4; ++q) {
          V4 p0;
          load4(x0 + 4 * q, p0);
          v[q] += w0 * p0;
        }
      }
      for (int q = 0; q < W / 4; ++q) v[q] += u[q];
      std::memcpy(acc, v, sizeof v);
    } else {
      for (std::int64_t e = e0; e < e1; ++e) {
        const double we = a.weights[e];
        const T* x = y + std::int64_t(a.sources[e]) * w;
        for (int k = 0; k < w; ++k) acc[k] += we * double(x[k]);
      }
    }
    double r[kCap];
    for (int k = 0; k < w; ++k) r[k] = 0.0;
    for (; s < a.resets && a.reset_row[s] == i; ++s) r[a.reset_col[s]] += a.reset_value[s];
    T* yi = y + i * w;
    const double g = a.diag[i];
    if (g != 0.0)  // a self-loop: y_i = r + d (acc + g y_i), solved for exactly
      for (int k = 0; k < w; ++k) acc[k] = (r[k] + d[k] * acc[k]) / (1.0 - d[k] * g);
    else
      for (int k = 0; k < w; ++k) acc[k] = r[k] + d[k] * acc[k];
    const double b = a.back[i];
    for (int k = 0; k < w; ++k) {
      const double old = double(yi[k]);
      const double v = double(T(old + a.omega * (acc[k] - old)));  // as stored
      change[k] += (1.0 - d[k] * g) * std::fabs(acc[k] - v) + d[k] * b * std::fabs(v - old);
      mass[k] += v;
      yi[k] = T(v);
    }
  }
  for (int k = 0; k < w; ++k) {
    a.change[k] = change[k];
    a.mass[k] = mass[k];
  }
}

template <typename T>
void sweep_width(const PprSweepArgs& a, T* y) {
  switch (a.width) {
    case 1: return sweep<1>(a, y);
    case 2: return sweep<2>(a, y);
    case 4: return sweep<4>(a, y);
    case 8: return sweep<8>(a, y);
    case 16: return sweep<16>(a, y);
    default: return sweep<0>(a, y);
  }
}
}  // namespace ppr_detail

inline void ppr_sweep_cpu_body(const PprSweepArgs& a) {
  if (a.y_f32)
    ppr_detail::sweep_width(a, a.y_f32);
  else
    ppr_detail::sweep_width(a, a.y);
}

}  // namespace mpe::kernels
