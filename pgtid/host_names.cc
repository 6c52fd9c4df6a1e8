#include "pgtid/host_names.h"

#include <atomic>

namespace tidewatch::pgtid {

namespace {
std::atomic<const HostNames*> g_names{nullptr};
}  // namespace

void SetHostNames(const HostNames* names) { g_names.store(names); }

void RemoveHostNames(const HostNames* names) { g_names.compare_exchange_strong(names, nullptr); }

std::string UnresolveHost(const std::string& host) {
  const HostNames* n = g_names.load();
  return n == nullptr ? host : n->Unresolve(host);
}

std::string ResolveHost(const std::string& name) {
  const HostNames* n = g_names.load();
  return n == nullptr ? name : n->Resolve(name);
}

}  // namespace tidewatch::pgtid
