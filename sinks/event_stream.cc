#include "sinks/event_stream.h"

#include <atomic>
#include <deque>
#include <list>
#include <mutex>
#include <set>
#include <vector>

#include "base/percent_decode.h"
#include "sinks/envelope_sequencer.h"
#include "sinks/json_lines_sink.h"

namespace tidewatch::sinks {

namespace {

const std::set<std::string>& KnownTypes() {
  static const std::set<std::string> k = {"instance", "edge",     "stream", "pseudo_gtid",
                                          "analysis", "recovery", "audit"};
  return k;
}

struct Filter {
  std::set<std::string> clusters, types;  // empty: every one
  bool Accepts(const v1::Envelope& e) const {
    if (!clusters.empty() && clusters.count(e.source().cluster()) == 0) return false;
    return types.empty() || types.count(BodyName(e)) != 0;
  }
};

// Parses the query string of /api/stream; returns the reason it is bad.
std::string ParseFilter(std::string_view query, Filter* f) {
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view kv = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (kv.empty()) continue;
    auto eq = kv.find('=');
    std::string key = PercentDecode(kv.substr(0, eq), true);
    std::string value = eq == std::string_view::npos ? "" : PercentDecode(kv.substr(eq + 1), true);
    if (key == "cluster") {
      if (value.empty()) return "empty cluster filter";
      f->clusters.insert(value);
    } else if (key == "type") {
      size_t start = 0;
      while (start <= value.size()) {
        auto comma = value.find(',', start);
        std::string t = value.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        if (KnownTypes().count(t) == 0) {
          return "unknown message type \"" + t +
                 "\" (known: instance, edge, stream, pseudo_gtid, analysis, recovery, audit)";
        }
        f->types.insert(t);
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
    } else {
      return "unknown filter \"" + key + "\" (known: cluster, type)";
    }
  }
  return {};
}

}  // namespace

struct EventStream::Subscriber {
  Subscriber(Filter f, std::function<void()> n) : filter(std::move(f)), notify(std::move(n)) {}
  const Filter filter;
  const std::function<void()> notify;
  // Guarded by Shared::mu. An ended subscriber has an empty queue and is in
  // no Shared::subscribers list.
  std::deque<std::shared_ptr<const std::string>> queue;
  bool ended = false;
};

struct EventStream::Shared {
  explicit Shared(EventStreamOptions o) : options(o) {}
  const EventStreamOptions options;
  std::mutex mu;
  std::list<std::shared_ptr<Subscriber>> subscribers;  // guarded by mu; none ended
  std::atomic<uint64_t> dropped{0};
};

EventStream::EventStream(EventStreamOptions options) : shared_(std::make_shared<Shared>(options)) {}

EventStream::~EventStream() {
  std::vector<std::shared_ptr<Subscriber>> ended;
  {
    std::lock_guard<std::mutex> lock(shared_->mu);
    for (auto& s : shared_->subscribers) {
      s->ended = true;
      s->queue.clear();
      ended.push_back(s);
    }
    shared_->subscribers.clear();
  }
  for (const auto& s : ended) {
    if (s->notify) s->notify();
  }
}

Status EventStream::Subscribe(std::string_view query, std::function<void()> notify,
                              std::unique_ptr<Subscription>* out) {
  Filter filter;
  if (std::string why = ParseFilter(query, &filter); !why.empty()) return Status::InvalidArgument(why);
  auto subscriber = std::make_shared<Subscriber>(std::move(filter), std::move(notify));
  {
    std::lock_guard<std::mutex> lock(shared_->mu);
    shared_->subscribers.push_back(subscriber);
  }
  out->reset(new Subscription(shared_, std::move(subscriber)));
  return Status::OK();
}

Status EventStream::Publish(const v1::Envelope& message) {
  // Made for the first subscriber that takes the message: none, no JSON.
  std::shared_ptr<const std::string> frame;
  std::vector<std::shared_ptr<Subscriber>> woken;
  {
    std::lock_guard<std::mutex> lock(shared_->mu);
    for (auto it = shared_->subscribers.begin(); it != shared_->subscribers.end();) {
      Subscriber& sub = **it;
      if (!sub.filter.Accepts(message)) {
        ++it;
        continue;
      }
      if (frame == nullptr) {
        std::string json;
        Status s = ToJsonLine(message, &json);
        if (!s.ok()) return s;
        frame = std::make_shared<const std::string>(std::string("event: ") + BodyName(message) + "\ndata: " + json +
                                                    "\n\n");
      }
      woken.push_back(*it);
      if (sub.queue.size() >= shared_->options.max_queued_per_client) {
        // Too slow: dropped rather than allowed to hold the publisher back.
        sub.ended = true;
        sub.queue.clear();
        ++shared_->dropped;
        it = shared_->subscribers.erase(it);
        continue;
      }
      sub.queue.push_back(frame);
      ++it;
    }
  }
  for (const auto& sub : woken) {
    if (sub->notify) sub->notify();
  }
  return Status::OK();
}

size_t EventStream::clients() const {
  std::lock_guard<std::mutex> lock(shared_->mu);
  return shared_->subscribers.size();
}

uint64_t EventStream::slow_clients_dropped() const { return shared_->dropped; }

EventStream::Subscription::~Subscription() {
  std::lock_guard<std::mutex> lock(shared_->mu);
  shared_->subscribers.remove(subscriber_);
}

bool EventStream::Subscription::Take(std::string* frames) {
  std::lock_guard<std::mutex> lock(shared_->mu);
  if (subscriber_->ended) return false;
  for (const auto& f : subscriber_->queue) *frames += *f;
  subscriber_->queue.clear();
  return true;
}

bool EventStream::Subscription::ended() const {
  std::lock_guard<std::mutex> lock(shared_->mu);
  return subscriber_->ended;
}

}  // namespace tidewatch::sinks
