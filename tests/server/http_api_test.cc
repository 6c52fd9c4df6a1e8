// The HTTP API's own parsing — paths, ports, percent-encoding, Basic
// credentials, durations — against hostile requests: each gets a clear
// answer (404, 401, an ERROR envelope naming what is wrong), never a crash.
// The monitor is not started and the config is ReadOnly, so no request can
// reach a server.
#include <gtest/gtest.h>

#include <random>

#include "server/http_api.h"

namespace tidewatch::server {
namespace {

class HttpApiTest : public ::testing::Test {
 protected:
  HttpApiTest() : monitor_(analyzer::MonitorOptions{}, [](v1::Envelope&&) {}) {
    config_.read_only = true;
    config_.authentication_method = "multi";
    config_.http_auth_user = "admin";
    config_.http_auth_password = "secret";
    sinks::PublisherOptions po;
    po.producer_id = "test";
    sinks::Publisher::Open(po, &publisher_);
    api_ = std::make_unique<HttpApi>(config_, &monitor_, publisher_.get(), nullptr);
  }
  HttpResponse Get(const std::string& path, const std::string& auth = "Basic YWRtaW46c2VjcmV0",
                   const std::string& method = "GET") {
    HttpRequest r;
    r.method = method;
    r.path = path;
    if (!auth.empty()) r.headers["authorization"] = auth;
    HttpResponse out;
    api_->Handle(r, &out);
    return out;
  }
  Config config_;
  analyzer::Monitor monitor_;
  std::unique_ptr<sinks::Publisher> publisher_;
  std::unique_ptr<HttpApi> api_;
};

TEST_F(HttpApiTest, AnswersWhatItCannotParse) {
  EXPECT_EQ(Get("/api/instance/h/99999").status, 500);
  EXPECT_NE(Get("/api/instance/h/99999").body.find("Invalid port: 99999"), std::string::npos);
  EXPECT_NE(Get("/api/instance/h/0").body.find("Invalid port: 0"), std::string::npos);
  EXPECT_NE(Get("/api/instance/h/12ab").body.find("Invalid port: 12ab"), std::string::npos);
  EXPECT_NE(Get("/api/instance/%zz/3306").body.find("Cannot read instance: %zz:3306"), std::string::npos);
  EXPECT_NE(Get("/api/instance/a%2Fb/3306").body.find("Cannot read instance: a/b:3306"), std::string::npos);
  EXPECT_EQ(Get("/api/no-such-thing").status, 404);
  EXPECT_EQ(Get("/api").status, 404);
  EXPECT_EQ(Get("/index.html").status, 404);  // "/" is the dashboard
  EXPECT_EQ(Get("/api/instance/h/3306", "Basic YWRtaW46c2VjcmV0", "POST").status, 404);
  EXPECT_EQ(Get("/api/clusters").body, "null\n");
  EXPECT_NE(Get("/api/cluster/none").body.find("Unable to determine cluster name. clusterHint=none"), std::string::npos);
  // Changes under ReadOnly: refused before anything is parsed further.
  auto r = Get("/api/begin-downtime/h/3306/me/why/notaduration");
  EXPECT_EQ(r.status, 500);
  EXPECT_NE(r.body.find("Unauthorized"), std::string::npos);
}

// Every spelling of every path is routed: under ReadOnly a change is refused
// once its instance keys parse, and a path with the wrong number of
// arguments is not one.
TEST_F(HttpApiTest, EverySpellingIsRouted) {
  const std::vector<std::string> one_key = {"discover", "async-discover", "forget", "end-maintenance", "end-downtime",
                                            "last-pseudo-gtid", "match-up", "rematch", "regroup-replicas",
                                            "regroup-slaves"};
  const std::vector<std::string> two_keys = {"match-below", "match", "multi-match-replicas", "multi-match-slaves",
                                             "match-replicas", "match-slaves"};
  auto refused = [](const HttpResponse& r) {
    return r.status == 500 && r.body.find("\"Unauthorized\"") != std::string::npos;
  };
  for (const auto& name : one_key) {
    EXPECT_TRUE(refused(Get("/api/" + name + "/h/3306"))) << name;
    EXPECT_NE(Get("/api/" + name + "/h/x").body.find("Invalid port: x"), std::string::npos) << name;
    EXPECT_EQ(Get("/api/" + name + "/h/3306/h/3307").status, 404) << name;
  }
  for (const auto& name : two_keys) {
    EXPECT_TRUE(refused(Get("/api/" + name + "/h/3306/h/3307"))) << name;
    EXPECT_NE(Get("/api/" + name + "/h/3306/h/0").body.find("Invalid port: 0"), std::string::npos) << name;
    EXPECT_EQ(Get("/api/" + name + "/h/3306").status, 404) << name;
  }
  EXPECT_TRUE(refused(Get("/api/begin-maintenance/h/1/me/why")));
  EXPECT_TRUE(refused(Get("/api/begin-downtime/h/1/me/why")));
  EXPECT_TRUE(refused(Get("/api/begin-downtime/h/1/me/why/1h")));
  EXPECT_EQ(Get("/api/begin-downtime/h/1/me").status, 404);
  EXPECT_EQ(Get("/api/regroup-slave/h/1").status, 404);

  for (const char* path : {"/api/lb-check", "/api/_ping"}) EXPECT_EQ(Get(path).body, "\"OK\"\n") << path;
  for (const char* path : {"/api/health", "/api/status"}) {
    EXPECT_NE(Get(path).body.find("Application node is healthy"), std::string::npos) << path;
  }
  for (const char* path : {"/api/maintenance", "/api/downtimed", "/api/clusters-info"}) {
    EXPECT_EQ(Get(path).body, "[]\n") << path;
  }
  EXPECT_EQ(Get("/api/problems").body, "null\n");
  EXPECT_NE(Get("/api/replication-analysis").body.find("\"Message\":\"Analysis\""), std::string::npos);
  EXPECT_NE(Get("/api/in-maintenance/h/1").body.find("\"Message\":\"false\""), std::string::npos);
  for (const char* path : {"/api/cluster/alias/a", "/api/cluster-info/alias/a", "/api/topology/a", "/api/problems/a",
                           "/api/downtimed/a", "/api/replication-analysis/a", "/api/cluster-info/a"}) {
    EXPECT_NE(Get(path).body.find("Unable to determine cluster name. clusterHint=a"), std::string::npos) << path;
  }
  for (const char* path : {"/api/cluster/instance/h/1", "/api/topology/h/1"}) {
    EXPECT_NE(Get(path).body.find("clusterHint=h:1"), std::string::npos) << path;
  }
  EXPECT_NE(Get("/api/replication-analysis/instance/h/1").body.find("\"Details\":[]"), std::string::npos);
  for (const char* path : {"/api/cluster/x/a", "/api/replication-analysis/x/h/1", "/api/cluster/instance/h",
                           "/api/clusters/a", "/api/health/a"}) {
    EXPECT_EQ(Get(path).status, 404) << path;
  }
}

TEST_F(HttpApiTest, CredentialsThatDoNotDecodeAreNotCredentials) {
  for (const std::string& bad : std::vector<std::string>{"Basic", "Basic ", "Basic !!!!", "Basic YWRtaW4=", "Basic =", "Basic ====",
                                "Bearer YWRtaW46c2VjcmV0", "Basic YWRtaW46c2VjcmV0YWRtaW46c2VjcmV0x",
                                std::string("Basic ") + std::string(10000, 'A')}) {
    auto r = Get("/api/clusters", bad);
    EXPECT_EQ(r.status, 401) << bad;
    EXPECT_EQ(r.body, "Not Authorized\n");
  }
  EXPECT_EQ(Get("/api/clusters", "basic cmVhZG9ubHk6").status, 200);  // readonly, empty password
  EXPECT_EQ(Get("/api/clusters", "").status, 401);
}

TEST_F(HttpApiTest, ServesTheDashboardBehindAuthentication) {
  auto page = Get("/");
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.content_type, "text/html; charset=utf-8");
  EXPECT_NE(page.body.find("dashboard/dashboard.js"), std::string::npos);
  auto js = Get("/dashboard/dashboard.js");
  EXPECT_EQ(js.status, 200);
  EXPECT_EQ(js.content_type, "text/javascript; charset=utf-8");
  EXPECT_NE(js.body.find("api/stream"), std::string::npos);
  EXPECT_EQ(Get("/dashboard/dashboard.css").content_type, "text/css; charset=utf-8");
  EXPECT_EQ(Get("/dashboard/no-such-file").status, 404);
  EXPECT_EQ(Get("/dashboard/../http_api.cc").status, 404);
  EXPECT_EQ(Get("/", "").status, 401);
  EXPECT_EQ(Get("/dashboard/dashboard.js", "").status, 401);
  EXPECT_EQ(Get("/elsewhere").status, 404);
  // ReadOnly: nobody may change things, and the page is told so.
  auto rights = nlohmann::json::parse(Get("/api/dashboard-rights").body);
  EXPECT_FALSE(rights["CanChange"].get<bool>());
  EXPECT_TRUE(rights["ReadOnly"].get<bool>());
  EXPECT_EQ(rights["User"], "admin");
}

TEST_F(HttpApiTest, RandomPathsNeverCrash) {
  std::mt19937 rng(7);
  const std::string alphabet = "/%:abcAPI0123456789-_.?&= \x01\xff";
  const std::vector<std::string> prefixes = {"/api/", "/api/instance/", "/api/cluster/", "/api/topology/",
                                             "/api/replication-analysis/", "/api/begin-downtime/", "/metrics"};
  for (int i = 0; i < 5000; ++i) {
    std::string path = prefixes[rng() % prefixes.size()];
    const size_t n = rng() % 40;
    for (size_t k = 0; k < n; ++k) path += alphabet[rng() % alphabet.size()];
    auto r = Get(path);
    EXPECT_TRUE(r.status == 200 || r.status == 404 || r.status == 500) << path << " → " << r.status;
  }
}

// AuthenticationMethod "proxy": the user comes from AuthUserHeader (its first
// value); only PowerAuthUsers may change things; reads need nobody.
TEST(HttpApiProxyTest, PowerAuthUsersMayChangeThings) {
  Config config;
  config.authentication_method = "proxy";
  config.auth_user_header = "X-Auth-User";
  config.power_auth_users = {"dba", "ops"};
  analyzer::Monitor monitor(analyzer::MonitorOptions{}, [](v1::Envelope&&) {});
  std::unique_ptr<sinks::Publisher> publisher;
  sinks::PublisherOptions po;
  po.producer_id = "test";
  ASSERT_TRUE(sinks::Publisher::Open(po, &publisher).ok());
  HttpApi api(config, &monitor, publisher.get(), nullptr);
  auto get = [&](const std::string& path, const std::string& user) {
    HttpRequest r;
    r.method = "GET";
    r.path = path;
    if (!user.empty()) r.headers["x-auth-user"] = user;
    HttpResponse out;
    api.Handle(r, &out);
    return out;
  };
  // Authorized: the change is tried (and fails on an unknown instance).
  EXPECT_NE(get("/api/begin-maintenance/h/1/me/why", "dba").body.find("Cannot read instance: h:1"), std::string::npos);
  EXPECT_NE(get("/api/begin-maintenance/h/1/me/why", "ops, proxy2").body.find("Cannot read instance"), std::string::npos);
  for (const char* who : {"bob", "", "dbax"}) {
    auto r = get("/api/begin-maintenance/h/1/me/why", who);
    EXPECT_EQ(r.status, 500) << who;
    EXPECT_NE(r.body.find("\"Unauthorized\""), std::string::npos) << who;
  }
  EXPECT_EQ(get("/api/clusters", "").status, 200);
}

}  // namespace
}  // namespace tidewatch::server
