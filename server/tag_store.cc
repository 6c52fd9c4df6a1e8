#include "server/tag_store.h"

#include <algorithm>

#include "server/orchestrator_json.h"
#include "server/state_file.h"

namespace tidewatch::server {

using nlohmann::json;

namespace {

bool Selects(const std::map<std::string, std::string>& tags, const Tag& t) {
  const auto it = tags.find(t.name);
  if (!t.negate) return it != tags.end() && (!t.has_value || it->second == t.value);
  if (t.has_value) return it != tags.end() && it->second != t.value;
  return it == tags.end();
}

}  // namespace

TagStore::TagStore(std::string path) : path_(std::move(path)) {
  if (path_.empty()) return;
  json j;
  load_status_ = ReadStateFile(path_, &j);
  if (!load_status_.ok() || j.is_null()) return;
  try {
    for (const auto& [key, tags] : j.at("instances").items()) {
      for (const auto& [name, value] : tags.items()) tags_[key][name] = value.get<std::string>();
    }
  } catch (const json::exception& e) {
    tags_.clear();
    load_status_ = Status::Corruption(path_ + ": " + e.what());
  }
}

Status TagStore::Save() const {
  if (path_.empty()) return Status::OK();
  json instances = json::object();
  for (const auto& [key, tags] : tags_) instances[key] = tags;
  return WriteStateFile(path_, {{"version", 1}, {"instances", instances}});
}

Status TagStore::Put(const std::string& key, const std::string& name, const std::string& value) {
  std::lock_guard<std::mutex> lock(mu_);
  tags_[key][name] = value;
  return Save();
}

std::vector<std::pair<std::string, std::string>> TagStore::TagsOf(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  const auto it = tags_.find(key);
  if (it == tags_.end()) return {};
  return {it->second.begin(), it->second.end()};
}

bool TagStore::Value(const std::string& key, const std::string& name, std::string* value) const {
  std::lock_guard<std::mutex> lock(mu_);
  const auto it = tags_.find(key);
  if (it == tags_.end()) return false;
  const auto t = it->second.find(name);
  if (t == it->second.end()) return false;
  *value = t->second;
  return true;
}

Status TagStore::Untag(const std::string& key, const Tag& tag, std::vector<std::string>* removed) {
  removed->clear();
  // orchestrator's refusals (go/inst/tag_dao.go).
  if (tag.negate) return Status::InvalidArgument("Untag: does not support negation");
  if (key.empty() && !tag.has_value) {
    return Status::InvalidArgument(
        "Untag: either indicate an instance or a tag value. Will not delete on-valued tag across instances");
  }
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = tags_.begin(); it != tags_.end();) {
    auto& tags = it->second;
    const auto t = tags.find(tag.name);
    if ((key.empty() || it->first == key) && t != tags.end() && (!tag.has_value || t->second == tag.value)) {
      removed->push_back(it->first);
      tags.erase(t);
    }
    it = tags.empty() ? tags_.erase(it) : std::next(it);
  }
  std::sort(removed->begin(), removed->end(), InstanceKeyLess);
  if (removed->empty()) return Status::OK();
  return Save();
}

std::vector<std::string> TagStore::Tagged(const std::vector<Tag>& tags) const {
  std::vector<std::string> out;
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [key, own] : tags_) {
    if (!tags.empty() && std::all_of(tags.begin(), tags.end(), [&](const Tag& t) { return Selects(own, t); })) {
      out.push_back(key);
    }
  }
  std::sort(out.begin(), out.end(), InstanceKeyLess);
  return out;
}

}  // namespace tidewatch::server
