#include "pgtid/errant_gtid.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <optional>
#include <utility>

#include "pgtid/mariadb_gtid_position.h"
#include "pgtid/mysql_gtid_set.h"
#include "pgtid/replication_steps.h"

namespace tidewatch::pgtid {

namespace {

using MariaGtid = binlog::MariaGtid;
using DomainServer = std::pair<uint32_t, uint32_t>;

// "d-s-n,d-s-n" (a MariaDB GTID list, as gtid_binlog_state and a Gtid_list
// event's Info print it, brackets allowed); false on anything else.
bool ParseMariaGtids(std::string_view text, std::vector<MariaGtid>* out) {
  out->clear();
  if (!text.empty() && text.front() == '[') text.remove_prefix(1);
  if (!text.empty() && text.back() == ']') text.remove_suffix(1);
  while (!text.empty()) {
    const size_t comma = text.find(',');
    std::string_view one = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    while (!one.empty() && (one.front() == ' ' || one.front() == '\n')) one.remove_prefix(1);
    MariaGtid g;
    const char* p = one.data();
    const char* end = one.data() + one.size();
    auto r = std::from_chars(p, end, g.domain_id);
    if (r.ec != std::errc() || r.ptr == end || *r.ptr != '-') return false;
    r = std::from_chars(r.ptr + 1, end, g.server_id);
    if (r.ec != std::errc() || r.ptr == end || *r.ptr != '-') return false;
    r = std::from_chars(r.ptr + 1, end, g.seq_no);
    if (r.ec != std::errc() || r.ptr != end) return false;
    out->push_back(g);
  }
  return true;
}

std::string MariaText(const MariaGtid& g) {
  return std::to_string(g.domain_id) + "-" + std::to_string(g.server_id) + "-" + std::to_string(g.seq_no);
}

// The Info of the first event of `type` in the head of binary log `file`
// (the server writes Previous_gtids / Gtid_list right after the format
// description event); nullopt when the head has none.
Status HeadEventInfo(SqlConnection& c, const std::string& file, const std::string& type,
                     std::optional<std::string>* out) {
  SqlResult r;
  Status s = c.Query("SHOW BINLOG EVENTS IN " + c.Literal(file) + " LIMIT 4", &r);
  if (!s.ok()) return s;
  out->reset();
  for (size_t row = 0; row < r.rows.size(); ++row) {
    if (r.GetOr(row, "Event_type") == type) {
      *out = r.GetOr(row, "Info");
      return Status::OK();
    }
  }
  return Status::OK();
}

}  // namespace

Status LocateErrantGtid(SqlConnection& c, const Instance& i, const std::string& errant,
                        const std::string& master_gtid_binlog_pos, std::vector<std::string>* binlogs) {
  binlogs->clear();
  if (errant.empty()) return Status::InvalidArgument("locate-errant-gtid: no errant-gtid on " + i.name);
  if (i.binary_logs.empty()) return Status::InvalidArgument("locate-errant-gtid: " + i.name + " has no binary logs");
  if (!i.mariadb) {
    MysqlGtidSet search;
    Status s = MysqlGtidSet::Parse(errant, &search);
    if (!s.ok()) return s.WithContext("locate-errant-gtid");
    std::vector<MysqlGtidSet> previous;
    for (const auto& file : i.binary_logs) {
      std::optional<std::string> info;
      s = HeadEventInfo(c, file, "Previous_gtids", &info);
      if (!s.ok()) return s;
      MysqlGtidSet set;
      if (info) {
        std::string text = *info;
        std::erase(text, '\n');
        s = MysqlGtidSet::Parse(text, &set);
        if (!s.ok()) return s.WithContext("Previous_gtids of " + file);
      }
      previous.push_back(std::move(set));
    }
    // Transactions executed before the oldest file are purged: nothing to locate.
    if (!search.Subtract(previous.front()).Contains(search)) {
      return Status::InvalidArgument("locate-errant-gtid: " + search.ToString() + " is already purged on " + i.name);
    }
    // File k holds what file k+1's Previous_gtids has and file k's has not.
    for (size_t k = 1; k < previous.size() && !search.empty(); ++k) {
      MysqlGtidSet rest = search.Subtract(previous[k]);
      if (!(rest == search)) {
        binlogs->push_back(i.binary_logs[k - 1]);
        search = std::move(rest);
      }
    }
    if (!search.empty()) binlogs->push_back(i.binary_logs.back());
    return Status::OK();
  }
  std::vector<MariaGtid> wanted;
  if (!ParseMariaGtids(errant, &wanted)) return Status::InvalidArgument("locate-errant-gtid: bad GTIDs " + errant);
  MariadbGtidPosition master;
  if (!MariadbGtidPosition::Parse(master_gtid_binlog_pos, &master).ok()) master = MariadbGtidPosition();
  std::vector<std::map<DomainServer, uint64_t>> lists;
  for (const auto& file : i.binary_logs) {
    std::optional<std::string> info;
    Status s = HeadEventInfo(c, file, "Gtid_list", &info);
    if (!s.ok()) return s;
    std::vector<MariaGtid> list;
    if (info && !ParseMariaGtids(*info, &list)) {
      return Status::Corruption("locate-errant-gtid: Gtid_list of " + file + " reads \"" + *info + "\"");
    }
    std::map<DomainServer, uint64_t> last;
    for (const auto& g : list) last[{g.domain_id, g.server_id}] = g.seq_no;
    lists.push_back(std::move(last));
  }
  auto at = [&](size_t k, DomainServer ds) -> uint64_t {
    auto it = lists[k].find(ds);
    return it == lists[k].end() ? 0 : it->second;
  };
  for (size_t k = 0; k < lists.size(); ++k) {
    bool holds = false;
    for (const auto& g : wanted) {
      const DomainServer ds{g.domain_id, g.server_id};
      const auto d = master.domains().find(g.domain_id);
      const uint64_t master_seq = d == master.domains().end() ? 0 : d->second.seq_no;
      // File k holds the (domain, server) transactions (lo, hi]; the errant
      // ones are (master's, g].
      const uint64_t lo = at(k, ds), hi = k + 1 < lists.size() ? at(k + 1, ds) : g.seq_no;
      holds = holds || std::max(lo, master_seq) < std::min(hi, g.seq_no);
    }
    if (holds) binlogs->push_back(i.binary_logs[k]);
  }
  if (binlogs->empty()) {
    return Status::InvalidArgument("locate-errant-gtid: " + errant + " is already purged on " + i.name);
  }
  return Status::OK();
}

Status ResetMasterErrant(SqlConnection& c, Instance* i, const std::string& errant, size_t replicas,
                         std::vector<std::string>* log) {
  const std::string& name = i->name;
  if (errant.empty()) {
    return Status::InvalidArgument("gtid-errant-reset-master will not operate on " + name +
                                   " because no errant GTID is found");
  }
  if (replicas > 0) {
    return Status::InvalidArgument("gtid-errant-reset-master will not operate on " + name + " because it has " +
                                   std::to_string(replicas) + " replicas. Expecting no replicas");
  }
  if (!i->log_bin) return Status::NotSupported("gtid-errant-reset-master: " + name + " writes no binary logs");
  const Instance before = *i;
  Status s;
  if (i->replica.configured) {
    s = StopReplication(c, i, log);
    if (!s.ok()) return s;
  }
  auto fail = [&](const std::string& why) {
    (void)StartThreadsAsBefore(c, before, log);
    return Status::InvalidArgument("gtid-errant-reset-master: " + why);
  };
  std::string set_statement;
  if (!i->mariadb) {
    if (i->gtid_mode != "ON") return fail(name + " is not using oracle-gtid");
    MysqlGtidSet executed, bad;
    if (!MysqlGtidSet::Parse(i->gtid_executed, &executed).ok() || !MysqlGtidSet::Parse(errant, &bad).ok()) {
      return fail("cannot read the GTID sets of " + name);
    }
    // Read again with replication stopped: nothing may have been executed
    // since the errant set was computed against it.
    Instance now;
    s = ReadInstance(c, &now);
    if (!s.ok()) return fail(s.message());
    if (now.gtid_executed != i->gtid_executed) {
      return fail("Master status changed on " + name + " while preparing the reset");
    }
    set_statement = "SET GLOBAL gtid_purged = " + c.Literal(executed.Subtract(bad).ToString());
  } else {
    std::vector<MariaGtid> bad, state;
    SqlResult r;
    s = c.Query("SELECT @@GLOBAL.gtid_binlog_state", &r);
    if (!s.ok()) return fail(s.message());
    const std::string text = r.rows.empty() || r.rows[0].empty() ? "" : r.rows[0][0].value_or("");
    if (!ParseMariaGtids(errant, &bad) || !ParseMariaGtids(text, &state)) {
      return fail("cannot read the GTIDs of " + name + " (gtid_binlog_state " + text + ")");
    }
    std::vector<MariaGtid> keep;
    for (const auto& g : state) {
      const bool errant_entry = std::any_of(bad.begin(), bad.end(), [&](const MariaGtid& b) {
        return b.domain_id == g.domain_id && b.server_id == g.server_id;
      });
      if (!errant_entry) keep.push_back(g);
    }
    // MariaDB takes each domain's last GTID in the list as its binlog position
    // (rpl_binlog_state::load): within a domain, highest seq_no last.
    std::stable_sort(keep.begin(), keep.end(), [](const MariaGtid& a, const MariaGtid& b) {
      return a.domain_id != b.domain_id ? a.domain_id < b.domain_id : a.seq_no < b.seq_no;
    });
    std::string list;
    for (const auto& g : keep) list += (list.empty() ? "" : ",") + MariaText(g);
    set_statement = "SET GLOBAL gtid_binlog_state = " + c.Literal(list);
  }
  s = RunLogged(c, "RESET MASTER", log);
  if (s.ok()) s = RunLogged(c, set_statement, log);
  if (!s.ok()) {
    (void)StartThreadsAsBefore(c, before, log);
    return Status::InvalidArgument("gtid-errant-reset-master: error while resetting master on " + name +
                                   ", after which intended to issue " + set_statement + ". Error was: " + s.message());
  }
  s = StartThreadsAsBefore(c, before, log);
  if (s.ok()) s = ReadInstance(c, i);
  return s;
}

Status InjectEmptyErrant(SqlConnection& master, const Instance& m, const Instance& replica, const std::string& errant,
                         int64_t* injected, std::vector<std::string>* log) {
  *injected = 0;
  if (errant.empty()) {
    return Status::InvalidArgument("gtid-errant-inject-empty will not operate on " + replica.name +
                                   " because no errant GTID is found");
  }
  if (replica.mariadb || m.mariadb || m.gtid_mode != "ON") {
    return Status::NotSupported("gtid-errant-inject-empty requested for " + replica.name +
                                " but it does not support oracle-gtid");
  }
  MysqlGtidSet bad;
  Status s = MysqlGtidSet::Parse(errant, &bad);
  if (!s.ok()) return s.WithContext("gtid-errant-inject-empty");
  for (const auto& [sid, intervals] : bad.sids()) {
    for (const auto& iv : intervals) {
      for (uint64_t gno = iv.start; gno < iv.end; ++gno) {
        MysqlGtidSet one;
        one.Add(sid, gno, gno + 1);
        for (const std::string& sql : {"SET GTID_NEXT = " + master.Literal(one.ToString()), std::string("BEGIN"),
                                       std::string("COMMIT"), std::string("SET GTID_NEXT = 'AUTOMATIC'")}) {
          s = RunLogged(master, sql, log);
          if (!s.ok()) return s;
        }
        ++*injected;
      }
    }
  }
  return Status::OK();
}

}  // namespace tidewatch::pgtid
