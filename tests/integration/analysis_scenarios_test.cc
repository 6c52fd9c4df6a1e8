// Each analysis code the sandbox can produce, produced on real servers: the
// topology is broken as the code describes, `tidewatch run` must open
// exactly that analysis on exactly that instance, and close it once the
// topology is repaired.
#include <gtest/gtest.h>

#include "tests/integration/daemon_process.h"
#include "tests/integration/sandbox.h"

namespace tidewatch::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

struct Scenario {
  const char* name;
  const char* spec;
  std::vector<std::string> up_args;
  std::vector<std::string> steps;     // "kill b", "pause b", "sql r1 STOP SLAVE", …
  const char* instance;               // the analyzed instance's name in the spec
  const char* code;
  std::vector<std::string> repair;    // empty: not repaired in this scenario
  json extra_config = json::object();
};

void PrintTo(const Scenario& s, std::ostream* os) { *os << s.name; }

// Runs one step on the sandbox: a sandbox subcommand, or "sql NAME STATEMENT".
void Step(const Sandbox& sb, const std::string& step) {
  if (step.rfind("sql ", 0) == 0) {
    const auto space = step.find(' ', 4);
    sb.Sql(step.substr(4, space - 4), step.substr(space + 1));
  } else {
    sb.Run(step);
  }
}

class AnalysisScenario : public ::testing::TestWithParam<Scenario> {};

TEST_P(AnalysisScenario, OpensExactlyTheExpectedAnalysisAndClosesWhenRepaired) {
  const Scenario& sc = GetParam();
  static int slot = 0;
  const int base = 25300 + 10 * (slot++ % 60);
  std::string up_args;
  for (const auto& a : sc.up_args) up_args += a + " ";
  Sandbox sb(sc.spec, base, up_args);
  const std::string key = "127.0.0.1:" + sb.Run("port " + std::string(sc.instance)).substr(0, 5);

  const auto dir = std::filesystem::temp_directory_path() /
                   ("tidewatch-scenario-" + std::to_string(::getpid()) + "-" + sc.name);
  std::filesystem::remove_all(dir);
  // Removed however the test ends, after the daemon (declared below) is gone.
  struct RemovedAtEnd {
    std::filesystem::path dir;
    ~RemovedAtEnd() {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  } removed_at_end{dir};
  json config = {{"MySQLTopologyUser", "tidewatch"},
                 {"MySQLTopologyPassword", "tidewatch"},
                 {"DiscoverySeeds", {"127.0.0.1:" + std::to_string(base)}},
                 {"InstancePollSeconds", 1},
                 {"ListenAddress", "127.0.0.1:" + std::to_string(base + 9)}};
  for (auto it = sc.extra_config.begin(); it != sc.extra_config.end(); ++it) config[it.key()] = it.value();
  DaemonProcess d(dir, config);
  ASSERT_TRUE(d.WaitSettled()) << d.Log();
  std::this_thread::sleep_for(1500ms);  // a full poll of the healthy topology

  for (const auto& s : sc.steps) Step(sb, s);
  auto opened = d.WaitFor([&](const json& m) { return IsAnalysis(m, "OPENED", sc.code, key); }, 40s);
  ASSERT_FALSE(opened.is_null()) << sc.code << " on " << key << " never opened; log:\n" << d.Log();
  EXPECT_FALSE(opened["analysis"]["evidence"].empty());

  // Nothing but the expected analysis is open on that instance now (others
  // may be open elsewhere: a replica failing to connect to a dead master is
  // its own, true, analysis). A transient one on the way (UnreachableMaster
  // before the replicas confirm) may have opened and closed. Structure
  // warnings stand beside an analysis and are checked on their own.
  const bool warning = std::string(sc.code).find("StructureWarning") != std::string::npos;
  auto open_on_instance = [&]() {
    std::map<std::string, std::string> open;
    for (const auto& m : d.Messages()) {
      if (!m.contains("analysis") || m["analysis"]["analyzed_instance"] != key) continue;
      const std::string code = m["analysis"]["code"];
      if ((code.find("StructureWarning") != std::string::npos) != warning) continue;
      if (m["analysis"]["phase"] == "CLOSED") {
        open.erase(code);
      } else {
        open[code] = "open";
      }
    }
    return open;
  };
  auto open = open_on_instance();
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!warning && open.size() > 1 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(200ms);
    open = open_on_instance();
  }
  if (!warning) EXPECT_EQ(open.size(), 1u) << json(open).dump();
  EXPECT_EQ(open.count(sc.code), 1u) << json(open).dump();

  if (sc.repair.empty()) return;
  for (const auto& s : sc.repair) Step(sb, s);
  EXPECT_FALSE(d.WaitFor([&](const json& m) { return IsAnalysis(m, "CLOSED", sc.code, key); }, 40s).is_null())
      << sc.code << " on " << key << " did not close; log:\n"
      << d.Log();
}

const json kSemiSyncEnforced = {{"DetectSemiSyncEnforcedQuery", "SELECT 1"}};

