#include "analyzer/instance_probe.h"

#include <re2/re2.h>


namespace tidewatch::analyzer {

namespace {

bool IsOn(const std::string& v) { return v == "ON" || v == "1"; }

// Variables and status counters of semi-synchronous replication. MySQL
// 8.0.26+ renamed master → source and slave → replica in the plugin's names
// (rpl_semi_sync_source_enabled, Rpl_semi_sync_source_status); MariaDB keeps
// the old names and has no wait_for_slave_count (it waits for one replica).
constexpr const char* kSemiSyncVariables = "SHOW GLOBAL VARIABLES LIKE 'rpl_semi_sync%'";

template <typename F>
void ScanNamed(const pgtid::SqlResult& r, F&& f) {
  for (size_t i = 0; i < r.rows.size(); ++i) {
    std::string name = r.rows[i].size() > 0 ? r.rows[i][0].value_or("") : "";
    std::string value = r.rows[i].size() > 1 ? r.rows[i][1].value_or("") : "";
    for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    f(name, value);
  }
}

// `vars` answered kSemiSyncVariables; the status counters are read only
// when the variables enable it (disabled on both sides, its status is off
// and it has no clients).
void ReadSemiSync(pgtid::SqlConnection& c, const pgtid::SqlResult& vars, SemiSync* out) {
  ScanNamed(vars, [&](const std::string& n, const std::string& v) {
    if (n == "rpl_semi_sync_master_enabled" || n == "rpl_semi_sync_source_enabled") out->master_enabled = IsOn(v);
    if (n == "rpl_semi_sync_slave_enabled" || n == "rpl_semi_sync_replica_enabled") out->replica_enabled = IsOn(v);
    if (n == "rpl_semi_sync_master_timeout" || n == "rpl_semi_sync_source_timeout") out->master_timeout_ms = pgtid::ParseUnsigned(v);
    if (n == "rpl_semi_sync_master_wait_for_slave_count" || n == "rpl_semi_sync_source_wait_for_replica_count") {
      out->wait_for_replica_count = static_cast<uint32_t>(pgtid::ParseUnsigned(v));
    }
  });
  if (!out->master_enabled && !out->replica_enabled) return;
  pgtid::SqlResult status;
  if (!c.Query("SHOW GLOBAL STATUS LIKE 'Rpl_semi_sync%'", &status).ok()) return;
  ScanNamed(status, [&](const std::string& n, const std::string& v) {
    if (n == "rpl_semi_sync_master_status" || n == "rpl_semi_sync_source_status") out->master_status = IsOn(v);
    if (n == "rpl_semi_sync_slave_status" || n == "rpl_semi_sync_replica_status") out->replica_status = IsOn(v);
    if (n == "rpl_semi_sync_master_clients" || n == "rpl_semi_sync_source_clients") {
      out->master_clients = static_cast<uint32_t>(pgtid::ParseUnsigned(v));
    }
  });
}

// The statements of one probe after the instance's own, in one round trip
// with them where the connection sends statements together.
struct ProbeStatements {
  std::vector<std::string> sqls;
  size_t replicas = 0, semi_sync = 0;
  size_t identity = 0, uptime = 0;  // 0: not asked (the session knows them)
  size_t processlist = 0;           // 0: not asked
  std::vector<pgtid::SqlResult> results;
  std::vector<Status> statuses;

