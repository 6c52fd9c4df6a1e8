#include "server/prometheus_text.h"

#include <cmath>
#include <cstdio>

namespace tidewatch::server {

void PrometheusText::Sample(const std::string& name, const char* type, const std::string& help, double value,
                            const Labels& labels) {
  if (described_.insert(name).second) {
    out_ += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
  }
  out_ += name;
  if (!labels.empty()) {
    out_ += "{";
    bool first = true;
    for (const auto& [k, v] : labels) {
      if (!first) out_ += ",";
      first = false;
      out_ += k + "=\"";
      for (char c : v) {
        if (c == '\\') out_ += "\\\\";
        else if (c == '"') out_ += "\\\"";
        else if (c == '\n') out_ += "\\n";
        else out_ += c;
      }
      out_ += "\"";
    }
    out_ += "}";
  }
  char buf[64];
  if (std::isnan(value)) {
    std::snprintf(buf, sizeof buf, " NaN\n");
  } else if (value == std::floor(value) && std::fabs(value) < 1e15) {
    std::snprintf(buf, sizeof buf, " %.0f\n", value);
  } else {
    std::snprintf(buf, sizeof buf, " %.6g\n", value);
  }
  out_ += buf;
}

}  // namespace tidewatch::server
