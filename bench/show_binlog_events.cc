#include "bench/show_binlog_events.h"

#include <charconv>

#include <re2/re2.h>

#include "pgtid/sql_connection.h"

namespace tidewatch::orchestrator {

namespace {

uint64_t ToU64(const std::optional<std::string>& s) { return pgtid::ParseUnsigned(s.value_or("")); }

// A log file name as its numeric extension: the digits after the last '.'
// (the whole name when there is none), read as a number (0 when they are
// not one).
struct NumberedFile {
  explicit NumberedFile(const std::string& file) {
    const size_t dot = file.rfind('.');
    prefix = dot == std::string::npos ? "" : file.substr(0, dot + 1);
    digits = dot == std::string::npos ? file : file.substr(dot + 1);
    std::from_chars(digits.data(), digits.data() + digits.size(), number);
  }
  // The name numbered `n`, zero-padded to the width of the digits.
  std::string With(uint64_t n) const {
    std::string s = std::to_string(n);
    if (s.size() < digits.size()) s.insert(0, digits.size() - s.size(), '0');
    return prefix + s;
  }

  std::string prefix, digits;  // prefix: up to and with the dot
  uint64_t number = 0;
};

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
  const NumberedFile f(file);
  if (f.number == 0) return Status::NotSupported(file + ": log file number is zero, no previous file");
  *out = f.With(f.number - 1);
  return Status::OK();
}

std::string NextFile(const std::string& file) {
  const NumberedFile f(file);
  return f.With(f.number + 1);
}

}  // namespace tidewatch::orchestrator
