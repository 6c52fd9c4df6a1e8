// orchestrator's instance tags as its users write them (go/inst/tag.go):
// "name", "name=value", and for selecting, "!name" / "~name" (instances
// with tags but not this one) and "!name=value" (this tag with another
// value); "a,b=1,!c" is the intersection of its parts.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"

namespace tidewatch::server {

struct Tag {
  std::string name, value;
  bool has_value = false;  // written with "=", even "name="
  bool negate = false;
};

// orchestrator's ParseTag: "!" is read as "~" anywhere, the string trimmed;
// the name is everything before the first "=" and may not be empty.
// "Unable to parse tag: …" otherwise.
Status ParseTag(const std::string& text, Tag* out);
// Comma-separated tags, each parsed as ParseTag; an empty part is an error.
Status ParseIntersectTags(const std::string& text, std::vector<Tag>* out);
// orchestrator's NewTag (a tag from a path's :tagName, :tagValue): the name
// trimmed, "NewTag: empty tag name" when nothing is left. A non-empty value
// counts as given (orchestrator's NewTag leaves HasValue unset, so its
// untag-all/:tagName/:tagValue always refused; here it removes that tag).
Status NewTag(const std::string& name, const std::string& value, Tag* out);

// "name=value" (orchestrator's Tag.String, "=" even without a value).
std::string TagString(const Tag& t);
// "name" without a value, else "name=value" (Tag.Display).
std::string TagDisplay(const std::string& name, const std::string& value);

}  // namespace tidewatch::server
