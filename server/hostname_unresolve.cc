#include "server/hostname_unresolve.h"

#include <nlohmann/json.hpp>

#include "server/state_file.h"

namespace tidewatch::server {

using nlohmann::json;

HostnameUnresolveStore::HostnameUnresolveStore(std::string path, std::chrono::minutes expiry)
    : path_(std::move(path)), expiry_(expiry) {
  if (path_.empty()) return;
  json j;
  load_status_ = ReadStateFile(path_, &j);
  if (!load_status_.ok() || j.is_null()) return;
  try {
    for (const auto& [host, r] : j.at("hosts").items()) {
      names_[host] = {r.at("unresolved_hostname").get<std::string>(),
                      Clock::time_point(std::chrono::seconds(r.at("last_registered").get<int64_t>()))};
    }
  } catch (const json::exception& e) {
    names_.clear();
    load_status_ = Status::Corruption(path_ + ": " + e.what());
  }
}

Status HostnameUnresolveStore::Save() const {
  if (path_.empty()) return Status::OK();
  json hosts = json::object();
  for (const auto& [host, r] : names_) {
    hosts[host] = {{"unresolved_hostname", r.virtual_name},
                   {"last_registered",
                    std::chrono::duration_cast<std::chrono::seconds>(r.at.time_since_epoch()).count()}};
  }
  return WriteStateFile(path_, {{"version", 1}, {"hosts", hosts}});
}

Status HostnameUnresolveStore::Register(const std::string& hostname, const std::string& virtual_name,
                                        Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mu_);
  if (virtual_name.empty()) {
    names_.erase(hostname);
  } else {
    names_[hostname] = {virtual_name, now};
  }
  for (auto it = names_.begin(); it != names_.end();) {
    it = it->second.at + expiry_ < now ? names_.erase(it) : std::next(it);
  }
  return Save();
}

std::string HostnameUnresolveStore::Unresolve(const std::string& hostname, Clock::time_point now) const {
  std::lock_guard<std::mutex> lock(mu_);
  const auto it = names_.find(hostname);
  if (it == names_.end() || it->second.at + expiry_ < now) return hostname;
  return it->second.virtual_name;
}

std::string HostnameUnresolveStore::Resolve(const std::string& name, Clock::time_point now) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [host, r] : names_) {
    if (r.virtual_name == name && r.at + expiry_ >= now) return host;
  }
  return name;
}

std::map<std::string, std::string> HostnameUnresolveStore::All(Clock::time_point now) const {
  std::map<std::string, std::string> out;
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [host, r] : names_) {
    if (r.at + expiry_ >= now) out[host] = r.virtual_name;
  }
  return out;
}

}  // namespace tidewatch::server
