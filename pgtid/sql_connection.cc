#include "pgtid/sql_connection.h"

#include <mysql.h>
#include <strings.h>

#include <algorithm>
#include <charconv>
#include <mutex>

namespace tidewatch::pgtid {

namespace {
MYSQL* Handle(void* p) { return static_cast<MYSQL*>(p); }

// Statements are named in errors by their first words only: a statement can
// carry a password (CHANGE MASTER TO … MASTER_PASSWORD).
std::string StatementName(std::string_view sql) {
  constexpr size_t kMax = 60;
  std::string s(sql.substr(0, kMax));
  if (auto p = s.find("PASSWORD"); p != std::string::npos) s.resize(p);
  if (sql.size() > kMax && s.size() == kMax) s += "…";
  return s;
}
}  // namespace

uint64_t ParseUnsigned(std::string_view text) {
  uint64_t v = 0;
  std::from_chars(text.data(), text.data() + text.size(), v);
  return v;
}

int SqlResult::Column(std::string_view name) const {
  for (size_t i = 0; i < columns.size(); ++i) {
    if (columns[i].size() == name.size() &&
        ::strncasecmp(columns[i].data(), name.data(), name.size()) == 0) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

std::optional<std::string> SqlResult::Get(size_t row, std::string_view name) const {
  const int c = Column(name);
  if (c < 0 || row >= rows.size()) return std::nullopt;
  return rows[row][c];
}

std::string SqlResult::GetOr(size_t row, std::string_view name, std::string fallback) const {
  auto v = Get(row, name);
  return v ? *v : fallback;
}

SqlConnection::SqlConnection(SqlEndpoint endpoint) : endpoint_(std::move(endpoint)) {}

SqlConnection::~SqlConnection() {
  if (mysql_ != nullptr) mysql_close(Handle(mysql_));
}

namespace {
std::mutex g_tls_mu;
TlsSettings g_topology_tls;
}  // namespace

void SetTopologyTls(TlsSettings tls) {
  std::lock_guard<std::mutex> lock(g_tls_mu);
  g_topology_tls = std::move(tls);
}

TlsSettings TopologyTls() {
  std::lock_guard<std::mutex> lock(g_tls_mu);
  return g_topology_tls;
}

Status SqlConnection::Connect(const SqlEndpoint& endpoint, std::unique_ptr<SqlConnection>* out) {
  std::unique_ptr<SqlConnection> c(new SqlConnection(endpoint));
  MYSQL* m = mysql_init(nullptr);
  if (m == nullptr) return Status::IOError(endpoint.Name() + ": out of memory for a connection");
  c->mysql_ = m;
  unsigned connect_s = std::max<unsigned>(1, (endpoint.connect_timeout.count() + 999) / 1000);
  unsigned read_s = std::max<unsigned>(1, (endpoint.read_timeout.count() + 999) / 1000);
  mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &connect_s);
  mysql_options(m, MYSQL_OPT_READ_TIMEOUT, &read_s);
  mysql_options(m, MYSQL_OPT_WRITE_TIMEOUT, &read_s);
  mysql_options(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
  my_bool no_reconnect = 0;
  mysql_options(m, MYSQL_OPT_RECONNECT, &no_reconnect);
  const TlsSettings tls = endpoint.tls.value_or(TopologyTls());
  if (tls.mode != TlsMode::kDisabled && tls.mode != TlsMode::kPreferred) {
    // Connector/C: SSL_ENFORCE refuses a server without TLS;
    // SSL_VERIFY_SERVER_CERT checks the chain and the host name.
    my_bool enforce = 1, verify = tls.Verifies() ? 1 : 0;
    mysql_optionsv(m, MYSQL_OPT_SSL_ENFORCE, &enforce);
    mysql_optionsv(m, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &verify);
    // A CA given makes Connector/C verify the chain: only when verifying.
    if (!tls.ca.empty() && tls.Verifies()) mysql_optionsv(m, MYSQL_OPT_SSL_CA, tls.ca.c_str());
  }
  if (tls.mode != TlsMode::kDisabled && !tls.cert.empty()) {
    mysql_optionsv(m, MYSQL_OPT_SSL_CERT, tls.cert.c_str());
    mysql_optionsv(m, MYSQL_OPT_SSL_KEY, (tls.key.empty() ? tls.cert : tls.key).c_str());
  }
  if (mysql_real_connect(m, endpoint.host.c_str(), endpoint.user.c_str(), endpoint.password.c_str(),
                         nullptr, endpoint.port, nullptr,
                         endpoint.multi_statements ? CLIENT_MULTI_STATEMENTS : 0) == nullptr) {
    c->last_errno_ = mysql_errno(m);
    return Status::IOError(endpoint.Name() + ": cannot connect: " + mysql_error(m) + " (error " +
                           std::to_string(mysql_errno(m)) + ")");
  }
  c->server_version_ = mysql_get_server_info(m);
  c->is_mariadb_ = c->server_version_.find("MariaDB") != std::string::npos;
  if (endpoint.multi_statements) {
    unsigned long caps = 0;
    c->together_ = mariadb_get_infov(m, MARIADB_CONNECTION_SERVER_CAPABILITIES, &caps) == 0 &&
                   (caps & CLIENT_MULTI_STATEMENTS) != 0;
  }
  *out = std::move(c);
  return Status::OK();
}

Status SqlConnection::Failure(std::string_view sql) {
  last_errno_ = mysql_errno(Handle(mysql_));
  return Status::IOError(endpoint_.Name() + ": " + StatementName(sql) + ": " +
                         mysql_error(Handle(mysql_)) + " (error " + std::to_string(last_errno_) + ")");
}

Status SqlConnection::Store(std::string_view sql, SqlResult* out) {
  *out = SqlResult();
  MYSQL* m = Handle(mysql_);
  MYSQL_RES* res = mysql_store_result(m);
  if (res == nullptr) {
    if (mysql_field_count(m) != 0) return Failure(sql);
    return Status::OK();
  }
  const unsigned n = mysql_num_fields(res);
  MYSQL_FIELD* fields = mysql_fetch_fields(res);
  out->columns.reserve(n);
  for (unsigned i = 0; i < n; ++i) out->columns.emplace_back(fields[i].name, fields[i].name_length);
  while (MYSQL_ROW row = mysql_fetch_row(res)) {
    unsigned long* lengths = mysql_fetch_lengths(res);
    auto& r = out->rows.emplace_back();
    r.reserve(n);
    for (unsigned i = 0; i < n; ++i) {
      if (row[i] == nullptr) {
        r.emplace_back(std::nullopt);
      } else {
        r.emplace_back(std::string(row[i], lengths[i]));
      }
    }
  }
  mysql_free_result(res);
  return Status::OK();
}

Status SqlConnection::Query(std::string_view sql, SqlResult* out) {
  *out = SqlResult();
  MYSQL* m = Handle(mysql_);
  if (mysql_real_query(m, sql.data(), sql.size()) != 0) return Failure(sql);
  last_errno_ = 0;
  Status s = Store(sql, out);
  if (!s.ok()) return s;
  while (mysql_more_results(m)) {
    if (mysql_next_result(m) > 0) return Failure(sql);
    if (MYSQL_RES* extra = mysql_store_result(m)) mysql_free_result(extra);
  }
  return Status::OK();
}

namespace {
// Connector/C's own errors (CR_*, errmsg.h): the connection, not the statement.
bool ClientError(unsigned e) { return e >= 2000 && e < 3000; }
}  // namespace

Status SqlConnection::QueryEach(const std::vector<std::string>& sqls, std::vector<SqlResult>* results,
                                std::vector<Status>* statuses) {
  results->assign(sqls.size(), SqlResult());
  statuses->assign(sqls.size(), Status::OK());
  auto lost = [&](size_t from, const Status& s) {
    for (size_t k = from; k < sqls.size(); ++k) (*statuses)[k] = s;
    return s;
  };
  MYSQL* m = Handle(mysql_);
  size_t i = 0;
  while (i < sqls.size()) {
    if (!together_) {
      (*statuses)[i] = Query(sqls[i], &(*results)[i]);
      if (!(*statuses)[i].ok() && ClientError(last_errno_)) return lost(i, (*statuses)[i]);
      ++i;
      continue;
    }
    std::string batch;
    for (size_t k = i; k < sqls.size(); ++k) {
      if (k > i) batch += ';';
      batch += sqls[k];
    }
    // The server answers the statements in order, each result but the last
    // flagged SERVER_MORE_RESULTS_EXIST, and stops at the first error.
    int rc = mysql_real_query(m, batch.data(), batch.size());
    while (true) {
      if (rc != 0) {
        (*statuses)[i] = Failure(sqls[i]);
        if (ClientError(last_errno_)) return lost(i, (*statuses)[i]);
        ++i;
        break;  // the rest again, as a batch of its own
      }
      last_errno_ = 0;
      (*statuses)[i] = Store(sqls[i], &(*results)[i]);
      if (!(*statuses)[i].ok() && ClientError(last_errno_)) return lost(i, (*statuses)[i]);
      ++i;
      const bool more = mysql_more_results(m);
      if (i == sqls.size()) {
        // More results than statements: one of them was two. Drained, so
        // the connection stays usable; the answers so far stand.
        while (mysql_more_results(m) && mysql_next_result(m) == 0) {
          if (MYSQL_RES* extra = mysql_store_result(m)) mysql_free_result(extra);
        }
        break;
      }
      if (!more || (rc = mysql_next_result(m)) < 0) {
        return lost(i, Status::IOError(endpoint_.Name() + ": " + StatementName(sqls[i]) +
                                           ": not answered in a batch of statements"));
      }
    }
  }
  return Status::OK();
}

Status SqlConnection::Execute(std::string_view sql) {
  SqlResult ignored;
  return Query(sql, &ignored);
}

std::string SqlConnection::Literal(std::string_view s) const {
  std::string buf(s.size() * 2 + 1, '\0');
  unsigned long n = mysql_real_escape_string(Handle(mysql_), buf.data(), s.data(), s.size());
  buf.resize(n);
  return "'" + buf + "'";
}

std::string SqlConnection::Identifier(std::string_view s) {
  std::string r = "`";
  for (char ch : s) {
    r += ch;
    if (ch == '`') r += '`';
  }
  r += '`';
  return r;
}

}  // namespace tidewatch::pgtid
