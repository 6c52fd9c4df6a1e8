#include "server/state_file.h"

#include <fstream>

#include "base/atomic_file.h"

namespace tidewatch::server {

Status WriteStateFile(const std::string& path, const nlohmann::json& j) {
  return ReplaceFile(path, j.dump(1) + "\n");
}

Status ReadStateFile(const std::string& path, nlohmann::json* out) {
  *out = nullptr;
  std::ifstream in(path);
  if (!in) return Status::OK();
  try {
    *out = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    return Status::Corruption(path + ": not JSON: " + e.what());
  }
  return Status::OK();
}

}  // namespace tidewatch::server
