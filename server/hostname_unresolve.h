// HostnameUnresolveStore: orchestrator's hostname_unresolve — a host name
// → the virtual ("unresolved") name replicas should use for it, e.g. a VIP
// or a DNS alias. Keyed by host name only (orchestrator ignores the port
// of the instance it is registered for). A registration expires
// ExpiryHostnameResolvesMinutes after it was last made (orchestrator's
// ExpireHostnameUnresolve); the registrant renews it by registering again.
// Kept in memory and, with a path, in that JSON file, rewritten on every
// change. Thread-safe. Installed as the process's pgtid::HostNames, so
// that replicas are pointed at the virtual name and read back by the host's.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>

#include "base/status.h"
#include "pgtid/host_names.h"

namespace tidewatch::server {

class HostnameUnresolveStore : public pgtid::HostNames {
 public:
  using Clock = std::chrono::system_clock;

  HostnameUnresolveStore(std::string path, std::chrono::minutes expiry);

  const Status& load_status() const { return load_status_; }

  // `virtual_name` empty: the registration of `hostname` is removed
  // (orchestrator's deregistration).
  Status Register(const std::string& hostname, const std::string& virtual_name, Clock::time_point now = Clock::now());
  // The unexpired virtual name of `hostname`; `hostname` itself when none.
  std::string Unresolve(const std::string& hostname, Clock::time_point now) const;
  // The host a virtual name stands for; `name` itself when none.
  std::string Resolve(const std::string& name, Clock::time_point now) const;
  std::string Unresolve(const std::string& hostname) const override { return Unresolve(hostname, Clock::now()); }
  std::string Resolve(const std::string& name) const override { return Resolve(name, Clock::now()); }
  // Host name → virtual name, the unexpired ones.
  std::map<std::string, std::string> All(Clock::time_point now = Clock::now()) const;

 private:
  struct Registration {
    std::string virtual_name;
    Clock::time_point at;
  };
  Status Save() const;  // under mu_

  const std::string path_;
  const std::chrono::minutes expiry_;
  Status load_status_;
  mutable std::mutex mu_;
  std::map<std::string, Registration> names_;
};

}  // namespace tidewatch::server
