// The messages of the Kafka outage and crash tests, made from their sequence
// number alone: sequence i is a Pseudo-GTID entry of server
// db-<i mod clusters>:3306 (topic .pgtid, keyed by that server) when i is a
// multiple of 4, else an analysis of cluster cluster-<i mod clusters> (topic
// .analysis, keyed by the cluster). A reader checks topics and keys from the
// contents, without knowing this rule.
#pragma once

#include <cstdint>
#include <string>

#include "tidewatch/v1/tidewatch.pb.h"

namespace tidewatch::testing {

inline v1::Envelope NumberedMessage(uint64_t sequence, int clusters) {
  v1::Envelope e;
  const std::string n = std::to_string(sequence % static_cast<uint64_t>(clusters));
  e.mutable_source()->set_server("db-" + n + ":3306");
  e.mutable_source()->set_cluster("cluster-" + n);
  if (sequence % 4 == 0) {
    auto* p = e.mutable_pseudo_gtid();
    p->set_text("drop view if exists `meta`.`_pseudo_gtid_hint__asc:" + std::to_string(sequence) + "`");
    p->mutable_at()->set_file("db-bin.000001");
    p->mutable_at()->set_pos(4 + sequence * 100);
    p->set_ordinal(sequence);
  } else {
    auto* a = e.mutable_analysis();
    a->set_phase(v1::Analysis::OPENED);
    a->set_code("DeadMaster");
    a->set_cluster("cluster-" + n);
    a->set_description("message " + std::to_string(sequence));
  }
  return e;
}

}  // namespace tidewatch::testing
