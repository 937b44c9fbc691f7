#pragma once
// Runs `fn` and returns the mpe::Error it throws; records a test failure when it throws none.
#include <string>

#include <gtest/gtest.h>
#include <mpe/error.hpp>

namespace mpe::test {

template <class Fn>
Error catch_error(Fn&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "no mpe::Error thrown";
  return Error(ErrorCode::internal, "none");
}

// Expects `fn` to throw an mpe::Error with `code` whose message contains `needle`.
template <class Fn>
void expect_error(Fn&& fn, ErrorCode code, const std::string& needle) {
  const Error e = catch_error(fn);
  EXPECT_EQ(e.code(), code) << e.what();
  EXPECT_NE(std::string(e.what()).find(needle), std::string::npos)
      << "'" << e.what() << "' lacks '" << needle << "'";
}

}  // namespace mpe::test