  const pgtid::SqlResult* Answer(size_t at) const {
    return at != 0 && statuses[at].ok() ? &results[at] : nullptr;
  }
};

// Replicas that registered (COM_REGISTER_SLAVE) with their report_host and
// report_port; Tidewatch's own streams register with its server_ids and
// port 0. A replica without report_host is not listed and is found from its
// own SHOW SLAVE STATUS when it is probed. DiscoverByShowSlaveHosts off:
// also the hosts of the processlist's Binlog Dump threads, but the one this
// connection comes from (Tidewatch's own streams).
Status RunProbeStatements(pgtid::SqlConnection& c, const ProbeOptions& options, bool identity_known,
                          ProbeStatements* q) {
  q->sqls = pgtid::InstanceStatements(c);
  const pgtid::Instance announced = pgtid::Announced(c);
  auto add = [&](std::string sql) {
    q->sqls.push_back(std::move(sql));
    return q->sqls.size() - 1;
  };
  q->replicas = add(announced.OnlyNewSpelling() ? "SHOW REPLICAS" : "SHOW SLAVE HOSTS");
  q->semi_sync = add(kSemiSyncVariables);
  if (!identity_known) {
    q->identity = add(announced.mariadb ? "SELECT @@version_comment, '' AS uuid" : "SELECT @@version_comment, @@server_uuid");
    q->uptime = add("SHOW GLOBAL STATUS LIKE 'Uptime'");
  }
  if (options.discover_by_processlist) {
    q->processlist =
        add("SELECT DISTINCT SUBSTRING_INDEX(host, ':', 1) FROM information_schema.processlist "
            "WHERE command IN ('Binlog Dump', 'Binlog Dump GTID') AND SUBSTRING_INDEX(host, ':', 1) <> "
            "(SELECT SUBSTRING_INDEX(host, ':', 1) FROM information_schema.processlist WHERE id = CONNECTION_ID())");
  }
  return c.QueryEach(q->sqls, &q->results, &q->statuses);
}

// The first column of the first row of a detection query; empty when the
// query is empty, fails or returns nothing.
std::string QueryValue(pgtid::SqlConnection& c, const std::string& sql, std::string* error) {
  if (sql.empty()) return {};
  pgtid::SqlResult r;
  Status s = c.Query(sql, &r);
  if (!s.ok()) {
    if (error->empty()) *error = s.message();
    return {};
  }
  if (r.rows.empty() || r.rows[0].empty()) return {};
  return r.rows[0][0].value_or("");
}

}  // namespace

std::string MasterKeyOf(const ProbeResult& p) {
  const auto& rs = p.instance.replica;
  if (!rs.configured || rs.master_host.empty()) return {};
  return rs.Master();
}

std::string DataCenterOf(const std::string& pattern, const std::string& host) {
  if (pattern.empty()) return {};
  RE2 re(pattern, RE2::Quiet);
  std::string dc;
  if (!re.ok() || re.NumberOfCapturingGroups() < 1) return {};
  if (!RE2::PartialMatch(host, re, &dc)) return {};
  return dc;
}

ProbeResult ProbeInstance(const ProbeOptions& options, const std::string& host, uint16_t port) {
  return ProbeInstance(options, host, port, nullptr);
}

ProbeResult ProbeInstance(const ProbeOptions& options, const std::string& host, uint16_t port,
                          std::unique_ptr<pgtid::SqlConnection>* connection, ProbeSession* session) {
  ProbeResult p;
  p.key = host + ":" + std::to_string(port);
  p.at = std::chrono::system_clock::now();
  const auto started = std::chrono::steady_clock::now();
  auto done = [&]() {
    p.latency_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
    return p;
  };
  std::unique_ptr<pgtid::SqlConnection> c;
  ProbeStatements q;
  auto read = [&](bool identity_known) {
    Status r = RunProbeStatements(*c, options, identity_known, &q);
    return r.ok() ? pgtid::InstanceFromAnswers(*c, q.results, q.statuses, &p.instance) : r;
  };
  Status s;
  if (connection != nullptr && *connection) {
    c = std::move(*connection);
    s = read(session != nullptr && session->known);
    if (!s.ok()) c.reset();  // closed, perhaps long ago: a fresh connection decides
  }
  if (!c) {
    if (session != nullptr) session->known = false;
    pgtid::SqlEndpoint ep;
    ep.host = host;
    ep.port = port;
    ep.user = options.user;
    ep.password = options.password;
    ep.connect_timeout = options.connect_timeout;
    ep.read_timeout = options.read_timeout;
    ep.multi_statements = true;  // the probe's statements are fixed text
    s = pgtid::SqlConnection::Connect(ep, &c);
    p.connected = true;
    if (!s.ok()) {
      p.error = s.message();
      return done();
    }
    s = read(false);
  }
  p.reachable = true;
  if (!s.ok()) {
    p.partial = true;
    p.error = s.message();
    return done();
  }
  p.data_center = DataCenterOf(options.data_center_pattern, host);
  p.region = DataCenterOf(options.region_pattern, host);
  p.physical_environment = DataCenterOf(options.physical_environment_pattern, host);

  if (session != nullptr && session->known) {
    p.version_comment = session->version_comment;
    p.server_uuid = session->server_uuid;
    p.uptime_seconds = session->uptime_seconds + static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                                     std::chrono::steady_clock::now() - session->uptime_at)
                                                     .count());
  } else {
    if (const auto* r = q.Answer(q.identity); r != nullptr && !r->rows.empty() && r->rows[0].size() > 1) {
      p.version_comment = r->rows[0][0].value_or("");
      p.server_uuid = r->rows[0][1].value_or("");
    }
    const auto* r = q.Answer(q.uptime);
    const bool uptime = r != nullptr && !r->rows.empty() && r->rows[0].size() > 1;
    if (uptime) p.uptime_seconds = pgtid::ParseUnsigned(r->rows[0][1].value_or("0"));
    if (session != nullptr && uptime) {
      *session = ProbeSession{true, p.version_comment, p.server_uuid, p.uptime_seconds, std::chrono::steady_clock::now()};
    }
  }

  if (const auto* r = q.Answer(q.replicas)) {
    for (size_t i = 0; i < r->rows.size(); ++i) {
      const std::string rhost = r->GetOr(i, "Host");
      const uint32_t id = static_cast<uint32_t>(pgtid::ParseUnsigned(r->GetOr(i, "Server_id")));
      uint16_t rport = static_cast<uint16_t>(pgtid::ParseUnsigned(r->GetOr(i, "Port")));
      if (options.own_server_ids.count(id) != 0 || rhost.empty()) continue;
      if (rport == 0) rport = options.default_port;
      p.replica_keys.push_back(rhost + ":" + std::to_string(rport));
    }
  }
  if (const auto* r = q.Answer(q.processlist)) {
    for (const auto& row : r->rows) {
      const std::string rhost = row.empty() ? "" : row[0].value_or("");
      if (rhost.empty()) continue;
      bool named = false;
      for (const auto& k : p.replica_keys) named |= k.compare(0, rhost.size() + 1, rhost + ":") == 0;
      if (!named) p.replica_keys.push_back(rhost + ":" + std::to_string(options.default_port));
    }
  }
  if (const auto* r = q.Answer(q.semi_sync)) ReadSemiSync(*c, *r, &p.semi_sync);

  std::string detect_error;
  p.cluster_alias = QueryValue(*c, options.detect_cluster_alias_query, &detect_error);
  p.instance_alias = QueryValue(*c, options.detect_instance_alias_query, &detect_error);
  p.promotion_rule = QueryValue(*c, options.detect_promotion_rule_query, &detect_error);
  if (p.promotion_rule.empty()) p.promotion_rule = "neutral";
  if (!options.detect_data_center_query.empty()) {
    p.data_center = QueryValue(*c, options.detect_data_center_query, &detect_error);
  }
  if (!options.detect_region_query.empty()) p.region = QueryValue(*c, options.detect_region_query, &detect_error);
  if (!options.detect_physical_environment_query.empty()) {
    p.physical_environment = QueryValue(*c, options.detect_physical_environment_query, &detect_error);
  }
  p.cluster_domain = QueryValue(*c, options.detect_cluster_domain_query, &detect_error);
  if (!options.replication_lag_query.empty() && p.instance.replica.configured) {
    const std::string lag = QueryValue(*c, options.replication_lag_query, &detect_error);
    if (!lag.empty()) p.instance.replica.seconds_behind = static_cast<int64_t>(pgtid::ParseUnsigned(lag));
  }
  const std::string enforced = QueryValue(*c, options.detect_semi_sync_enforced_query, &detect_error);
  p.semi_sync_enforced = !enforced.empty() && enforced != "0";
  if (!detect_error.empty()) p.error = "detection query: " + detect_error;
  if (connection != nullptr) *connection = std::move(c);
  return done();
}

}  // namespace tidewatch::analyzer
