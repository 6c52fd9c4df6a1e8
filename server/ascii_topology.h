// The ASCII tree of a cluster, as orchestrator's `topology` command and
// /api/topology print it: the master first, each replica below its master
// indented by two spaces per level after the first, "+ " for a replica that
// replicates and was checked recently and validly, "- " otherwise, then
//   host:port [lag,status,version,ro|rw,format,extras…]
// with every line's "[" in one column; children in (host, port) order.
// A ring of co-masters without a top is drawn as branches at depth one.
#pragma once

#include <functional>
#include <string>

#include "analyzer/topology.h"
#include "server/orchestrator_json.h"

namespace tidewatch::server {

// Lines joined by "\n", no trailing newline; empty for an unknown cluster.
// With `tags` (orchestrator's topology-tags), each line ends in
// " [" + tags(key) + "]" after its fields, "[]" for an instance without tags.
std::string AsciiTopology(const analyzer::Topology& t, const std::string& cluster, const JsonSettings& s,
                          const std::function<std::string(const std::string& key)>& tags = nullptr);

}  // namespace tidewatch::server
