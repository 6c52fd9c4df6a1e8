#include "sinks/kafka_envelope_consumer.h"

#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>

#include <unistd.h>

#include <algorithm>
#include <string_view>

#include "sinks/confluent_wire_format.h"

namespace tidewatch::sinks {

namespace {

rd_kafka_t* Handle(void* h) { return static_cast<rd_kafka_t*>(h); }

using Partitions = std::vector<std::pair<std::string, int32_t>>;

Partitions ListOf(const rd_kafka_topic_partition_list_t* parts) {
  Partitions out;
  for (int i = 0; i < parts->cnt; ++i) out.emplace_back(parts->elems[i].topic, parts->elems[i].partition);
  return out;
}

}  // namespace

struct KafkaEnvelopeConsumer::Callbacks {
  std::function<void()> before_revoke;
  std::function<void(const Partitions&)> on_assigned;
  std::function<void(const Partitions&, bool)> on_revoked;
};

namespace {

// Assignments and revocations logged, then applied as the group's rebalance
// protocol wants: all at once (eager) or only what moves (cooperative).
void Rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts, void* opaque) {
  const bool cooperative = std::string_view(rd_kafka_rebalance_protocol(rk)) == "COOPERATIVE";
  const Partitions moved = ListOf(parts);
  std::string list;
  for (const auto& [topic, partition] : moved) {
    list += (list.empty() ? "" : ", ") + topic + "[" + std::to_string(partition) + "]";
  }
  auto* cb = static_cast<KafkaEnvelopeConsumer::Callbacks*>(opaque);
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    spdlog::info("kafka consumer {}: assigned {}", rd_kafka_name(rk), list.empty() ? "nothing" : list);
    if (cooperative) {
      if (rd_kafka_error_t* e = rd_kafka_incremental_assign(rk, parts)) {
        spdlog::warn("kafka consumer {}: assign: {}", rd_kafka_name(rk), rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
      }
    } else {
      rd_kafka_assign(rk, parts);
    }
    if (cb != nullptr && cb->on_assigned) cb->on_assigned(moved);
    return;
  }
  const bool lost = rd_kafka_assignment_lost(rk) != 0;
  spdlog::info("kafka consumer {}: revoked {}{}", rd_kafka_name(rk), list.empty() ? "nothing" : list,
               lost ? " (lost: the group may have gone on without this member)" : "");
  if (cb != nullptr && cb->on_revoked && !moved.empty()) cb->on_revoked(moved, lost);
  if (cb != nullptr && cb->before_revoke) {
    cb->before_revoke();
    // What the work marked done is the group's before the next owner reads.
    const rd_kafka_resp_err_t e = rd_kafka_commit(rk, nullptr, 0);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR && e != RD_KAFKA_RESP_ERR__NO_OFFSET) {
      spdlog::warn("kafka consumer {}: commit before revoke: {}", rd_kafka_name(rk), rd_kafka_err2str(e));
    }
  }
  if (cooperative) {
    if (rd_kafka_error_t* e = rd_kafka_incremental_unassign(rk, parts)) {
      spdlog::warn("kafka consumer {}: unassign: {}", rd_kafka_name(rk), rd_kafka_error_string(e));
      rd_kafka_error_destroy(e);
    }
  } else {
    rd_kafka_assign(rk, nullptr);
  }
}

}  // namespace

Status KafkaEnvelopeConsumer::Open(const KafkaConsumerOptions& o, std::unique_ptr<KafkaEnvelopeConsumer>* out) {
  if (o.brokers.empty()) return Status::InvalidArgument("kafka consumer: no brokers");
  const bool reader = o.group.empty();
  char buf[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  std::map<std::string, std::string> settings = {{"bootstrap.servers", o.brokers}};
  if (reader) {
    // Offsets are the reader's own (next_offset_); a position the broker no
    // longer has (retention) restarts at the oldest message kept.
    settings["auto.offset.reset"] = "earliest";
    settings["enable.auto.commit"] = "false";
    // librdkafka assigns partitions only to a consumer with a group id; the
    // reader never subscribes or commits, so the group is never joined.
    settings["group.id"] = "tidewatch-reader-" + std::to_string(::getpid()) + "-" +
                           std::to_string(reinterpret_cast<uintptr_t>(out));
  } else {
    settings["group.id"] = o.group;
    settings["auto.offset.reset"] = o.from_beginning ? "earliest" : "latest";
    settings["enable.auto.commit"] = o.commit ? "true" : "false";
    settings["enable.auto.offset.store"] = o.mark_done ? "false" : "true";
    settings["session.timeout.ms"] = std::to_string(o.session_timeout.count());
    // Heartbeats are also how a member learns of a rebalance: at most a
    // second apart, so that partitions move soon after the session ends.
    settings["heartbeat.interval.ms"] =
        std::to_string(std::clamp<int64_t>(o.session_timeout.count() / 3, 100, 1000));
    if (o.cooperative) settings["partition.assignment.strategy"] = "cooperative-sticky";
  }
  for (const auto& [k, v] : o.properties) settings[k] = v;
  for (const auto& [k, v] : settings) {
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), buf, sizeof buf) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      return Status::InvalidArgument("kafka consumer: " + k + ": " + buf);
    }
  }
  auto callbacks = std::make_unique<Callbacks>(Callbacks{o.before_revoke, o.on_assigned, o.on_revoked});
  if (!reader) {
    rd_kafka_conf_set_rebalance_cb(conf, Rebalance);
    rd_kafka_conf_set_opaque(conf, callbacks.get());
  }
  rd_kafka_t* c = rd_kafka_new(RD_KAFKA_CONSUMER, conf, buf, sizeof buf);
  if (c == nullptr) return Status::InvalidArgument(std::string("kafka consumer: ") + buf);
  rd_kafka_poll_set_consumer(c);
  if (reader) {
    out->reset(new KafkaEnvelopeConsumer());
    (*out)->handle_ = c;
    (*out)->reader_ = true;
    (*out)->topics_ = o.topics;
    return Status::OK();
  }
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
  (*out)->callbacks_ = std::move(callbacks);
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

