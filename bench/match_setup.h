// MatchSetup: the live servers and the Tidewatch state that the match
// benchmarks (match_bench, match_vs_orchestrator_bench) share — an instance
// that replicates, a destination ahead of it, and the indexes a running
// Tidewatch holds of the instance's master and of the destination.
//
// Environment: TIDEWATCH_BENCH_INSTANCE and TIDEWATCH_BENCH_DEST (HOST:PORT,
// required), TIDEWATCH_BENCH_USER and TIDEWATCH_BENCH_PASSWORD (tidewatch /
// tidewatch).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "pgtid/executor.h"

namespace tidewatch::bench {

struct MatchSetup {
  std::unique_ptr<pgtid::PseudoGtidPattern> pattern;
  binlog::ReplicaStreamOptions stream;  // credentials and server_id; no host
  std::unique_ptr<pgtid::StreamingIndexSource> indexes;
  std::string instance, destination, master;
  pgtid::ExecutorOptions options;  // Pseudo-GTID only, with `stream`
  std::chrono::milliseconds read_timeout = pgtid::SqlEndpoint{}.read_timeout;  // of Connect's connections
};

// Fills everything but `indexes` and `master` from the environment; the
// binlog stream registers as `server_id`. False when the servers are not
// given (said on stderr) or the default pattern does not compile.
bool ReadMatchEnvironment(uint32_t server_id, MatchSetup* out);

// A connection to `name` (HOST:PORT) with the setup's credentials.
Status Connect(const MatchSetup& setup, const std::string& name, std::unique_ptr<pgtid::SqlConnection>* c);

// The instance as it is now, and setup->master its master. False, the reason
// on stderr, when it cannot be read or does not replicate.
bool ReadReplicatingInstance(MatchSetup* setup, pgtid::Instance* r);

// The master's and the destination's indexes, caught up.
Status CatchUpIndexes(const MatchSetup& setup, const pgtid::ServerIndex** master,
                      const pgtid::ServerIndex** destination);

// `stream` aimed at the destination.
binlog::ReplicaStreamOptions DestinationStream(const MatchSetup& setup);

// What one match computes from: the instance and the destination's index as
// they are now, and the stream options that read the destination.
struct MatchInputs {
  pgtid::Instance instance;
  const pgtid::ServerIndex* destination = nullptr;
  binlog::ReplicaStreamOptions destination_stream;
};
Status ReadMatchInputs(const MatchSetup& setup, MatchInputs* out);

// Where the instance continues on the destination: LocateInstance, then
// MatchOnDestination.
Status ComputeMatch(const MatchSetup& setup, const MatchInputs& in, pgtid::InstancePoint* point,
                    pgtid::DestinationPoint* dp);

// Moves the instance back below its master and stops its replication there,
// so that it stays behind the destination. False, with *why, when it was
// not moved.
bool MoveBack(pgtid::Executor& executor, const MatchSetup& setup, std::string* why);

}  // namespace tidewatch::bench
