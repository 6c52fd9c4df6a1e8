#include "sinks/kafka_sink.h"

#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstring>
#include <vector>

#include "sinks/confluent_wire_format.h"
#include "sinks/envelope_sequencer.h"

namespace tidewatch::sinks {

struct KafkaSink::Handles {
  rd_kafka_t* rk = nullptr;
  rd_kafka_queue_t* admin = nullptr;
  // Handles of Tidewatch's topics, held so that the producer knows their
  // partitions' leaders before their first message: a topic first seen at
  // its first message waits for a metadata round (~0.8 s on a fresh broker).
  std::vector<rd_kafka_topic_t*> topics;
  ~Handles() {
    for (auto* t : topics) rd_kafka_topic_destroy(t);
    if (admin != nullptr) rd_kafka_queue_destroy(admin);
    if (rk != nullptr) rd_kafka_destroy(rk);
  }
};

namespace {

constexpr const char* kTopicSuffixes[] = {"topology", "analysis", "pgtid", "recovery", "audit", "clusters"};

// librdkafka's delivery report: the message's opaque is its spool index.
void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  auto* spool = static_cast<Spool*>(opaque);
  const auto index = reinterpret_cast<uintptr_t>(m->_private);
  if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    spool->Ack(index);
  } else {
    spdlog::error("kafka: message {} to {} not delivered: {}; it stays in the spool", index,
                  rd_kafka_topic_name(m->rkt), rd_kafka_err2str(m->err));
    spool->Rewind(index);
  }
}

}  // namespace

KafkaSink::KafkaSink(KafkaOptions options) : options_(std::move(options)), h_(std::make_unique<Handles>()) {}

KafkaSink::~KafkaSink() {
  stop_ = true;
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (h_->rk != nullptr) rd_kafka_flush(h_->rk, 5000);
  if (spool_) (void)spool_->Checkpoint();
}

Status KafkaSink::Open(KafkaOptions options, std::unique_ptr<KafkaSink>* out) {
  if (options.brokers.empty()) return Status::InvalidArgument("kafka: no brokers");
  if (options.spool.dir.empty()) return Status::InvalidArgument("kafka: no spool directory");
  std::unique_ptr<KafkaSink> k(new KafkaSink(options));
  Status s = Spool::Open(options.spool, &k->spool_);
  if (!s.ok()) return s;
  if (options.schema_registry_url.empty()) {
    k->schemas_ready_ = true;
  } else if (s = SchemaRegistryClient::Open(options.schema_registry_url, &k->registry_); !s.ok()) {
    return s.WithContext("kafka");
  }
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  std::map<std::string, std::string> props = {
      {"bootstrap.servers", options.brokers},
      {"enable.idempotence", "true"},
      {"acks", "all"},
      {"compression.type", options.compression},
      {"linger.ms", "5"},
      {"message.timeout.ms", "0"},  // never give up on a message: the spool holds it
      {"queue.buffering.max.messages", "100000"},
      {"client.id", "tidewatch"},
      // Topics are Tidewatch's to create, with their configuration (RequestTopics).
      {"allow.auto.create.topics", "false"},
  };
  for (const auto& [key, value] : options.properties) props[key] = value;
  for (const auto& [key, value] : props) {
    if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      return Status::InvalidArgument("kafka property " + key + ": " + err);
    }
  }
  rd_kafka_conf_set_dr_msg_cb(conf, OnDelivery);
  rd_kafka_conf_set_opaque(conf, k->spool_.get());
  k->h_->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (k->h_->rk == nullptr) {
    rd_kafka_conf_destroy(conf);
    return Status::InvalidArgument(std::string("kafka producer: ") + err);
  }
  k->thread_ = std::thread([p = k.get()] { p->Run(); });
  *out = std::move(k);
  return Status::OK();
}

std::string KafkaSink::TopicOf(const v1::Envelope& e) const {
  const std::string& p = options_.topic_prefix;
  switch (e.body_case()) {
    case v1::Envelope::kAnalysis: return p + ".analysis";
    case v1::Envelope::kPseudoGtid: return p + ".pgtid";
    case v1::Envelope::kRecovery: return p + ".recovery";
    case v1::Envelope::kAudit: return p + ".audit";
    case v1::Envelope::kClusterRecord: return p + ".clusters";
    default: return p + ".topology";
  }
}

std::string KafkaSink::KeyOf(const v1::Envelope& e) {
  if (e.body_case() == v1::Envelope::kPseudoGtid) return e.source().server();
  return e.source().cluster().empty() ? e.source().server() : e.source().cluster();
}

