#include "pgtid/matcher.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <variant>

#include "binlog/binlog_range_reader.h"
#include "binlog/event_decoder.h"
#include "binlog/event_type.h"
#include "binlog/file_reader.h"
#include "base/uuid.h"
#include "pgtid/relay_log_events.h"

namespace tidewatch::pgtid {

using namespace binlog;

namespace {

void FromEntry(const ServerIndex& index, const EntryOffset& off, const char* route, InstancePoint* out) {
  out->route = route;
  out->entry_text = off.entry->text;
  out->entry_gtid = off.entry->gtid;
  out->entry_at = index.CoordinatesOf(*off.entry);
  out->k = off.k;
  out->signatures = off.signatures;
}

std::string GtidOf(const Event& e) {
  if (auto* g = std::get_if<MariaGtidBody>(&e.body)) {
    return std::to_string(g->domain_id) + "-" + std::to_string(g->server_id) + "-" + std::to_string(g->seq_no);
  }
  if (auto* m = std::get_if<MysqlGtidBody>(&e.body)) {
    if (e.header.type != kAnonymousGtidEvent) {
      return UuidToString(m->sid) + ":" + (m->tag.empty() ? "" : std::string(m->tag) + ":") + std::to_string(m->gno);
    }
  }
  return {};
}

// Far from the entry, the walk is done in memory: when the instance's k
// signatures are known and the destination's window holds the events from its
// entry to the match, they are compared there, and what is left to read —
// the GTID of the transaction the match falls in and the event after the
// match — is read from that transaction's GTID event (from the match itself
// where there is none after the entry), not from the entry. Matching then
// costs the same wherever the instance stands after its last entry.
//
// False when the windows cannot answer (the walk reads everything then);
// true otherwise, with *result the comparison's verdict and, when it agreed,
// the walk set to resume at *after having walked *walked events.
bool CompareInWindow(const ServerIndex& dest, const PseudoGtidEntry& e, const InstancePoint& p, DestinationPoint* d,
                     BinlogCoordinates* after, uint64_t* walked, Status* result) {
  if (p.k == 0 || p.signatures.size() != p.k) return false;
  const uint64_t last = e.ordinal + p.k;
  // The window drops only its oldest events: holding both ends, it holds everything between.
  if (dest.SegmentOf(e.ordinal) == nullptr || dest.SegmentOf(last) == nullptr) return false;
  uint64_t gtid_ordinal = 0;  // the last GTID event after the entry, up to the match
  for (uint64_t o = e.ordinal + 1; o <= last;) {
    const ServerIndex::WindowSegment* seg = dest.SegmentOf(o);
    if (seg == nullptr) return false;
    const uint64_t end = std::min<uint64_t>(last, seg->first_ordinal + seg->events.size() - 1);
    for (; o <= end; ++o) {
      const uint64_t packed = seg->events[o - seg->first_ordinal];
      const EventSignature have = ServerIndex::EventSig(packed), want = p.signatures[o - e.ordinal - 1];
      if (!SignaturesAgree(want, have)) {
        *result = Status::Corruption(
            "the logs disagree: event " + std::to_string(o - e.ordinal) + " after the entry is " +
            SignatureName(want) + " on the instance and " + SignatureName(have) + " on " + dest.server() +
            " ending at " + dest.files()[seg->file] + ":" + std::to_string(ServerIndex::EventEnd(packed)) +
            (SignatureClass(want) == SignatureClass(have) ? " with different contents" : ""));
        return true;
      }
      if (IsGtidSignature(have)) gtid_ordinal = o;
    }
  }
  const ServerIndex::WindowSegment* match = dest.SegmentOf(last);
  d->coordinates = {dest.files()[match->file], ServerIndex::EventEnd(match->events[last - match->first_ordinal])};
  // The read starts where event `from` starts: the end of the event before
  // it, or the start of its file when that event is in an earlier one.
  const uint64_t from = gtid_ordinal != 0 ? gtid_ordinal : last + 1;
  const ServerIndex::WindowSegment* before = dest.SegmentOf(from - 1);
  const ServerIndex::WindowSegment* at = dest.SegmentOf(from);
  if (at != nullptr && at->file != before->file) {
    *after = {dest.files()[at->file], 4};
  } else {
    *after = {dest.files()[before->file], ServerIndex::EventEnd(before->events[from - 1 - before->first_ordinal])};
  }
  *walked = from - e.ordinal - 1;
  // The walk compares the events from `from` on again (the same verdict), and counts them.
  d->compared = *walked;
  *result = Status::OK();
  return true;
}

}  // namespace

Status IndexRelayLog(const Instance& instance, const PseudoGtidPattern& pattern, ServerIndex* out) {
  namespace fs = std::filesystem;
  fs::path index_path = instance.relay_log_index;
  if (index_path.empty()) return Status::NotSupported(instance.name + ": no relay log index");
  if (index_path.is_relative()) index_path = fs::path(instance.datadir) / index_path;
  std::ifstream in(index_path);
  if (!in) {
    return Status::NotSupported(instance.name + ": relay log index " + index_path.string() +
                                " is not readable here");
  }
  Indexer indexer(out, &pattern);
  std::string master_file;
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    fs::path p = line;
    if (p.is_relative()) p = fs::path(instance.datadir) / p;
    BinlogFileReader reader;
    Status s = reader.Open(p.string());
    if (!s.ok()) return s;
    RawEvent raw;
    EventDecoder decoder;
    Event event;
    while ((s = reader.Next(&raw)).ok()) {
      const uint8_t type = raw.header.type;
      // The replica's own events (its FORMAT_DESCRIPTION, the ROTATE to the
      // next relay log) carry its server_id; the master's carry theirs.
      if (raw.header.server_id == instance.server_id && !IsReplicatedEvent(type)) continue;
      if (type == kRotateEvent) {
        s = decoder.Decode(raw, reader.format(), &event);
        if (!s.ok()) return s.WithContext(p.string());
        master_file = std::string(std::get<RotateBody>(event.body).file);
        continue;
      }
      // End positions of 0 mark events the master generated for the replica.
      if (raw.header.log_pos == 0 || master_file.empty() || type == kFormatDescriptionEvent) continue;
      if (raw.header.log_pos < raw.header.event_size) continue;
      RawEvent in_master = raw;
      in_master.pos = raw.header.log_pos - raw.header.event_size;
      s = indexer.Add(master_file, in_master, reader.format());
      if (!s.ok()) return s.WithContext(p.string());
    }
    if (!s.IsEndOfFile() && !s.IsTruncated()) return s;
  }
  return Status::OK();
}

