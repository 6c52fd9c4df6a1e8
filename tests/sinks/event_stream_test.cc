// The SSE outlet's fan-out, without a socket: frames, filters, the bounded
// queue of each subscriber. The HTTP side is tests/server/http_server_test.cc.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "sinks/envelope_sequencer.h"
#include "sinks/event_stream.h"
#include "tests/support/sample_messages.h"
#include "sinks/json_lines_sink.h"

namespace tidewatch::sinks {
namespace {

using tidewatch::testing::SampleMessage;

std::unique_ptr<EventStream::Subscription> Subscribe(EventStream& stream, std::string_view query,
                                                     std::function<void()> notify = {}) {
  std::unique_ptr<EventStream::Subscription> sub;
  Status s = stream.Subscribe(query, std::move(notify), &sub);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return sub;
}

TEST(EventStreamTest, OneFramePerMessageInProtobufJson) {
  EventStream stream;
  int notified = 0;
  auto sub = Subscribe(stream, "", [&] { ++notified; });
  EXPECT_EQ(stream.clients(), 1u);
  EnvelopeSequencer seq("p");
  v1::Envelope e = SampleMessage("alpha", true);
  seq.Stamp(&e);
  ASSERT_TRUE(stream.Publish(e).ok());
  EXPECT_EQ(notified, 1);
  std::string json;
  ASSERT_TRUE(ToJsonLine(e, &json).ok());
  std::string frames;
  ASSERT_TRUE(sub->Take(&frames));
  EXPECT_EQ(frames, "event: analysis\ndata: " + json + "\n\n");
  frames.clear();
  ASSERT_TRUE(sub->Take(&frames));
  EXPECT_EQ(frames, "");
}

TEST(EventStreamTest, FiltersByClusterAndType) {
  EventStream stream;
  auto alpha_analysis = Subscribe(stream, "cluster=alpha&type=analysis");
  auto two_clusters = Subscribe(stream, "cluster=alpha&cluster=be%74a");
  auto types = Subscribe(stream, "type=instance%2Cedge");
  auto spaced = Subscribe(stream, "cluster=a+b&&");
  EnvelopeSequencer seq("p");
  for (auto [cluster, analysis] : {std::pair{"beta", true}, {"alpha", false}, {"alpha", true}, {"a b", false}}) {
    v1::Envelope e = SampleMessage(cluster, analysis);
    seq.Stamp(&e);
    ASSERT_TRUE(stream.Publish(e).ok());
  }
  auto sequences = [](EventStream::Subscription& sub) {
    std::string frames;
    EXPECT_TRUE(sub.Take(&frames));
    std::vector<std::string> out;
    for (size_t at = frames.find("\"sequence\":\""); at != std::string::npos;
         at = frames.find("\"sequence\":\"", at + 1)) {
      out.push_back(frames.substr(at + 12, frames.find('"', at + 12) - at - 12));
    }
    return out;
  };
  EXPECT_EQ(sequences(*alpha_analysis), (std::vector<std::string>{"3"}));
  EXPECT_EQ(sequences(*two_clusters), (std::vector<std::string>{"1", "2", "3"}));
  EXPECT_EQ(sequences(*types), (std::vector<std::string>{"2", "4"}));
  EXPECT_EQ(sequences(*spaced), (std::vector<std::string>{"4"}));
}

TEST(EventStreamTest, BadFilterIsRefusedWithTheReason) {
  EventStream stream;
  std::unique_ptr<EventStream::Subscription> sub;
  Status s = stream.Subscribe("type=analysis,bogus", {}, &sub);
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "unknown message type \"bogus\" (known: instance, edge, stream, pseudo_gtid, analysis, recovery, audit)");
  s = stream.Subscribe("color=red", {}, &sub);
  EXPECT_EQ(s.message(), "unknown filter \"color\" (known: cluster, type)");
  s = stream.Subscribe("cluster=", {}, &sub);
  EXPECT_EQ(s.message(), "empty cluster filter");
  s = stream.Subscribe("type=", {}, &sub);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(sub, nullptr);
  EXPECT_EQ(stream.clients(), 0u);
}

// A subscriber that does not take its frames is dropped; publishing never
// waits for it, and the others keep theirs.
TEST(EventStreamTest, SlowSubscriberIsDroppedAndCounted) {
  EventStream stream(EventStreamOptions{.max_queued_per_client = 100});
  int slow_notified = 0;
  auto slow = Subscribe(stream, "", [&] { ++slow_notified; });
  auto reader = Subscribe(stream, "");
  const v1::Envelope e = SampleMessage("alpha", true);
  size_t read = 0;
  for (int i = 0; i < 150; ++i) {
    ASSERT_TRUE(stream.Publish(e).ok());
    std::string frames;
    ASSERT_TRUE(reader->Take(&frames));
    read += frames.empty() ? 0 : 1;
  }
  EXPECT_EQ(read, 150u);
  EXPECT_EQ(stream.slow_clients_dropped(), 1u);
  EXPECT_EQ(slow_notified, 101);  // 100 frames, then the end
  EXPECT_TRUE(slow->ended());
  std::string frames;
  EXPECT_FALSE(slow->Take(&frames));
  EXPECT_EQ(frames, "");
  EXPECT_EQ(stream.clients(), 1u);
  slow.reset();
  EXPECT_EQ(stream.clients(), 1u);
  reader.reset();
  EXPECT_EQ(stream.clients(), 0u);
}

TEST(EventStreamTest, SubscriptionOutlivesItsStream) {
  auto stream = std::make_unique<EventStream>();
  bool notified = false;
  auto sub = Subscribe(*stream, "", [&] { notified = true; });
  ASSERT_TRUE(stream->Publish(SampleMessage("alpha", false)).ok());
  stream.reset();
  EXPECT_TRUE(notified);
  EXPECT_TRUE(sub->ended());
  std::string frames;
  EXPECT_FALSE(sub->Take(&frames));
}

TEST(EventStreamTest, ConcurrentPublishersAndSubscribers) {
  EventStream stream;
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] {
      const v1::Envelope e = SampleMessage("alpha", t == 0);
      while (!stop) ASSERT_TRUE(stream.Publish(e).ok());
    });
  }
  for (int i = 0; i < 200; ++i) {
    auto sub = Subscribe(stream, i % 2 ? "type=analysis" : "");
    std::string frames;
    EXPECT_TRUE(sub->Take(&frames));
  }
  stop = true;
  for (auto& t : threads) t.join();
  EXPECT_EQ(stream.clients(), 0u);
}

}  // namespace
}  // namespace tidewatch::sinks
