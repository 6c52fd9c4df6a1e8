// ReplaceFile: a file's whole contents replaced atomically — written to
// "<path>.tmp", fsynced, renamed over `path` — so that a crash leaves either
// the old file or the new one, never a torn one.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace tidewatch {

Status ReplaceFile(const std::string& path, std::string_view contents);

}  // namespace tidewatch
