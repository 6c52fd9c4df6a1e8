// The dashboard's files (server/dashboard/), embedded in the binary at build
// time by server/dashboard/embed.cmake, so that an installed tidewatch needs
// no file beside it. HttpApi serves them at / and /dashboard/<name>.
#pragma once

#include <cstddef>
#include <string_view>

namespace tidewatch::server {

struct DashboardAsset {
  std::string_view name;          // "index.html", "dashboard.js", …
  std::string_view content_type;  // with charset for text
  std::string_view body;
};

// The asset of that name; nullptr when there is none.
const DashboardAsset* FindDashboardAsset(std::string_view name);

}  // namespace tidewatch::server
