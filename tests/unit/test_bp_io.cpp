// Factor graph files: libDAI .fg, UAI (MARKOV, BAYES) and .evid; malformed files give
// parse_error with file:line and what was expected.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>

#include <gtest/gtest.h>
#include <unistd.h>
#include <mpe/factor_graph.hpp>

#include "support/bp_ref.hpp"
#include "support/errors.hpp"

namespace mpe {
namespace {

namespace fs = std::filesystem;
using test::expect_error;

const std::string kData = std::string(MPE_SOURCE_DIR) + "/tests/data/bp/";
constexpr double kNegInf = -std::numeric_limits<double>::infinity();

class BpFile : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::path(::testing::TempDir()) /
           (std::string("mpe_bp_io_") + info->name() + "_" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) const {
    const std::string p = (dir_ / name).string();
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }
  fs::path dir_;
};

TEST_F(BpFile, ReadsLibdaiFgWithLabelsCommentsAndImplicitZeros) {
  const bp::FactorGraph g = bp::read_fg(kData + "tiny.fg");
  ASSERT_EQ(g.num_variables(), 3);
  EXPECT_EQ(g.labels, (std::vector<std::int64_t>{3, 7, 10}));
  EXPECT_EQ(g.cardinalities, (std::vector<int>{3, 2, 2}));
  ASSERT_EQ(g.num_factors(), 3);
  EXPECT_EQ(g.factors[0].vars, (std::vector<int>{1}));
  EXPECT_NEAR(g.factors[0].log_values[1], std::log(0.75), 1e-15);
  EXPECT_EQ(g.factors[1].vars, (std::vector<int>{0, 1}));
  EXPECT_EQ(g.factors[1].log_values[4], kNegInf);  // not listed: zero
  EXPECT_NEAR(g.factors[1].log_values[5], std::log(6.0), 1e-15);
  EXPECT_EQ(g.factors[2].vars, (std::vector<int>{2, 0, 1}));
  EXPECT_NEAR(g.factors[2].log_values[11], std::log(12.0), 1e-15);
  EXPECT_EQ(g.num_edges(), 6);
  // Write and read back: the same graph.
  const std::string p = (dir_ / "copy.fg").string();
  bp::write_fg(g, p);
  const bp::FactorGraph h = bp::read_fg(p);
  EXPECT_EQ(h.labels, g.labels);
  EXPECT_EQ(h.cardinalities, g.cardinalities);
  for (int f = 0; f < 3; ++f) {
    EXPECT_EQ(h.factors[static_cast<std::size_t>(f)].vars, g.factors[static_cast<std::size_t>(f)].vars);
    for (std::size_t t = 0; t < g.factors[static_cast<std::size_t>(f)].log_values.size(); ++t) {
      const double a = g.factors[static_cast<std::size_t>(f)].log_values[t];
      const double b = h.factors[static_cast<std::size_t>(f)].log_values[t];
      if (a == kNegInf) {
        EXPECT_EQ(b, kNegInf);
      } else {
        EXPECT_NEAR(a, b, 1e-15);
      }
    }
  }
}

TEST_F(BpFile, NumbersInEveryFormStrtodTakes) {
  // The reader parses with from_chars and falls back to strtod: a leading '+', exponents,
  // hexadecimal floats, tabs and CR line ends all read as the C library reads them.
  const std::string p = write("forms.fg",
                              "1\r\n\n1\n+4\n4\n4\n"
                              "0\t+0.25\n1 2.5e-1\n+2 0x1p-2\n3 .25\n");
  const bp::FactorGraph g = bp::read_fg(p);
  ASSERT_EQ(g.num_factors(), 1);
  EXPECT_EQ(g.labels, (std::vector<std::int64_t>{4}));
  for (double x : g.factors[0].log_values) EXPECT_EQ(x, std::log(0.25));
  for (const char* bad : {"1\n1\n0\n2\n1\n0 +-1\n", "1\n1\n0\n2\n1\n0 0.5x\n",
                          "1\n1\n+-0\n2\n1\n0 1\n", "1\n1\n0\n2\n1\n0 nan\n"}) {
    expect_error([&] { bp::read_fg(write("bad.fg", bad)); }, ErrorCode::parse_error, "bad.fg:");
  }
}

TEST_F(BpFile, FgGraphRunsExactlyOnATree) {
  const bp::FactorGraph g = bp::read_factor_graph(kData + "tiny.fg");
  // Factors {7}, {3,7}, {10,3,7}: the last two share two variables, so not a tree; check the
  // fixed point's consistency with enumeration only loosely, and exactness on the first two.
  bp::FactorGraph t;
  t.cardinalities = g.cardinalities;
  t.factors = {g.factors[0], g.factors[1]};
  bp::Options o;
  o.device = Device::cpu();
  o.tol = 1e-13;
  const bp::Result r = bp::run(t, o);
  const test::BpExact ex = test::bp_brute_force(t);
  for (int v = 0; v < 3; ++v) {
    for (std::size_t x = 0; x < r.var_beliefs[static_cast<std::size_t>(v)].size(); ++x) {
      EXPECT_NEAR(r.var_beliefs[static_cast<std::size_t>(v)][x], ex.var_marginals[static_cast<std::size_t>(v)][x], 1e-12);
    }
  }
  EXPECT_NEAR(r.log_z, ex.log_z, 1e-12);
}

TEST_F(BpFile, ReadsUaiMarkovWithTheLastVariableFastest) {
  const bp::FactorGraph g = bp::read_factor_graph(kData + "chain.uai");
  ASSERT_EQ(g.cardinalities, (std::vector<int>{2, 3, 2}));
  ASSERT_EQ(g.num_factors(), 3);
  EXPECT_EQ(g.factors[1].vars, (std::vector<int>{0, 1}));
  // File rows (x0, x1): (0,0)=1 (0,1)=2 (0,2)=3 (1,0)=4 (1,1)=5 (1,2)=6; ours t = x0 + 2·x1.
  const double want[6] = {1, 4, 2, 5, 3, 6};
  for (int t = 0; t < 6; ++t) EXPECT_NEAR(g.factors[1].log_values[static_cast<std::size_t>(t)], std::log(want[t]), 1e-15);
  EXPECT_NEAR(g.factors[2].log_values[1], std::log(0.2), 1e-15);  // (x1=1, x2=0)
  // A chain: BP is exact, with and without evidence.
  const auto evs = bp::read_uai_evidence(kData + "chain.evid", g);
  ASSERT_EQ(evs.size(), 1u);
  EXPECT_EQ(evs[0], (std::vector<int>{1, -1, 0}));
  bp::Options o;
  o.device = Device::cpu();
  for (const std::vector<int>& ev : {std::vector<int>{}, evs[0]}) {
    const bp::Result r = bp::run(g, o, ev);
    const test::BpExact ex = test::bp_brute_force(g, ev);
    EXPECT_NEAR(r.log_z, ex.log_z, 1e-10);
    for (int x = 0; x < 3; ++x) EXPECT_NEAR(r.var_beliefs[1][static_cast<std::size_t>(x)], ex.var_marginals[1][static_cast<std::size_t>(x)], 1e-10);
  }
  const auto two = bp::read_uai_evidence(kData + "chain_two_samples.evid", g);
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two[0], (std::vector<int>{1, -1, -1}));
  EXPECT_EQ(two[1], (std::vector<int>{-1, -1, 0}));
}

