// PrometheusText: metrics in Prometheus' text exposition format (version
// 0.0.4): "# HELP" and "# TYPE" once per family, then one sample per line,
// label values escaped (backslash, double quote, newline).
#pragma once

#include <map>
#include <set>
#include <string>

namespace tidewatch::server {

class PrometheusText {
 public:
  using Labels = std::map<std::string, std::string>;
  void Counter(const std::string& name, const std::string& help, double value, const Labels& labels = {}) {
    Sample(name, "counter", help, value, labels);
  }
  void Gauge(const std::string& name, const std::string& help, double value, const Labels& labels = {}) {
    Sample(name, "gauge", help, value, labels);
  }
  const std::string& text() const { return out_; }

  static constexpr const char* kContentType = "text/plain; version=0.0.4; charset=utf-8";

 private:
  void Sample(const std::string& name, const char* type, const std::string& help, double value, const Labels& labels);
  std::string out_;
  std::set<std::string> described_;
};

}  // namespace tidewatch::server
