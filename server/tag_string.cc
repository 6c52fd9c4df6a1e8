#include "server/tag_string.h"

#include <algorithm>

#include "base/trim_space.h"

namespace tidewatch::server {

namespace {

std::string Trim(const std::string& s) { return std::string(TrimSpace(s)); }

}  // namespace

Status ParseTag(const std::string& text, Tag* out) {
  std::string s = text;
  std::replace(s.begin(), s.end(), '!', '~');
  s = Trim(s);
  Tag t;
  std::string body = s;
  if (!body.empty() && body[0] == '~') {
    t.negate = true;
    body.erase(0, 1);
  }
  const size_t eq = body.find('=');
  t.name = body.substr(0, eq);
  if (eq != std::string::npos) {
    t.has_value = true;
    t.value = body.substr(eq + 1);
  }
  if (t.name.empty()) {
    // "~" alone or "~=x" does not parse as a negation; orchestrator then
    // tries the plain forms, where "~" is an ordinary name character.
    if (!t.negate) return Status::InvalidArgument("Unable to parse tag: " + s);
    t = Tag{};
    const size_t eq2 = s.find('=');
    t.name = s.substr(0, eq2);
    if (eq2 != std::string::npos) {
      t.has_value = true;
      t.value = s.substr(eq2 + 1);
    }
    if (t.name.empty()) return Status::InvalidArgument("Unable to parse tag: " + s);
  }
  *out = std::move(t);
  return Status::OK();
}

Status ParseIntersectTags(const std::string& text, std::vector<Tag>* out) {
  out->clear();
  size_t start = 0;
  while (true) {
    const size_t comma = text.find(',', start);
    Tag t;
    Status s = ParseTag(text.substr(start, comma == std::string::npos ? std::string::npos : comma - start), &t);
    if (!s.ok()) return s;
    out->push_back(std::move(t));
    if (comma == std::string::npos) return Status::OK();
    start = comma + 1;
  }
}

Status NewTag(const std::string& name, const std::string& value, Tag* out) {
  Tag t;
  t.name = Trim(name);
  if (t.name.empty()) return Status::InvalidArgument("NewTag: empty tag name");
  t.value = value;
  t.has_value = !value.empty();
  *out = std::move(t);
  return Status::OK();
}

std::string TagString(const Tag& t) { return t.name + "=" + t.value; }

std::string TagDisplay(const std::string& name, const std::string& value) {
  return value.empty() ? name : name + "=" + value;
}

}  // namespace tidewatch::server
