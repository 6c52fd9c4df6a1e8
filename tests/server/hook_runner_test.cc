#include "server/hook_runner.h"

#include <gtest/gtest.h>

namespace tidewatch::server {
namespace {

using namespace std::chrono_literals;

const HookValues kValues = {{"failureType", "DeadMaster"},
                            {"failedHost", "127.0.0.1"},
                            {"failedPort", "3306"},
                            {"successorHost", "db2"},
                            {"countReplicas", "3"},
                            {"countSlaves", "3"}};

TEST(HookRunner, PlaceholdersAreReplacedAndUnknownOnesKept) {
  EXPECT_EQ(ExpandPlaceholders("{failureType} on {failedHost}:{failedPort} -> {successorHost} {unknown} {", kValues),
            "DeadMaster on 127.0.0.1:3306 -> db2 {unknown} {");
  EXPECT_EQ(ExpandPlaceholders("{countSlaves}/{countReplicas}", kValues), "3/3");
}

TEST(HookRunner, EnvironmentHasOrchestratorsNames) {
  const auto env = HookEnvironment(kValues);
  auto has = [&](const std::string& v) { return std::find(env.begin(), env.end(), v) != env.end(); };
  EXPECT_TRUE(has("ORC_FAILURE_TYPE=DeadMaster"));
  EXPECT_TRUE(has("ORC_FAILED_HOST=127.0.0.1"));
  EXPECT_TRUE(has("ORC_FAILED_PORT=3306"));
  EXPECT_TRUE(has("ORC_SUCCESSOR_HOST=db2"));
  EXPECT_TRUE(has("ORC_COUNT_REPLICAS=3"));
}

TEST(HookRunner, RunsWithPlaceholdersAndEnvironmentAndKeepsOutputAndExitCode) {
  HookResult r = RunHook("echo {failedHost} $ORC_FAILURE_TYPE; echo oops >&2; exit 3", kValues, 10s);
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.command, "echo 127.0.0.1 $ORC_FAILURE_TYPE; echo oops >&2; exit 3");
  EXPECT_NE(r.output.find("127.0.0.1 DeadMaster"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("oops"), std::string::npos) << r.output;
}

TEST(HookRunner, ATimeoutKillsTheCommandAndWhatItStarted) {
  const auto started = std::chrono::steady_clock::now();
  HookResult r = RunHook("sleep 30 & sleep 30; echo never", {}, 300ms);
  EXPECT_TRUE(r.timed_out);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_EQ(r.output.find("never"), std::string::npos);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 10s);
}

TEST(HookRunner, ABackgroundCommandIsNotWaitedFor) {
  const auto started = std::chrono::steady_clock::now();
  HookResult r = RunHook("sleep 5 &", {}, 10s);
  EXPECT_TRUE(r.background);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 4s);
}

}  // namespace
}  // namespace tidewatch::server