void KafkaEnvelopeConsumer::Decode(const void* message, ConsumedMessage* out) {
  const auto* m = static_cast<const rd_kafka_message_t*>(message);
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
  Decode(m, out);
  rd_kafka_message_destroy(m);
  return true;
}

Status KafkaEnvelopeConsumer::ReadToEnd(std::chrono::milliseconds timeout,
                                        const std::function<void(const ConsumedMessage&)>& fn) {
  if (!reader_) return Status::InvalidArgument("kafka consumer: ReadToEnd is for a reader without a group");
  if (closed_) return Status::IOError("kafka consumer: closed");
  rd_kafka_t* rk = Handle(handle_);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto left = [&] {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    return static_cast<int>(std::max<int64_t>(0, ms.count()));
  };
  // Every partition with something not read yet, and where it ends now.
  std::map<std::string, int64_t> end;
  rd_kafka_topic_partition_list_t* assignment = rd_kafka_topic_partition_list_new(8);
  Status status;
  for (const auto& topic : topics_) {
    rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
    const rd_kafka_metadata_t* md = nullptr;
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, rkt, &md, left());
    rd_kafka_topic_destroy(rkt);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
      status = Status::IOError("kafka: metadata of " + topic + ": " + rd_kafka_err2str(e));
      break;
    }
    for (int t = 0; t < md->topic_cnt && status.ok(); ++t) {
      // A topic not created yet has nothing to read.
      if (md->topics[t].err != RD_KAFKA_RESP_ERR_NO_ERROR) continue;
      for (int p = 0; p < md->topics[t].partition_cnt; ++p) {
        const int32_t partition = md->topics[t].partitions[p].id;
        int64_t low = 0, high = 0;
        e = rd_kafka_query_watermark_offsets(rk, topic.c_str(), partition, &low, &high, left());
        if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
          status = Status::IOError("kafka: end of " + topic + " [" + std::to_string(partition) + "]: " +
                                   rd_kafka_err2str(e));
          break;
        }
        const std::string key = topic + "/" + std::to_string(partition);
        auto it = next_offset_.find(key);
        const int64_t next = it == next_offset_.end() ? low : std::max(low, it->second);
        if (next >= high) continue;
        end[key] = high;
        rd_kafka_topic_partition_list_add(assignment, topic.c_str(), partition)->offset = next;
      }
    }
    rd_kafka_metadata_destroy(md);
    if (!status.ok()) break;
  }
  if (status.ok() && !end.empty()) {
    rd_kafka_resp_err_t e = rd_kafka_assign(rk, assignment);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) status = Status::IOError(std::string("kafka: assign: ") + rd_kafka_err2str(e));
  }
  rd_kafka_topic_partition_list_destroy(assignment);
  while (status.ok() && !end.empty()) {
    if (left() == 0) {
      status = Status::IOError("kafka: " + std::to_string(end.size()) + " partition(s) of " + topics_.front() +
                               " not read to their end within " + std::to_string(timeout.count()) + " ms");
      break;
    }
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, std::min(100, left()));
    if (m == nullptr) continue;
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) spdlog::warn("kafka reader: {}", rd_kafka_message_errstr(m));
      rd_kafka_message_destroy(m);
      continue;
    }
    const std::string key = std::string(rd_kafka_topic_name(m->rkt)) + "/" + std::to_string(m->partition);
    auto it = end.find(key);
    if (it == end.end()) {
      // Written after this call looked, to a partition already read to the
      // end it found: the next call reads it (the position stays before it).
      rd_kafka_message_destroy(m);
      continue;
    }
    next_offset_[key] = m->offset + 1;
    ConsumedMessage c;
    Decode(m, &c);
    rd_kafka_message_destroy(m);
    fn(c);
    if (c.offset + 1 >= it->second) end.erase(it);
  }
  rd_kafka_assign(rk, nullptr);
  return status;
}

}  // namespace tidewatch::sinks