Status LocateInstance(const Instance& instance, IndexSource& indexes, const PseudoGtidPattern& pattern,
                      InstancePoint* out, const LocateOptions& options) {
  *out = InstancePoint();
  const ReplicaStatus& r = instance.replica;
  if (!r.configured) return Status::InvalidArgument(instance.name + " is not a replica");
  EntryOffset off;

  // a. The master's index, read now if the master is alive.
  const ServerIndex* m = indexes.Known(r.master_host, r.master_port);
  Status s;
  if (m == nullptr || !m->FileIndex(r.exec_master.file) ||
      m->position() < r.exec_master) {
    const ServerIndex* fresh = nullptr;
    s = indexes.CaughtUp(r.master_host, r.master_port, &fresh);
    if (s.ok()) m = fresh;
  }
  if (m != nullptr) {
    s = m->Translate(r.exec_master, &off);
    if (s.ok()) {
      FromEntry(*m, off, "master-index", out);
      return Status::OK();
    }
  }
  out->tried.push_back("master " + r.Master() + ": " + (s.ok() ? "not indexed" : s.message()));

  // b. The replica's own binlog, which ends at its executed position.
  if (instance.log_bin && instance.log_slave_updates) {
    const ServerIndex* own = nullptr;
    s = indexes.CaughtUp(instance.name.substr(0, instance.name.rfind(':')),
                         static_cast<uint16_t>(std::stoul(instance.name.substr(instance.name.rfind(':') + 1))),
                         &own);
    if (s.ok()) s = own->Translate(own->position(), &off);
    if (s.ok()) {
      FromEntry(*own, off, "own-binlog", out);
      return Status::OK();
    }
    out->tried.push_back("own binlog: " + s.message());
  } else {
    out->tried.push_back("own binlog: " + std::string(instance.log_bin ? "log_slave_updates is off"
                                                                          : "binary logging is off"));
  }

  // c. The relay log files, when they are readable here.
  if (options.relay_log != RelayLogRoute::kEvents) {
    ServerIndex relay(instance.name + " relay log", options.relay_index);
    s = IndexRelayLog(instance, pattern, &relay);
    if (s.ok()) s = relay.Translate(r.exec_master, &off);
    if (s.ok()) {
      FromEntry(relay, off, "relay-log", out);
      return Status::OK();
    }
    out->tried.push_back("relay log: " + s.message());
  }

  // d. The same relay logs over SQL.
  if (options.relay_log != RelayLogRoute::kFiles && options.instance_sql != nullptr) {
    std::vector<std::string> tried = std::move(out->tried);
    s = LocateInRelayLogEvents(*options.instance_sql, instance, pattern, out);
    if (s.ok()) {
      out->tried = std::move(tried);
      return Status::OK();
    }
    out->tried = std::move(tried);
    out->tried.push_back("SHOW RELAYLOG EVENTS: " + s.message());
  }
  std::string why = instance.name + ": cannot place the executed position " + r.exec_master.ToString() +
                    " after a Pseudo-GTID entry";
  for (const auto& t : out->tried) why += "; " + t;
  return Status::NotSupported(why);
}

