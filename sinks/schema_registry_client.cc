#include "sinks/schema_registry_client.h"

#include <curl/curl.h>

#include <mutex>
#include <nlohmann/json.hpp>

namespace tidewatch::sinks {

namespace {

size_t Append(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

}  // namespace

Status SchemaRegistryClient::Open(std::string url, std::unique_ptr<SchemaRegistryClient>* out) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
    return Status::InvalidArgument("schema registry URL '" + url + "': must start with http:// or https://");
  }
  static std::once_flag init;
  std::call_once(init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  std::unique_ptr<SchemaRegistryClient> c(new SchemaRegistryClient(url));
  c->curl_ = curl_easy_init();
  if (c->curl_ == nullptr) return Status::IOError("schema registry " + url + ": cannot initialize libcurl");
  *out = std::move(c);
  return Status::OK();
}

SchemaRegistryClient::~SchemaRegistryClient() {
  if (curl_ != nullptr) curl_easy_cleanup(static_cast<CURL*>(curl_));
}

Status SchemaRegistryClient::Register(const std::string& subject, const std::string& schema_type,
                                      const std::string& schema, int32_t* id) {
  CURL* curl = static_cast<CURL*>(curl_);
  char* escaped = curl_easy_escape(curl, subject.data(), static_cast<int>(subject.size()));
  const std::string endpoint = url_ + "/subjects/" + escaped + "/versions";
  curl_free(escaped);
  const std::string where = "schema registry " + endpoint + " (subject " + subject + ")";
  const std::string body = nlohmann::json{{"schemaType", schema_type}, {"schema", schema}}.dump();
  std::string response;
  char error[CURL_ERROR_SIZE] = "";
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/vnd.schemaregistry.v1+json");
  headers = curl_slist_append(headers, "Accept: application/vnd.schemaregistry.v1+json, application/json");
  curl_easy_reset(curl);
  curl_easy_setopt(curl, CURLOPT_URL, endpoint.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, Append);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 15000L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  const CURLcode rc = curl_easy_perform(curl);
  curl_slist_free_all(headers);
  if (rc != CURLE_OK) {
    return Status::IOError(where + ": " + (error[0] != '\0' ? error : curl_easy_strerror(rc)));
  }
  long http = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &http);
  const nlohmann::json answer = nlohmann::json::parse(response, nullptr, /*allow_exceptions=*/false);
  if (http != 200) {
    std::string detail = response.substr(0, 300);
    if (answer.is_object() && answer.contains("message") && answer["message"].is_string()) {
      detail = answer["message"].get<std::string>();
      if (answer.contains("error_code")) detail += " (error_code " + answer["error_code"].dump() + ")";
    }
    return Status::IOError(where + ": HTTP " + std::to_string(http) + ": " + detail);
  }
  if (!answer.is_object() || !answer.contains("id") || !answer["id"].is_number_integer()) {
    return Status::Corruption(where + ": answer without an integer id: " + response.substr(0, 300));
  }
  const int64_t v = answer["id"].get<int64_t>();
  if (v < 0 || v > INT32_MAX) return Status::Corruption(where + ": schema id " + std::to_string(v) + " out of range");
  *id = static_cast<int32_t>(v);
  return Status::OK();
}

}  // namespace tidewatch::sinks
