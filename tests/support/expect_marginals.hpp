#pragma once
// Table-by-table comparison of BP marginals (variable or factor beliefs) with a reference.
#include <cmath>
#include <vector>

#include <gtest/gtest.h>

namespace mpe::test {

// Same number of tables and of entries per table, no NaN, each entry within tol; `what` names
// the kind of table in the failure message.
inline void expect_close(const std::vector<std::vector<double>>& got,
                         const std::vector<std::vector<double>>& want, double tol,
                         const char* what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (std::size_t i = 0; i < got.size(); ++i) {
    ASSERT_EQ(got[i].size(), want[i].size()) << what << " " << i;
    for (std::size_t x = 0; x < got[i].size(); ++x) {
      ASSERT_FALSE(std::isnan(got[i][x])) << what << " " << i << "," << x;
      EXPECT_NEAR(got[i][x], want[i][x], tol) << what << " " << i << " state " << x;
    }
  }
}

}  // namespace mpe::test
