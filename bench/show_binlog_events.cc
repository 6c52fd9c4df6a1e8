#include "bench/show_binlog_events.h"


#include <re2/re2.h>

#include "pgtid/sql_connection.h"

namespace tidewatch::orchestrator {

namespace {

uint64_t ToU64(const std::optional<std::string>& s) { return pgtid::ParseUnsigned(s.value_or("")); }

}  // namespace

Status ShowEvents(pgtid::SqlConnection& c, LogType type, const std::string& file, uint64_t from,
                  int64_t offset, uint64_t limit, std::vector<BinlogEventRow>* out,
                  ScanCounters* counters) {
  out->clear();
  std::string sql = type == LogType::kBinary ? "SHOW BINLOG EVENTS IN " : "SHOW RELAYLOG EVENTS IN ";
  sql += c.Literal(file);
  sql += " FROM " + std::to_string(from) + " LIMIT ";
  if (offset >= 0) sql += std::to_string(offset) + ", ";
  sql += std::to_string(limit);
  pgtid::SqlResult r;
  Status s = c.Query(sql, &r);
  ++counters->statements;
  if (!s.ok()) return s;
  const int log_name = r.Column("Log_name"), pos = r.Column("Pos"), end = r.Column("End_log_pos"),
            event_type = r.Column("Event_type"), info = r.Column("Info");
  if (log_name < 0 || pos < 0 || end < 0 || event_type < 0 || info < 0) {
    return Status::Corruption(c.endpoint().Name() + ": " + sql + ": unexpected columns");
  }
  out->reserve(r.rows.size());
  for (auto& row : r.rows) {
    BinlogEventRow& e = out->emplace_back();
    e.at.file = row[log_name].value_or("");
    e.at.pos = ToU64(row[pos]);
    e.end_log_pos = ToU64(row[end]);
    e.type = std::move(row[event_type]).value_or("");
    e.info = std::move(row[info]).value_or("");
  }
  counters->rows += out->size();
  return Status::OK();
}

struct InfoNormalizer::Rule {
  Rule(const char* literal, const char* pattern, const char* rewrite)
      : literal(literal), regex(pattern), rewrite(rewrite) {}
  std::string literal;  // occurs in every text the pattern matches
  re2::RE2 regex;
  std::string rewrite;
};

InfoNormalizer::InfoNormalizer() {
  // orchestrator's eventInfoTransformations, with \N for Go's $N. orchestrator
  // applies them in Go map order, which varies from call to call; for the
  // events of this benchmark (queries, GTIDs, table maps, rows, XIDs) every
  // order gives the same text.
  rules_.push_back(std::make_unique<Rule>(" /*", R"((.*) [/][*].*?[*][/](.*$))", R"(\1 \2)"));
  rules_.push_back(std::make_unique<Rule>("COMMIT ", R"((COMMIT) .*$)", R"(\1)"));
  rules_.push_back(std::make_unique<Rule>("table_id: ", R"((table_id:) [0-9]+ (.*$))", R"(\1 ### \2)"));
  rules_.push_back(std::make_unique<Rule>("table_id: ", R"((table_id:) [0-9]+$)", R"(\1 ###)"));
  rules_.push_back(std::make_unique<Rule>(" X'", R"( X'([0-9a-fA-F]+)' COLLATE)", R"( 0x\1 COLLATE)"));
  rules_.push_back(std::make_unique<Rule>(" cid=", R"((BEGIN GTID [^ ]+) cid=.*)", R"(\1)"));
}

InfoNormalizer::~InfoNormalizer() = default;

void InfoNormalizer::Normalize(std::string* info) const {
  for (const auto& r : rules_) {
    if (info->find(r->literal) == std::string::npos) continue;
    re2::RE2::GlobalReplace(info, r->regex, r->rewrite);
  }
}

Status PreviousFile(const std::string& file, std::string* out) {
  const auto dot = file.rfind('.');
  const std::string digits = dot == std::string::npos ? file : file.substr(dot + 1);
  uint64_t n = 0;
  std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (n == 0) return Status::NotSupported(file + ": log file number is zero, no previous file");
  std::string number = std::to_string(n - 1);
  if (number.size() < digits.size()) number.insert(0, digits.size() - number.size(), '0');
  *out = (dot == std::string::npos ? "" : file.substr(0, dot + 1)) + number;
  return Status::OK();
}

std::string NextFile(const std::string& file) {
  const auto dot = file.rfind('.');
  const std::string digits = dot == std::string::npos ? file : file.substr(dot + 1);
  uint64_t n = 0;
  std::from_chars(digits.data(), digits.data() + digits.size(), n);
  std::string number = std::to_string(n + 1);
  if (number.size() < digits.size()) number.insert(0, digits.size() - number.size(), '0');
  return (dot == std::string::npos ? "" : file.substr(0, dot + 1)) + number;
}

}  // namespace tidewatch::orchestrator
