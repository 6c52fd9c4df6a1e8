#include "pgtid/pseudo_gtid_injector.h"

#include <chrono>
#include <cstdio>
#include <random>

namespace tidewatch::pgtid {

PseudoGtidInjector::PseudoGtidInjector()
    : counter_(static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) &
               0xffffffffffffull) {}

Status PseudoGtidInjector::Inject(SqlConnection& c, std::string* statement) {
  SqlResult r;
  Status s = c.Query(c.is_mariadb() ? "SELECT @@read_only, 0" : "SELECT @@read_only, @@super_read_only", &r);
  if (!s.ok()) return s;
  if (r.rows.empty()) return Status::Corruption(c.endpoint().Name() + ": no row for @@read_only");
  if (r.rows[0][0].value_or("0") != "0" || r.rows[0][1].value_or("0") != "0") {
    return Status::NotSupported(c.endpoint().Name() + " is read-only: no Pseudo-GTID injected");
  }
  static thread_local std::mt19937 rng{std::random_device{}()};
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  char hint[64];
  std::snprintf(hint, sizeof hint, "%08llX:%016llX:%08X",
                static_cast<unsigned long long>(std::chrono::duration_cast<std::chrono::seconds>(now).count()),
                static_cast<unsigned long long>(++counter_), static_cast<unsigned>(rng()));
  *statement = std::string("drop view if exists `meta`.`_pseudo_gtid_hint__asc:") + hint + "`";
  s = c.Execute(*statement);
  if (!s.ok()) return s;
  ++injected_;
  return Status::OK();
}

}  // namespace tidewatch::pgtid