TEST_F(BpFile, ReadsUaiBayesNetworks) {
  const bp::FactorGraph g = bp::read_uai(kData + "sprinkler.uai");
  ASSERT_EQ(g.num_variables(), 4);
  EXPECT_EQ(g.factors[3].vars, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(g.factors[3].log_values[0], 0.0);       // P(W=0 | S=0, R=0) = 1
  EXPECT_EQ(g.factors[3].log_values[4], kNegInf);   // P(W=1 | S=0, R=0) = 0
  // Without evidence the CPTs send uniform messages upwards: the ancestors' marginals are
  // exact and log Z = 0 (W's belief treats S and R as independent, so it is not).
  bp::Options o;
  o.device = Device::cpu();
  const bp::Result r = bp::run(g, o);
  const test::BpExact ex = test::bp_brute_force(g);
  EXPECT_NEAR(r.log_z, 0.0, 1e-12);
  for (int v = 0; v < 3; ++v) {
    EXPECT_NEAR(r.var_beliefs[static_cast<std::size_t>(v)][1], ex.var_marginals[static_cast<std::size_t>(v)][1], 1e-12);
  }
  EXPECT_GT(std::fabs(r.var_beliefs[3][1] - ex.var_marginals[3][1]), 0.01);
}

// Needles starting with ':' follow the file name ("<file>:<line>: ...").
bool names(const Error& e, const std::string& file, const std::string& needle) {
  const std::string want = needle[0] == ':' ? file + needle : needle;
  return std::string(e.what()).find(want) != std::string::npos;
}

TEST_F(BpFile, MalformedFgFilesNameFileLineAndWhatWasExpected) {
  struct Case {
    const char* text;
    const char* needle;
  };
  const Case cases[] = {
      {"", ":0: expected the number of factors, found the end of the file"},
      {"x\n", ":1: expected the number of factors, got 'x'"},
      {"1\n\n2\n0 1\n2 2\n1\n0 0.5\n0 1\n", ":8: unexpected '0' after the last of the 1 factors"},
      {"1\n\n1\n0\n2\n2\n0 0.5\n", ":7: expected an entry index of factor 0, found the end"},
      {"1\n\n1\n0\n2\n1\n0 -0.5\n", ":7: the value of entry 0 of factor 0 is '-0.5'"},
      {"1\n\n1\n0\n2\n1\n0 nan\n", ":7: the value of entry 0 of factor 0 is 'nan'"},
      {"1\n\n1\n0\n2\n1\n0 inf\n", "potentials must be finite"},
      {"1\n\n1\n0\n2\n1\n2 0.5\n", ":7: an entry index of factor 0 is 2, expected a value in [0, 1]"},
      {"1\n\n1\n0\n2\n3\n", ":6: the number of non-zero entries of factor 0 is 3"},
      {"2\n\n1\n0\n2\n0\n\n1\n0\n3\n0\n", ":10: variable 0 has cardinality 3 in factor 1 but 2"},
      {"1\n\n2\n4 4\n2 2\n0\n", ":4: factor 0 lists variable 4 twice"},
      {"1\n\n0\n", ":3: the number of variables of factor 0 is 0"},
      {"1\n\n1\n0\n0\n0\n", ":5: the cardinality of variable 0 in factor 0 is 0"},
  };
  for (const Case& c : cases) {
    const std::string p = write("bad.fg", c.text);
    const Error e = test::catch_error([&] { bp::read_fg(p); });
    EXPECT_EQ(e.code(), ErrorCode::parse_error) << e.what();
    EXPECT_TRUE(names(e, p, c.needle)) << "'" << e.what() << "' lacks '" << c.needle << "'";
  }
  expect_error([&] { bp::read_fg((dir_ / "missing.fg").string()); }, ErrorCode::io_error,
               "missing.fg");
}

TEST_F(BpFile, MalformedUaiAndEvidenceFiles) {
  struct Case {
    const char* text;
    const char* needle;
  };
  const Case cases[] = {
      {"CSP\n", ":1: expected the preamble MARKOV or BAYES, got 'CSP'"},
      {"MARKOV\n2\n2 2\n1\n2 0 2\n", ":5: variable 1 of factor 0 is 2, expected a value in [0, 1]"},
      {"MARKOV\n2\n2 2\n1\n2 0 1\n3\n1 2 3\n", ":6: the number of table entries of factor 0 (= 4) is 3"},
      {"MARKOV\n1\n2\n1\n1 0\n2\n0.5\n", ":7: expected entry 1 of factor 0, found the end"},
      {"MARKOV\n1\n2\n1\n1 0\n2\n0.5 -1\n", ":7: entry 1 of factor 0 is '-1'"},
      {"MARKOV\n1\n2\n1\n1 0\n2\n0.5 0.5 7\n", ":7: unexpected '7' after the table"},
      {"BAYES\n1\n2\n1\n1 0\n2\n0.5 NaN\n", "entry 1 of factor 0 is 'NaN'"},
  };
  for (const Case& c : cases) {
    const std::string p = write("bad.uai", c.text);
    const Error e = test::catch_error([&] { bp::read_uai(p); });
    EXPECT_EQ(e.code(), ErrorCode::parse_error) << e.what();
    EXPECT_TRUE(names(e, p, c.needle)) << "'" << e.what() << "' lacks '" << c.needle << "'";
  }
  const bp::FactorGraph g = bp::read_uai(kData + "chain.uai");
  const Case ev_cases[] = {
      {"2 0 1\n", ":1: the line says 2 observed variables, so it needs 5 numbers, found 3"},
      {"1 3 0\n", ":1: observed variable 3 is out of range [0, 3)"},
      {"1 1 3\n", ":1: variable 1 is observed in state 3, out of range [0, 3)"},
      {"1 a 0\n", ":1: expected an integer"},
      {"3\n1 0 1\n", ":1: the file has 1 evidence lines after the sample count, which says 3"},
      {"", "empty file"},
  };
  for (const Case& c : ev_cases) {
    const std::string p = write("bad.evid", c.text);
    const Error e = test::catch_error([&] { bp::read_uai_evidence(p, g); });
    EXPECT_EQ(e.code(), ErrorCode::parse_error) << e.what();
    EXPECT_TRUE(names(e, p, c.needle)) << "'" << e.what() << "' lacks '" << c.needle << "'";
  }
}

}  // namespace
}  // namespace mpe
