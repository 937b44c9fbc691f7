// parse_seed_spec: the text form of an explicit seed (mpe relevance query --seed ID[=A]).
#include <gtest/gtest.h>
#include <mpe/error.hpp>
#include <mpe/relevance.hpp>

#include "support/errors.hpp"

using mpe::relevance::parse_seed_spec;

TEST(RelevanceSeedSpec, IdAloneHasFullActivation) {
  const auto s = parse_seed_spec("constraint.no_pii");
  EXPECT_EQ(s.id, "constraint.no_pii");
  EXPECT_EQ(s.activation, 1.0f);
}

TEST(RelevanceSeedSpec, ActivationAfterTheLastEquals) {
  auto s = parse_seed_spec("n7=0.25");
  EXPECT_EQ(s.id, "n7");
  EXPECT_EQ(s.activation, 0.25f);
  s = parse_seed_spec("a=b=1e-3");  // ids may hold '='
  EXPECT_EQ(s.id, "a=b");
  EXPECT_EQ(s.activation, 1e-3f);
  EXPECT_EQ(parse_seed_spec("x=1").activation, 1.0f);
}

TEST(RelevanceSeedSpec, RefusesWhatIsNotASeed) {
  for (const char* text : {"", "=0.5", "n=", "n=abc", "n=0.5x", "n=0", "n=-0.1", "n=1.5", "n=nan",
                           "n=inf", "n=1e-60", "n=1e999"}) {
    SCOPED_TRACE(text);
    mpe::test::expect_error([&] { (void)parse_seed_spec(text); }, mpe::ErrorCode::invalid_argument,
                            std::string("seed '") + text + "'");
  }
}
