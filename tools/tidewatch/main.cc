// The tidewatch command: one executable, one subcommand per job.
#include <iostream>

#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <unistd.h>

#include <sys/resource.h>

#include <csignal>
#include <fstream>

#include "server/binlog_dump.h"
#include "base/host_port.h"
#include "server/binlog_stream.h"
#include "server/config.h"
#include "server/daemon.h"
#include "pgtid/executor.h"
#include "tools/tidewatch/orchestrator_commands.h"
#include "tools/tidewatch/recovery_commands.h"
#include "tools/tidewatch/relocation_commands.h"
#include "tools/tidewatch/tail_command.h"
#include "tools/tidewatch/topology_commands.h"

namespace {
std::atomic<bool> g_stop{false};
void OnSignal(int) { g_stop = true; }

// Reads the config, reporting its warnings; false (reported) when it is bad.
bool LoadConfigReporting(const std::string& path, tidewatch::server::Config* config) {
  auto s = tidewatch::server::LoadConfig(path, config);
  if (!s.ok()) {
    std::cerr << "tidewatch: " << s.message() << "\n";
    return false;
  }
  for (const auto& w : config->warnings) std::cerr << "tidewatch: warning: " << w << "\n";
  tidewatch::pgtid::SetTopologyTls(tidewatch::server::TopologyTlsOf(*config));
  return true;
}
// A long-running process's start (run, recovery-consumer): as many
// descriptors as the hard limit allows (one per followed server and per kept
// probe connection), the config loaded and `seeds` added to its
// DiscoverySeeds. False, the reason on stderr, when it cannot.
bool PrepareLongRunning(const std::string& config_path, const std::vector<std::string>& seeds,
                        tidewatch::server::Config* config) {
  if (rlimit lim{}; ::getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &lim);
  }
  if (!LoadConfigReporting(config_path, config)) return false;
  for (const auto& seed : seeds) {
    std::string host;
    uint16_t port;
    if (!tidewatch::SplitHostPort(seed, &host, &port)) {
      std::cerr << "tidewatch: --seed must be HOST:PORT, not " << seed << "\n";
      return false;
    }
    config->discovery_seeds.push_back(seed);
  }
  return true;
}

// Runs the daemon (or the recovery consumer) until SIGINT or SIGTERM.
int RunUntilSignalled(const tidewatch::server::Config& config, tidewatch::server::DaemonOptions options) {
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  options.stop = &g_stop;
  return tidewatch::server::RunDaemon(config, options, std::cerr);
}

}  // namespace

