// Inputs that declare sizes far beyond what they hold (tests/data/regress): each reader fails
// fast with a clear error before allocating, and the ceiling (mpe/limits.hpp) can be lowered
// and raised.
#include <cstdint>
#include <string>

#include <gtest/gtest.h>
#include <mpe/factor_graph.hpp>
#include <mpe/graph.hpp>
#include <mpe/limits.hpp>
#include <mpe/npy.hpp>

#include "support/errors.hpp"

namespace mpe {
namespace {

using test::expect_error;

const std::string kRegress = std::string(MPE_SOURCE_DIR) + "/tests/data/regress/";
const std::string kData = std::string(MPE_SOURCE_DIR) + "/tests/data/";

// Sets the ceiling for one test and restores the previous value.
class CeilingGuard {
 public:
  explicit CeilingGuard(std::int64_t bytes) : previous_(set_max_input_bytes(bytes)) {}
  ~CeilingGuard() { set_max_input_bytes(previous_); }
  CeilingGuard(const CeilingGuard&) = delete;
  CeilingGuard& operator=(const CeilingGuard&) = delete;

 private:
  std::int64_t previous_;
};

TEST(InputLimits, CeilingIsSettableAndRejectsNonPositive) {
  const std::int64_t before = max_input_bytes();
  EXPECT_GT(before, 0);
  {
    CeilingGuard g(12345);
    EXPECT_EQ(max_input_bytes(), 12345);
    expect_error([] { check_input_bytes(12346, "a test size"); }, ErrorCode::out_of_memory,
                 "a test size would need 1.235e+04 bytes, more than the input ceiling of 12345");
    EXPECT_NO_THROW(check_input_bytes(12345, "a test size"));
  }
  EXPECT_EQ(max_input_bytes(), before);
  expect_error([] { set_max_input_bytes(0); }, ErrorCode::invalid_argument, "must be positive");
  expect_error([] { set_max_input_bytes(-5); }, ErrorCode::invalid_argument, "got -5");
  EXPECT_EQ(max_input_bytes(), before);
  // NaN (a product that went wrong) is never below the ceiling.
  expect_error([] { check_input_bytes(0.0 / 0.0, "nan"); }, ErrorCode::out_of_memory, "nan");
}

// 5 x 54294967297 with 7 entries reads (the entries are in range); building the pull CSR of
// its transpose would need 5.4e10 row offsets: out_of_memory naming the shape, not bad_alloc.
TEST(InputLimits, MatrixMarketHugeColumnsFailsBeforeAllocating) {
  const Coo coo = read_matrix_market(kRegress + "huge_cols.mtx");
  EXPECT_EQ(coo.num_rows, 5);
  EXPECT_EQ(coo.num_cols, 54294967297);
  ASSERT_EQ(coo.rows.size(), 7u);
  EXPECT_EQ(coo.cols[3], 54294967296);
  expect_error([&] { csr_from_coo(transposed(coo)); }, ErrorCode::out_of_memory,
               "a 54294967297 x 5 graph with 7 entries");
  // The untransposed COO has too many columns for int32 column indices.
  expect_error([&] { csr_from_coo(coo); }, ErrorCode::invalid_graph, "column indices are int32");
}

TEST(InputLimits, MatrixMarketHugeEntryCountFailsAtTheHeader) {
  expect_error([] { read_matrix_market(kRegress + "huge_entries.mtx"); }, ErrorCode::out_of_memory,
               "huge_entries.mtx:2: 1000000000000 declared entries");
  // Below the ceiling the count is honoured: the file ends after 1 entry.
  const std::string path = kRegress + "huge_entries.mtx";
  CeilingGuard g(std::int64_t{1} << 62);
  expect_error([&] { read_matrix_market(path); }, ErrorCode::parse_error,
               "file ends after 1 entries, 1000000000000 declared");
}

TEST(InputLimits, LoweredCeilingRefusesAnOrdinaryGraph) {
  CeilingGuard g(64);
  // A 5-row COO needs 24 * 6 + 32 * (entries + rows) bytes: above 64.
  Coo coo;
  coo.num_rows = coo.num_cols = 5;
  coo.rows = {0, 1};
  coo.cols = {1, 2};
  expect_error([&] { csr_from_coo(coo); }, ErrorCode::out_of_memory, "5 x 5 graph with 2 entries");
}

TEST(InputLimits, NpyHeaderDeclaringTwoToTheFortyBytes) {
  expect_error([] { read_npy(kRegress + "huge_shape.npy"); }, ErrorCode::parse_error,
               "body holds 16 bytes, fewer than the 1099511627776 bytes shape [137438953472]");
}

TEST(InputLimits, NpyBelowTheFileSizeButAboveTheCeiling) {
  const std::string path = kData + "npy/f32_4.npy";  // 16 bytes of data
  EXPECT_EQ(read_npy(path).numel(), 4);
  CeilingGuard g(15);
  expect_error([&] { read_npy(path); }, ErrorCode::out_of_memory, "f32_4.npy: shape [4]");
}

TEST(InputLimits, UaiTableOfABillionEntriesReadsValuesFirst) {
  expect_error([] { bp::read_uai(kRegress + "huge_table.uai"); }, ErrorCode::parse_error,
               "expected entry 2 of factor 0, found the end of the file");
}

TEST(InputLimits, UaiVariableWithABillionStates) {
  expect_error([] { bp::read_uai(kRegress + "huge_state.uai"); }, ErrorCode::parse_error,
               "the cardinality of variable 0 is 1000000000, expected a value in [1, 1000000]");
}

TEST(InputLimits, FgSparseBillionEntryTableAboveALoweredCeiling) {
  CeilingGuard g(std::int64_t{1} << 30);
  expect_error([] { bp::read_fg(kRegress + "huge_table.fg"); }, ErrorCode::out_of_memory,
               "huge_table.fg: the table of factor 0 (1000000000 entries)");
}

// Found by fuzz_uai_evidence: a count near 2^63 overflowed 1 + 2 * count (UBSan).
TEST(InputLimits, EvidenceCountNearTwoToTheSixtyThree) {
  bp::FactorGraph g;
  g.add_variable(2);
  g.add_variable(3);
  expect_error([&] { bp::read_uai_evidence(kRegress + "evid_count_overflow.evid", g); },
               ErrorCode::parse_error,
               "evid_count_overflow.evid:1: the line says 9223372036854775807 observed variables, "
               "so it needs 1 + 2 x 9223372036854775807 numbers, found 1");
  expect_error([&] { bp::read_uai_evidence(kRegress + "evid_count_overflow_samples.evid", g); },
               ErrorCode::parse_error, "4611686018427387904 observed variables");
}

}  // namespace
}  // namespace mpe
