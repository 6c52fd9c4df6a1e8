// PoolStore: orchestrator's instance pools (database_instance_pool): a pool
// name → the instances last submitted for it. A submission replaces the
// pool's list, and expires InstancePoolExpiryMinutes after it was made
// (orchestrator deletes expired rows every minute; here they are not
// answered once expired, and dropped at the next write): the submitter is
// expected to submit again periodically. Kept in memory and, with a path,
// in that JSON file, rewritten on every submission. Thread-safe.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "base/status.h"

namespace tidewatch::server {

class PoolStore {
 public:
  using Clock = std::chrono::system_clock;

  PoolStore(std::string path, std::chrono::minutes expiry, uint16_t default_port = 3306);

  const Status& load_status() const { return load_status_; }

  // orchestrator's ApplyPoolInstances: `instances` is "host:port,host:port"
  // (each trimmed; a bare host gets DefaultInstancePort); "" empties the pool. A bad
  // key refuses the whole submission.
  Status Submit(const std::string& pool, const std::string& instances, Clock::time_point now = Clock::now());
  // Pool → its instance keys (as submitted, in submission order), the
  // unexpired ones only; `pool` non-empty: that pool only.
  std::map<std::string, std::vector<std::string>> Pools(const std::string& pool = "",
                                                         Clock::time_point now = Clock::now()) const;

 private:
  struct Submission {
    std::vector<std::string> keys;
    Clock::time_point at;
  };
  Status Save() const;  // under mu_

  const std::string path_;
  const std::chrono::minutes expiry_;
  const uint16_t default_port_;
  Status load_status_;
  mutable std::mutex mu_;
  std::map<std::string, Submission> pools_;
};

}  // namespace tidewatch::server
