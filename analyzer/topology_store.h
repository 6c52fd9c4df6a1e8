// The topology a daemon knew, kept in a file (<StateDir>/topology.json) so
// that a restart knows the fleet as orchestrator's backend database would:
// each instance's last complete probe — its master, its replicas, what it
// logs, its version, its position — also of an instance that has died since.
// A daemon restarted while a master is dead reloads that master with its
// replicas, probes them all, and analyzes DeadMaster from what it finds.
//
// The file is written whole and replaced atomically (write, fsync, rename);
// a missing file is an empty topology.
#pragma once

#include <string>
#include <vector>

#include "analyzer/instance_probe.h"
#include "analyzer/topology.h"
#include "base/status.h"

namespace tidewatch::analyzer {

// The last complete probe of every instance that has one.
Status SaveTopology(const std::string& path, const Topology& topology);
Status LoadTopology(const std::string& path, std::vector<ProbeResult>* out);

}  // namespace tidewatch::analyzer
