// SchemaRegistryClient: registers schemas with a Confluent Schema Registry
// through its REST API (Confluent documentation, "Schema Registry API
// Reference"):
//
//   POST <url>/subjects/<subject>/versions
//   Content-Type: application/vnd.schemaregistry.v1+json
//   {"schemaType": "PROTOBUF", "schema": "<.proto text>"}
//   → 200 {"id": <schema id>}
//
// Registering a schema the subject already holds answers that schema's id,
// so registering on every start is safe. Errors name the URL and subject and
// carry the registry's own error_code and message. libcurl; one request at a
// time; not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "base/status.h"

namespace tidewatch::sinks {


class SchemaRegistryClient {
 public:
  // `url` is the registry's base URL, e.g. http://127.0.0.1:8081.
  static Status Open(std::string url, std::unique_ptr<SchemaRegistryClient>* out);
  ~SchemaRegistryClient();

  Status Register(const std::string& subject, const std::string& schema_type, const std::string& schema,
                  int32_t* id);

  const std::string& url() const { return url_; }

 private:
  explicit SchemaRegistryClient(std::string url) : url_(std::move(url)) {}
  std::string url_;
  void* curl_ = nullptr;  // CURL*
};

}  // namespace tidewatch::sinks
