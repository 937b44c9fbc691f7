// mpe-bench op lse_contract: batched log-space contraction y = logsumexp_j(M + x).
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <future>
#include <random>
#include <thread>
#include <utility>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <mpe/aif.hpp>
#include <mpe/attention.hpp>
#include <mpe/engine.hpp>
#include <mpe/ops.hpp>

#include "graphs.hpp"
#include "ops/common.hpp"
#include "ops/registry.hpp"

namespace mpe::bench {

namespace {
PreparedCase prepare_lse(const CasePoint& p, const Device& device, std::uint64_t seed) {
  const std::int64_t B = param(p, "batch"), I = param(p, "rows"), J = param(p, "cols");
  const bool shared = param(p, "shared") != 0;
  const Shape m_shape = shared ? Shape{I, J} : Shape{B, I, J};
  auto M = std::make_shared<Tensor>(random_tensor(m_shape, -8.f, 2.f, seed, device));
  auto x = std::make_shared<Tensor>(random_tensor({B, J}, -5.f, 1.f, seed + 1, device));
  auto y = std::make_shared<Tensor>(Tensor::empty({B, I}, DType::f32, device));
  y->fill_bytes(0xFF);  // poison: NaN until written
  PreparedCase c;
  c.run = [M, x, y] { lse_contract(*M, *x, *y); };
  c.bytes = 4.0 * (double(M->numel()) + double(B * J) + double(B * I));
  c.flops = 0;  // exp-bound, not FLOP-bound
  c.shape = fmt::format("B={} I={} J={} M={}", B, I, J, shared ? "shared" : "per-batch");
  return c;
}

void validate_lse(const Grid& g) {
  check_at_least("batch", g.batch, 1);
  check_at_least("rows", g.rows, 1);
  check_at_least("cols", g.cols, 1);
  for (auto s : g.shared) {
    if (s != 0 && s != 1) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("--shared {} is out of range (0 or 1)", s));
    }
  }
}

void expand_lse(const Grid& grid, std::vector<CasePoint>& out) {
  cartesian("lse_contract",
            {{"batch", texts(grid.batch)},
             {"rows", texts(grid.rows)},
             {"cols", texts(grid.cols)},
             {"shared", texts(grid.shared)}},
            out);
}

// mpe-bench's flags of this op (their values fill the grid).
void add_lse_contract_flags(CLI::App& app, Grid& g) {
  app.add_option("--batch", g.batch, "lse_contract: batch B")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--rows", g.rows, "lse_contract: rows I")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--cols", g.cols, "lse_contract: contracted length J")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--shared", g.shared, "lse_contract: 1 = one M for the batch")
      ->delimiter(',')
      ->capture_default_str();
}
}  // namespace

MPE_BENCH_OP({"lse_contract", validate_lse, expand_lse,
              [](const CasePoint& p, const Device& d, std::uint64_t seed, const std::string&) {
                return prepare_lse(p, d, seed);
              },
              add_lse_contract_flags})
}  // namespace mpe::bench
