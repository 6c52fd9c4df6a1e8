// ApiClient: the commands' way to a running daemon — GET requests to its
// HTTP API at ListenAddress, with the configured basic credentials. A
// command that finds no daemon there does its work itself.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "server/config.h"

namespace tidewatch::server {

class ApiClient {
 public:
  // `address` is host:port; empty: the config's ListenAddress.
  ApiClient(const Config& config, std::string address = "");

  // Whether a daemon answers /api/health within `timeout`.
  bool Available(std::chrono::milliseconds timeout = std::chrono::milliseconds(500));
  // GET `path`; `*status` is the HTTP status, `*body` the parsed JSON (or the
  // text as a JSON string when it is not JSON). An error when nothing answered.
  Status Get(const std::string& path, int* status, nlohmann::json* body,
                     std::chrono::milliseconds timeout = std::chrono::seconds(120));

  // GET `target` (path and query) as it is, with `authorization` (the
  // Authorization header's value, "" : this client's credentials) and the
  // extra `headers`: the answer's status, content type and body untouched.
  Status Forward(const std::string& target, const std::string& authorization,
                 const std::vector<std::pair<std::string, std::string>>& headers, int* status,
                 std::string* content_type, std::string* body,
                 std::chrono::milliseconds timeout = std::chrono::seconds(120));

  const std::string& address() const { return address_; }
  // The Authorization header's value for the configured credentials ("" : none).
  const std::string& authorization() const { return authorization_; }

 private:
  std::string address_;
  std::string authorization_;  // "Basic …" or empty
};

}  // namespace tidewatch::server
