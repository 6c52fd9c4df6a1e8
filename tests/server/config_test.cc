#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "server/config.h"
#include "server/daemon.h"

namespace tidewatch::server {
namespace {

namespace fs = std::filesystem;

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tidewatch-config-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& text) {
    auto p = dir_ / name;
    std::ofstream(p) << text;
    return p.string();
  }
  fs::path dir_;
};

TEST_F(ConfigTest, ReadsOrchestratorKeys) {
  const std::string creds = Write("creds.cnf", "[client]\nuser = orc\npassword = \"s3cret\"\n");
  Config c;
  auto s = LoadConfig(Write("a.json", R"({
    "MySQLTopologyCredentialsConfigFile": ")" + creds + R"(",
    "DefaultInstancePort": 3307,
    "DiscoverySeeds": ["db1:3306", "db2:3306"],
    "InstancePollSeconds": 2,
    "DiscoverByShowSlaveHosts": true,
    "PseudoGTIDPattern": "drop view if exists .*?`_pseudo_gtid_hint__",
    "PseudoGTIDPatternIsFixedSubstring": false,
    "PseudoGTIDMonotonicHint": "asc:",
    "RecoverMasterClusterFilters": ["prod-.*"],
    "PostMasterFailoverProcesses": ["echo {failedHost} > /tmp/failover"],
    "AuthenticationMethod": "basic", "HTTPAuthUser": "admin", "HTTPAuthPassword": "hunter2",
    "KafkaBrokers": "127.0.0.1:9092",
    "KafkaProperties": {"sasl.password": "kafkasecret", "security.protocol": "SASL_SSL"},
    "SomethingElse": 1
  })"), &c);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(c.topology_user, "orc");
  EXPECT_EQ(c.topology_password, "s3cret");
  EXPECT_EQ(c.default_instance_port, 3307);
  EXPECT_EQ(c.discovery_seeds.size(), 2u);
  EXPECT_EQ(c.instance_poll_seconds, 2u);
  EXPECT_FALSE(c.pseudo_gtid.fixed_substring);
  EXPECT_EQ(c.hooks["PostMasterFailoverProcesses"].size(), 1u);
  ASSERT_EQ(c.warnings.size(), 1u);
  EXPECT_NE(c.warnings[0].find("SomethingElse"), std::string::npos);
  EXPECT_NE(c.replication_server_id, 0u);
  const std::string shown = c.Redacted();
  for (const char* secret : {"s3cret", "hunter2", "kafkasecret"}) {
    EXPECT_EQ(shown.find(secret), std::string::npos) << secret << " shown in\n" << shown;
  }
  EXPECT_NE(shown.find("SASL_SSL"), std::string::npos);
}

TEST_F(ConfigTest, OrchestratorsDefaultListenAddressLoads) {
  // orchestrator's own default, in Vitess's sample configuration too.
  Config c;
  auto s = LoadConfig(Write("listen.json", R"({"ListenAddress": ":3000", "DiscoverySeeds": ["db1"]})"), &c);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(c.listen_address, ":3000");
}

