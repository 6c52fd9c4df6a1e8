// SchemaFingerprint: the wire-relevant facts of the published schema, one line
// per field — "message field number type label" (plus enum values) — as the
// schema compatibility check compares them: a line of the previous schema
// that is missing or different now breaks old consumers or producers.
#pragma once

#include <string>
#include <vector>

namespace tidewatch::sinks {

std::vector<std::string> SchemaFingerprint();

}  // namespace tidewatch::sinks
