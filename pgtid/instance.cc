#include "pgtid/instance.h"

#include <cstdio>
#include <tuple>

#include "pgtid/host_names.h"

namespace tidewatch::pgtid {

namespace {

// The first of `names` that the result has: SHOW REPLICA STATUS renamed the
// columns (Master_Host → Source_Host, Slave_IO_Running → Replica_IO_Running).
std::string Col(const SqlResult& r, std::initializer_list<const char*> names) {
  for (const char* n : names) {
    if (auto v = r.Get(0, n)) return *v;
  }
  return {};
}

bool IsOn(const std::optional<std::string>& v) { return v && (*v == "1" || *v == "ON"); }

std::string ReplicaStatusSql(const Instance& spelling) {
  return spelling.ReplicaSpelling() ? "SHOW REPLICA STATUS" : "SHOW SLAVE STATUS";
}

void ParseReplicaStatus(const SqlResult& r, const Instance& spelling, ReplicaStatus* out) {
  *out = ReplicaStatus();
  if (r.rows.empty()) return;
  out->configured = true;
  out->master_host = ResolveHost(Col(r, {"Master_Host", "Source_Host"}));
  out->master_port = static_cast<uint16_t>(ParseUnsigned(Col(r, {"Master_Port", "Source_Port"})));
  out->read_master = {Col(r, {"Master_Log_File", "Source_Log_File"}),
                      ParseUnsigned(Col(r, {"Read_Master_Log_Pos", "Read_Source_Log_Pos"}))};
  out->exec_master = {Col(r, {"Relay_Master_Log_File", "Relay_Source_Log_File"}),
                      ParseUnsigned(Col(r, {"Exec_Master_Log_Pos", "Exec_Source_Log_Pos"}))};
  out->relay_log_file = Col(r, {"Relay_Log_File"});
  out->relay_log_pos = ParseUnsigned(Col(r, {"Relay_Log_Pos"}));
  out->io_running = Col(r, {"Slave_IO_Running", "Replica_IO_Running"});
  out->sql_running = Col(r, {"Slave_SQL_Running", "Replica_SQL_Running"}) == "Yes";
  out->sql_state = Col(r, {"Slave_SQL_Running_State", "Replica_SQL_Running_State"});
  out->last_io_error = Col(r, {"Last_IO_Error"});
  out->last_sql_error = Col(r, {"Last_SQL_Error"});
  if (spelling.mariadb) {
    out->using_gtid = Col(r, {"Using_Gtid"});
  } else {
    out->using_gtid = Col(r, {"Auto_Position"}) == "1" ? "Auto_Position" : "No";
  }
  for (const char* f : {"Replicate_Do_DB", "Replicate_Ignore_DB", "Replicate_Do_Table",
                        "Replicate_Ignore_Table", "Replicate_Wild_Do_Table", "Replicate_Wild_Ignore_Table"}) {
    if (!Col(r, {f}).empty()) out->has_filters = true;
  }
  auto behind = r.Get(0, "Seconds_Behind_Master");
  if (!behind) behind = r.Get(0, "Seconds_Behind_Source");
  if (behind) out->seconds_behind = static_cast<int64_t>(ParseUnsigned(*behind));
  out->sql_delay = static_cast<int64_t>(ParseUnsigned(Col(r, {"SQL_Delay"})));
}

bool AtLeast(const Instance& i, int major, int minor, int patch) {
  return std::tie(i.major, i.minor, i.patch) >= std::tie(major, minor, patch);
}

// The positions of InstanceStatements' answers.
enum Answer : size_t { kVariables, kReplicaStatus, kMasterStatus, kBinaryLogs, kAnswers };

}  // namespace

Instance Announced(const SqlConnection& c) {
  Instance i;
  i.name = c.endpoint().Name();
  i.version = c.server_version();
  i.mariadb = c.is_mariadb();
  std::sscanf(i.version.c_str(), "%d.%d.%d", &i.major, &i.minor, &i.patch);
  return i;
}

Status ReadReplicaStatus(SqlConnection& c, const Instance& spelling, ReplicaStatus* out) {
  *out = ReplicaStatus();
  SqlResult r;
  Status s = c.Query(ReplicaStatusSql(spelling), &r);
  if (!s.ok()) return s;
  ParseReplicaStatus(r, spelling, out);
  return Status::OK();
}

std::vector<std::string> InstanceStatements(const SqlConnection& c) {
  const Instance i = Announced(c);
  std::vector<std::string> sqls(kAnswers);
  // MySQL 8.0.26 renamed log_slave_updates to log_replica_updates.
  sqls[kVariables] =
      i.mariadb ? "SELECT @@server_id, @@log_bin, @@log_slave_updates, @@read_only, @@binlog_format, "
                  "@@gtid_binlog_pos, @@gtid_slave_pos, @@gtid_current_pos, @@datadir, @@relay_log_index"
                : std::string("SELECT @@server_id, @@log_bin, ") +
                      (AtLeast(i, 8, 0, 26) ? "@@log_replica_updates" : "@@log_slave_updates") +
                      ", @@read_only, @@binlog_format, @@gtid_mode, @@gtid_executed, '', @@datadir, @@relay_log_index";
  sqls[kReplicaStatus] = ReplicaStatusSql(i);
  // MySQL 8.4 knows only SHOW BINARY LOG STATUS.
  sqls[kMasterStatus] = i.OnlyNewSpelling() ? "SHOW BINARY LOG STATUS" : "SHOW MASTER STATUS";
  sqls[kBinaryLogs] = "SHOW BINARY LOGS";
  return sqls;
}

Status InstanceFromAnswers(const SqlConnection& c, const std::vector<SqlResult>& results,
                           const std::vector<Status>& statuses, Instance* out) {
  *out = Announced(c);
  if (results.size() < kAnswers || statuses.size() < kAnswers) {
    return Status::InvalidArgument(out->name + ": fewer answers than the instance's statements");
  }
  if (!statuses[kVariables].ok()) return statuses[kVariables];
  const SqlResult& r = results[kVariables];
  if (r.rows.empty() || r.rows[0].size() < 10) return Status::Corruption(out->name + ": no row for the server variables");
  auto v = [&](size_t i) { return r.rows[0][i].value_or(""); };
  out->server_id = static_cast<uint32_t>(ParseUnsigned(v(0)));
  out->log_bin = IsOn(r.rows[0][1]);
  out->log_slave_updates = IsOn(r.rows[0][2]);
  out->read_only = IsOn(r.rows[0][3]);
  out->binlog_format = v(4);
  if (out->mariadb) {
    out->gtid_binlog_pos = v(5);
    out->gtid_slave_pos = v(6);
    out->gtid_current_pos = v(7);
  } else {
    out->gtid_mode = v(5);
    out->gtid_executed = v(6);
  }
  out->datadir = v(8);
  out->relay_log_index = v(9);
  if (out->log_bin) {
    if (!statuses[kMasterStatus].ok()) return statuses[kMasterStatus];
    if (!statuses[kBinaryLogs].ok()) return statuses[kBinaryLogs];
    const SqlResult& m = results[kMasterStatus];
    if (!m.rows.empty()) out->self = {m.GetOr(0, "File"), ParseUnsigned(m.GetOr(0, "Position"))};
    const SqlResult& logs = results[kBinaryLogs];
    for (size_t i = 0; i < logs.rows.size(); ++i) out->binary_logs.push_back(logs.GetOr(i, "Log_name"));
  }
  if (!statuses[kReplicaStatus].ok()) return statuses[kReplicaStatus];
  ParseReplicaStatus(results[kReplicaStatus], *out, &out->replica);
  return Status::OK();
}

Status ReadInstance(SqlConnection& c, Instance* out) {
  std::vector<SqlResult> results;
  std::vector<Status> statuses;
  Status s = c.QueryEach(InstanceStatements(c), &results, &statuses);
  if (!s.ok()) {
    *out = Announced(c);
    return s;
  }
  return InstanceFromAnswers(c, results, statuses, out);
}

namespace {
std::string ThreadsSql(const char* verb, const Instance& i, ReplicaThreads threads) {
  std::string s = std::string(verb) + (i.ReplicaSpelling() ? " REPLICA" : " SLAVE");
  if (threads == ReplicaThreads::kIo) s += " IO_THREAD";
  if (threads == ReplicaThreads::kSql) s += " SQL_THREAD";
  return s;
}
}  // namespace

std::string StopReplicaSql(const Instance& i, ReplicaThreads threads) { return ThreadsSql("STOP", i, threads); }
std::string StartReplicaSql(const Instance& i, ReplicaThreads threads) { return ThreadsSql("START", i, threads); }

std::string ChangeMasterSql(const SqlConnection& c, const Instance& i, const ChangeMasterTarget& t) {
  const bool source = i.ReplicaSpelling();
  const std::string k = source ? "SOURCE_" : "MASTER_";
  std::string s = source ? "CHANGE REPLICATION SOURCE TO " : "CHANGE MASTER TO ";
  s += k + "HOST=" + c.Literal(UnresolveHost(t.host)) + ", " + k + "PORT=" + std::to_string(t.port);
  if (t.use_gtid.empty()) {
    s += ", " + k + "LOG_FILE=" + c.Literal(t.coordinates.file) + ", " + k +
         "LOG_POS=" + std::to_string(t.coordinates.pos);
    if (i.mariadb) {
      s += ", MASTER_USE_GTID=no";
    } else if (i.HasGtid()) {
      s += ", " + k + "AUTO_POSITION=0";
    }
  } else if (i.mariadb) {
    s += ", MASTER_USE_GTID=" + (t.use_gtid == "current_pos" ? std::string("current_pos") : "slave_pos");
  } else {
    s += ", " + k + "AUTO_POSITION=1";
  }
  return s;
}

}  // namespace tidewatch::pgtid
