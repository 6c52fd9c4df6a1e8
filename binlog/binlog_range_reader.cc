#include "binlog/binlog_range_reader.h"

namespace tidewatch::binlog {

Status ReadBinlogRange(ReplicaStreamOptions options, const std::function<bool(const StreamEvent&)>& on_event) {
  options.non_blocking = true;
  options.max_reconnects = 0;
  boost::asio::io_context io;
  bool stopped = false;
  Status failure;
  std::unique_ptr<ReplicaStream> stream;
  stream = std::make_unique<ReplicaStream>(
      io, options,
      [&](const StreamEvent& e) {
        if (stopped) return;
        if (e.heartbeat) {
          // A dump thread sends a heartbeat only when it waits at the end of
          // the binlog for more (master_heartbeat_period of idleness; sql/
          // sql_repl.cc): a server that does so instead of ending the
          // non-blocking dump with EOF has given everything it has.
          stopped = true;
          stream->Stop();
          return;
        }
        if (e.artificial) return;
        if (!on_event(e)) {
          stopped = true;
          stream->Stop();
        }
      },
      [&](const StreamStatus& s) {
        if (s.state == StreamState::kFailed && !stopped) {
          failure = Status::IOError(options.host + ":" + std::to_string(options.port) +
                                    ": reading binlog at " + s.file + ":" + std::to_string(s.pos) + ": " +
                                    s.reason);
        }
      });
  stream->Start();
  io.run();
  return failure;
}

}  // namespace tidewatch::binlog
