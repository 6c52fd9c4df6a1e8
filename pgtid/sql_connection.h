// SqlConnection: one blocking client connection (MariaDB Connector/C) to a
// server, for the statements the executor and the pollers issue (SHOW SLAVE
// STATUS, CHANGE MASTER TO, …). Blocking: never used on the event loop.
//
// Every error names the server and the statement that failed, and carries the
// server's error number. Passwords appear in no message.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "base/tls_settings.h"

namespace tidewatch::pgtid {


struct SqlEndpoint {
  std::string host = "127.0.0.1";
  uint16_t port = 3306;
  std::string user;
  std::string password;
  // Unset: the process's topology TLS (SetTopologyTls).
  std::optional<TlsSettings> tls;
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds read_timeout{30000};
  // QueryEach sends its statements in one round trip where the server
  // announces CLIENT_MULTI_STATEMENTS. Only for connections whose
  // statements are fixed text (the probes): a statement built from a value
  // could carry a second one.
  bool multi_statements = false;

  std::string Name() const { return host + ":" + std::to_string(port); }
};

// A result set as text, as the text protocol returns it; NULL is nullopt.
struct SqlResult {
  std::vector<std::string> columns;
  std::vector<std::vector<std::optional<std::string>>> rows;

  // Index of the column named `name` (case-insensitive), or -1.
  int Column(std::string_view name) const;
  // The value in `row` of column `name`; nullopt for NULL or no such column.
  std::optional<std::string> Get(size_t row, std::string_view name) const;
  std::string GetOr(size_t row, std::string_view name, std::string fallback = "") const;
};

// The TLS of every connection to a watched server whose endpoint does not
// say otherwise: orchestrator's MySQLTopologySSL* settings, installed once
// from the configuration before the first connection. Default: preferred.
void SetTopologyTls(TlsSettings tls);
TlsSettings TopologyTls();

// A whole number as the text protocol sends it; 0 for text that is not one
// (NULL, empty).
uint64_t ParseUnsigned(std::string_view text);

class SqlConnection {
 public:
  ~SqlConnection();
  SqlConnection(const SqlConnection&) = delete;
  SqlConnection& operator=(const SqlConnection&) = delete;

  static Status Connect(const SqlEndpoint& endpoint, std::unique_ptr<SqlConnection>* out);

  // A statement that returns rows (SELECT, SHOW).
  Status Query(std::string_view sql, SqlResult* out);
  // A statement whose rows, if any, are discarded.
  Status Execute(std::string_view sql);
  // Each of `sqls` (none containing ';'), with the outcome Query would
  // have given it alone: (*results)[i] and (*statuses)[i]. One round trip
  // when the connection sends statements together (multi_statements and
  // the server allows it); a statement's error does not stop the ones
  // after it (the server stops a batch there: the rest is sent again).
  // Returns the error of a connection that failed (a client error, 2000–
  // 2999: lost, gone, timed out), given to every statement not answered.
  Status QueryEach(const std::vector<std::string>& sqls, std::vector<SqlResult>* results,
                   std::vector<Status>* statuses);
  bool sends_together() const { return together_; }
  // The server's error number of the last failed statement (0: none).
  unsigned last_errno() const { return last_errno_; }

  // A string literal: quoted and escaped for this connection's character set.
  std::string Literal(std::string_view s) const;
  // An identifier in backquotes, embedded backquotes doubled.
  static std::string Identifier(std::string_view s);

  const std::string& server_version() const { return server_version_; }
  bool is_mariadb() const { return is_mariadb_; }
  const SqlEndpoint& endpoint() const { return endpoint_; }

 private:
  explicit SqlConnection(SqlEndpoint endpoint);
  Status Failure(std::string_view sql);
  // The result of the statement just answered, or its error.
  Status Store(std::string_view sql, SqlResult* out);

  SqlEndpoint endpoint_;
  void* mysql_ = nullptr;  // MYSQL*
  std::string server_version_;
  bool is_mariadb_ = false;
  bool together_ = false;
  unsigned last_errno_ = 0;
};

}  // namespace tidewatch::pgtid
