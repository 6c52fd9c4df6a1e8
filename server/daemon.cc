#include "server/daemon.h"

#include "pgtid/sql_connection.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <filesystem>
#include <ostream>
#include <thread>

#include <unistd.h>

#include "base/host_port.h"
#include "analyzer/monitor.h"
#include "pgtid/executor.h"
#include "pgtid/pseudo_gtid_injector.h"
#include "sinks/event_stream.h"
#include "sinks/json_lines_sink.h"
#include "sinks/kafka_envelope_consumer.h"
#include "sinks/kafka_sink.h"
#include "sinks/publisher.h"
#include "server/api_client.h"
#include "server/api_stream_client.h"
#include "server/fleet_group.h"
#include "server/http_api.h"
#include "server/recovery.h"
#include "server/recovery_journal.h"
#include "server/http_server.h"

namespace tidewatch::server {

namespace {

// AutoPseudoGTID: one entry every interval into each cluster's master that
// answers and is writable (the injector itself refuses read-only servers).
class Injector {
 public:
  Injector(const Config& c, analyzer::Monitor* m) : config_(c), monitor_(m) {}
  ~Injector() { Stop(); }
  void Start() {
    thread_ = std::thread([this] { Run(); });
  }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }

 private:
  void Run() {
    const auto interval = std::chrono::milliseconds(config_.pseudo_gtid_injection_interval_ms);
    while (!stop_) {
      std::vector<std::string> masters;
      // Each cluster's master (of a co-master ring, the one the cluster is
      // named after), when it answers, logs binlogs and is writable.
      monitor_->Read([&](const analyzer::Topology& t, const analyzer::AnalysisTracker&) {
        for (const auto& [cluster, keys] : t.Clusters()) {
          const analyzer::InstanceRecord* r = t.Find(t.MasterOf(cluster));
          if (r != nullptr && r->reachable && r->probed && !r->probe.instance.read_only && r->probe.instance.log_bin) {
            masters.push_back(r->key);
          }
        }
      });
      for (const auto& key : masters) {
        auto& c = connections_[key];
        if (!c) {
          pgtid::SqlEndpoint ep;
          ep.user = config_.topology_user;
          ep.password = config_.topology_password;
          if (!SplitHostPort(key, &ep.host, &ep.port)) continue;
          if (!pgtid::SqlConnection::Connect(ep, &c).ok()) continue;
        }
        std::string statement;
        Status s = injector_.Inject(*c, &statement);
        if (!s.ok()) {
          if (!s.IsNotSupported()) spdlog::warn("{}: Pseudo-GTID injection: {}", key, s.message());
          c.reset();
        }
      }
      for (auto slept = std::chrono::milliseconds(0); slept < interval && !stop_; slept += std::chrono::milliseconds(10)) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    }
  }

