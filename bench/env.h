// Benchmark parameters from the environment: a variable unset or set to the
// empty string takes the fallback.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <string>

namespace tidewatch::bench {

inline std::string Env(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : fallback;
}

inline uint64_t EnvU64(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::strtoull(v, nullptr, 10) : fallback;
}

}  // namespace tidewatch::bench
