// What the whole-process trial benchmarks share: running a command for its
// output, and the percentile of the trials' times.
#pragma once

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

namespace tidewatch::bench {

// The command's standard output (run by /bin/sh); "" when it cannot start.
inline std::string RunCommand(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  ::pclose(p);
  return out;
}

// The nearest-rank percentile `p` (0..1) of `v`; 0 for no values.
inline double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5));
  return v[i];
}

}  // namespace tidewatch::bench