  const Config& config_;
  analyzer::Monitor* monitor_;
  pgtid::PseudoGtidInjector injector_;
  std::map<std::string, std::unique_ptr<pgtid::SqlConnection>> connections_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// `a`, an analysis another daemon reported, offered to `recovery` as open
// now: the consumer's own view is given time to see it.
void OfferOpenNow(v1::Analysis a, RecoveryConsumer* recovery) {
  v1::Envelope e;
  e.mutable_source()->set_server(a.analyzed_instance());
  e.mutable_source()->set_cluster(a.cluster());
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  e.mutable_detection_time()->set_seconds(std::chrono::duration_cast<std::chrono::seconds>(now).count());
  *e.mutable_analysis() = std::move(a);
  recovery->Offer(e);
}

// The failures the daemon at `address` has open now (its
// /api/replication-analysis, orchestrator's JSON), offered to `recovery` as
// the analyses it would have published.
void OfferOpenFailures(const Config& config, const std::string& address, RecoveryConsumer* recovery) {
  ApiClient api(config, address);
  int status = 0;
  nlohmann::json body;
  Status s = api.Get("/api/replication-analysis", &status, &body, std::chrono::seconds(10));
  if (!s.ok() || status != 200 || !body.is_array()) {
    spdlog::warn("recovery: the open failures of {}: {}", address,
                 s.ok() ? "answered " + std::to_string(status) : s.message());
    return;
  }
  for (const auto& a : body) {
    const std::string code = a.value("Analysis", "");
    if (code.empty() || code == "NoProblem") continue;
    const auto& key = a.value("AnalyzedInstanceKey", nlohmann::json::object());
    v1::Analysis m;
    m.set_phase(v1::Analysis::OPENED);
    m.set_code(code);
    m.set_analyzed_instance(key.value("Hostname", "") + ":" + std::to_string(key.value("Port", 0)));
    m.set_cluster(a.value("ClusterDetails", nlohmann::json::object()).value("ClusterName", ""));
    m.set_description(a.value("Description", ""));
    for (const auto& r : a.value("SlaveHosts", nlohmann::json::array())) {
      if (r.is_object()) m.add_replicas(r.value("Hostname", "") + ":" + std::to_string(r.value("Port", 0)));
    }
    OfferOpenNow(std::move(m), recovery);
  }
}

}  // namespace

analyzer::MonitorOptions MonitorOptionsOf(const Config& c, const pgtid::PseudoGtidPattern* pattern) {
  analyzer::MonitorOptions o;
  o.probe.user = c.topology_user;
  o.probe.password = c.topology_password;
  o.probe.default_port = c.default_instance_port;
  o.probe.data_center_pattern = c.data_center_pattern;
  o.probe.region_pattern = c.region_pattern;
  o.probe.physical_environment_pattern = c.physical_environment_pattern;
  o.probe.detect_data_center_query = c.detect_data_center_query;
  o.probe.detect_region_query = c.detect_region_query;
  o.probe.detect_physical_environment_query = c.detect_physical_environment_query;
  o.probe.detect_cluster_domain_query = c.detect_cluster_domain_query;
  o.probe.replication_lag_query = c.replication_lag_query;
  o.probe.detect_cluster_alias_query = c.detect_cluster_alias_query;
  o.probe.detect_instance_alias_query = c.detect_instance_alias_query;
  o.probe.detect_promotion_rule_query = c.detect_promotion_rule_query;
  o.probe.detect_semi_sync_enforced_query = c.detect_semi_sync_enforced_query;
  o.probe.discover_by_processlist = !c.discover_by_show_slave_hosts;
  o.probe.own_server_ids = {c.replication_server_id, c.short_read_server_id()};
  o.stream.user = c.topology_user;
  o.stream.password = c.topology_password;
  o.stream.server_id = c.replication_server_id;
  o.stream.register_as_replica = c.register_as_replica;
  o.stream.report_host = c.report_host;
  o.stream.report_port = c.report_port;
  const TlsSettings tls = TopologyTlsOf(c);
  o.stream.tls_mode = tls.mode;
  o.stream.tls_ca = tls.ca;
  o.stream.tls_cert = tls.cert;
  o.stream.tls_key = tls.key;
  o.stream.heartbeat_period = std::chrono::milliseconds(c.stream_heartbeat_ms);
  o.stream.read_timeout =
      std::chrono::milliseconds(c.stream_read_timeout_ms ? c.stream_read_timeout_ms : 3 * c.stream_heartbeat_ms);
  o.stream.connect_timeout = std::chrono::milliseconds(1000);
  o.stream.backoff_min = std::chrono::milliseconds(50);
  o.stream.backoff_max = std::chrono::milliseconds(2000);
  o.pattern = pattern;
  o.index.max_entries = c.index_max_entries;
  o.index.window_events = c.index_window_events;
  o.poll_interval = std::chrono::seconds(c.instance_poll_seconds);
  o.workers = c.probe_workers;
  o.stream_threads = c.stream_threads ? c.stream_threads : std::max(1u, std::thread::hardware_concurrency());
  o.analysis.reasonable_replication_lag_seconds = c.reasonable_replication_lag_seconds;
  o.topology.reasonable_replication_lag_seconds = c.reasonable_replication_lag_seconds;
  o.seeds = c.discovery_seeds;
  o.ignore_hostname_filters = c.discovery_ignore_hostname_filters;
  o.ignore_master_filters = c.discovery_ignore_master_hostname_filters;
  o.ignore_replica_filters = c.discovery_ignore_replica_hostname_filters;
  o.forget_unseen = std::chrono::hours(c.unseen_instance_forget_hours);
  return o;
}

std::string AdvertisedAddressOf(const Config& c) {
  if (!c.advertised_address.empty()) return c.advertised_address;
  HostPort listen = ParseListenAddress(c.listen_address, kDefaultListenPort).value_or(HostPort{});
  if (listen.host.empty() || listen.host == "0.0.0.0" || listen.host == "::") {
    char name[256] = {};
    listen.host = ::gethostname(name, sizeof name - 1) == 0 && name[0] != '\0' ? name : "localhost";
  }
  return listen.ToString();
}

Config RecoveryConsumerConfigOf(const Config& config, const std::string& listen) {
  Config c = config;
  const std::string own = "recovery-consumer";
  if (!c.state_dir.empty()) c.state_dir += "/" + own;
  if (!c.spool_dir.empty()) c.spool_dir += "/" + own;
  c.index_store_file.clear();
  c.jsonl.clear();
  c.producer_id += "/" + own;
  c.listen_address = listen;
  c.auto_pseudo_gtid = false;
  return c;
}

int RunDaemon(const Config& config, const DaemonOptions& options, std::ostream& err) {
  const bool consumer_process = options.recovery_consumer;
  const char* name = consumer_process ? "tidewatch recovery-consumer" : "tidewatch run";
  auto fail = [&](const std::string& why) {
    err << name << ": " << why << "\n";
    return 2;
  };
  if (consumer_process && options.follow_api.empty() && config.kafka_brokers.empty()) {
    return fail("nothing to follow: give KafkaBrokers (--kafka) to read the analyses from Kafka, or --api HOST:PORT "
                "to follow a daemon's /api/stream");
  }
  const bool grouped = !config.monitor_group.empty() && !consumer_process;
  if (grouped && config.kafka_brokers.empty()) {
    return fail("MonitorGroup " + config.monitor_group + " needs KafkaBrokers: the group is a Kafka consumer group");
  }
  if (grouped && config.recovery_consumer == "kafka") {
    return fail("MonitorGroup and RecoveryConsumer \"kafka\" do not go together: in a monitor group the daemon "
                "that monitors a cluster is the one to recover it (RecoveryConsumer \"embedded\")");
  }
  pgtid::SetTopologyTls(TopologyTlsOf(config));
  std::unique_ptr<pgtid::PseudoGtidPattern> pattern;
  Status s = pgtid::PseudoGtidPattern::Create(config.pseudo_gtid, &pattern);
  if (!s.ok()) return fail(s.message());

  if (!config.state_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(config.state_dir, ec);
    if (ec) return fail("StateDir " + config.state_dir + ": " + ec.message());
  }
  std::unique_ptr<sinks::JsonLinesSink> jsonl;
  const std::string jsonl_path = options.jsonl.empty() ? config.jsonl : options.jsonl;
  if (!jsonl_path.empty()) {
    s = sinks::JsonLinesSink::Open(jsonl_path, &jsonl);
    if (!s.ok()) return fail(s.message());
  }
  std::unique_ptr<sinks::KafkaSink> kafka;
  uint64_t spooled_through = 0;
  if (!config.kafka_brokers.empty()) {
    sinks::KafkaOptions ko;
    ko.brokers = config.kafka_brokers;
    ko.topic_prefix = config.kafka_topic_prefix;
    ko.partitions = static_cast<int>(config.kafka_topic_partitions);
    ko.properties = config.kafka_properties;
    ko.schema_registry_url = config.kafka_schema_registry_url;
    ko.spool.dir = !config.spool_dir.empty() ? config.spool_dir
                   : !config.state_dir.empty() ? config.state_dir + "/spool"
                                               : std::string();
    if (ko.spool.dir.empty()) return fail("KafkaBrokers needs SpoolDir or StateDir: messages wait there for the broker");
    ko.spool.max_bytes = config.spool_max_bytes;
    ko.spool.full_policy = config.spool_full_policy == "drop-oldest" ? sinks::SpoolOptions::FullPolicy::kDropOldest
                                                                     : sinks::SpoolOptions::FullPolicy::kRefuseNew;
    s = sinks::KafkaSink::Open(ko, &kafka);
    if (!s.ok()) return fail(s.message());
    s = kafka->LastSequence(config.producer_id, &spooled_through);
    if (!s.ok()) return fail(s.message());
  }
  sinks::PublisherOptions po;
  po.producer_id = config.producer_id;
  if (!config.state_dir.empty()) po.sequence_file = config.state_dir + "/sequence";
  po.published_through = spooled_through;
  std::unique_ptr<sinks::Publisher> publisher;
  s = sinks::Publisher::Open(po, &publisher);
  if (!s.ok()) return fail(s.message());
  // The spool first: what any outlet has shown is already durable for Kafka.
  if (kafka) publisher->AddSink(kafka.get());
  if (jsonl) publisher->AddSink(jsonl.get());

  std::unique_ptr<pgtid::IndexStore> store;
  const std::string store_path = !config.index_store_file.empty() ? config.index_store_file
                                 : !config.state_dir.empty()      ? config.state_dir + "/indexes.sqlite"
                                                                  : std::string();
  if (!store_path.empty()) {
    s = pgtid::IndexStore::Open(store_path, &store);
    if (!s.ok()) return fail(s.message());
  }
  analyzer::MonitorOptions mo = MonitorOptionsOf(config, pattern.get());
  mo.store = store.get();
  // In a monitor group the clusters are the group's records, and the seeds
  // are written there: the monitor starts empty and is given its share.
  std::atomic<FleetGroup*> group_of{nullptr};
  if (grouped) {
    mo.seeds.clear();
    mo.follows = [&group_of](const std::string& key) {
      FleetGroup* g = group_of.load();
      return g == nullptr || g->Follows(key);
    };
  } else if (!config.state_dir.empty()) {
    mo.topology_file = config.state_dir + "/topology.json";
  }
  // The embedded recovery consumer is offered every message before it leaves.
  // A recovery consumer process publishes only its recovery steps: its
  // monitor is its view, the daemon publishes the model.
  std::atomic<RecoveryConsumer*> recovery_offer{nullptr};
  analyzer::Monitor monitor(mo, [&publisher, &recovery_offer, consumer_process](v1::Envelope&& e) {
    if (RecoveryConsumer* r = recovery_offer.load()) r->Offer(e);
    if (!consumer_process) (void)publisher->Publish(std::move(e));
  });
  std::unique_ptr<KafkaRecoveryJournal> journal;
  std::unique_ptr<RecoveryConsumer> recovery;
  std::atomic<bool> feed_stop{false};
  std::thread feed;
  // Joined on every return, the early ones too.
  struct FeedJoin {
    std::atomic<bool>* stop;
    std::thread* thread;
    ~FeedJoin() {
      *stop = true;
      if (thread->joinable()) thread->join();
    }
  } feed_join{&feed_stop, &feed};
  if (consumer_process || options.recover ||
      (!config.recovery_consumer.empty() && config.recovery_consumer != "external")) {
    recovery = std::make_unique<RecoveryConsumer>(config, &monitor, publisher.get(), pattern.get());
    if (kafka) {
      // Recoveries are journaled on the recovery topic: the intent is durable
      // before the first statement, and every consumer reads what the others
      // (and this one's earlier runs) began.
      s = KafkaRecoveryJournal::Open(config, kafka.get(), &journal);
      if (!s.ok()) return fail(s.message());
      recovery->set_journal(journal.get());
      s = recovery->ReadJournal();
      if (!s.ok()) spdlog::warn("recovery journal: {}", s.message());
    }
    // Its own monitor sees a failure a moment after the daemon that published it.
    // So does a daemon of a monitor group taking over a cluster whose failure
    // its previous owner reported.
    if (consumer_process || grouped) recovery->set_view_settle(std::chrono::seconds(10));
    if (consumer_process && !options.follow_api.empty()) {
      // The daemon's /api/stream. What it published while the stream was
      // down is not replayed: every (re)connection offers the failures its
      // analysis has open now (the re-check judges them as any other).
      auto client = std::make_shared<ApiStreamClient>(config, options.follow_api, "type=analysis");
      spdlog::info("recovery: analyses from {}/api/stream", options.follow_api);
      feed = std::thread([&feed_stop, &recovery, &config, client, address = options.follow_api] {
        client->Run(
            feed_stop, [&] { OfferOpenFailures(config, address, recovery.get()); },
            [&](v1::Envelope&& e) { recovery->Offer(e); });
      });
    } else if (consumer_process || config.recovery_consumer == "kafka") {
      // Analyses as Kafka has them, in a consumer group: of the consumers
      // (or daemons) that follow the same servers, the one that owns a
      // cluster's partition acts.
      sinks::KafkaConsumerOptions co;
      co.brokers = config.kafka_brokers;
      co.topics = {config.kafka_topic_prefix + ".analysis"};
      co.group = config.recovery_consumer_group.empty() ? config.kafka_topic_prefix + ".recovery"
                                                        : config.recovery_consumer_group;
      co.properties = config.KafkaConsumerSecurity();
      co.mark_done = true;  // committed once the recovery consumer has dealt with it
      // A group with no committed offset starts at the beginning: a failure
      // published before any offset was committed is not skipped (what is
      // no longer true is refused by the re-check).
      co.from_beginning = true;
      // Partitions taken away are let go once the recovery under way (and
      // what is queued) is done: their next owner never acts beside it.
      co.before_revoke = [&recovery] { recovery->WaitIdle(std::chrono::minutes(10)); };
      std::unique_ptr<sinks::KafkaEnvelopeConsumer> opened;
      s = sinks::KafkaEnvelopeConsumer::Open(co, &opened);
      if (!s.ok()) return fail(s.message());
      spdlog::info("recovery: analyses from {} in consumer group {}", co.topics[0], co.group);
      // Shared with the `handled` callbacks, which may run after the feed ends.
      std::shared_ptr<sinks::KafkaEnvelopeConsumer> consumer = std::move(opened);
      feed = std::thread([&feed_stop, &recovery, consumer] {
        sinks::ConsumedMessage m;
        while (!feed_stop) {
          if (!consumer->Poll(std::chrono::milliseconds(200), &m)) continue;
          if (!m.problem.empty()) {
            spdlog::warn("recovery: {}", m.problem);
            consumer->MarkDone(m);
          } else {
            recovery->Offer(m.envelope, [consumer, m] { consumer->MarkDone(m); });
          }
        }
        consumer->Close();
      });
    } else {
      recovery_offer = recovery.get();
    }
    auto list = [](const std::vector<std::string>& v) {
      std::string s;
      for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
      return s;
    };
    spdlog::info("recovery: {} consumer, master filters [{}], intermediate master filters [{}]",
                 consumer_process ? "the" : "embedded", list(config.recover_master_cluster_filters),
                 list(config.recover_intermediate_master_cluster_filters));
  }

  std::unique_ptr<FleetGroup> group;
  // Whatever returns, the monitor's filter and the recovery stop asking the
  // group before it goes.
  struct GroupOfReset {
    std::atomic<FleetGroup*>* p;
    ~GroupOfReset() { *p = nullptr; }
  } group_of_reset{&group_of};
  if (grouped) {
    FleetGroupOptions go;
    go.brokers = config.kafka_brokers;
    go.topic_prefix = config.kafka_topic_prefix;
    go.group = config.monitor_group;
    go.properties = config.KafkaConsumerSecurity();
    go.session_timeout = std::chrono::milliseconds(config.monitor_group_session_timeout_ms);
    go.producer_id = config.producer_id;
    go.api_address = options.http ? AdvertisedAddressOf(config) : std::string();
    go.probe = mo.probe;
    go.seeds = config.discovery_seeds;
    s = FleetGroup::Open(go, &monitor, publisher.get(), &group);
    if (!s.ok()) return fail(s.message());
    if (recovery) {
      recovery->set_owns([&group_of](const std::string& key) {
        FleetGroup* g = group_of.load();
        return g == nullptr || g->Owns(key);
      });
      // The failures the previous owner of a cluster left open: the re-check
      // judges them as any other (a recovery it began is in the journal).
      group->set_on_adopted([&recovery](const std::vector<v1::Analysis>& open) {
        for (const auto& a : open) OfferOpenNow(a, recovery.get());
      });
    }
    group_of = group.get();
    spdlog::info("monitor group {}: clusters from {}.clusters, this daemon's API at {}", config.monitor_group,
                 config.kafka_topic_prefix, go.api_address.empty() ? "(none)" : go.api_address);
  }

  std::unique_ptr<sinks::EventStream> stream;
  std::unique_ptr<HttpApi> api;
  std::unique_ptr<HttpServer> http;
  if (options.http && !(consumer_process && config.listen_address.empty())) {
    stream = std::make_unique<sinks::EventStream>();
    api = std::make_unique<HttpApi>(config, &monitor, publisher.get(), pattern.get());
    api->set_kafka(kafka.get());
    api->set_event_stream(stream.get());
    api->set_recovery(recovery.get());
    api->set_fleet_group(group.get());
    HttpServerOptions ho;
    // Validated by LoadConfig; ":3000" (orchestrator's default) is every interface.
    const HostPort listen = ParseListenAddress(config.listen_address, kDefaultListenPort).value_or(HostPort{});
    ho.address = listen.host.empty() ? "0.0.0.0" : listen.host;
    ho.port = listen.port;
    ho.stream = stream.get();
    ho.handler = [&api](const HttpRequest& rq, HttpResponse* rs) { api->Handle(rq, rs); };
    ho.url_prefix = config.url_prefix;
    // orchestrator serves a custom StatusEndpoint at that very path, the default under the prefix.
    if (config.status_endpoint != "/api/status") ho.unprefixed_path = config.status_endpoint;
    ho.authorize = [&api](const HttpRequest& rq, HttpResponse* rs) { return api->Authorize(rq, rs, false); };
    s = HttpServer::Start(ho, &http);
    if (!s.ok()) return fail(s.message());
    publisher->AddSink(stream.get());
    spdlog::info("HTTP API on {}:{}", ho.address, http->port());
  }

  monitor.Start();
  if (group) group->Start();
  std::unique_ptr<Injector> injector;
  if (config.auto_pseudo_gtid) {
    injector = std::make_unique<Injector>(config, &monitor);
    injector->Start();
  }
  spdlog::info("{}: producer {}, {} seed(s), polling every {} s, heartbeat {} ms", name, config.producer_id,
               config.discovery_seeds.size(), config.instance_poll_seconds, config.stream_heartbeat_ms);
  while (!(options.stop && *options.stop)) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  spdlog::info("{}: stopping", name);
  if (injector) injector->Stop();
  recovery_offer = nullptr;
  feed_stop = true;
  if (feed.joinable()) feed.join();
  if (recovery) recovery->Stop();
  // The group's partitions go to the others once this daemon is done with them.
  if (group) group->Stop();
  group_of = nullptr;
  monitor.Stop();
  if (kafka) {
    // What the broker did not confirm stays in the spool for the next run.
    s = kafka->FlushFor(5000);
    if (!s.ok()) spdlog::warn("kafka: {}", s.message());
  }
  if (jsonl) (void)jsonl->Flush();
  http.reset();
  return 0;
}

}  // namespace tidewatch::server
