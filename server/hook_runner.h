// Hooks: the commands of orchestrator's *Processes lists
// (OnFailureDetectionProcesses, PreFailoverProcesses,
// PostMasterFailoverProcesses, …), run as orchestrator runs them: each
// command's {placeholders} replaced by the failure's values, the same values
// in ORC_* environment variables, run by `bash -c`, one after another. A
// command that ends with '&' runs in the background and is not waited for.
//
// Each waited-for command has a timeout; past it, its process group is
// killed. Its exit code and output (the first 64 KiB of standard output and
// standard error together) are kept for the recovery record.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace tidewatch::server {

// The values of one failure: placeholder name (without braces, e.g.
// "failedHost") → value. ORC_* variables are derived from the same names.
using HookValues = std::map<std::string, std::string>;

struct HookResult {
  std::string command;  // as run, placeholders replaced
  int exit_code = 0;    // -1: did not start; 128+N: killed by signal N
  bool timed_out = false;
  bool background = false;
  std::string output;
  double millis = 0;
};

// {name} → value for every name in `values`; unknown tokens stay as they are.
std::string ExpandPlaceholders(const std::string& command, const HookValues& values);

// The ORC_* environment orchestrator sets for its hooks (ORC_FAILURE_TYPE,
// ORC_FAILED_HOST, ORC_SUCCESSOR_HOST, …), from the same values.
std::vector<std::string> HookEnvironment(const HookValues& values);

HookResult RunHook(const std::string& command, const HookValues& values, std::chrono::milliseconds timeout);

}  // namespace tidewatch::server
