// orchestrator's ASCII tree and Instance JSON from a model built of
// synthetic probes, and the Prometheus text format.
#include <gtest/gtest.h>

#include "server/ascii_topology.h"
#include "server/orchestrator_json.h"
#include "server/prometheus_text.h"

namespace tidewatch::server {
namespace {

using analyzer::Clock;
using analyzer::ProbeResult;

ProbeResult Probe(const std::string& host, uint16_t port, const std::string& master = "", int master_port = 0) {
  ProbeResult p;
  p.key = host + ":" + std::to_string(port);
  p.reachable = true;
  p.at = Clock::now();
  auto& i = p.instance;
  i.version = "5.7.26-log";
  i.gtid_mode = "ON";
  i.log_bin = i.log_slave_updates = true;
  i.binlog_format = "ROW";
  i.read_only = !master.empty();
  if (!master.empty()) {
    i.replica.configured = true;
    i.replica.master_host = master;
    i.replica.master_port = static_cast<uint16_t>(master_port);
    i.replica.io_running = "Yes";
    i.replica.sql_running = true;
    i.replica.seconds_behind = 0;
  }
  return p;
}

TEST(AsciiTopologyTest, OrchestratorsTree) {
  analyzer::Topology t;
  std::vector<v1::Envelope> out;
  t.ApplyProbe(Probe("db-a", 3306), &out);
  t.ApplyProbe(Probe("db-b", 3306, "db-a", 3306), &out);
  t.ApplyProbe(Probe("db-c", 3306, "db-b", 3306), &out);
  auto d = Probe("db-d", 3306, "db-a", 3306);
  d.instance.replica.io_running = "No";
  d.instance.replica.seconds_behind.reset();
  t.ApplyProbe(d, &out);
  JsonSettings s;
  EXPECT_EQ(AsciiTopology(t, "db-a:3306", s),
            "db-a:3306     [0s,ok,5.7.26-log,rw,ROW,>>,GTID]\n"
            "+ db-b:3306   [0s,ok,5.7.26-log,ro,ROW,>>,GTID]\n"
            "  + db-c:3306 [0s,ok,5.7.26-log,ro,ROW,>>,GTID]\n"
            "- db-d:3306   [null,nonreplicating,5.7.26-log,ro,ROW,>>,GTID]");
  auto lagging = Probe("db-d", 3306, "db-a", 3306);
  lagging.instance.replica.seconds_behind = 120;
  t.ApplyProbe(lagging, &out);
  EXPECT_NE(AsciiTopology(t, "db-a:3306", s).find("+ db-d:3306   [120s,lag,5.7.26-log,ro,ROW,>>,GTID]"),
            std::string::npos);
  EXPECT_EQ(AsciiTopology(t, "nowhere:1", s), "");
}

TEST(OrchestratorJsonTest, InstanceWritesLegacyAndNewNames) {
  analyzer::Topology t;
  std::vector<v1::Envelope> out;
  t.ApplyProbe(Probe("db-a", 3306), &out);
  t.ApplyProbe(Probe("db-b", 3306, "db-a", 3306), &out);
  JsonSettings s;
  auto a = InstanceJson(*t.Find("db-a:3306"), t, s);
  auto b = InstanceJson(*t.Find("db-b:3306"), t, s);
  EXPECT_EQ(a["Key"], (nlohmann::json{{"Hostname", "db-a"}, {"Port", 3306}}));
  EXPECT_EQ(a["Replicas"], nlohmann::json::array({{{"Hostname", "db-b"}, {"Port", 3306}}}));
  EXPECT_EQ(a["Replicas"], a["SlaveHosts"]);
  EXPECT_EQ(a["MasterKey"], (nlohmann::json{{"Hostname", ""}, {"Port", 0}}));
  EXPECT_EQ(a["ReplicationDepth"], 0);
  EXPECT_EQ(b["MasterKey"]["Hostname"], "db-a");
  EXPECT_EQ(b["ReplicationDepth"], 1);
  EXPECT_EQ(b["Slave_IO_Running"], true);
  EXPECT_EQ(b["ReplicationIOThreadRuning"], true);
  EXPECT_EQ(b["SecondsBehindMaster"], (nlohmann::json{{"Int64", 0}, {"Valid", true}}));
  EXPECT_EQ(b["SlaveLagSeconds"], b["ReplicationLagSeconds"]);
  EXPECT_EQ(b["ClusterName"], "db-a:3306");
  EXPECT_EQ(b["Problems"], nlohmann::json::array());
  EXPECT_EQ(b["IsLastCheckValid"], true);
  EXPECT_EQ(Envelope(false, "Unauthorized").dump(), "{\"Code\":\"ERROR\",\"Details\":null,\"Message\":\"Unauthorized\"}");
}

TEST(PrometheusTextTest, FamiliesAndEscapedLabels) {
  PrometheusText p;
  p.Gauge("x_streams", "Streams", 3, {{"state", "streaming"}});
  p.Gauge("x_streams", "Streams", 0, {{"state", "dis\"con\\nected\n"}});
  p.Counter("x_total", "Events", 1.5e18);
  EXPECT_EQ(p.text(),
            "# HELP x_streams Streams\n# TYPE x_streams gauge\nx_streams{state=\"streaming\"} 3\n"
            "x_streams{state=\"dis\\\"con\\\\nected\\n\"} 0\n"
            "# HELP x_total Events\n# TYPE x_total counter\nx_total 1.5e+18\n");
}

}  // namespace
}  // namespace tidewatch::server
