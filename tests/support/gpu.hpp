#pragma once
// GPU tests skip visibly when no CUDA device answers; MPE_REQUIRE_CUDA=1 makes that a failure.
#include <gtest/gtest.h>

namespace mpe::test {
bool cuda_available();
bool cuda_required();
}  // namespace mpe::test

#define MPE_REQUIRE_CUDA_OR_SKIP()                                                        \
  do {                                                                                    \
    if (!::mpe::test::cuda_available()) {                                                 \
      if (::mpe::test::cuda_required()) {                                                 \
        FAIL() << "MPE_REQUIRE_CUDA=1 but no CUDA device answers (or CUDA is not built)"; \
      }                                                                                   \
      GTEST_SKIP() << "no CUDA device: GPU parity test skipped";                          \
    }                                                                                     \
  } while (0)