Status MatchOnDestination(const ReplicaStreamOptions& stream, const ServerIndex& destination,
                          const InstancePoint& point, DestinationPoint* out) {
  std::vector<DestinationPoint> outs;
  std::vector<Status> results;
  Status s = MatchManyOnDestination(stream, destination, {&point}, &outs, &results);
  if (!s.ok()) return s;
  *out = outs[0];
  return results[0];
}

Status CorrelateCoordinates(const ReplicaStreamOptions& stream, const ServerIndex& source, const BinlogCoordinates& at,
                            const ServerIndex& destination, InstancePoint* point, DestinationPoint* out) {
  EntryOffset off;
  Status s = source.Translate(at, &off);
  if (!s.ok()) return s.WithContext("correlate-binlog-pos on " + source.server());
  *point = InstancePoint();
  FromEntry(source, off, "own-binlog", point);
  ReplicaStreamOptions so = stream;
  const std::string& d = destination.server();
  const size_t colon = d.rfind(':');
  so.host = d.substr(0, colon);
  so.port = static_cast<uint16_t>(std::strtoul(d.c_str() + colon + 1, nullptr, 10));
  return MatchOnDestination(so, destination, *point, out);
}

Status MatchManyOnDestination(const ReplicaStreamOptions& stream, const ServerIndex& destination,
                              const std::vector<const InstancePoint*>& points, std::vector<DestinationPoint>* outs,
                              std::vector<Status>* results) {
  const size_t n = points.size();
  outs->assign(n, DestinationPoint());
  results->assign(n, Status::OK());
  struct Walk {
    BinlogCoordinates after;  // events at or after this are walked
    uint64_t walked = 0;
    bool done = false;
  };
  std::vector<Walk> walks(n);
  const BinlogCoordinates* first = nullptr;  // where the read starts
  size_t open = 0;
  for (size_t i = 0; i < n; ++i) {
    const PseudoGtidEntry* e = destination.FindEntry(points[i]->entry_text);
    if (e == nullptr) {
      (*results)[i] = Status::NotSupported(destination.server() + " has no Pseudo-GTID entry \"" +
                                           points[i]->entry_text +
                                           "\": the destination is behind the instance or has another history");
      walks[i].done = true;
      continue;
    }
    DestinationPoint& o = (*outs)[i];
    o.entry = destination.CoordinatesOf(*e);
    o.coordinates = {destination.files()[e->file], e->end_pos};
    o.last_gtid = e->gtid;
    walks[i].after = o.coordinates;
    Status verdict;
    if (CompareInWindow(destination, *e, *points[i], &o, &walks[i].after, &walks[i].walked, &verdict) &&
        !verdict.ok()) {
      (*results)[i] = verdict;
      walks[i].done = true;
      continue;
    }
    if (first == nullptr || walks[i].after < *first) first = &walks[i].after;
    ++open;
  }
  if (open == 0) return Status::OK();

  // One read of the destination from the earliest point still to walk covers every point.
  ReplicaStreamOptions o = stream;
  o.start_file = first->file;
  o.start_pos = first->pos;
  o.start_gtid.clear();
  EventDecoder decoder;
  Event event;
  std::string gtid;
  BinlogCoordinates gtid_at;  // where the GTID event `gtid` was read
  Status problem;
  Status s = ReadBinlogRange(o, [&](const StreamEvent& ev) {
    const uint8_t type = ev.raw.header.type;
    const Event* decoded = nullptr;
    if (NeedsDecoding(type)) {
      problem = decoder.Decode(ev.raw, ev.format, &event);
      if (!problem.ok()) return false;
      decoded = &event;
      std::string g = GtidOf(event);
      if (!g.empty()) {
        gtid = g;
        gtid_at = {ev.file, ev.raw.pos};
      }
    }
    if (!IsReplicatedEvent(type)) return true;
    const EventSignature sig = SignatureOf(ev.raw, ev.format, decoded);
    const BinlogCoordinates at{ev.file, ev.raw.pos};
    for (size_t i = 0; i < n; ++i) {
      Walk& w = walks[i];
      if (w.done || at < w.after) continue;
      DestinationPoint& d = (*outs)[i];
      const InstancePoint& p = *points[i];
      if (w.walked == p.k) {
        d.has_next = true;
        d.next = sig;
        if (decoded != nullptr) d.next_gtid = GtidOf(event);
        w.done = true;
        --open;
        continue;
      }
      if (!p.signatures.empty()) {
        const EventSignature want = p.signatures[w.walked];
        if (!SignaturesAgree(want, sig)) {
          (*results)[i] = Status::Corruption(
              "the logs disagree: event " + std::to_string(w.walked + 1) + " after the entry is " +
              SignatureName(want) + " on the instance and " + SignatureName(sig) + " on " + destination.server() +
              " at " + ev.file + ":" + std::to_string(ev.raw.pos) +
              (SignatureClass(want) == SignatureClass(sig) ? " with different contents" : ""));
          w.done = true;
          --open;
          continue;
        }
        ++d.compared;
      }
      ++w.walked;
      d.coordinates = {ev.file, ev.raw.next_pos()};
      // The GTID of the transaction this event is in: the last GTID event
      // read, or the entry's own when none was read after it.
      if (!gtid.empty() && !(gtid_at < w.after)) d.last_gtid = gtid;
    }
    return open > 0;
  });
  if (!problem.ok()) return problem;
  if (!s.ok()) return s;
  for (size_t i = 0; i < n; ++i) {
    if (!walks[i].done && walks[i].walked < points[i]->k) {
      (*results)[i] = Status::NotSupported(destination.server() + " is behind the instance: it has " +
                                           std::to_string(walks[i].walked) + " of the " +
                                           std::to_string(points[i]->k) + " events after the entry");
    }
  }
  return Status::OK();
}

}  // namespace tidewatch::pgtid
