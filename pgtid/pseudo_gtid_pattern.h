// PseudoGtidPattern: recognizes Pseudo-GTID entries, with orchestrator's
// configuration semantics (go/config/config.go):
//   PseudoGTIDPattern                  a regular expression (RE2 syntax), or a
//   PseudoGTIDPatternIsFixedSubstring  literal substring when this is true;
//   PseudoGTIDMonotonicHint            a substring; entries that contain it are
//                                      known to grow in text order, which lets a
//                                      search stop early.
// The text matched is the statement: a QUERY event's query, or the statement an
// ANNOTATE_ROWS / ROWS_QUERY event carries for row-based injection.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"

namespace re2 { class RE2; }

namespace tidewatch::pgtid {

struct PseudoGtidConfig {
  // orchestrator's documented default injection statement is
  // "drop view if exists `meta`.`_pseudo_gtid_hint__asc:…`".
  std::string pattern = "drop view if exists `meta`.`_pseudo_gtid_hint__";
  bool fixed_substring = true;
  std::string monotonic_hint = "asc:";
};

class PseudoGtidPattern {
 public:
  ~PseudoGtidPattern();
  PseudoGtidPattern(const PseudoGtidPattern&) = delete;
  PseudoGtidPattern& operator=(const PseudoGtidPattern&) = delete;

  // An empty pattern or an invalid regular expression is an error naming it.
  static Status Create(const PseudoGtidConfig& config, std::unique_ptr<PseudoGtidPattern>* out);

  bool Matches(std::string_view statement) const;
  // The entry carries the monotonic hint: entries with it sort in text order.
  bool IsMonotonic(std::string_view statement) const;

  const PseudoGtidConfig& config() const { return config_; }

 private:
  explicit PseudoGtidPattern(PseudoGtidConfig config);
  PseudoGtidConfig config_;
  std::unique_ptr<re2::RE2> regex_;
};

}  // namespace tidewatch::pgtid
