// PseudoGtidInjector: writes Pseudo-GTID entries into a master's binary log
// (orchestrator's AutoPseudoGTID idea): a statement that changes no data,
// is always binlogged, and is unique and ascending —
//   drop view if exists `meta`.`_pseudo_gtid_hint__asc:TTTTTTTT:CCCCCCCCCCCCCCCC:RRRRRRRR`
// with T the Unix time, C a per-injector counter and R a random value, in
// upper-case hex, so that entries sort in text order (the "asc:" monotonic
// hint) and match the default PseudoGtidConfig. DROP VIEW IF EXISTS is
// logged even when the view and its schema do not exist.
//
// Never on a read-only server: the statement is not sent when @@read_only
// (or MySQL's @@super_read_only) is on.
#pragma once

#include <cstdint>
#include <string>

#include "pgtid/sql_connection.h"

namespace tidewatch::pgtid {

class PseudoGtidInjector {
 public:
  PseudoGtidInjector();

  // Injects one entry; `statement` is what was written. A read-only server
  // is refused with NotSupported and nothing is sent.
  Status Inject(SqlConnection& c, std::string* statement);

  uint64_t injected() const { return injected_; }

 private:
  uint64_t counter_;
  uint64_t injected_ = 0;
};

}  // namespace tidewatch::pgtid
