#pragma once
// Runs `fn` and returns the mpe::Error it throws; records a test failure when it throws none.
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

}  // namespace mpe::test
