#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "server/config.h"

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

}  // namespace
}  // namespace tidewatch::server
