#include "pgtid/relocate.h"

#include <algorithm>

#include "base/host_port.h"
#include "pgtid/replication_steps.h"
#include "pgtid/server_index.h"

namespace tidewatch::pgtid {

namespace {

constexpr std::chrono::milliseconds kReadTimeout{30000};
// Deeper chains than this are not walked looking for a cycle.
constexpr int kMaxDepth = 32;

}  // namespace

bool Relocator::HasPseudoGtid(const std::string& destination) {
  const auto hp = ParseHostPort(destination);
  if (!hp) return false;
  const ServerIndex* index = nullptr;
  return indexes_->CaughtUp(hp->host, hp->port, &index).ok() && index != nullptr && index->entry_count() > 0;
}

Status Relocator::Relocate(const std::string& instance, const std::string& destination, Move* out) {
  *out = Move{};
  out->instance = instance;
  out->destination = destination;
  if (!ParseHostPort(instance) || !ParseHostPort(destination)) {
    return Status::InvalidArgument("the instance and the destination must be host:port");
  }
  ServerSession r, d;
  Status s = OpenSession(instance, options_.user, options_.password, kReadTimeout, &r);
  if (!s.ok()) {
    out->refused = s.message();
    return Status::OK();
  }
  out->from_master = r.i.replica.Master();
  if (!r.i.replica.configured) {
    out->refused = instance + " is not a replica";
    return Status::OK();
  }
  s = OpenSession(destination, options_.user, options_.password, kReadTimeout, &d);
  if (!s.ok()) {
    out->refused = s.message();
    return Status::OK();
  }
  if (std::string why = CannotReplicate(r.i, d.i); !why.empty()) {
    out->refused = instance + " cannot replicate from " + destination + ": " + why;
    return Status::OK();
  }
  if (r.i.replica.Master() == destination) return classic_->Repoint(instance, destination, out);
  // The destination below the instance would make a cycle.
  std::string up = d.i.replica.configured ? d.i.replica.Master() : "";
  for (int depth = 0; !up.empty() && depth < kMaxDepth; ++depth) {
    if (up == instance) {
      out->refused = destination + " is a descendant of " + instance;
      return Status::OK();
    }
    ServerSession a;
    if (!OpenSession(up, options_.user, options_.password, kReadTimeout, &a).ok() || !a.i.replica.configured) break;
    up = a.i.replica.Master();
  }
  if ((r.i.replica.UsesGtid() && d.i.HasGtid() && d.i.log_bin) || HasPseudoGtid(destination)) {
    return matcher_->MatchBelow(instance, destination, out);
  }
  if (d.i.replica.configured && d.i.replica.Master() == r.i.replica.Master()) {
    return classic_->MoveBelow(instance, destination, out);
  }
  ServerSession m;
  if (OpenSession(r.i.replica.Master(), options_.user, options_.password, kReadTimeout, &m).ok() &&
      m.i.replica.configured && m.i.replica.Master() == destination) {
    return classic_->MoveUp(instance, out);
  }
  out->refused = "relocating " + instance + " below " + destination +
                 " turns out to be too complex without GTID or Pseudo-GTID: move it in steps (move-up, move-below)";
  return Status::OK();
}

Status Relocator::RelocateReplicas(const std::string& instance, const std::string& destination,
                                   const std::vector<std::string>& known, std::vector<Move>* out) {
  out->clear();
  std::vector<std::string> replicas;
  Status s = matcher_->ReplicasOf(instance, known, &replicas);
  if (!s.ok()) return s;
  replicas.erase(std::remove(replicas.begin(), replicas.end(), destination), replicas.end());
  if (replicas.empty()) return Status::OK();
  if (destination == instance) return classic_->RepointReplicas(instance, replicas, out);
  ServerSession d, m;
  s = OpenSession(destination, options_.user, options_.password, kReadTimeout, &d);
  if (!s.ok()) return s;
  bool all_gtid = d.i.HasGtid() && d.i.log_bin;
  for (const auto& name : replicas) {
    ServerSession r;
    all_gtid = all_gtid && OpenSession(name, options_.user, options_.password, kReadTimeout, &r).ok() &&
               r.i.replica.UsesGtid();
  }
  if (all_gtid || HasPseudoGtid(destination)) return matcher_->MatchManyBelow(replicas, destination, out);
  s = OpenSession(instance, options_.user, options_.password, kReadTimeout, &m);
  if (!s.ok()) return s;
  if (m.i.replica.configured && m.i.replica.Master() == destination) {
    return classic_->MoveUpReplicas(instance, replicas, out);
  }
  return Status::NotSupported("relocating the replicas of " + instance + " below " + destination +
                              " turns out to be too complex without GTID or Pseudo-GTID");
}

Status Relocator::TakeSiblings(const std::string& instance, const std::vector<std::string>& known,
                               std::vector<Move>* out) {
  out->clear();
  ServerSession r;
  Status s = OpenSession(instance, options_.user, options_.password, kReadTimeout, &r);
  if (!s.ok()) return s;
  if (!r.i.replica.configured) return Status::NotSupported(instance + " is not a replica: it has no siblings");
  std::vector<std::string> siblings;
  s = matcher_->ReplicasOf(r.i.replica.Master(), known, &siblings);
  if (!s.ok()) return s;
  for (const auto& sibling : siblings) {
    if (sibling == instance) continue;
    s = Relocate(sibling, instance, &out->emplace_back());
    if (!s.ok()) return s;
  }
  return Status::OK();
}

}  // namespace tidewatch::pgtid
