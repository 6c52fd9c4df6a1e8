// The HTTP API's own parsing — paths, ports, percent-encoding, Basic
// credentials, durations — against hostile requests: each gets a clear
// answer (404, 401, an ERROR envelope naming what is wrong), never a crash.
// The monitor is not started and the config is ReadOnly, so no request can
// reach a server.
#include <gtest/gtest.h>

#include <random>

#include "tools/tidewatch/http_api.h"

namespace tidewatch::tools {
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
  sinks::HttpResponse Get(const std::string& path, const std::string& auth = "Basic YWRtaW46c2VjcmV0",
                          const std::string& method = "GET") {
    sinks::HttpRequest r;
    r.method = method;
    r.path = path;
    if (!auth.empty()) r.headers["authorization"] = auth;
    sinks::HttpResponse out;
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
  EXPECT_EQ(Get("/").status, 404);
  EXPECT_EQ(Get("/api/instance/h/3306", "Basic YWRtaW46c2VjcmV0", "POST").status, 404);
  EXPECT_EQ(Get("/api/clusters").body, "null\n");
  EXPECT_NE(Get("/api/cluster/none").body.find("Unable to determine cluster name. clusterHint=none"), std::string::npos);
  // Changes under ReadOnly: refused before anything is parsed further.
  auto r = Get("/api/begin-downtime/h/3306/me/why/notaduration");
  EXPECT_EQ(r.status, 500);
  EXPECT_NE(r.body.find("Unauthorized"), std::string::npos);
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
    sinks::HttpRequest r;
    r.method = "GET";
    r.path = path;
    if (!user.empty()) r.headers["x-auth-user"] = user;
    sinks::HttpResponse out;
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
}  // namespace tidewatch::tools
