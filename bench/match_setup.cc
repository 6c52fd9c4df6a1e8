#include "bench/match_setup.h"

#include <iostream>
#include <utility>

#include "base/host_port.h"
#include "bench/env.h"

namespace tidewatch::bench {

bool ReadMatchEnvironment(uint32_t server_id, MatchSetup* out) {
  out->instance = Env("TIDEWATCH_BENCH_INSTANCE", "");
  out->destination = Env("TIDEWATCH_BENCH_DEST", "");
  if (out->instance.empty() || out->destination.empty()) {
    std::cerr << "set TIDEWATCH_BENCH_INSTANCE and TIDEWATCH_BENCH_DEST to HOST:PORT\n";
    return false;
  }
  if (!pgtid::PseudoGtidPattern::Create({}, &out->pattern).ok()) return false;
  out->stream.user = Env("TIDEWATCH_BENCH_USER", "tidewatch");
  out->stream.password = Env("TIDEWATCH_BENCH_PASSWORD", "tidewatch");
  out->stream.server_id = server_id;
  out->options.user = out->stream.user;
  out->options.password = out->stream.password;
  out->options.stream = out->stream;
  out->options.method = pgtid::MatchMethod::kPseudoGtid;
  return true;
}

Status Connect(const MatchSetup& setup, const std::string& name, std::unique_ptr<pgtid::SqlConnection>* c) {
  pgtid::SqlEndpoint ep{"", 0, setup.options.user, setup.options.password};
  if (!SplitHostPort(name, &ep.host, &ep.port)) return Status::InvalidArgument(name + ": not host:port");
  ep.read_timeout = setup.read_timeout;
  return pgtid::SqlConnection::Connect(ep, c);
}

bool ReadReplicatingInstance(MatchSetup* setup, pgtid::Instance* r) {
  std::unique_ptr<pgtid::SqlConnection> c;
  Status s = Connect(*setup, setup->instance, &c);
  if (s.ok()) s = pgtid::ReadInstance(*c, r);
  if (!s.ok() || !r->replica.configured) {
    std::cerr << "instance: " << (s.ok() ? "not a replica" : s.ToString()) << "\n";
    return false;
  }
  setup->master = r->replica.Master();
  return true;
}

Status CatchUpIndexes(const MatchSetup& setup, const pgtid::ServerIndex** master,
                      const pgtid::ServerIndex** destination) {
  for (auto [server, index] : {std::pair{&setup.master, master}, std::pair{&setup.destination, destination}}) {
    std::string host;
    uint16_t port;
    SplitHostPort(*server, &host, &port);
    Status s = setup.indexes->CaughtUp(host, port, index);
    if (!s.ok()) return s;
  }
  return Status::OK();
}

binlog::ReplicaStreamOptions DestinationStream(const MatchSetup& setup) {
  binlog::ReplicaStreamOptions so = setup.stream;
  SplitHostPort(setup.destination, &so.host, &so.port);
  return so;
}

Status ReadMatchInputs(const MatchSetup& setup, MatchInputs* out) {
  std::unique_ptr<pgtid::SqlConnection> c;
  Status s = Connect(setup, setup.instance, &c);
  if (s.ok()) s = pgtid::ReadInstance(*c, &out->instance);
  if (!s.ok()) return s;
  out->destination_stream = DestinationStream(setup);
  return setup.indexes->CaughtUp(out->destination_stream.host, out->destination_stream.port, &out->destination);
}

Status ComputeMatch(const MatchSetup& setup, const MatchInputs& in, pgtid::InstancePoint* point,
                    pgtid::DestinationPoint* dp) {
  Status s = pgtid::LocateInstance(in.instance, *setup.indexes, *setup.pattern, point);
  if (!s.ok()) return s;
  return pgtid::MatchOnDestination(in.destination_stream, *in.destination, *point, dp);
}

bool MoveBack(pgtid::Executor& executor, const MatchSetup& setup, std::string* why) {
  pgtid::Move back;
  Status s = executor.MatchBelow(setup.instance, setup.master, &back);
  if (!s.ok() || !back.moved) {
    *why = s.ok() ? back.refused : s.ToString();
    return false;
  }
  std::unique_ptr<pgtid::SqlConnection> c;
  if (Connect(setup, setup.instance, &c).ok()) (void)c->Execute("STOP SLAVE");
  return true;
}

}  // namespace tidewatch::bench
