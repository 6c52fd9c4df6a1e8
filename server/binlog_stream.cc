#include "server/binlog_stream.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <nlohmann/json.hpp>

#include "binlog/event_decoder.h"
#include "server/event_json.h"

namespace tidewatch::server {

using namespace tidewatch::binlog;

bool ParseFilePos(const std::string& text, std::string* file, uint64_t* pos) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 >= text.size()) return false;
  try {
    size_t used = 0;
    *pos = std::stoull(text.substr(colon + 1), &used);
    if (used != text.size() - colon - 1) return false;
  } catch (...) {
    return false;
  }
  *file = text.substr(0, colon);
  return true;
}

int RunBinlogStream(const BinlogStreamOptions& options, std::ostream& out, std::ostream& err) {
  boost::asio::io_context io;
  EventDecoder decoder;
  EventJsonWriter json;
  Event event;
  Status failure;
  bool failed = false;
  bool done = false;  // --until reached or a stop asked for: print nothing more
  uint64_t events = 0, bytes = 0;
  const auto started = std::chrono::steady_clock::now();
  std::unique_ptr<ReplicaStream> stream;
  boost::asio::steady_timer poll(io);
  auto reached_until = [&](const std::string& file, uint64_t pos) {
    if (options.until_file.empty()) return false;
    return file > options.until_file || (file == options.until_file && pos >= options.until_pos);
  };
  auto on_event = [&](const StreamEvent& e) {
    if (failed || done) return;
    if (e.heartbeat && options.print_heartbeats) {
      out << nlohmann::json{{"heartbeat", {{"file", e.file}, {"pos", e.raw.header.log_pos}}}}.dump() << '\n';
    }
    if (e.artificial) return;
    ++events;
    bytes += e.raw.header.event_size;
    Status s = options.summary_only ? decoder.Decode(e.raw, e.format, &event)
                                    : json.AppendLines(e.file, e.raw, e.format, decoder, &event);
    out.write(json.text().data(), static_cast<std::streamsize>(json.text().size()));
    json.Clear();
    if (!s.ok()) {
      failure = s;
      failed = true;
      stream->Stop();
      return;
    }
    if (reached_until(e.file, e.raw.header.log_pos)) {
      done = true;
      stream->Stop();
    }
  };
  int rc = 0;
  auto on_status = [&](const StreamStatus& st) {
    nlohmann::json j{{"state", StreamStateName(st.state)}, {"file", st.file}, {"pos", st.pos}};
    if (!st.reason.empty()) j["reason"] = st.reason;
    if (!st.server_version.empty()) j["server_version"] = st.server_version;
    if (st.attempt) j["attempt"] = st.attempt;
    if (st.tls) j["tls"] = true;
    err << "tidewatch: stream " << options.stream.host << ":" << options.stream.port << ": " << j.dump() << '\n';
    if (st.state == StreamState::kFailed) rc = 1;
    if (st.state == StreamState::kFailed || st.state == StreamState::kEnded) poll.cancel();
    out.flush();
  };
  stream = std::make_unique<ReplicaStream>(io, options.stream, on_event, on_status);
  stream->Start();
  std::function<void()> watch_stop = [&] {
    if (options.stop != nullptr && options.stop->load()) {
      done = true;
      stream->Stop();
      return;
    }
    poll.expires_after(std::chrono::milliseconds(100));
    poll.async_wait([&](const boost::system::error_code& ec) {
      if (!ec) watch_stop();
    });
  };
  if (options.stop != nullptr) watch_stop();
  // The io_context runs until the stream has ended and its timers are done.
  io.run();
  if (options.summary_only) {
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    out << nlohmann::json{{"events", events}, {"bytes", bytes}, {"seconds", seconds},
                          {"MB_per_s", seconds > 0 ? bytes / 1e6 / seconds : 0}}.dump()
        << '\n';
  }
  out.flush();
  if (failed) {
    err << "tidewatch: " << failure.message() << '\n';
    return 1;
  }
  return rc;
}

}  // namespace tidewatch::server
