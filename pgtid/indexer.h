// Indexer: feeds one server's binlog events, in order, into its ServerIndex —
// from a replica stream or a binlog file. Recognizes Pseudo-GTID entries in
// QUERY events and, for row-based injection, in ANNOTATE_ROWS / ROWS_QUERY
// events; remembers the GTID of the current transaction for the entries'
// GTID anchors. Decodes only the events it needs (statements, table maps,
// GTIDs); walks the rest by their headers.
#pragma once

#include <string>
#include <string_view>

#include "binlog/event_decoder.h"
#include "binlog/raw_event.h"
#include "pgtid/pseudo_gtid_pattern.h"
#include "pgtid/server_index.h"

namespace tidewatch::pgtid {

class Indexer {
 public:
  Indexer(ServerIndex* index, const PseudoGtidPattern* pattern) : index_(index), pattern_(pattern) {}

  // An event read at `raw.pos` of binlog `file`. Artificial events (a
  // stream's fake ROTATE, resent FORMAT_DESCRIPTION) and heartbeats are
  // not part of the log and must not be passed.
  Status Add(std::string_view file, const binlog::RawEvent& raw, const binlog::FormatDescription& fd);

  uint64_t entries_found() const { return entries_found_; }
  // Events taken whose body could not be decoded (of the types the indexer
  // decodes) or whose type no server it knows defines. They are indexed
  // like any other event.
  uint64_t undecoded_events() const { return undecoded_events_; }

 private:
  ServerIndex* index_;
  const PseudoGtidPattern* pattern_;
  binlog::EventDecoder decoder_;
  binlog::Event event_;
  std::string gtid_;
  uint64_t entries_found_ = 0;
  uint64_t undecoded_events_ = 0;
};

}  // namespace tidewatch::pgtid
