// orchestrator's binary log commands, answered by the daemon: find-binlog-entry
// and correlate-binlog-pos from its live Pseudo-GTID indexes (a server it
// does not follow, or an entry older than what it indexed, is read from the
// server), correlate-relaylog-pos from the two siblings' relay logs over SQL.
// orchestrator has these on its command line only; the paths are Tidewatch's.

#include <chrono>

#include "base/host_port.h"
#include "pgtid/matcher.h"
#include "pgtid/relay_log_events.h"
#include "pgtid/replication_steps.h"
#include "server/binlog_stream.h"
#include "server/http_api.h"
#include "server/orchestrator_json.h"
#include "server/relocations.h"

namespace tidewatch::server {

using nlohmann::json;

void HttpApi::FindBinlogEntry(Call& c) {
  const std::string text = c.Query("pattern");
  if (text.empty()) return c.Error("No pattern given");
  if (pattern_ == nullptr) return c.Error("PseudoGTIDPattern not configured; cannot use Pseudo-GTID");
  std::string host;
  uint16_t port = 0;
  SplitHostPort(c.instance, &host, &port);
  DaemonIndexes indexes(config_, monitor_, pattern_);
  const pgtid::ServerIndex* index = nullptr;
  Status s = indexes.live.CaughtUp(host, port, &index);
  const pgtid::PseudoGtidEntry* e = s.ok() ? index->FindEntry(text) : nullptr;
  std::string source = indexes.live.last_origin();
  if (e == nullptr && source == "live") {
    // The live index starts where the daemon started following: older
    // entries are in the server's binlogs.
    s = indexes.fallback.CaughtUp(host, port, &index);
    if (s.ok()) e = index->FindEntry(text);
    source = "binlog";
  }
  if (!s.ok()) return c.Error(s.message());
  if (e == nullptr) return c.Error("Cannot find entry \"" + text + "\" in the binary logs of " + c.instance);
  json details = CoordinatesJson(index->CoordinatesOf(*e));
  details["EndLogPos"] = e->end_pos;
  details["Gtid"] = e->gtid;
  details["Source"] = source;
  c.Ok("found", details);
}

void HttpApi::CorrelateBinlogPos(Call& c) {
  pgtid::BinlogCoordinates at;
  if (!ParseFilePos(c.Query("binlog"), &at.file, &at.pos)) {
    return c.Error("Expecting --binlog argument as file:pos");
  }
  if (pattern_ == nullptr) return c.Error("PseudoGTIDPattern not configured; cannot use Pseudo-GTID");
  std::string host, dhost;
  uint16_t port = 0, dport = 0;
  SplitHostPort(c.instance, &host, &port);
  SplitHostPort(c.below, &dhost, &dport);
  DaemonIndexes indexes(config_, monitor_, pattern_);
  const pgtid::ServerIndex *source = nullptr, *destination = nullptr;
  Status s = indexes.live.CaughtUp(host, port, &source);
  if (s.ok()) s = indexes.live.CaughtUp(dhost, dport, &destination);
  pgtid::InstancePoint point;
  pgtid::DestinationPoint found;
  if (s.ok()) s = pgtid::CorrelateCoordinates(indexes.options.stream, *source, at, *destination, &point, &found);
  if (!s.ok()) return c.Error(s.message());
  c.Ok("correlated", {{"Coordinates", CoordinatesJson(found.coordinates)},
                      {"Entry", point.entry_text},
                      {"EntryCoordinates", CoordinatesJson(point.entry_at)},
                      {"DestinationEntryCoordinates", CoordinatesJson(found.entry)},
                      {"EventsAfterEntry", point.k},
                      {"EventsCompared", found.compared}});
}

void HttpApi::CorrelateRelaylogPos(Call& c) {
  pgtid::BinlogCoordinates at;
  const std::string given = c.Query("binlog");
  if (!given.empty() && !ParseFilePos(given, &at.file, &at.pos)) return c.Error("Expecting --binlog argument as file:pos");
  pgtid::ServerSession instance, other;
  Status s = pgtid::OpenSession(c.instance, config_.topology_user, config_.topology_password,
                                std::chrono::seconds(30), &instance);
  if (s.ok()) {
    s = pgtid::OpenSession(c.below, config_.topology_user, config_.topology_password, std::chrono::seconds(30),
                           &other);
  }
  pgtid::RelayLogCorrelation r;
  if (s.ok()) s = pgtid::CorrelateRelayLogPosition(*instance.c, instance.i, at, *other.c, other.i, &r);
  if (!s.ok()) return c.Error(s.message());
  c.Ok("correlated", {{"InstanceCoordinates", CoordinatesJson(r.instance, 1)},
                      {"MasterCoordinates", CoordinatesJson(r.master)},
                      {"CorrelatedCoordinates", CoordinatesJson(r.correlated, 1)},
                      {"NextCoordinates", CoordinatesJson(r.next, 1)}});
}

}  // namespace tidewatch::server
