// The daemon's small state files under StateDir (tags, pools, hostname
// unresolve registrations, topology snapshots): JSON, replaced atomically —
// written to "<path>.tmp", fsynced, renamed over the path — so a crash
// leaves either the old file or the new one, never a torn one.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace tidewatch::server {

Status WriteStateFile(const std::string& path, const nlohmann::json& j);
// A missing file reads as null, not as an error.
Status ReadStateFile(const std::string& path, nlohmann::json* out);

}  // namespace tidewatch::server
