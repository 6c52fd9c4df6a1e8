#include "tools/tidewatch/tail_command.h"

#include <librdkafka/rdkafka.h>
#include <unistd.h>

#include <chrono>
#include <ostream>
#include <string_view>
#include <vector>

#include "sinks/confluent_wire_format.h"
#include "sinks/json_lines_sink.h"

namespace tidewatch::tools {

int RunTail(const TailOptions& o, std::ostream& out, std::ostream& err) {
  char buf[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  const std::string group = o.group.empty() ? "tidewatch-tail-" + std::to_string(::getpid()) : o.group;
  for (const auto& [k, v] : std::initializer_list<std::pair<const char*, std::string>>{
           {"bootstrap.servers", o.brokers},
           {"group.id", group},
           {"auto.offset.reset", o.from_beginning ? "earliest" : "latest"},
           {"enable.auto.commit", o.group.empty() ? "false" : "true"}}) {
    if (rd_kafka_conf_set(conf, k, v.c_str(), buf, sizeof buf) != RD_KAFKA_CONF_OK) {
      err << "tidewatch tail: " << k << ": " << buf << "\n";
      rd_kafka_conf_destroy(conf);
      return 2;
    }
  }
  rd_kafka_t* c = rd_kafka_new(RD_KAFKA_CONSUMER, conf, buf, sizeof buf);
  if (c == nullptr) {
    err << "tidewatch tail: " << buf << "\n";
    return 2;
  }
  rd_kafka_poll_set_consumer(c);
  std::vector<std::string> topics = o.topics;
  if (topics.empty()) {
    for (const char* t : {"topology", "analysis", "pgtid", "recovery", "audit"}) topics.push_back(o.topic_prefix + "." + t);
  }
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(static_cast<int>(topics.size()));
  for (const auto& t : topics) rd_kafka_topic_partition_list_add(list, t.c_str(), RD_KAFKA_PARTITION_UA);
  rd_kafka_resp_err_t e = rd_kafka_subscribe(c, list);
  rd_kafka_topic_partition_list_destroy(list);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    err << "tidewatch tail: subscribe: " << rd_kafka_err2str(e) << "\n";
    rd_kafka_destroy(c);
    return 2;
  }
  long n = 0;
  int status = 0;
  auto last = std::chrono::steady_clock::now();
  std::string line;
  while (!(o.stop && *o.stop) && (o.count == 0 || n < o.count)) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(c, 100);
    if (m == nullptr) {
      if (o.idle_exit_ms > 0 &&
          std::chrono::steady_clock::now() - last > std::chrono::milliseconds(o.idle_exit_ms)) {
        break;
      }
      continue;
    }
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      last = std::chrono::steady_clock::now();
      v1::Envelope env;
      std::string_view value(static_cast<const char*>(m->payload), m->len);
      std::string problem;
      if (sinks::IsConfluentFramed(value)) {  // written with a Schema Registry
        int32_t schema_id = 0;
        std::vector<int> indexes;
        if (auto s = sinks::ParseConfluentProtobuf(value, &schema_id, &indexes, &value); !s.ok()) {
          problem = s.message();
        } else if (indexes != sinks::MessageIndexes(*v1::Envelope::descriptor())) {
          problem = "framed for another message type than tidewatch.v1.Envelope";
        }
      }
      if (problem.empty() && !env.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
        problem = "not a Tidewatch message";
      }
      if (!problem.empty()) {
        err << "tidewatch tail: " << rd_kafka_topic_name(m->rkt) << " [" << m->partition << "] offset "
            << m->offset << ": " << problem << "\n";
        status = 1;
      } else if (sinks::ToJsonLine(env, &line).ok()) {
        out << line << "\n" << std::flush;
        ++n;
      }
    } else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      err << "tidewatch tail: " << rd_kafka_message_errstr(m) << "\n";
    }
    rd_kafka_message_destroy(m);
  }
  rd_kafka_consumer_close(c);
  rd_kafka_destroy(c);
  return status;
}

}  // namespace tidewatch::tools
