// The tidewatch command: one executable, one subcommand per job.
#include <iostream>

#include <CLI/CLI.hpp>

#include "tools/tidewatch/binlog_dump.h"

int main(int argc, char** argv) {
  std::ios::sync_with_stdio(false);
  CLI::App app{"Tidewatch: follows MySQL/MariaDB replication topologies through the replication "
               "stream itself."};
  app.require_subcommand(1);

  auto* binlog = app.add_subcommand("binlog", "Read binary logs and relay logs");
  binlog->require_subcommand(1);

  tidewatch::tools::BinlogDumpOptions dump;
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

  CLI11_PARSE(app, argc, argv);

  if (dump_cmd->parsed()) {
    dump.verify_checksums = !no_verify;
    return tidewatch::tools::RunBinlogDump(dump, std::cout, std::cerr);
  }
  return 0;
}
