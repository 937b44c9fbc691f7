// Inputs the fuzz targets (tests/fuzz) found crashing a reader, kept in tests/data/regress:
// each now gives a clear mpe::Error naming the file and what was wrong.
#include <string>

#include <gtest/gtest.h>
#include <mpe/aif.hpp>

#include "support/errors.hpp"

namespace mpe {
namespace {

using test::expect_error;

const std::string kRegress = std::string(MPE_SOURCE_DIR) + "/tests/data/regress/";

// fuzz_aif_model: "17777777771e397" is beyond double's range; nlohmann throws out_of_range,
// which escaped Model::load as a non-mpe exception.
TEST(FuzzRegressions, ModelJsonNumberBeyondDouble) {
  expect_error([] { aif::Model::load(kRegress + "json_number_overflow_model.json"); },
               ErrorCode::parse_error,
               "json_number_overflow_model.json: invalid JSON ([json.exception.out_of_range.406] "
               "number overflow parsing '17777777771e397')");
}

// fuzz_aif_request: the same in a request file ("1e390").
TEST(FuzzRegressions, RequestJsonNumberBeyondDouble) {
  expect_error([] { aif::load_requests(kRegress + "json_number_overflow_request.json"); },
               ErrorCode::parse_error, "number overflow parsing '1e390'");
}

// Found reviewing the request reader next to the crash above: "horizon": 1e20 was converted
// to int without a check (undefined behaviour).
TEST(FuzzRegressions, RequestIntegerFieldOutOfRange) {
  expect_error([] { aif::load_requests(kRegress + "request_horizon_1e20.json"); },
               ErrorCode::parse_error, "\"horizon\" is 1e+20, expected an integer");
}

}  // namespace
}  // namespace mpe
