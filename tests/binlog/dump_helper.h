// Runs `tidewatch binlog dump` in-process and parses its JSON lines.
#pragma once

#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "server/binlog_dump.h"

namespace tidewatch::testing {

struct DumpResult {
  int rc = 0;
  std::vector<nlohmann::json> events;
  std::string error;

  std::vector<std::string> TypeNames() const {
    std::vector<std::string> v;
    for (const auto& e : events) v.push_back(e["type_name"].get<std::string>());
    return v;
  }
  size_t Count(const std::string& type_name) const {
    size_t n = 0;
    for (const auto& e : events) n += e["type_name"] == type_name;
    return n;
  }
};

inline DumpResult Dump(const std::vector<std::string>& files) {
  server::BinlogDumpOptions o;
  o.files = files;
  std::ostringstream out, err;
  DumpResult r;
  r.rc = server::RunBinlogDump(o, out, err);
  r.error = err.str();
  std::istringstream in(out.str());
  for (std::string line; std::getline(in, line);) r.events.push_back(nlohmann::json::parse(line));
  return r;
}

}  // namespace tidewatch::testing
