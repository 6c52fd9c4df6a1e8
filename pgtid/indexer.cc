#include "pgtid/indexer.h"

#include <variant>

#include "binlog/event_type.h"
#include "base/uuid.h"

namespace tidewatch::pgtid {

using namespace binlog;

Status Indexer::Add(std::string_view file, const RawEvent& raw, const FormatDescription& fd) {
  index_->SetFile(file);
  const uint8_t type = raw.header.type;
  const bool replicated = IsReplicatedEvent(type);
  const Event* decoded = nullptr;
  if (!IsKnownEventType(type)) {
    ++undecoded_events_;  // a type from a later server: counted, never decoded
  } else if (NeedsDecoding(type)) {
    Status s = decoder_.Decode(raw, fd, &event_);
    if (!s.ok()) return s.WithContext(index_->server() + " " + std::string(file) + ":" + std::to_string(raw.pos));
    decoded = &event_;
    if (auto* g = std::get_if<MariaGtidBody>(&event_.body)) {
      gtid_ = std::to_string(g->domain_id) + "-" + std::to_string(g->server_id) + "-" +
              std::to_string(g->seq_no);
    } else if (auto* m = std::get_if<MysqlGtidBody>(&event_.body)) {
      gtid_ = type == kAnonymousGtidEvent
                  ? std::string()
                  : UuidToString(m->sid) + ":" + (m->tag.empty() ? "" : std::string(m->tag) + ":") +
                        std::to_string(m->gno);
    } else if (std::holds_alternative<UndecodedBody>(event_.body)) {
      ++undecoded_events_;
      if (type == kGtidEvent || type == kGtidTaggedEvent || type == kMariaGtidEvent) gtid_.clear();
    }
  }
  if (replicated) {
    index_->AddEvent(raw.pos, raw.next_pos(), SignatureOf(raw, fd, decoded));
  } else {
    index_->SetIndexedThrough(raw.next_pos());
  }
  if (decoded != nullptr) {
    std::string_view statement;
    if (auto* q = std::get_if<QueryBody>(&event_.body)) {
      statement = q->query;
    } else if (auto* r = std::get_if<RowsQueryBody>(&event_.body)) {
      statement = r->query;
    }
    if (!statement.empty() && pattern_->Matches(statement)) {
      index_->AddEntry(raw.pos, raw.next_pos(), statement, raw.header.timestamp, gtid_);
      ++entries_found_;
    }
  }
  return Status::OK();
}

}  // namespace tidewatch::pgtid
