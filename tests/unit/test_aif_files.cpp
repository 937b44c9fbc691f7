// AIF-MP model and request files: the shipped fixture reproduces the golden numbers, and
// malformed files give parse errors that name the file and the field.
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include <gtest/gtest.h>
#include <mpe/aif.hpp>

namespace mpe::aif {
namespace {

const std::string kExamples = std::string(MPE_SOURCE_DIR) + "/examples/aif/";

TEST(AifFiles, FixtureFilesReproduceTheGoldenNumbers) {
  const Model m = Model::load(kExamples + "fixture_model.json");
  EXPECT_EQ(m.states(), 2);
  EXPECT_EQ(m.goal_kind(), GoalKind::terminal);
  const auto reqs = load_requests(kExamples + "fixture_request.json");
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[1].observation_path, ObservationPath::precomputed);
  const auto plans = plan(m, reqs, Device::cpu());
  EXPECT_NEAR(plans[0].action_dist[0], 0.64464676f, 1e-5);
  EXPECT_NEAR(plans[1].action_dist[0], 0.65320015f, 1e-5);
}

std::string error_of(const std::string& text, bool request) {
  // Unique per process: the planner tests also run in a second process (baseline CPU build).
  const std::string path =
      ::testing::TempDir() + "mpe_aif_bad_" + std::to_string(::getpid()) + ".json";
  std::ofstream(path) << text;
  try {
    if (request) {
      load_requests(path);
    } else {
      Model::load(path);
    }
  } catch (const Error& e) {
    std::remove(path.c_str());
    return std::string(error_code_name(e.code())) + " | " + e.message();
  }
  std::remove(path.c_str());
  return "no error";
}

TEST(AifFiles, MalformedModelFiles) {
  const std::string ok_tail =
      R"("B": [[[[1.0]], [[0.0]]]], "action_prior": [1], "goal": {"terminal": [1.0]}})";
  EXPECT_EQ(error_of(R"({"T": [[[[1.0]]]], )" + ok_tail, false), "no error");
  auto expect = [](const std::string& got, const std::string& needle) {
    EXPECT_NE(got.find(needle), std::string::npos) << got;
  };
  expect(error_of("{\n\"T\": [1, 2,\n", false), "parse_error");
  expect(error_of("{\n\"T\": [1, 2,\n", false), "line 3: invalid JSON");
  expect(error_of(R"({)" + ok_tail, false), "missing field \"T\"");
  expect(error_of(R"({"T": [[1, 2], [3]], )" + ok_tail, false), "\"T\"[1]: ragged array");
  expect(error_of(R"({"T": {"shape": [2], "data": [1]}, )" + ok_tail, false),
         "shape [2] needs 2 values, data has 1");
  expect(error_of(R"({"T": [[[["x"]]]], )" + ok_tail, false), "expected a number or a list");
  expect(error_of(R"({"T": [[[[0.5]]]], )" + ok_tail, false), "sums to 0.5 over S_new");
  expect(
      error_of(R"({"T": [[[[1.0]]]], "B": [[[[1.0]], [[0.0]]]], "action_prior": [1], "goal": {}})",
               false),
      "\"goal\" needs \"terminal\" or \"theta\"");
  EXPECT_EQ(error_of("", false).rfind("parse_error", 0), 0u);
}

TEST(AifFiles, MalformedRequestFiles) {
  auto expect = [](const std::string& got, const std::string& needle) {
    EXPECT_NE(got.find(needle), std::string::npos) << got;
  };
  expect(error_of(R"({"q_theta": [1]})", true), "missing field \"q0\"");
  expect(error_of(R"({"q0": [1], "q_theta": [1], "method": "mcts"})", true),
         "unknown planning method 'mcts'");
  expect(error_of(R"({"q0": [1], "q_theta": [1], "observation_path": "sparse"})", true),
         "\"observation_path\" is 'sparse'");
  expect(error_of(R"({"q0": [1], "q_theta": [1], "horizon": "five"})", true), "parse_error");
  expect(
      error_of(R"({"requests": [{"q0": [1], "q_theta": [1]}, {"q0": "x", "q_theta": [1]}]})", true),
      "requests[1]: \"q0\" must be a list");
  EXPECT_EQ(error_of(R"({"q0": [1], "q_theta": [1]})", true), "no error");
}

}  // namespace
}  // namespace mpe::aif
