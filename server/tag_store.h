// TagStore: orchestrator's instance tags (database_instance_tags): per
// instance key ("host:port"), tag name → value, one value per name.
// Kept in memory and, with a path, in that JSON file (state_file.h),
// rewritten after every change and read at construction, so tags survive
// a restart. Tags are kept for any key, known to the model or not, and are
// not removed when an instance is forgotten — as orchestrator's.
// Thread-safe.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "server/tag_string.h"

namespace tidewatch::server {

class TagStore {
 public:
  // `path` empty: in memory only. A file that cannot be read is reported by
  // load_status() and the store starts empty.
  explicit TagStore(std::string path = "");

  const Status& load_status() const { return load_status_; }

  // Sets the tag (its value replaced when it exists); the file is written
  // before this returns, and its failure returned (the memory keeps the tag).
  Status Put(const std::string& key, const std::string& name, const std::string& value);
  // Name → value, by name.
  std::vector<std::pair<std::string, std::string>> TagsOf(const std::string& key) const;
  // The tag's value; false when the instance has no tag of that name.
  bool Value(const std::string& key, const std::string& name, std::string* value) const;
  // orchestrator's Untag: removes `tag` (by name, and by value when it has
  // one) from `key`, or with `key` empty from every instance — then only a
  // tag with a value, never a negation. `removed` gets the keys it was
  // removed from, in InstanceKeyLess order.
  Status Untag(const std::string& key, const Tag& tag, std::vector<std::string>* removed);
  // orchestrator's GetInstanceKeysByTags: the instances every tag selects —
  // "name": has it; "name=v": has it with v; "!name=v": has it with another
  // value; "!name": has tags, none of that name (an instance without any tag
  // is never selected). Keys in InstanceKeyLess order.
  std::vector<std::string> Tagged(const std::vector<Tag>& tags) const;

 private:
  Status Save() const;  // under mu_

  const std::string path_;
  Status load_status_;
  mutable std::mutex mu_;
  std::map<std::string, std::map<std::string, std::string>> tags_;  // key → name → value
};

}  // namespace tidewatch::server
