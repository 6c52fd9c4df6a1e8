#include "sinks/kafka_envelope_consumer.h"

#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>

#include <string_view>

#include "sinks/confluent_wire_format.h"

namespace tidewatch::sinks {

namespace {

rd_kafka_t* Handle(void* h) { return static_cast<rd_kafka_t*>(h); }

// Assignments and revocations logged, then applied as librdkafka's default
// (eager) rebalance protocol wants.
void Rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts, void*) {
  std::string list;
  for (int i = 0; i < parts->cnt; ++i) {
    list += (list.empty() ? "" : ", ") + std::string(parts->elems[i].topic) + "[" +
            std::to_string(parts->elems[i].partition) + "]";
  }
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    spdlog::info("kafka consumer {}: assigned {}", rd_kafka_name(rk), list.empty() ? "nothing" : list);
    rd_kafka_assign(rk, parts);
  } else {
    spdlog::info("kafka consumer {}: revoked {}", rd_kafka_name(rk), list.empty() ? "nothing" : list);
    rd_kafka_assign(rk, nullptr);
  }
}

}  // namespace

Status KafkaEnvelopeConsumer::Open(const KafkaConsumerOptions& o, std::unique_ptr<KafkaEnvelopeConsumer>* out) {
  if (o.brokers.empty()) return Status::InvalidArgument("kafka consumer: no brokers");
  if (o.group.empty()) return Status::InvalidArgument("kafka consumer: no group");
  char buf[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  std::map<std::string, std::string> settings = {
      {"bootstrap.servers", o.brokers},
      {"group.id", o.group},
      {"auto.offset.reset", o.from_beginning ? "earliest" : "latest"},
      {"enable.auto.commit", o.commit ? "true" : "false"},
      {"enable.auto.offset.store", o.mark_done ? "false" : "true"},
      {"session.timeout.ms", std::to_string(o.session_timeout.count())},
      {"heartbeat.interval.ms", std::to_string(std::max<int64_t>(100, o.session_timeout.count() / 3))}};
  for (const auto& [k, v] : o.properties) settings[k] = v;
  for (const auto& [k, v] : settings) {
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), buf, sizeof buf) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      return Status::InvalidArgument("kafka consumer: " + k + ": " + buf);
    }
  }
  rd_kafka_conf_set_rebalance_cb(conf, Rebalance);
  rd_kafka_t* c = rd_kafka_new(RD_KAFKA_CONSUMER, conf, buf, sizeof buf);
  if (c == nullptr) return Status::InvalidArgument(std::string("kafka consumer: ") + buf);
  rd_kafka_poll_set_consumer(c);
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(static_cast<int>(o.topics.size()));
  for (const auto& t : o.topics) rd_kafka_topic_partition_list_add(list, t.c_str(), RD_KAFKA_PARTITION_UA);
  rd_kafka_resp_err_t e = rd_kafka_subscribe(c, list);
  rd_kafka_topic_partition_list_destroy(list);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    rd_kafka_destroy(c);
    return Status::IOError(std::string("kafka consumer: subscribe: ") + rd_kafka_err2str(e));
  }
  out->reset(new KafkaEnvelopeConsumer());
  (*out)->handle_ = c;
  return Status::OK();
}

KafkaEnvelopeConsumer::~KafkaEnvelopeConsumer() {
  Close();
  if (handle_ != nullptr) rd_kafka_destroy(Handle(handle_));
}

void KafkaEnvelopeConsumer::Close() {
  if (closed_.exchange(true) || handle_ == nullptr) return;
  rd_kafka_consumer_close(Handle(handle_));
}

void KafkaEnvelopeConsumer::MarkDone(const ConsumedMessage& m) {
  if (closed_ || handle_ == nullptr) return;
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(list, m.topic.c_str(), m.partition)->offset = m.offset + 1;
  // Fails harmlessly for a partition no longer assigned: its next owner reads it again.
  rd_kafka_resp_err_t e = rd_kafka_offsets_store(Handle(handle_), list);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) spdlog::debug("kafka consumer: offset store: {}", rd_kafka_err2str(e));
  rd_kafka_topic_partition_list_destroy(list);
}

bool KafkaEnvelopeConsumer::Poll(std::chrono::milliseconds timeout, ConsumedMessage* out) {
  if (closed_) return false;
  rd_kafka_message_t* m = rd_kafka_consumer_poll(Handle(handle_), static_cast<int>(timeout.count()));
  if (m == nullptr) return false;
  if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) spdlog::warn("kafka consumer: {}", rd_kafka_message_errstr(m));
    rd_kafka_message_destroy(m);
    return false;
  }
  *out = ConsumedMessage();
  out->topic = rd_kafka_topic_name(m->rkt);
  out->partition = m->partition;
  out->offset = m->offset;
  if (m->key != nullptr) out->key.assign(static_cast<const char*>(m->key), m->key_len);
  std::string_view value(static_cast<const char*>(m->payload), m->len);
  if (IsConfluentFramed(value)) {  // written with a Schema Registry
    int32_t schema_id = 0;
    std::vector<int> indexes;
    if (auto s = ParseConfluentProtobuf(value, &schema_id, &indexes, &value); !s.ok()) {
      out->problem = s.message();
    } else if (indexes != MessageIndexes(*v1::Envelope::descriptor())) {
      out->problem = "framed for another message type than tidewatch.v1.Envelope";
    }
  }
  if (out->problem.empty() && !out->envelope.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
    out->problem = "not a Tidewatch message";
  }
  if (!out->problem.empty()) {
    out->problem = out->topic + " [" + std::to_string(out->partition) + "] offset " + std::to_string(out->offset) +
                   ": " + out->problem;
  }
  rd_kafka_message_destroy(m);
  return true;
}

}  // namespace tidewatch::sinks
