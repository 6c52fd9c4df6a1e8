// ReadBinlogRange: reads a server's binlog once, over the replication
// protocol, from a start position to the end of what the server has written
// (a non-blocking COM_BINLOG_DUMP), on a private io_context.
//
// For short, synchronous reads: walking a destination's events after a
// Pseudo-GTID entry, indexing a server's binlogs before a command. Events
// generated for the replica (fake ROTATE, resent FORMAT_DESCRIPTION) and
// heartbeats are not passed on; a heartbeat ends the read, as the end of the
// binlog (a server that ignores the non-blocking flag waits there sending
// heartbeats: the read would never end). One connection, no reconnect: any
// error ends the read with the reason.
#pragma once

#include <functional>

#include "binlog/replica_stream.h"
#include "base/status.h"

namespace tidewatch::binlog {

// `on_event` returns false to stop early (then the result is OK). Reaching
// the end of the binlog is OK too.
Status ReadBinlogRange(ReplicaStreamOptions options, const std::function<bool(const StreamEvent&)>& on_event);

}  // namespace tidewatch::binlog