// Every key of the orchestrator configuration Vitess ships as its sample
// (docker/orchestrator in vitessio/vitess), with values of our own: it loads,
// the keys Tidewatch has take effect, and the others are only warned about.
TEST_F(ConfigTest, VitessSampleConfigurationLoads) {
  const std::string json = R"({
    "ActiveNodeExpireSeconds": 5, "ApplyMySQLPromotionAfterMasterFailover": true,
    "AuditLogFile": "/tmp/audit.log", "AuditToSyslog": false, "AuthenticationMethod": "", "AuthUserHeader": "",
    "BackendDB": "sqlite", "BinlogEventsChunkSize": 10000, "CandidateInstanceExpireMinutes": 45,
    "CoMasterRecoveryMustPromoteOtherCoMaster": false, "DataCenterPattern": "[.]([^.]+)[.][^.]+[.]example[.]com",
    "Debug": true, "DefaultInstancePort": 3306, "DetachLostSlavesAfterMasterFailover": true,
    "DetectClusterAliasQuery": "SELECT 'alias'", "DetectClusterDomainQuery": "",
    "DetectInstanceAliasQuery": "SELECT 'instance'", "DetectPromotionRuleQuery": "SELECT 'neutral'",
    "DetectDataCenterQuery": "SELECT 'dc1'", "DetectSemiSyncEnforcedQuery": "SELECT 0",
    "DiscoverByShowSlaveHosts": false, "EnableSyslog": false, "ExpiryHostnameResolvesMinutes": 60,
    "DelayMasterPromotionIfSQLThreadNotUpToDate": true, "FailureDetectionPeriodBlockMinutes": 10,
    "GraphiteAddr": "", "GraphiteConvertHostnameDotsToUnderscores": true, "GraphitePath": "",
    "HostnameResolveMethod": "none", "HTTPAuthPassword": "", "HTTPAuthUser": "",
    "InstanceBulkOperationsWaitTimeoutSeconds": 10, "InstancePollSeconds": 5, "ListenAddress": ":3000",
    "MasterFailoverLostInstancesDowntimeMinutes": 0, "MySQLConnectTimeoutSeconds": 1,
    "MySQLHostnameResolveMethod": "none", "MySQLTopologyCredentialsConfigFile": "",
    "MySQLTopologyMaxPoolConnections": 3, "MySQLTopologyPassword": "pw", "MySQLTopologyReadTimeoutSeconds": 3,
    "MySQLTopologySSLCAFile": "", "MySQLTopologySSLCertFile": "", "MySQLTopologySSLPrivateKeyFile": "",
    "MySQLTopologySSLSkipVerify": true, "MySQLTopologyUseMutualTLS": false, "MySQLTopologyUser": "orc",
    "OnFailureDetectionProcesses": ["echo detected {failureType}"], "OSCIgnoreHostnameFilters": [],
    "PhysicalEnvironmentPattern": "[.]([^.]+[.][^.]+)[.]example[.]com",
    "PostFailoverProcesses": ["echo recovered {failureType}"],
    "PostIntermediateMasterFailoverProcesses": ["echo im {failedHost}"],
    "PostMasterFailoverProcesses": ["echo promoted {successorHost}", "reparent {successorAlias}"],
    "PostponeSlaveRecoveryOnLagMinutes": 0, "PostUnsuccessfulFailoverProcesses": [], "PowerAuthUsers": ["*"],
    "PreFailoverProcesses": ["echo will recover {failureCluster}"], "ProblemIgnoreHostnameFilters": [],
    "PromotionIgnoreHostnameFilters": [], "ReadLongRunningQueries": false, "ReadOnly": false,
    "ReasonableMaintenanceReplicationLagSeconds": 20, "ReasonableReplicationLagSeconds": 12,
    "RecoverMasterClusterFilters": [".*"], "RecoveryIgnoreHostnameFilters": [], "RecoveryPeriodBlockSeconds": 60,
    "ReduceReplicationAnalysisCount": true, "RejectHostnameResolvePattern": "",
    "RemoveTextFromHostnameDisplay": ".example.com:3306", "ReplicationLagQuery": "", "ServeAgentsHttp": false,
    "SkipBinlogEventsContaining": [], "SkipBinlogServerUnresolveCheck": true, "SkipOrchestratorDatabaseUpdate": false,
    "SlaveStartPostWaitMilliseconds": 1000, "SnapshotTopologiesIntervalHours": 0, "SQLite3DataFile": ":memory:",
    "SSLCAFile": "", "SSLCertFile": "", "SSLPrivateKeyFile": "", "SSLSkipVerify": false, "SSLValidOUs": [],
    "StaleSeedFailMinutes": 60, "StatusEndpoint": "/api/status", "StatusOUVerify": false, "UnseenAgentForgetHours": 6,
    "UnseenInstanceForgetHours": 240, "UseMutualTLS": false, "UseSSL": false, "VerifyReplicationFilters": false
  })";
  Config c;
  auto s = LoadConfig(Write("vitess.json", json), &c);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(c.listen_address, ":3000");
  EXPECT_EQ(c.topology_user, "orc");
  EXPECT_EQ(c.instance_poll_seconds, 5u);
  EXPECT_EQ(c.reasonable_replication_lag_seconds, 12u);
  EXPECT_EQ(c.candidate_instance_expire_minutes, 45u);
  EXPECT_EQ(c.detect_instance_alias_query, "SELECT 'instance'");
  EXPECT_EQ(c.detect_data_center_query, "SELECT 'dc1'");
  EXPECT_EQ(c.recover_master_cluster_filters, std::vector<std::string>{".*"});
  EXPECT_EQ(c.hooks["PostMasterFailoverProcesses"],
            (std::vector<std::string>{"echo promoted {successorHost}", "reparent {successorAlias}"}));
  EXPECT_EQ(c.hooks["OnFailureDetectionProcesses"].size(), 1u);
  EXPECT_EQ(c.status_endpoint, "/api/status");
  EXPECT_EQ(c.unseen_instance_forget_hours, 240u);
  EXPECT_TRUE(c.topology_ssl_skip_verify);
  EXPECT_EQ(TopologyTlsOf(c).mode, TlsMode::kPreferred) << "no mutual TLS: TLS when offered";
  // Keys Tidewatch has no use for are warned about, by name, and nothing else is.
  for (const char* ignored : {"BackendDB", "SQLite3DataFile", "GraphiteAddr", "HostnameResolveMethod"}) {
    bool warned = false;
    for (const auto& w : c.warnings) warned = warned || w.find(std::string("unknown key ") + ignored) != std::string::npos;
    EXPECT_TRUE(warned) << ignored;
  }
  for (const auto& w : c.warnings) {
    for (const char* used : {"ListenAddress", "DetectPromotionRuleQuery", "UnseenInstanceForgetHours", "StatusEndpoint",
                             "MySQLTopologySSLSkipVerify", "PostMasterFailoverProcesses"}) {
      EXPECT_EQ(w.find(std::string("unknown key ") + used + " "), std::string::npos) << w;
    }
  }
}