INSTANTIATE_TEST_SUITE_P(
    Sandbox, AnalysisScenario,
    ::testing::Values(
        Scenario{"MasterWithoutReplicas", "m", {}, {}, "m", "MasterWithoutReplicas", {}},
        Scenario{"DeadMasterWithoutReplicas", "m", {}, {"kill m"}, "m", "DeadMasterWithoutReplicas", {"start m"}},
        Scenario{"DeadMasterAndReplicas", "m>r1,r2", {}, {"kill r1", "kill r2", "kill m"}, "m",
                 "DeadMasterAndReplicas", {"start m", "start r1", "start r2"}},
        Scenario{"MasterSingleReplicaNotReplicating", "m>r1", {}, {"sql r1 STOP SLAVE"}, "m",
                 "MasterSingleReplicaNotReplicating", {"sql r1 START SLAVE"}},
        Scenario{"MasterSingleReplicaDead", "m>r1", {}, {"kill r1"}, "m", "MasterSingleReplicaDead", {"start r1"}},
        Scenario{"AllMasterReplicasNotReplicatingOrDead", "m>r1,r2", {}, {"kill r1", "sql r2 STOP SLAVE"}, "m",
                 "AllMasterReplicasNotReplicatingOrDead", {"start r1", "sql r2 START SLAVE"}},
        Scenario{"DeadIntermediateMasterWithSingleReplicaFailingToConnect", "a>b>c", {}, {"kill b"}, "b",
                 "DeadIntermediateMasterWithSingleReplicaFailingToConnect", {"start b"}},
        Scenario{"DeadIntermediateMasterWithSingleReplica", "a>b>c", {}, {"sql c STOP SLAVE IO_THREAD", "kill b"}, "b",
                 "DeadIntermediateMasterWithSingleReplica", {"start b", "sql c START SLAVE IO_THREAD"}},
        Scenario{"FirstTierReplicaFailingToConnectToMaster", "m>r1,r2", {}, {"kill m"}, "r1",
                 "FirstTierReplicaFailingToConnectToMaster", {"start m"}},
        Scenario{"DeadIntermediateMasterAndSomeReplicas", "a>b>c,d", {}, {"kill c", "kill b"}, "b",
                 "DeadIntermediateMasterAndSomeReplicas", {"start b", "start c"}},
        Scenario{"DeadIntermediateMasterAndReplicas", "a>b>c,d", {}, {"kill c", "kill d", "kill b"}, "b",
                 "DeadIntermediateMasterAndReplicas", {"start b", "start c", "start d"}},
        Scenario{"UnreachableIntermediateMaster", "a>b>c,d", {}, {"pause b"}, "b", "UnreachableIntermediateMaster",
                 {"resume b"}},
        Scenario{"AllIntermediateMasterReplicasNotReplicating", "a>b>c,d", {}, {"sql c STOP SLAVE", "sql d STOP SLAVE"},
                 "b", "AllIntermediateMasterReplicasNotReplicating", {"sql c START SLAVE", "sql d START SLAVE"}},
        Scenario{"DeadCoMaster", "a<>b;b>c", {}, {"kill b"}, "b", "DeadCoMaster", {"start b"}},
        Scenario{"DeadCoMasterAndSomeReplicas", "a<>b;b>c,d", {}, {"kill d", "kill b"}, "b",
                 "DeadCoMasterAndSomeReplicas", {"start b", "start d"}},
        Scenario{"UnreachableCoMaster", "a<>b;b>c", {}, {"pause b"}, "b", "UnreachableCoMaster", {"resume b"}},
        Scenario{"AllCoMasterReplicasNotReplicating", "a<>b;b>c", {}, {"sql a STOP SLAVE", "sql c STOP SLAVE"}, "b",
                 "AllCoMasterReplicasNotReplicating", {"sql a START SLAVE", "sql c START SLAVE"}},
        // No writes at all (no Pseudo-GTID event either): the master's
        // coordinates stand still while it waits for an acknowledgement no
        // replica can send.
        Scenario{"LockedSemiSyncMaster",
                 "m>r1",
                 {"--pseudo-gtid-interval", "0"},
                 {"sql m SET GLOBAL rpl_semi_sync_master_timeout=3600000",
                  "sql m SET GLOBAL rpl_semi_sync_master_enabled=1"},
                 "m",
                 "LockedSemiSyncMaster",
                 {"sql m SET GLOBAL rpl_semi_sync_master_enabled=0"}},
        Scenario{"MasterWithTooManySemiSyncReplicas",
                 "m>r1,r2",
                 {},
                 {"sql m SET GLOBAL rpl_semi_sync_master_enabled=1", "sql r1 SET GLOBAL rpl_semi_sync_slave_enabled=1",
                  "sql r2 SET GLOBAL rpl_semi_sync_slave_enabled=1", "sql r1 STOP SLAVE IO_THREAD",
                  "sql r1 START SLAVE IO_THREAD", "sql r2 STOP SLAVE IO_THREAD", "sql r2 START SLAVE IO_THREAD"},
                 "m",
                 "MasterWithTooManySemiSyncReplicas",
                 {"sql r2 SET GLOBAL rpl_semi_sync_slave_enabled=0"},
                 kSemiSyncEnforced},
        // Structure warnings: dangers for a future promotion.
        Scenario{"StatementAndRowLoggingReplicasStructureWarning", "m>r1[format=STATEMENT],r2", {}, {}, "m",
                 "StatementAndRowLoggingReplicasStructureWarning", {}},
        Scenario{"NoLoggingReplicasStructureWarning", "m>r1[nolsu],r2[nolsu]", {}, {}, "m",
                 "NoLoggingReplicasStructureWarning", {}},
        // Neither GTID replication nor Pseudo-GTID: nothing could place the
        // replicas if the master died.
        Scenario{"NoFailoverSupportStructureWarning", "m>r1,r2", {"--no-gtid", "--pseudo-gtid-interval", "0"}, {}, "m",
                 "NoFailoverSupportStructureWarning", {}},
        // A replica writes in a GTID domain of its own that its master has
        // never seen.
        Scenario{"ErrantGTIDStructureWarning", "m>r1[domain=5],r2", {}, {"sql r1 CREATE DATABASE written_on_the_replica"},
                 "m", "ErrantGTIDStructureWarning", {}}),
    [](const ::testing::TestParamInfo<Scenario>& i) { return std::string(i.param.name); });

}  // namespace
}  // namespace tidewatch::testing
