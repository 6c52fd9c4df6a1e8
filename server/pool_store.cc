#include "server/pool_store.h"

#include <nlohmann/json.hpp>

#include "base/host_port.h"
#include "base/trim_space.h"
#include "server/state_file.h"

namespace tidewatch::server {

using nlohmann::json;

namespace {

std::string Trim(const std::string& s) { return std::string(TrimSpace(s)); }

int64_t Seconds(PoolStore::Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

}  // namespace

PoolStore::PoolStore(std::string path, std::chrono::minutes expiry, uint16_t default_port)
    : path_(std::move(path)), expiry_(expiry), default_port_(default_port) {
  if (path_.empty()) return;
  json j;
  load_status_ = ReadStateFile(path_, &j);
  if (!load_status_.ok() || j.is_null()) return;
  try {
    for (const auto& [pool, p] : j.at("pools").items()) {
      Submission s;
      s.keys = p.at("instances").get<std::vector<std::string>>();
      s.at = Clock::time_point(std::chrono::seconds(p.at("registered_at").get<int64_t>()));
      pools_[pool] = std::move(s);
    }
  } catch (const json::exception& e) {
    pools_.clear();
    load_status_ = Status::Corruption(path_ + ": " + e.what());
  }
}

Status PoolStore::Save() const {
  if (path_.empty()) return Status::OK();
  json pools = json::object();
  for (const auto& [pool, s] : pools_) pools[pool] = {{"instances", s.keys}, {"registered_at", Seconds(s.at)}};
  return WriteStateFile(path_, {{"version", 1}, {"pools", pools}});
}

Status PoolStore::Submit(const std::string& pool, const std::string& instances, Clock::time_point now) {
  Submission s{{}, now};
  if (!instances.empty()) {
    size_t start = 0;
    while (true) {
      const size_t comma = instances.find(',', start);
      const std::string text =
          Trim(instances.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
      std::string host;
      uint16_t port = 0;
      if (text.find(':') == std::string::npos && !text.empty()) {
        host = text;
        port = default_port_;
      } else if (!SplitHostPort(text, &host, &port)) {
        return Status::InvalidArgument("Cannot parse instance key: " + text);
      }
      s.keys.push_back(host + ":" + std::to_string(port));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  pools_[pool] = std::move(s);
  for (auto it = pools_.begin(); it != pools_.end();) {
    it = it->second.at + expiry_ < now ? pools_.erase(it) : std::next(it);
  }
  return Save();
}

std::map<std::string, std::vector<std::string>> PoolStore::Pools(const std::string& pool, Clock::time_point now) const {
  std::map<std::string, std::vector<std::string>> out;
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [name, s] : pools_) {
    if ((pool.empty() || name == pool) && s.at + expiry_ >= now) out[name] = s.keys;
  }
  return out;
}

}  // namespace tidewatch::server
