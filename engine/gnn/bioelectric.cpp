// Bioelectric diffusion: checks, then `steps` launches of the bio_step op ping-ponging between
// the voltage tensor and one scratch tensor (the result always lands in `voltage`).
#include <mpe/bioelectric.hpp>

#include <cmath>
#include <cstring>
#include <utility>

#include <fmt/format.h>

#include "backend.hpp"
#include "checks.hpp"

namespace mpe::bio {

void diffuse(const Csr& junctions, Tensor& voltage, const DiffusionParams& params,
             std::int64_t steps, const std::vector<std::uint8_t>& clamped) {
  constexpr const char* op = "bio::diffuse";
  using namespace mpe::detail;
  require_defined(op, voltage, "voltage");
  const Device dev = voltage.device();
  check_csr(op, junctions, dev);
  if (junctions.num_rows != junctions.num_cols) {
    throw Error(ErrorCode::invalid_graph,
                fmt::format("{}: the junction graph must be square, got {} x {}", op,
                            junctions.num_rows, junctions.num_cols));
  }
  const std::int64_t n = junctions.num_rows;
  require_f32(op, voltage, {n}, dev, "voltage");
  require_finite(op, voltage, "voltage");
  require_finite(op, junctions.weights, "junctions.weights");
  if (!(params.dt > 0.0f) || !std::isfinite(params.dt)) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("{}: dt must be finite and > 0, got {}", op, params.dt));
  }
  if (!(params.leak >= 0.0f) || !std::isfinite(params.leak) || !std::isfinite(params.v_rest)) {
    throw Error(
        ErrorCode::invalid_argument,
        fmt::format("{}: leak must be finite and >= 0 and v_rest finite, got leak {} v_rest {}", op,
                    params.leak, params.v_rest));
  }
  if (steps < 0) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("{}: steps must be >= 0, got {}", op, steps));
  }
  if (!clamped.empty() && static_cast<std::int64_t>(clamped.size()) != n) {
    throw Error(ErrorCode::shape_mismatch,
                fmt::format("{}: clamped has {} flags for {} cells", op, clamped.size(), n));
  }
  if (junctions.weighted() && dev.kind == DeviceKind::cpu) {
    const float* g = junctions.weights.data<float>();
    for (std::int64_t e = 0; e < junctions.nnz(); ++e) {
      if (!(g[e] >= 0.0f)) {
        throw Error(
            ErrorCode::invalid_argument,
            fmt::format("{}: conductance of junction {} is {} (must be >= 0)", op, e, g[e]));
      }
    }
  }
  if (steps == 0 || n == 0) return;
  Tensor flags;
  if (!clamped.empty()) {  // bytes, stored in an int32 tensor's storage
    std::vector<std::int32_t> packed((clamped.size() + 3) / 4, 0);
    std::memcpy(packed.data(), clamped.data(), clamped.size());
    flags = Tensor::from_vector(packed, {static_cast<std::int64_t>(packed.size())}, dev);
  }
  Tensor scratch = Tensor::empty({n}, DType::f32, dev);
  kernels::BioStepArgs a;
  a.row_offsets = junctions.row_offsets.data<std::int64_t>();
  a.col_indices = junctions.col_indices.data<std::int32_t>();
  a.conductance = junctions.weighted() ? junctions.weights.data<float>() : nullptr;
  a.clamped = flags.defined() ? static_cast<const std::uint8_t*>(flags.raw()) : nullptr;
  a.rows = n;
  a.dt = params.dt;
  a.leak = params.leak;
  a.v_rest = params.v_rest;
  float* cur = voltage.data<float>();
  float* next = scratch.data<float>();
  Backend& be = backend_for(dev);
  for (std::int64_t s = 0; s < steps; ++s) {
    a.v_in = cur;
    a.v_out = next;
    be.bio_step(dev.index, a);
    std::swap(cur, next);
  }
  if (cur != voltage.data<float>()) voltage.copy_from(scratch);
  be.synchronize(dev.index);
}

Csr grid_junctions(std::int64_t rows, std::int64_t cols, float g) {
  if (rows < 0 || cols < 0 || !(g >= 0.0f) || !std::isfinite(g)) {
    throw Error(
        ErrorCode::invalid_argument,
        fmt::format("grid_junctions: need rows, cols >= 0 and finite g >= 0, got {} x {}, g {}",
                    rows, cols, g));
  }
  Coo coo;
  coo.num_rows = coo.num_cols = rows * cols;
  auto link = [&](std::int64_t a, std::int64_t b) {
    coo.rows.push_back(a);
    coo.cols.push_back(b);
    coo.weights.push_back(g);
  };
  for (std::int64_t r = 0; r < rows; ++r) {
    for (std::int64_t c = 0; c < cols; ++c) {
      const std::int64_t i = r * cols + c;
      if (r > 0) link(i, i - cols);
      if (r + 1 < rows) link(i, i + cols);
      if (c > 0) link(i, i - 1);
      if (c + 1 < cols) link(i, i + 1);
    }
  }
  return csr_from_coo(coo);
}

}  // namespace mpe::bio