// Asks the cluster to create the topics (without waiting); the answer is
// read by TopicsCreated(). Producing does not wait for it: messages to a
// topic that does not exist yet wait in librdkafka until it does (the
// producer never has the broker auto-create it — allow.auto.create.topics
// is off — since a broker would create it with its own defaults, the pgtid
// topic not compacted), and where topics cannot be created messages wait in
// librdkafka and the spool, the reason in FlushFor's error.
void KafkaSink::RequestTopics() {
  std::vector<rd_kafka_NewTopic_t*> topics;
  char err[512];
  for (const char* n : kTopicSuffixes) {
    const std::string t = options_.topic_prefix + "." + n;
    rd_kafka_NewTopic_t* nt =
        rd_kafka_NewTopic_new(t.c_str(), options_.partitions, options_.replication_factor, err, sizeof err);
    if (nt == nullptr) {
      SetError(err);
      continue;
    }
    // Keyed state, of which only each key's newest record matters.
    if (std::strcmp(n, "pgtid") == 0 || std::strcmp(n, "clusters") == 0) {
      rd_kafka_NewTopic_set_config(nt, "cleanup.policy", "compact");
    }
    topics.push_back(nt);
  }
  if (h_->admin == nullptr) h_->admin = rd_kafka_queue_new(h_->rk);
  rd_kafka_AdminOptions_t* opts = rd_kafka_AdminOptions_new(h_->rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
  rd_kafka_AdminOptions_set_request_timeout(opts, 5000, err, sizeof err);
  rd_kafka_CreateTopics(h_->rk, topics.data(), topics.size(), opts, h_->admin);
  rd_kafka_AdminOptions_destroy(opts);
  for (auto* x : topics) rd_kafka_NewTopic_destroy(x);
  topics_requested_ = true;
}

// Reads the answer to RequestTopics(), if there is one yet.
void KafkaSink::TopicsCreated() {
  rd_kafka_event_t* ev = rd_kafka_queue_poll(h_->admin, 0);
  if (ev == nullptr) return;
  topics_requested_ = false;
  bool ok = false;
  std::string error;
  if (rd_kafka_event_error(ev) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    error = rd_kafka_event_error_string(ev);
  } else if (const auto* res = rd_kafka_event_CreateTopics_result(ev)) {
    size_t n = 0;
    const rd_kafka_topic_result_t** r = rd_kafka_CreateTopics_result_topics(res, &n);
    ok = true;
    for (size_t i = 0; i < n; ++i) {
      auto e = rd_kafka_topic_result_error(r[i]);
      if (e != RD_KAFKA_RESP_ERR_NO_ERROR && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
        ok = false;
        error = std::string(rd_kafka_topic_result_name(r[i])) + ": " + rd_kafka_topic_result_error_string(r[i]);
      }
    }
  }
  rd_kafka_event_destroy(ev);
  topics_ready_ = ok;
  if (ok && h_->topics.empty()) {
    for (const char* n : kTopicSuffixes) {
      const std::string t = options_.topic_prefix + "." + n;
      if (rd_kafka_topic_t* handle = rd_kafka_topic_new(h_->rk, t.c_str(), nullptr)) h_->topics.push_back(handle);
    }
  }
  if (!ok) {
    spdlog::warn("kafka: topics not created (yet): {}", error);
    SetError("topics not created: " + error);
  }
}

// Registers the schema under every topic's value subject; false (the error
// kept for FlushFor) while the registry cannot be reached or refuses it.
bool KafkaSink::RegisterSchemas() {
  const google::protobuf::Descriptor& type = *v1::Envelope::descriptor();
  // The .proto text of the compiled schema, as the registry parses it; the
  // well-known google/protobuf/timestamp.proto it imports is built into the
  // registry and needs no reference.
  const std::string schema = type.file()->DebugString();
  for (const char* n : kTopicSuffixes) {
    const std::string topic = options_.topic_prefix + "." + n;
    if (value_prefix_.count(topic) != 0) continue;
    int32_t id = 0;
    if (Status s = registry_->Register(topic + "-value", "PROTOBUF", schema, &id); !s.ok()) {
      spdlog::error("kafka: {}; messages wait in the spool", s.message());
      SetError(s.message());
      return false;
    }
    value_prefix_[topic] = ConfluentProtobufPrefix(id, type);
  }
  return true;
}

void KafkaSink::SetError(std::string error) {
  std::lock_guard<std::mutex> lock(error_mu_);
  last_error_ = std::move(error);
}

std::string KafkaSink::LastError() const {
  std::lock_guard<std::mutex> lock(error_mu_);
  return last_error_;
}

void KafkaSink::Run() {
  using Clock = std::chrono::steady_clock;
  auto next_topic_try = Clock::now();
  auto next_registry_try = Clock::now();
  auto next_checkpoint = Clock::now();
  std::string payload, framed;
  v1::Envelope e;
  while (!stop_) {
    if (topics_requested_) {
      TopicsCreated();
    } else if (!topics_ready_ && Clock::now() >= next_topic_try) {
      RequestTopics();
      next_topic_try = Clock::now() + std::chrono::seconds(10);
    }
    if (!schemas_ready_ && Clock::now() >= next_registry_try) {
      schemas_ready_ = RegisterSchemas();
      next_registry_try = Clock::now() + std::chrono::seconds(2);
    }
    bool busy = false;
    uint64_t index = 0;
    while (!stop_ && schemas_ready_ && spool_->Next(&payload, &index)) {
      if (!e.ParseFromString(payload)) {
        spdlog::error("kafka: spooled message {} is not a message; skipped", index);
        spool_->Ack(index);
        continue;
      }
      const std::string topic = TopicOf(e), key = KeyOf(e);
      const std::string version = std::to_string(e.schema_version());
      const char* type = BodyName(e);
      const std::string* value = &payload;
      if (registry_) {
        framed = value_prefix_[topic];
        framed += payload;
        value = &framed;
      }
      auto err = rd_kafka_producev(
          h_->rk, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_KEY(key.data(), key.size()),
          RD_KAFKA_V_VALUE(const_cast<char*>(value->data()), value->size()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
          RD_KAFKA_V_HEADER("type", type, static_cast<ssize_t>(std::strlen(type))),
          RD_KAFKA_V_HEADER("schema_version", version.data(), static_cast<ssize_t>(version.size())),
          RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(static_cast<uintptr_t>(index))), RD_KAFKA_V_END);
      if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        spool_->Rewind(index);
        break;
      }
      if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        spdlog::error("kafka: cannot produce message {}: {}", index, rd_kafka_err2str(err));
        spool_->Rewind(index);
        break;
      }
      ++produced_;
      busy = true;
    }
    // Delivery reports are served without blocking: an idle wait below is
    // the one a new message wakes (Publish), so it leaves at once.
    rd_kafka_poll(h_->rk, 0);
    if (Clock::now() >= next_checkpoint) {
      if (Status s = spool_->Checkpoint(); !s.ok()) spdlog::error("kafka: {}", s.message());
      next_checkpoint = Clock::now() + std::chrono::milliseconds(100);
    }
    if (!busy) {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait_for(lock, std::chrono::milliseconds(10));
    }
  }
}

