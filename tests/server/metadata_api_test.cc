// orchestrator's tag, pool, unresolve and raft paths through the HTTP API,
// with the monitor not started (no server is reached): the JSON orchestrator
// answers, its messages and refusals, and under ReadOnly the changes refused.
#include <gtest/gtest.h>

#include "server/http_api.h"

namespace tidewatch::server {
namespace {

using nlohmann::json;

class MetadataApiTest : public ::testing::Test {
 protected:
  MetadataApiTest() : monitor_(analyzer::MonitorOptions{}, [](v1::Envelope&&) {}) {
    sinks::PublisherOptions po;
    po.producer_id = "test";
    sinks::Publisher::Open(po, &publisher_);
    api_ = std::make_unique<HttpApi>(config_, &monitor_, publisher_.get(), nullptr);
  }
  // The answer's status and JSON.
  std::pair<int, json> Get(const std::string& target) {
    HttpRequest r;
    r.method = "GET";
    const size_t q = target.find('?');
    r.path = target.substr(0, q);
    if (q != std::string::npos) r.query = target.substr(q + 1);
    HttpResponse out;
    api_->Handle(r, &out);
    return {out.status, out.status == 404 ? json() : json::parse(out.body)};
  }
  Config config_;
  analyzer::Monitor monitor_;
  std::unique_ptr<sinks::Publisher> publisher_;
  std::unique_ptr<HttpApi> api_;
};

TEST_F(MetadataApiTest, TagsAsOrchestratorAnswersThem) {
  auto [st, j] = Get("/api/tag/db/3306?tag=role%3Dbackup");
  EXPECT_EQ(st, 200);
  EXPECT_EQ(j["Message"], "db:3306 tagged with role=backup");
  EXPECT_EQ(j["Details"], json({{"Hostname", "db"}, {"Port", 3306}}));
  EXPECT_EQ(Get("/api/tag/db/3307/dc/east").second["Message"], "db:3307 tagged with dc=east");
  EXPECT_EQ(Get("/api/tag/db/3306?tag=flag").second["Message"], "db:3306 tagged with flag=");

  EXPECT_EQ(Get("/api/tags/db/3306").second, json({"flag=", "role=backup"}));
  EXPECT_EQ(Get("/api/tag-value/db/3306?tag=role").second, "backup");
  EXPECT_EQ(Get("/api/tag-value/db/3307/dc").second, "east");
  std::tie(st, j) = Get("/api/tag-value/db/3307?tag=role");
  EXPECT_EQ(st, 500);
  EXPECT_EQ(j["Message"], "tag role not found for db:3307");

  EXPECT_EQ(Get("/api/tagged?tag=role").second, json::array({{{"Hostname", "db"}, {"Port", 3306}}}));
  EXPECT_EQ(Get("/api/tagged?tag=!role").second, json::array({{{"Hostname", "db"}, {"Port", 3307}}}));
  EXPECT_EQ(Get("/api/tagged?tag=flag,role%3Dbackup").second.size(), 1u);
  EXPECT_EQ(Get("/api/tagged?tag=").second["Message"], "Unable to parse tag: ");
  EXPECT_EQ(Get("/api/tag/db/3306").second["Message"], "NewTag: empty tag name");

  std::tie(st, j) = Get("/api/untag/db/3306?tag=role");
  EXPECT_EQ(j["Message"], "role removed from 1 instances");
  EXPECT_EQ(j["Details"], json::array({{{"Hostname", "db"}, {"Port", 3306}}}));
  EXPECT_EQ(Get("/api/untag-all?tag=dc").second["Message"],
            "Untag: either indicate an instance or a tag value. Will not delete on-valued tag across instances");
  EXPECT_EQ(Get("/api/untag-all?tag=dc=east").second["Message"], "dc removed from 1 instances");
  EXPECT_EQ(Get("/api/tags/db/3307").second, json::array());
}

TEST_F(MetadataApiTest, PoolsUnresolveAndRaft) {
  auto [st, j] = Get("/api/submit-pool-instances/web?instances=db1%3A3306%2Cdb2%3A3307");
  EXPECT_EQ(st, 200);
  EXPECT_EQ(j["Message"], "Applied web pool instances");
  EXPECT_EQ(j["Details"], "web");
  // No instance is known to the model: no cluster has pooled instances.
  EXPECT_EQ(Get("/api/cluster-pool-instances/db1:3306").second["Details"], json::object());
  EXPECT_EQ(Get("/api/heuristic-cluster-pool-instances/db1:3306").second["Message"],
            "Unable to determine cluster name. clusterHint=db1:3306");

  EXPECT_EQ(Get("/api/register-hostname-unresolve/db1/3306/vip1").second["Message"],
            "Hostname register unresolve completed");
  EXPECT_EQ(Get("/api/deregister-hostname-unresolve/db1/3306").second["Message"],
            "Hostname deregister unresolve completed");

  for (const auto& [path, message] : std::vector<std::pair<std::string, std::string>>{
           {"/api/raft-state", "raft-state: not running with raft setup"},
           {"/api/raft-leader", "raft-leader: not running with raft setup"},
           {"/api/raft-health", "raft-state: not running with raft setup"},
           {"/api/raft-yield-hint/east", "raft-yield-hint: not running with raft setup"}}) {
    std::tie(st, j) = Get(path);
    EXPECT_EQ(st, 500) << path;
    EXPECT_EQ(j["Code"], "ERROR") << path;
    EXPECT_EQ(j["Message"], message) << path;
  }
  EXPECT_EQ(Get("/api/snapshot-topologies").second["Message"], "Topology Snapshot completed");
  EXPECT_EQ(Get("/api/submit-masters-to-kv-stores").second["Details"], json::array());
  EXPECT_EQ(Get("/api/forget-cluster/nothing").second["Message"], "Unable to determine cluster name. clusterHint=nothing");
}

TEST_F(MetadataApiTest, ReadOnlyRefusesTheChanges) {
  config_.read_only = true;
  for (const char* path : {"/api/tag/db/3306?tag=a", "/api/untag/db/3306?tag=a", "/api/untag-all?tag=a=b",
                           "/api/submit-pool-instances/p?instances=db:1", "/api/cluster-pool-instances/c",
                           "/api/register-hostname-unresolve/db/1/v", "/api/forget-cluster/c",
                           "/api/raft-yield-hint/x"}) {
    auto [st, j] = Get(path);
    EXPECT_EQ(st, 500) << path;
    EXPECT_EQ(j["Message"], "Unauthorized") << path;
  }
  EXPECT_EQ(Get("/api/tags/db/3306").first, 200);
  EXPECT_EQ(Get("/api/tagged?tag=a").first, 200);
}

}  // namespace
}  // namespace tidewatch::server
