// HostNames: the names by which replicas are told of their master, when
// they are not the names Tidewatch knows it by — orchestrator's hostname
// unresolve (register-hostname-unresolve: a VIP or a DNS alias for a host).
// CHANGE MASTER TO writes the virtual name (instance.h ChangeMasterSql), and
// a Master_Host read from SHOW SLAVE STATUS that is a registered virtual
// name is read as the host it stands for, so that the model's edges and the
// post-checks of every move see the master by its own name.
//
// One set of names per process, installed by the daemon; none: every name
// is itself.
#pragma once

#include <string>

namespace tidewatch::pgtid {

class HostNames {
 public:
  virtual ~HostNames() = default;
  // The name replicas are given for `host` (`host` itself when none is registered).
  virtual std::string Unresolve(const std::string& host) const = 0;
  // The host a virtual name stands for (`name` itself when it is none).
  virtual std::string Resolve(const std::string& name) const = 0;
};

// Installs `names` (not owned); they must outlive their installation.
void SetHostNames(const HostNames* names);
// Removes `names` if they are the ones installed.
void RemoveHostNames(const HostNames* names);
std::string UnresolveHost(const std::string& host);
std::string ResolveHost(const std::string& name);

}  // namespace tidewatch::pgtid