Status KafkaSink::Publish(const v1::Envelope& message) {
  std::string bytes;
  if (!message.SerializeToString(&bytes)) return Status::InvalidArgument("kafka: message does not serialize");
  uint64_t index = 0;
  const uint64_t dropped_before = spool_->dropped();
  Status s = spool_->Append(bytes, &index);
  if (!s.ok()) {
    spdlog::error("kafka: {}", s.message());
    return s;
  }
  if (spool_->dropped() != dropped_before) {
    spdlog::error("kafka: spool full: {} oldest undelivered messages dropped so far", spool_->dropped());
  }
  wake_.notify_one();
  return Status::OK();
}

Status KafkaSink::FlushFor(int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (spool_->pending() > 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      const std::string error = LastError();
      return Status::IOError("kafka: " + std::to_string(spool_->pending()) +
                             " messages not delivered yet (they stay in the spool)" +
                             (error.empty() ? "" : ": " + error));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return spool_->Checkpoint();
}

Status KafkaSink::LastSequence(const std::string& producer_id, uint64_t* sequence) const {
  *sequence = 0;
  std::string payload;
  if (!spool_->LastAtOpen(&payload)) return Status::OK();
  v1::Envelope e;
  if (!e.ParseFromString(payload)) {
    return Status::Corruption("kafka: spool " + options_.spool.dir + ": the newest record is not a message");
  }
  if (e.producer_id() == producer_id) *sequence = e.sequence();
  return Status::OK();
}

KafkaStats KafkaSink::stats() const {
  KafkaStats s;
  s.produced = produced_;
  s.spool_pending = spool_->pending();
  s.spool_bytes = spool_->bytes();
  s.spool_dropped = spool_->dropped();
  s.delivered = spool_->acked_through();
  return s;
}

}  // namespace tidewatch::sinks
