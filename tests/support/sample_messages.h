// Messages for the outlets' tests: an analysis or an instance change of a
// cluster, the two kinds the stream's ?type= and ?cluster= filters tell apart.
#pragma once

#include <string>

#include "tidewatch/v1/tidewatch.pb.h"

namespace tidewatch::testing {

inline v1::Envelope SampleMessage(const std::string& cluster, bool analysis) {
  v1::Envelope e;
  e.mutable_source()->set_cluster(cluster);
  if (analysis) {
    e.mutable_analysis()->set_code("DeadMaster");
  } else {
    e.mutable_instance()->set_kind(v1::InstanceChange::DISCOVERED);
  }
  return e;
}

}  // namespace tidewatch::testing
