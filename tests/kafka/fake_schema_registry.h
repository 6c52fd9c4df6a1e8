// A stand-in for Confluent Schema Registry in tests: answers
// POST /subjects/<subject>/versions with {"id": N} (a new id per subject,
// from `first_id` on, the same id when a subject registers again) and
// records every request. Listens on 127.0.0.1, on a port of the system's
// choosing; stopped by the destructor.
#pragma once

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace tidewatch::testing {

class FakeSchemaRegistry {
 public:
  struct Request {
    std::string method, target, content_type, body;
  };

  explicit FakeSchemaRegistry(int first_id) : next_id_(first_id), acceptor_(io_) {
    namespace asio = boost::asio;
    const asio::ip::tcp::endpoint at(asio::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(at.protocol());
    acceptor_.bind(at);
    acceptor_.listen();
    Accept();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~FakeSchemaRegistry() {
    io_.stop();
    thread_.join();
  }
  FakeSchemaRegistry(const FakeSchemaRegistry&) = delete;
  FakeSchemaRegistry& operator=(const FakeSchemaRegistry&) = delete;

  std::string url() const { return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()); }
  std::vector<Request> requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  // subject → the id it was given.
  std::map<std::string, int> ids() const {
    std::lock_guard<std::mutex> lock(mu_);
    return ids_;
  }

 private:
  using Socket = boost::asio::ip::tcp::socket;
  struct Connection {
    explicit Connection(Socket s) : socket(std::move(s)) {}
    Socket socket;
    boost::beast::flat_buffer buffer;
    boost::beast::http::request<boost::beast::http::string_body> request;
    boost::beast::http::response<boost::beast::http::string_body> response;
  };

  void Accept() {
    acceptor_.async_accept([this](boost::system::error_code ec, Socket s) {
      if (ec) return;
      Read(std::make_shared<Connection>(std::move(s)));
      Accept();
    });
  }

  void Read(std::shared_ptr<Connection> s) {
    s->request = {};
    boost::beast::http::async_read(s->socket, s->buffer, s->request,
                                   [this, s](boost::system::error_code ec, size_t) {
                                     if (ec) return;
                                     Answer(*s);
                                     boost::beast::http::async_write(
                                         s->socket, s->response, [this, s](boost::system::error_code ec, size_t) {
                                           if (!ec) Read(s);
                                         });
                                   });
  }

  void Answer(Connection& s) {
    namespace http = boost::beast::http;
    const std::string target(s.request.target());
    Request r{std::string(s.request.method_string()), target, std::string(s.request[http::field::content_type]),
              s.request.body()};
    const std::string prefix = "/subjects/", suffix = "/versions";
    std::lock_guard<std::mutex> lock(mu_);
    requests_.push_back(r);
    s.response = {};
    s.response.version(s.request.version());
    s.response.keep_alive(s.request.keep_alive());
    s.response.set(http::field::content_type, "application/vnd.schemaregistry.v1+json");
    if (r.method == "POST" && target.rfind(prefix, 0) == 0 && target.size() > prefix.size() + suffix.size() &&
        target.compare(target.size() - suffix.size(), suffix.size(), suffix) == 0) {
      const std::string subject = target.substr(prefix.size(), target.size() - prefix.size() - suffix.size());
      auto [it, added] = ids_.emplace(subject, next_id_);
      if (added) ++next_id_;
      s.response.result(http::status::ok);
      s.response.body() = "{\"id\":" + std::to_string(it->second) + "}";
    } else {
      s.response.result(http::status::not_found);
      s.response.body() = R"({"error_code":404,"message":"HTTP 404 Not Found"})";
    }
    s.response.prepare_payload();
  }

  mutable std::mutex mu_;
  std::vector<Request> requests_;
  std::map<std::string, int> ids_;
  int next_id_;
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::thread thread_;
};

}  // namespace tidewatch::testing
