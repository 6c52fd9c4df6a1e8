// LiveIndexSource: the executor's view (pgtid/index_source.h) of the indexes
// a running Monitor keeps. A server the Monitor follows is answered from a
// copy of its live index once the stream has read up to the server's current
// end of binlog (SHOW MASTER STATUS, then the stream is waited for) — no
// binlog is read again. A server the Monitor does not follow goes to the
// fallback source (which streams what it needs); a dead server is answered
// from what the Monitor had indexed before it died.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "analyzer/monitor.h"
#include "pgtid/index_source.h"

namespace tidewatch::analyzer {

class LiveIndexSource : public pgtid::IndexSource {
 public:
  LiveIndexSource(Monitor* monitor, pgtid::IndexSource* fallback, pgtid::SqlEndpoint credentials)
      : monitor_(monitor), fallback_(fallback), credentials_(std::move(credentials)) {}

  Status CaughtUp(const std::string& host, uint16_t port, const pgtid::ServerIndex** out) override;
  const pgtid::ServerIndex* Known(const std::string& host, uint16_t port) override;

  // Where the last answer came from: "live" or "fallback".
  const std::string& last_origin() const { return origin_; }

 private:
  Monitor* monitor_;
  pgtid::IndexSource* fallback_;
  pgtid::SqlEndpoint credentials_;
  std::map<std::string, std::unique_ptr<pgtid::ServerIndex>> copies_;
  std::string origin_;
};

}  // namespace tidewatch::analyzer