int main(int argc, char** argv) {
  std::ios::sync_with_stdio(false);
  // Standard output carries the commands' results (and `run --jsonl -`'s
  // messages): the log goes to standard error.
  spdlog::set_default_logger(spdlog::stderr_color_mt("tidewatch"));
  CLI::App app{"Tidewatch: follows MySQL/MariaDB replication topologies through the replication "
               "stream itself."};
  app.require_subcommand(1);

  auto* binlog = app.add_subcommand("binlog", "Read binary logs and relay logs");
  binlog->require_subcommand(1);

  tidewatch::server::BinlogDumpOptions dump;
  bool no_verify = false;
  auto* dump_cmd = binlog->add_subcommand(
      "dump", "Decode binlog or relay-log files and print one JSON object per event");
  dump_cmd->add_option("files", dump.files, "binlog or relay-log files, decoded in order")
      ->required();
  dump_cmd->add_flag("--no-verify-checksums", no_verify,
                     "do not verify CRC32 event checksums");
  dump_cmd->add_flag("-f,--follow", dump.follow,
                     "keep reading one file as the server appends to it, and the files it "
                     "rotates to (like tail -F); stop with Ctrl-C");

  tidewatch::server::BinlogStreamOptions stream;
  std::string source, password_file, from, until;
  auto* stream_cmd = binlog->add_subcommand(
      "stream", "Follow a server's binlog over the replication protocol, as a replica, and print "
                "the same JSON lines as `binlog dump` (state changes on standard error)");
  stream_cmd->add_option("--source", source, "server to follow, HOST:PORT")->required();
  stream_cmd->add_option("--user", stream.stream.user, "user with REPLICATION SLAVE (REPLICA) privilege")
      ->required();
  stream_cmd->add_option("--password-file", password_file,
                         "file whose first line is the password (never given on the command line)");
  auto* from_opt = stream_cmd->add_option("--from", from, "start at FILE:POS (default: the first binlog)");
  stream_cmd->add_option("--gtid", stream.stream.start_gtid,
                         "start after these GTIDs: a MariaDB position (domain-server-seq,...) or a MySQL "
                         "GTID set (uuid:1-5,...; COM_BINLOG_DUMP_GTID)")
      ->excludes(from_opt);
  stream_cmd->add_option("--until", until, "stop once FILE:POS is reached");
  stream_cmd->add_flag("--non-blocking", stream.stream.non_blocking,
                       "stop at the server's current end of binlog instead of waiting for more");
  uint32_t server_id = 0;
  stream_cmd->add_option("--server-id", server_id,
                         "server_id the dump carries (default: derived from the process id; must "
                         "not be a real server's)");
  std::string register_as;
  stream_cmd->add_option("--register-as", register_as,
                         "send COM_REGISTER_SLAVE with this report HOST[:PORT], so the server lists the "
                         "stream in SHOW SLAVE HOSTS (default: not registered)");
  int heartbeat_ms = 1000, timeout_ms = 0;
  stream_cmd->add_option("--heartbeat-ms", heartbeat_ms, "heartbeat period asked of the server")
      ->check(CLI::Range(10, 3600000));
  stream_cmd->add_option("--timeout-ms", timeout_ms,
                         "silence after which the connection is dropped and retried (default: 3 heartbeats)");
  stream_cmd->add_option("--max-reconnects", stream.stream.max_reconnects,
                         "give up after this many reconnects without progress (-1: never)");
  stream_cmd->add_flag("--heartbeats", stream.print_heartbeats, "print heartbeats too");
  std::string tls_mode = "preferred";
  stream_cmd->add_option("--tls-mode", tls_mode,
                         "TLS: disabled, preferred (when offered, unverified), required, verify-ca, "
                         "verify-identity")
      ->check(CLI::IsMember({"disabled", "preferred", "required", "verify-ca", "verify-identity"}));
  stream_cmd->add_option("--tls-ca", stream.stream.tls_ca, "PEM file of the CA that signed the server's certificate");
  stream_cmd->add_flag("--summary", stream.summary_only,
                       "decode every event but print only a final line: events, bytes, seconds");

  // orchestrator's relocation commands.
  tidewatch::tools::RelocationOptions reloc;
  std::string config_path, method = "auto", relay_log = "auto";
  std::vector<CLI::App*> reloc_cmds;
  struct CommandSpec {
    const char* name;
    const char* help;
    bool destination;
  };
  for (const CommandSpec& c : {
           CommandSpec{"last-pseudo-gtid", "Print the last Pseudo-GTID entry in an instance's binary logs", false},
           CommandSpec{"match-below", "Move a replica below another server (-s) by GTID or Pseudo-GTID", true},
           CommandSpec{"match-up", "Move a replica below its master's master", false},
           CommandSpec{"rematch", "Reconnect a replica to its own master at the matched position", false},
           CommandSpec{"multi-match-replicas", "Move every replica of an instance below another server (-s)", true},
           CommandSpec{"regroup-replicas",
                       "Make the most advanced replica of an instance the master of the other replicas", false},
           CommandSpec{"regroup-replicas-gtid", "regroup-replicas, by GTID only", false},
           CommandSpec{"regroup-replicas-pgtid", "regroup-replicas, by Pseudo-GTID only", false},
           CommandSpec{"match-up-replicas", "Move every replica of an instance up beside it, by Pseudo-GTID or GTID",
                       false},
           CommandSpec{"move-gtid", "Move a replica below another server (-d) by GTID", true},
           CommandSpec{"move-replicas-gtid", "Move every replica of an instance below another server (-d) by GTID",
                       true},
           CommandSpec{"move-up", "Move a replica below its master's master, by binlog file and position", false},
           CommandSpec{"move-up-replicas", "Move every replica of an instance up beside it, by file and position",
                       false},
           CommandSpec{"move-below", "Move a replica below its sibling (-s), by file and position", true},
           CommandSpec{"repoint",
                       "Point a replica at its master (or -d, a server with the same binlog) at the same "
                       "coordinates",
                       false},
           CommandSpec{"repoint-replicas", "Repoint every replica of an instance back to the instance", false},
           CommandSpec{"take-master", "Swap a replica with its (intermediate) master", false},
           CommandSpec{"make-co-master", "Make a read-only replica's master replicate from it (master-master)",
                       false},
           CommandSpec{"relocate",
                       "Move a replica below another server (-d), choosing GTID, Pseudo-GTID or file:pos", true},
           CommandSpec{"relocate-replicas", "Move every replica of an instance below another server (-d)", true},
           CommandSpec{"take-siblings", "Move every sibling of a replica below it", false},
           CommandSpec{"get-candidate-replica",
                       "Name the replica of an instance that would be promoted (changes nothing)", false},
           CommandSpec{"inject-pseudo-gtid",
                       "Write Pseudo-GTID entries into a writable master's binary log (never a read-only one)",
                       false}}) {
    auto* cmd = app.add_subcommand(c.name, c.help);
    if (std::string name = c.name; name.find("replica") != std::string::npos) {
      cmd->alias(name.replace(name.find("replica"), 7, "slave"));
    }
    if (std::string(c.name) == "match-below") cmd->alias("match");
    if (std::string(c.name) == "relocate") cmd->alias("move-equivalent");
    cmd->add_option("-i,--instance", reloc.instance, "the instance, HOST:PORT")->required();
    if (c.destination) {
      cmd->add_option("-s,-d,--destination", reloc.destination, "destination, HOST:PORT")->required();
    } else if (std::string(c.name) == "repoint") {
      cmd->add_option("-s,-d,--destination", reloc.destination, "the new master, HOST:PORT (default: its own)");
    }
    cmd->add_option("-c,--config", config_path,
                    "JSON config (orchestrator keys: MySQLTopologyUser, MySQLTopologyPassword, "
                    "PseudoGTIDPattern, …); default /etc/tidewatch.conf.json, then ./tidewatch.conf.json");
    cmd->add_flag("--json", reloc.json, "print one JSON object");
    cmd->add_option("--index-store", reloc.index_store,
                    "SQLite file that keeps the indexes between runs (verified against live servers; "
                    "a dead master's index is used as stored)");
    if (std::string(c.name) != "inject-pseudo-gtid") {
      cmd->add_option("--api", reloc.api, "the daemon's HTTP address, HOST:PORT (default: ListenAddress)");
      cmd->add_flag("--local", reloc.local, "do not ask a daemon; index the servers' binlogs now");
    }
    cmd->add_option("--relay-log", relay_log,
                    "where a replica's relay log is read: auto (its files when readable here, else SHOW RELAYLOG "
                    "EVENTS), files, events")
        ->check(CLI::IsMember({"auto", "files", "events"}));
    cmd->add_option("--method", method, "auto (GTID when the replica uses it), gtid or pseudo-gtid")
        ->check(CLI::IsMember({"auto", "gtid", "pseudo-gtid"}));
    cmd->add_option("--replicas", reloc.replicas,
                    "servers that may replicate from the instance (besides DiscoverySeeds), HOST:PORT")
        ->delimiter(',');
    if (std::string(c.name) == "inject-pseudo-gtid") {
      cmd->add_option("--count", reloc.count, "entries to write (0: until interrupted)");
      cmd->add_option("--interval-ms", reloc.interval_ms, "pause between entries")->check(CLI::Range(1, 3600000));
    }
    reloc_cmds.push_back(cmd);
  }

  tidewatch::tools::TailOptions tail;
  auto* tail_cmd = app.add_subcommand(
      "tail", "Print Tidewatch's messages from Kafka as JSON lines (the reference subscriber)");
  tail_cmd->add_option("--kafka", tail.brokers, "bootstrap brokers, HOST:PORT[,…]")->required();
  tail_cmd->add_option("--topic", tail.topics, "topic (repeatable; default: every <prefix>.* topic)");
  tail_cmd->add_option("--prefix", tail.topic_prefix, "topic prefix");
  tail_cmd->add_flag("--from-beginning", tail.from_beginning, "start at the oldest message");
  tail_cmd->add_option("--count", tail.count, "stop after this many messages");
  tail_cmd->add_option("--idle-exit-ms", tail.idle_exit_ms, "stop after this long without a message");
  tail_cmd->add_option("--group", tail.group, "consumer group (default: a private one, no commits)");

  tidewatch::server::DaemonOptions daemon;
  std::string run_config_path, run_listen, run_group;
  std::vector<std::string> run_seeds;
  auto* run_cmd = app.add_subcommand(
      "run", "The monitor: discover the topology, follow every server as a replica, analyze failures the "
             "moment a stream breaks, publish to Kafka / JSON lines / HTTP");
  run_cmd->add_option("-c,--config", run_config_path,
                      "JSON config (default /etc/tidewatch.conf.json, then ./tidewatch.conf.json)");
  run_cmd->add_option("--jsonl", daemon.jsonl, "write every message as a JSON line to FILE (- for standard output)");
  run_cmd->add_option("--seed", run_seeds, "an instance to discover from, HOST:PORT (repeatable; added to DiscoverySeeds)");
  run_cmd->add_option("--listen", run_listen, "HTTP API address, HOST:PORT (overrides ListenAddress)");
  run_cmd->add_option("--group", run_group,
                      "share the fleet with the other daemons of this Kafka consumer group (overrides MonitorGroup; "
                      "needs KafkaBrokers)");
  run_cmd->add_flag("!--no-http", daemon.http, "serve no HTTP API");
  run_cmd->add_flag("--recover", daemon.recover,
                    "run the recovery consumer in the daemon: act on DeadMaster and dead intermediate masters of "
                    "clusters matching RecoverMasterClusterFilters / RecoverIntermediateMasterClusterFilters "
                    "(config: RecoveryConsumer \"embedded\")");

  tidewatch::server::DaemonOptions consumer;
  consumer.recovery_consumer = true;
  std::string consumer_config_path, consumer_listen, consumer_kafka, consumer_group;
  std::vector<std::string> consumer_seeds;
  auto* consumer_cmd = app.add_subcommand(
      "recovery-consumer",
      "The recovery consumer as a process of its own: act on a daemon's DeadMaster and dead intermediate master "
      "analyses — from Kafka in a consumer group (one acting consumer per cluster), or from the daemon's "
      "/api/stream — with a view and live indexes of its own");
  consumer_cmd->add_option("-c,--config", consumer_config_path,
                           "JSON config (default /etc/tidewatch.conf.json, then ./tidewatch.conf.json)");
  consumer_cmd->add_option("--kafka", consumer_kafka, "bootstrap brokers, HOST:PORT[,…] (overrides KafkaBrokers)");
  consumer_cmd->add_option("--group", consumer_group,
                           "consumer group (overrides RecoveryConsumerGroup; default <prefix>.recovery)");
  consumer_cmd->add_option("--api", consumer.follow_api,
                           "follow the daemon at HOST:PORT through its /api/stream instead of Kafka");
  consumer_cmd->add_option("--seed", consumer_seeds, "an instance to discover from, HOST:PORT (repeatable)");
  consumer_cmd->add_option("--listen", consumer_listen,
                           "serve the HTTP API (recovery commands, audit) on HOST:PORT (default: none)");
  consumer_cmd->add_option("--jsonl", consumer.jsonl, "write every recovery step as a JSON line to FILE (- for standard output)");

  // What the daemon knows (or a one-shot discovery without one).
  tidewatch::tools::TopologyCommandOptions topo;
  std::string topo_config_path;
  std::vector<CLI::App*> topo_cmds;
  for (const CommandSpec& c : {
           CommandSpec{"topology", "Print an instance's cluster as orchestrator's ASCII tree", true},
           CommandSpec{"clusters", "List the clusters", false},
           CommandSpec{"replication-analysis", "Print the failure analysis of every cluster", false},
           CommandSpec{"instance", "Print what is known of an instance (orchestrator's Instance JSON)", true},
           CommandSpec{"discover", "Have the daemon discover an instance and follow it", true},
           CommandSpec{"forget", "Have the daemon forget an instance", true}}) {
    auto* cmd = app.add_subcommand(c.name, c.help);
    auto* i = cmd->add_option("-i,--instance", topo.instance, "the instance, HOST:PORT");
    if (c.destination) i->required();
    cmd->add_option("-c,--config", topo_config_path,
                    "JSON config (default /etc/tidewatch.conf.json, then ./tidewatch.conf.json)");
    cmd->add_option("--api", topo.api, "the daemon's HTTP address, HOST:PORT (default: ListenAddress)");
    cmd->add_flag("--local", topo.local, "do not ask a daemon; discover from -i or DiscoverySeeds now");
    cmd->add_flag("--json", topo.json, "print JSON");
    topo_cmds.push_back(cmd);
  }

  // orchestrator's recovery commands, through the daemon that recovers.
  tidewatch::tools::RecoveryCommandOptions recov;
  std::string recov_config_path;
  std::vector<CLI::App*> recov_cmds;
  struct RecoverySpec {
    const char* name;
    const char* help;
    // 'i': -i HOST:PORT required, 'a': -a CLUSTER required, 'o': -a optional, 't': -a or -i and -d
    // (takeovers; 'T': -d required), 0: none
    char takes;
  };
  for (const RecoverySpec& c : {
           RecoverySpec{"recover", "Recover a failed instance now, whatever the filters and the block", 'i'},
           RecoverySpec{"ack-cluster-recoveries", "Acknowledge a cluster's recoveries: lifts its block", 'a'},
           RecoverySpec{"ack-all-recoveries", "Acknowledge every recovery", 0},
           RecoverySpec{"disable-global-recoveries", "Stop automated recoveries (manual ones still run)", 0},
           RecoverySpec{"enable-global-recoveries", "Resume automated recoveries", 0},
           RecoverySpec{"check-global-recoveries", "Whether automated recoveries are enabled", 0},
           RecoverySpec{"audit-recovery", "The recoveries, newest first (of one cluster with -a)", 'o'},
           RecoverySpec{"blocked-recoveries", "Recoveries blocked by a recent one (of one cluster with -a)", 'o'},
           RecoverySpec{"graceful-master-takeover",
                        "Hand the master over to a replica (-d, or its only replica) without losing a transaction; "
                        "the old master replicates from the new one",
                        't'},
           RecoverySpec{"graceful-master-takeover-auto",
                        "graceful-master-takeover to the most advanced suitable replica (or -d)", 't'},
           RecoverySpec{"force-master-failover",
                        "Treat the master as dead although it answers: fence it and fail over", 't'},
           RecoverySpec{"force-master-takeover", "Treat the master as dead and promote -d DESIGNATED", 'T'},
           RecoverySpec{"register-candidate",
                        "A promotion rule for an instance (must, prefer, neutral, prefer_not, must_not), for "
                        "CandidateInstanceExpireMinutes",
                        'i'}}) {
    auto* cmd = app.add_subcommand(c.name, c.help);
    if (c.takes == 'i') cmd->add_option("-i,--instance", recov.instance, "the instance, HOST:PORT")->required();
    if (std::string(c.name) == "register-candidate") {
      cmd->add_option("--promotion-rule", recov.promotion_rule, "must, prefer, neutral, prefer_not or must_not")
          ->required();
    }
    if (c.takes == 'a' || c.takes == 'o' || c.takes == 't' || c.takes == 'T') {
      auto* a = cmd->add_option("-a,--alias", recov.cluster, "the cluster: its name, alias or an instance");
      if (c.takes == 'a') a->required();
    }
    if (c.takes == 't' || c.takes == 'T') {
      cmd->add_option("-i,--instance", recov.instance, "an instance of the cluster, HOST:PORT (instead of -a)");
      auto* d = cmd->add_option("-d,--destination", recov.designated, "the designated successor, HOST:PORT");
      if (c.takes == 'T') d->required();
    }
    cmd->add_option("-c,--config", recov_config_path,
                    "JSON config (default /etc/tidewatch.conf.json, then ./tidewatch.conf.json)");
    cmd->add_option("--api", recov.api, "the daemon's HTTP address, HOST:PORT (default: ListenAddress)");
    cmd->add_flag("--json", recov.json, "print JSON");
    recov_cmds.push_back(cmd);
  }

  // orchestrator's information and replication-control commands, through the daemon.
  tidewatch::tools::OrchestratorCommandOptions orc;
  std::string orc_config_path;
  std::vector<CLI::App*> orc_cmds;
  for (const auto& c : tidewatch::tools::OrchestratorCommands()) {
    auto* cmd = app.add_subcommand(c.name, c.help);
    if (std::string(c.name).find("replica") != std::string::npos) {
      std::string legacy = c.name;
      legacy.replace(legacy.find("replica"), 7, "slave");
      cmd->alias(legacy);
    }
    if (c.takes != 0) {
      auto* i = cmd->add_option("-i,--instance", orc.instance,
                                c.takes == 's' ? "the string to search for" : "the instance, HOST:PORT");
      if (c.takes != 'a' && c.takes != 'o') i->required();
    }
    if (c.takes == 'd') cmd->add_option("-d,-s,--destination", orc.destination, "the other instance, HOST:PORT")->required();
    if (c.takes == 'a' || c.takes == 'o') {
      cmd->add_option("-a,--alias", orc.alias, "the cluster: its name, alias or an instance");
    }
    const std::string more = c.more;
    if (more.find('t') != std::string::npos) {
      cmd->add_option("-t,--tag", orc.tag, "the tag: NAME or NAME=VALUE (tagged: 'a,b=1,!c')")->required();
    }
    if (more.find('l') != std::string::npos || more.find('p') != std::string::npos) {
      auto* p = cmd->add_option("--pool", orc.pool, "the pool's name");
      if (more.find('l') != std::string::npos) p->required();
    }
    if (more.find('n') != std::string::npos) {
      cmd->add_option("--hostname", orc.hostname, "the virtual (unresolved) host name")->required();
    }
    if (more.find('S') != std::string::npos) {
      cmd->add_option("--seconds", orc.seconds, "the delay, in seconds")->required();
    }
    if (more.find('q') != std::string::npos) cmd->add_option("-q,--query", orc.query, "the statement")->required();
    if (more.find('P') != std::string::npos) {
      cmd->add_option("--pattern", orc.pattern, "the entry's whole statement")->required();
    }
    if (more.find('r') != std::string::npos) {
      cmd->add_option("--binlog", orc.binlog, "relay log coordinates of -i, file:pos (default: the last executed)");
    }
    if (more.find('b') != std::string::npos) {
      cmd->add_option("--binlog", orc.binlog, "a binary log file, or file:pos")->required();
      if (std::string(c.name) == "purge-binary-logs") {
        cmd->add_flag("--force", orc.force, "purge even what a replica has not executed");
      }
    }
    cmd->add_option("-c,--config", orc_config_path,
                    "JSON config (default /etc/tidewatch.conf.json, then ./tidewatch.conf.json)");
    cmd->add_option("--api", orc.api, "the daemon's HTTP address, HOST:PORT (default: ListenAddress)");
    cmd->add_flag("--json", orc.json, "print the API's JSON answer");
    orc_cmds.push_back(cmd);
  }

  std::string check_config_path;
  auto* check_cmd = app.add_subcommand(
      "check-config", "Read the configuration, report unknown keys and bad values, print it with secrets hidden");
  check_cmd->add_option("-c,--config", check_config_path, "JSON config (default /etc/tidewatch.conf.json, then ./tidewatch.conf.json)");

  // orchestrator's form, `tidewatch -c COMMAND -i HOST:PORT [-d HOST:PORT] [--config=FILE]`, as
  // `tidewatch COMMAND …`: scripts written for orchestrator's CLI run unchanged.
  std::vector<char*> args(argv, argv + argc);
  if (argc > 2 && (std::string(argv[1]) == "-c" || std::string(argv[1]) == "--command")) {
    bool known = false;
    for (const auto* sub : app.get_subcommands([](CLI::App*) { return true; })) {
      known = known || sub->check_name(argv[2]);
    }
    if (known) args.erase(args.begin() + 1);
  }
  CLI11_PARSE(app, static_cast<int>(args.size()), args.data());

  if (check_cmd->parsed()) {
    tidewatch::server::Config config;
    if (!LoadConfigReporting(check_config_path, &config)) return 2;
    std::cout << config.Redacted() << "\n";
    return 0;
  }

  if (run_cmd->parsed()) {
    tidewatch::server::Config config;
    if (!PrepareLongRunning(run_config_path, run_seeds, &config)) return 2;
    if (!run_listen.empty()) config.listen_address = run_listen;
    if (!run_group.empty()) config.monitor_group = run_group;
    return RunUntilSignalled(config, daemon);
  }

  if (consumer_cmd->parsed()) {
    tidewatch::server::Config loaded;
    if (!PrepareLongRunning(consumer_config_path, consumer_seeds, &loaded)) return 2;
    if (!consumer_kafka.empty()) loaded.kafka_brokers = consumer_kafka;
    if (!consumer_group.empty()) loaded.recovery_consumer_group = consumer_group;
    return RunUntilSignalled(tidewatch::server::RecoveryConsumerConfigOf(loaded, consumer_listen), consumer);
  }

  for (auto* cmd : topo_cmds) {
    if (!cmd->parsed()) continue;
    tidewatch::server::Config config;
    if (!LoadConfigReporting(topo_config_path, &config)) return 2;
    topo.command = cmd->get_name();
    return tidewatch::tools::RunTopologyCommand(config, topo, std::cout, std::cerr);
  }

  for (auto* cmd : orc_cmds) {
    if (!cmd->parsed()) continue;
    tidewatch::server::Config config;
    if (!LoadConfigReporting(orc_config_path, &config)) return 2;
    orc.command = cmd->get_name();
    return tidewatch::tools::RunOrchestratorCommand(config, orc, std::cout, std::cerr);
  }

  for (auto* cmd : recov_cmds) {
    if (!cmd->parsed()) continue;
    tidewatch::server::Config config;
    if (!LoadConfigReporting(recov_config_path, &config)) return 2;
    recov.command = cmd->get_name();
    return tidewatch::tools::RunRecoveryCommand(config, recov, std::cout, std::cerr);
  }

  if (tail_cmd->parsed()) {
    std::signal(SIGINT, OnSignal);
    std::signal(SIGTERM, OnSignal);
    tail.stop = &g_stop;
    return tidewatch::tools::RunTail(tail, std::cout, std::cerr);
  }

  for (auto* cmd : reloc_cmds) {
    if (!cmd->parsed()) continue;
    tidewatch::server::Config config;
    if (!LoadConfigReporting(config_path, &config)) return 2;
    reloc.command = cmd->get_name();
    reloc.method = method == "gtid"          ? tidewatch::pgtid::MatchMethod::kGtid
                   : method == "pseudo-gtid" ? tidewatch::pgtid::MatchMethod::kPseudoGtid
                                             : tidewatch::pgtid::MatchMethod::kAuto;
    reloc.relay_log = relay_log == "files"    ? tidewatch::pgtid::RelayLogRoute::kFiles
                      : relay_log == "events" ? tidewatch::pgtid::RelayLogRoute::kEvents
                                              : tidewatch::pgtid::RelayLogRoute::kAuto;
    reloc.progress = ::isatty(STDERR_FILENO) != 0;
    std::signal(SIGINT, OnSignal);
    std::signal(SIGTERM, OnSignal);
    reloc.stop = &g_stop;
    return tidewatch::tools::RunRelocation(config, reloc, std::cout, std::cerr);
  }

  if (stream_cmd->parsed()) {
    if (!tidewatch::SplitHostPort(source, &stream.stream.host, &stream.stream.port)) {
      std::cerr << "tidewatch: --source must be HOST:PORT, not " << source << "\n";
      return 2;
    }
    if (!password_file.empty()) {
      std::ifstream in(password_file);
      if (!in) {
        std::cerr << "tidewatch: cannot read the password file " << password_file << "\n";
        return 2;
      }
      std::getline(in, stream.stream.password);
    }
    if (!from.empty() &&
        !tidewatch::server::ParseFilePos(from, &stream.stream.start_file, &stream.stream.start_pos)) {
      std::cerr << "tidewatch: --from must be FILE:POS, not " << from << "\n";
      return 2;
    }
    if (!until.empty() && !tidewatch::server::ParseFilePos(until, &stream.until_file, &stream.until_pos)) {
      std::cerr << "tidewatch: --until must be FILE:POS, not " << until << "\n";
      return 2;
    }
    using tidewatch::binlog::TlsMode;
    stream.stream.tls_mode = tls_mode == "disabled"    ? TlsMode::kDisabled
                             : tls_mode == "required"  ? TlsMode::kRequired
                             : tls_mode == "verify-ca" ? TlsMode::kVerifyCa
                             : tls_mode == "verify-identity" ? TlsMode::kVerifyIdentity
                                                             : TlsMode::kPreferred;
    stream.stream.server_id = server_id ? server_id : 0x7e000000u | (static_cast<uint32_t>(::getpid()) & 0xffffffu);
    if (!register_as.empty()) {
      stream.stream.register_as_replica = true;
      stream.stream.report_host = register_as;
      if (register_as.find(':') != std::string::npos) {
        if (!tidewatch::SplitHostPort(register_as, &stream.stream.report_host, &stream.stream.report_port)) {
          std::cerr << "tidewatch: --register-as must be HOST or HOST:PORT, not " << register_as << "\n";
          return 2;
        }
      }
    }
    stream.stream.heartbeat_period = std::chrono::milliseconds(heartbeat_ms);
    stream.stream.read_timeout = std::chrono::milliseconds(timeout_ms ? timeout_ms : 3 * heartbeat_ms);
    std::signal(SIGINT, OnSignal);
    std::signal(SIGTERM, OnSignal);
    stream.stop = &g_stop;
    return tidewatch::server::RunBinlogStream(stream, std::cout, std::cerr);
  }

  if (dump_cmd->parsed()) {
    dump.verify_checksums = !no_verify;
    return tidewatch::server::RunBinlogDump(dump, std::cout, std::cerr);
  }
  return 0;
}