TEST_F(ConfigTest, UrlPrefixAndTlsFiles) {
  Config c;
  ASSERT_TRUE(LoadConfig(Write("prefix.json", R"({"URLPrefix": "orchestrator/"})"), &c).ok());
  EXPECT_EQ(c.url_prefix, "/orchestrator");
  ASSERT_TRUE(LoadConfig(Write("prefix2.json", R"({"URLPrefix": "/"})"), &c).ok());
  EXPECT_EQ(c.url_prefix, "");
  auto s = LoadConfig(Write("tls.json", R"({"MySQLTopologyUseMutualTLS": true, "MySQLTopologySSLCAFile": "/nonexistent"})"), &c);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("MySQLTopologySSLCAFile"), std::string::npos) << s.message();
  EXPECT_FALSE(LoadConfig(Write("status.json", R"({"StatusEndpoint": "health"})"), &c).ok());
  EXPECT_FALSE(LoadConfig(Write("ignore.json", R"({"DiscoveryIgnoreHostnameFilters": ["(x"]})"), &c).ok());
}

TEST_F(ConfigTest, BadValuesNameTheirKey) {
  struct Case {
    const char* json;
    const char* key;
  } cases[] = {
      {R"({"InstancePollSeconds": "five"})", "InstancePollSeconds"},
      {R"({"DefaultInstancePort": 70000})", "DefaultInstancePort"},
      {R"({"DiscoverySeeds": ["db1:port"]})", "DiscoverySeeds"},
      {R"({"ListenAddress": "127.0.0.1:http"})", "ListenAddress"},
      {R"({"RecoverMasterClusterFilters": ["(unclosed"]})", "RecoverMasterClusterFilters"},
      {R"({"PseudoGTIDPattern": "(", "PseudoGTIDPatternIsFixedSubstring": false})", "PseudoGTIDPattern"},
      {R"({"AuthenticationMethod": "kerberos"})", "AuthenticationMethod"},
      {R"({"AuthenticationMethod": "basic"})", "AuthenticationMethod"},
      {R"({"SpoolFullPolicy": "ignore"})", "SpoolFullPolicy"},
      {R"({"MySQLTopologyPassword": 5})", "MySQLTopologyPassword"},
      {R"({"AdvertisedAddress": ":3000"})", "AdvertisedAddress"},
      {R"({"MonitorGroupSessionTimeoutMs": 10})", "MonitorGroupSessionTimeoutMs"},
  };
  for (const auto& k : cases) {
    Config c;
    auto s = LoadConfig(Write("bad.json", k.json), &c);
    EXPECT_FALSE(s.ok()) << k.json;
    EXPECT_NE(s.message().find(k.key), std::string::npos) << s.message();
  }
  Config c;
  EXPECT_FALSE(LoadConfig(Write("notjson.json", "{nope"), &c).ok());
  EXPECT_FALSE(LoadConfig((dir_ / "missing.json").string(), &c).ok());
}

// A monitor group's settings, and where the others reach this daemon.
TEST_F(ConfigTest, MonitorGroupAndTheAddressItIsReachedAt) {
  Config c;
  ASSERT_TRUE(LoadConfig(Write("group.json", R"({"MonitorGroup": "east", "MonitorGroupSessionTimeoutMs": 9000,
                                                   "ListenAddress": "10.0.0.5:3000"})"),
                         &c)
                  .ok());
  EXPECT_EQ(c.monitor_group, "east");
  EXPECT_EQ(c.monitor_group_session_timeout_ms, 9000u);
  EXPECT_EQ(c.advertised_address, "");
  EXPECT_EQ(AdvertisedAddressOf(c), "10.0.0.5:3000");
  c.listen_address = ":3000";  // every interface: the others use this machine's name
  char name[256] = {};
  ASSERT_EQ(::gethostname(name, sizeof name - 1), 0);
  EXPECT_EQ(AdvertisedAddressOf(c), std::string(name) + ":3000");
  c.advertised_address = "tidewatch-2.example:3000";
  EXPECT_EQ(AdvertisedAddressOf(c), "tidewatch-2.example:3000");
}

}  // namespace
}  // namespace tidewatch::server
