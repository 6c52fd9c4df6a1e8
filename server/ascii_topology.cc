#include "server/ascii_topology.h"

#include <algorithm>
#include <set>

#include "pgtid/executor.h"

namespace tidewatch::server {

namespace {

std::string Details(const analyzer::InstanceRecord& r, const JsonSettings& s) {
  const auto& i = r.probe.instance;
  const auto& rs = i.replica;
  const auto now = analyzer::Clock::now();
  const bool recent = now - r.last_checked <= 5 * s.poll_interval;
  const bool replicating = rs.configured && rs.io_running == "Yes" && rs.sql_running;
  std::vector<std::string> t;
  if (!r.reachable || !recent) {
    t.push_back("unknown");
  } else if (rs.configured && (!replicating || !rs.seconds_behind)) {
    t.push_back("null");
  } else {
    t.push_back(std::to_string(rs.configured ? *rs.seconds_behind : 0) + "s");
  }
  if (!r.reachable) {
    t.push_back("invalid");
  } else if (!recent) {
    t.push_back("unchecked");
  } else if (rs.configured && !replicating) {
    t.push_back("nonreplicating");
  } else if (rs.configured && rs.seconds_behind && *rs.seconds_behind > s.reasonable_lag_seconds) {
    t.push_back("lag");
  } else {
    t.push_back("ok");
  }
  if (!i.version.empty()) t.push_back(i.version);
  t.push_back(i.read_only ? "ro" : "rw");
  t.push_back(i.log_bin ? i.binlog_format : "nobinlog");
  if (i.log_bin && i.log_slave_updates) t.push_back(">>");
  if ((i.mariadb && rs.UsesGtid()) || (!i.mariadb && i.gtid_mode == "ON")) {
    t.push_back(r.errant_gtid.empty() ? "GTID" : "GTID:errant");
  }
  if (r.pseudo_gtid) t.push_back("P-GTID");
  if (r.probe.semi_sync.master_enabled) t.push_back("semi:master");
  if (r.probe.semi_sync.replica_enabled) t.push_back("semi:replica");
  if (r.downtime.ActiveAt(now)) t.push_back("downtimed");
  std::string out = "[";
  for (size_t k = 0; k < t.size(); ++k) out += (k ? "," : "") + t[k];
  return out + "]";
}

}  // namespace

std::string AsciiTopology(const analyzer::Topology& t, const std::string& cluster, const JsonSettings& s,
                          const std::function<std::string(const std::string& key)>& tags) {
  std::vector<std::string> members;
  for (const auto& [k, r] : t.instances()) {
    if (r.cluster == cluster) members.push_back(k);
  }
  if (members.empty()) return {};
  std::sort(members.begin(), members.end(), InstanceKeyLess);
  const std::set<std::string> in(members.begin(), members.end());
  std::vector<std::pair<std::string, std::string>> lines;  // prefix + key, details
  std::set<std::string> drawn;
  std::function<void(const std::string&, int)> draw = [&](const std::string& key, int depth) {
    if (!drawn.insert(key).second) return;
    const analyzer::InstanceRecord& r = *t.Find(key);
    std::string head;
    if (depth > 0) {
      const auto& rs = r.probe.instance.replica;
      const bool fine = rs.io_running == "Yes" && rs.sql_running && r.reachable &&
                        analyzer::Clock::now() - r.last_checked <= 5 * s.poll_interval;
      head = std::string(static_cast<size_t>(depth - 1) * 2, ' ') + (fine ? "+ " : "- ");
    }
    head += key;
    if (!r.probe.instance_alias.empty()) head += " (" + r.probe.instance_alias + ")";
    lines.emplace_back(head, tags ? Details(r, s) + " [" + tags(key) + "]" : Details(r, s));
    std::vector<std::string> children;
    for (const auto& c : t.ReplicasOf(key)) {
      if (in.count(c) != 0) children.push_back(c);
    }
    std::sort(children.begin(), children.end(), InstanceKeyLess);
    // Co-masters are never drawn below depth one.
    for (const auto& c : children) {
      if (depth >= 1 && t.Find(c)->is_co_master) continue;
      draw(c, depth + 1);
    }
  };
  std::string root;
  for (const auto& k : members) {
    const auto* r = t.Find(k);
    if (r->master_key.empty() || in.count(r->master_key) == 0) root = k;
  }
  if (!root.empty()) {
    draw(root, 0);
  } else {
    for (const auto& k : members) {
      if (t.Find(k)->is_co_master) draw(k, 1);
    }
  }
  for (const auto& k : members) draw(k, 1);  // anything not reached from the top
  size_t column = 0;
  for (const auto& [head, d] : lines) column = std::max(column, head.size());
  std::string out;
  for (size_t k = 0; k < lines.size(); ++k) {
    if (k) out += "\n";
    out += lines[k].first + std::string(column - lines[k].first.size() + 1, ' ') + lines[k].second;
  }
  return out;
}

}  // namespace tidewatch::server
