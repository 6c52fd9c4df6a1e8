// tidewatch-fleet: a fleet of simulated MariaDB servers (simulator/fleet.h)
// for tests and benchmarks. Prints one JSON line when every port listens
// ({"ready": true, "servers": N, "masters": [...], "first_port": P}), then
// reads commands from standard input, one per line, answering each with a
// JSON line:
//   kill HOST:PORT | hang HOST:PORT | break HOST:PORT | lag HOST:PORT SECONDS
//   revive HOST:PORT | stats
// Ends at the end of its input, or on SIGINT/SIGTERM.
#include <sys/resource.h>

#include <csignal>
#include <future>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>

#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <nlohmann/json.hpp>

#include "simulator/fleet.h"

namespace {

using nlohmann::json;
using tidewatch::simulator::Fleet;

// Runs `f` on the io_context's thread and returns its result.
template <typename F>
auto OnLoop(boost::asio::io_context& io, F f) {
  std::promise<decltype(f())> p;
  auto done = p.get_future();
  boost::asio::post(io, [&] { p.set_value(f()); });
  return done.get();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"A fleet of simulated MariaDB servers on 127.0.0.1, one port each"};
  tidewatch::simulator::FleetOptions o;
  int tick_ms = 100;
  app.add_option("--clusters", o.clusters, "clusters (a master and its replicas each)")->check(CLI::Range(1, 100000));
  app.add_option("--replicas", o.replicas, "replicas per cluster")->check(CLI::Range(0, 100));
  app.add_option("--base-port", o.base_port, "the first server's port; the others follow");
  app.add_option("--tps", o.transactions_per_second, "transactions per second per cluster (each 4 events)");
  app.add_option("--pseudo-gtid-every", o.pseudo_gtid_every, "one transaction in this many is a Pseudo-GTID entry");
  app.add_option("--tick-ms", tick_ms, "new events go out this often")->check(CLI::Range(1, 10000));
  app.add_option("--transactions-per-file", o.transactions_per_file,
                 "binlog files rotate after this many transactions (default: a minute's worth)");
  app.add_option("--files-kept", o.files_kept, "binlog files kept; older ones are purged")->check(CLI::Range(1, 1000));
  CLI11_PARSE(app, argc, argv);
  o.tick = std::chrono::milliseconds(tick_ms);

  // Two descriptors per server (its listener and a stream to it), more for probes.
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) == 0) {
    lim.rlim_cur = lim.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &lim);
  }

  boost::asio::io_context io;
  auto guard = boost::asio::make_work_guard(io);
  Fleet fleet(io, o);
  if (auto s = fleet.Start(); !s.ok()) {
    std::cerr << "tidewatch-fleet: " << s.message() << "\n";
    return 1;
  }
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int) { std::_Exit(0); });
  std::thread loop([&] { io.run(); });

  std::cout << json{{"ready", true}, {"servers", fleet.size()}, {"masters", fleet.Masters()},
                    {"first_port", o.base_port}}
                   .dump()
            << std::endl;
  for (std::string line; std::getline(std::cin, line);) {
    std::istringstream in(line);
    std::string cmd, name;
    in >> cmd >> name;
    json answer = {{"command", cmd}};
    if (cmd == "stats") {
      const auto s = OnLoop(io, [&] { return fleet.Stats(); });
      answer.update({{"connections", s.connections}, {"commands", s.commands}, {"queries", s.queries}, {"dumps", s.dumps},
                     {"events", s.events}, {"bytes", s.bytes}, {"streams_open", s.streams_open}});
    } else {
      int seconds = 0;
      in >> seconds;
      bool ok = OnLoop(io, [&] {
        if (cmd == "kill") return fleet.Kill(name);
        if (cmd == "hang") return fleet.Hang(name);
        if (cmd == "break") return fleet.BreakReplication(name);
        if (cmd == "lag") return fleet.Lag(name, seconds);
        if (cmd == "revive") return fleet.Revive(name);
        return false;
      });
      answer.update({{"instance", name}, {"ok", ok}});
    }
    std::cout << answer.dump() << std::endl;
  }
  guard.reset();
  io.stop();
  loop.join();
  return 0;
}
