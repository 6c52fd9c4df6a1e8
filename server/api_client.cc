#include "server/api_client.h"

#include <openssl/evp.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "base/host_port.h"
#include "pgtid/executor.h"

namespace tidewatch::server {

namespace beast = boost::beast;
namespace http = beast::http;
using boost::asio::ip::tcp;

ApiClient::ApiClient(const Config& config, std::string address)
    : address_(address.empty() ? config.listen_address : std::move(address)) {
  if (!config.http_auth_user.empty() &&
      (config.authentication_method == "basic" || config.authentication_method == "multi")) {
    const std::string plain = config.http_auth_user + ":" + config.http_auth_password;
    std::string b64(4 * ((plain.size() + 2) / 3) + 1, '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()),
                                  reinterpret_cast<const unsigned char*>(plain.data()), static_cast<int>(plain.size()));
    b64.resize(static_cast<size_t>(n));
    authorization_ = "Basic " + b64;
  }
}

Status ApiClient::Get(const std::string& path, int* status, nlohmann::json* body,
                              std::chrono::milliseconds timeout) {
  std::string content_type, text;
  Status s = Forward(path, "", {}, status, &content_type, &text, timeout);
  if (!s.ok()) return s;
  *body = nlohmann::json::parse(text, nullptr, false);
  if (body->is_discarded()) *body = text;
  return Status::OK();
}

Status ApiClient::Forward(const std::string& target, const std::string& authorization,
                          const std::vector<std::pair<std::string, std::string>>& headers, int* status,
                          std::string* content_type, std::string* body, std::chrono::milliseconds timeout) {
  const auto listen = ParseListenAddress(address_, kDefaultListenPort);
  if (!listen) return Status::InvalidArgument("daemon address " + address_ + " is not host:port");
  // A daemon listening on every interface (":3000", "0.0.0.0:3000") answers on loopback.
  const std::string host = listen->host.empty() || listen->host == "0.0.0.0" ? "127.0.0.1" : listen->host;
  const uint16_t port = listen->port;
  try {
    boost::asio::io_context io;
    beast::tcp_stream stream(io);
    stream.expires_after(timeout);
    tcp::resolver resolver(io);
    stream.connect(resolver.resolve(host, std::to_string(port)));
    http::request<http::empty_body> req{http::verb::get, target, 11};
    req.set(http::field::host, host);
    const std::string& auth = authorization.empty() ? authorization_ : authorization;
    if (!auth.empty()) req.set(http::field::authorization, auth);
    for (const auto& [name, value] : headers) req.set(name, value);
    http::write(stream, req);
    beast::flat_buffer buf;
    http::response<http::string_body> res;
    http::read(stream, buf, res);
    *status = static_cast<int>(res.result_int());
    *content_type = std::string(res[http::field::content_type]);
    *body = std::move(res.body());
  } catch (const std::exception& e) {
    return Status::IOError("daemon at " + address_ + ": " + e.what());
  }
  return Status::OK();
}

bool ApiClient::Available(std::chrono::milliseconds timeout) {
  int status = 0;
  nlohmann::json body;
  return Get("/api/health", &status, &body, timeout).ok() && status == 200;
}

}  // namespace tidewatch::server
