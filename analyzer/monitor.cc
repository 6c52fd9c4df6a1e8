#include "analyzer/monitor.h"

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <deque>
#include <future>
#include <optional>
#include <set>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <re2/re2.h>
#include <spdlog/spdlog.h>

#include "base/host_port.h"
#include "analyzer/topology_store.h"
#include "pgtid/index_follower.h"

namespace tidewatch::analyzer {

namespace asio = boost::asio;
using Steady = std::chrono::steady_clock;

// A server belongs to one shard, by its key: its schedule, its probes'
// results, its follower (index and stream) and every callback of its stream
// run on that shard's io thread.
struct Monitor::Shard {
  asio::io_context io;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard;
  std::thread thread;
  asio::steady_timer tick{io};
  std::map<std::string, std::shared_ptr<Server>> servers;
  Steady::time_point last_progress{}, last_sync{}, last_tick{};
  // Indexes are synced a slice per tick: the key synced last, and how many
  // syncs are owed.
  std::string sync_cursor;
  double sync_owed = 0;
  // Streams reading their backlog hold one of a few slots; the others wait
  // their turn here, so that thousands opened at once do not starve each
  // other (and the live ones) into heartbeat timeouts and reconnections.
  size_t catching_up = 0;
  std::deque<std::weak_ptr<Server>> waiting;
};

struct Monitor::Server {
  std::string key, host;
  uint16_t port = 0;
  Shard* shard = nullptr;
  bool in_flight = false;
  bool loading = false;  // its stored index is being loaded: no probe meanwhile
  bool catching_up = false;  // its stream holds one of its shard's catch-up slots
  Steady::time_point catch_up_since{};
  // The probe handed to the workers: its ticket (even) and, while a worker
  // runs it, bit 0. A recheck that finds the routine probe still queued —
  // behind a fleet's polls — takes its place: it moves the ticket on, and the
  // queued probe, finding the ticket moved, does nothing.
  std::atomic<uint64_t> probe_claim{0};
  bool forgotten = false;
  Steady::time_point next_poll{};
  std::deque<Steady::time_point> rechecks;  // ascending
  // Its index, the store behind it, and its replication stream (null until
  // the first probe that finds binary logs).
  std::shared_ptr<pgtid::IndexFollower> follower;
  bool streaming = false;       // the follower's stream runs (until it fails or ends)
  // The stream has reached where the server's binlog ended when it was
  // opened (or idled at its end): entries from then on are published.
  bool live = false;
  pgtid::BinlogCoordinates live_at;
  binlog::StreamState state = binlog::StreamState::kConnecting;
  uint64_t events = 0, bytes = 0;
  bool progress_dirty = false;
  // The probes' connection, kept between polls; only the probe in flight
  // touches it.
  std::unique_ptr<pgtid::SqlConnection> probe_connection;
  ProbeSession probe_session;  // what that connection's server answers the same while it lasts
};

struct Monitor::Impl {
  MonitorOptions o;
  Publish publish;
  std::vector<std::unique_ptr<Shard>> shards;
  asio::thread_pool workers;
  // Checks after a stream broke or fell silent: never queued behind the
  // routine polls of a large fleet, so detection does not wait for them.
  // Enough for a master and its replicas at once (their answers together
  // make the analysis), each check blocked on a busy server's answer.
  asio::thread_pool urgent_workers{8};
  // Probe connections kept open, at most kept_cap. A followed server holds
  // two descriptors, its stream and its probe connection: half of what this
  // process may open, less a reserve for the API's clients, Kafka, the
  // index store and the hooks. Past the cap a server is probed over a fresh
  // connection each time (connect, handshake, authentication).
  std::atomic<size_t> kept_connections{0};
  const size_t kept_cap = [] {
    constexpr size_t kReserve = 1024;
    rlimit lim{};
    if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return size_t{256};
    const size_t n = static_cast<size_t>(lim.rlim_cur);
    return n > 2 * kReserve ? (n - kReserve) / 2 : n / 3;
  }();
  std::atomic<bool> running{false};

  // Under mu.
  mutable std::mutex mu;
  Topology topology;
  AnalysisTracker tracker;
  bool settled = false;
  // Servers taken over (Adopt) not checked yet, each with its batch: a
  // cluster with one of them is not analyzed until its whole batch has been
  // checked (or two poll intervals have passed), so that a cluster is judged
  // whole — its master checked alone would be a master without replicas.
  struct AdoptedBatch {
    std::set<std::string> keys, unchecked;
    Steady::time_point until;
  };
  std::map<std::string, std::shared_ptr<AdoptedBatch>> adopting;
  MonitorMetrics counters;
  std::vector<std::unique_ptr<RE2>> ignore_any, ignore_master, ignore_replica;  // set at construction
  Steady::time_point last_unseen_check{};  // the first shard's thread

  explicit Impl(MonitorOptions options, Publish p)
      : o(std::move(options)), publish(std::move(p)), workers(std::max<size_t>(1, o.workers)),
        topology([this] {
          // Forgotten for three poll intervals, as orchestrator's forgetInstanceKeys.
          TopologyOptions t = o.topology;
          t.forget_cooldown = 3 * o.poll_interval;
          t.ignore_master = [this](const std::string& key) { return IgnoredAs(key, ignore_master); };
          return t;
        }()) {
    for (size_t i = 0; i < std::max<size_t>(1, o.stream_threads); ++i) shards.push_back(std::make_unique<Shard>());
    for (const auto& [from, to] : {std::pair{&o.ignore_hostname_filters, &ignore_any},
                                   std::pair{&o.ignore_master_filters, &ignore_master},
                                   std::pair{&o.ignore_replica_filters, &ignore_replica}}) {
      for (const auto& f : *from) to->push_back(std::make_unique<RE2>(f, RE2::Quiet));
    }
  }

  Shard& ShardOf(const std::string& key) { return *shards[std::hash<std::string>{}(key) % shards.size()]; }

  // Runs `f` on the thread of `key`'s shard: at once when already on it.
  template <typename F>
  void OnShardOf(const std::string& key, Shard* here, F&& f) {
    Shard& sh = ShardOf(key);
    if (&sh == here) {
      f(sh);
    } else {
      asio::post(sh.io, [&sh, f = std::forward<F>(f)]() mutable { f(sh); });
    }
  }

  // Whether `key` is not to be discovered through a neighbour in that role:
  // a discovery filter matches it, or it is not this monitor's to follow.
  bool IgnoredAs(const std::string& key, const std::vector<std::unique_ptr<RE2>>& role) const {
    if (o.follows && !o.follows(key)) return true;
    for (const auto* list : {&ignore_any, &role}) {
      for (const auto& re : *list) {
        if (re->ok() && RE2::PartialMatch(key, *re)) return true;
      }
    }
    return false;
  }

  // Forgets `key` and stops following it. Forgotten by request, it is
  // published as such, its cluster analyzed again and its stored index
  // dropped; released (`quiet`: its cluster handed to another monitor),
  // nothing is published, its open analyses go unpublished and its stored
  // index is kept for a later return.
  bool ForgetInstance(const std::string& key, bool quiet = false) {
    bool known = false;
    {
      std::vector<v1::Envelope> msgs;
      std::lock_guard<std::mutex> lock(mu);
      known = topology.Forget(key, &msgs);
      if (quiet) {
        msgs.clear();
        tracker.Drop(key);
        if (auto a = adopting.find(key); a != adopting.end()) {
          a->second->unchecked.erase(key);
          adopting.erase(a);
        }
      } else if (known) {
        ChangeScope all;
        all.all = true;
        Analyze(all, &msgs);
      }
      Emit(&msgs);
    }
    Shard& sh = ShardOf(key);
    asio::post(sh.io, [this, &sh, key, quiet] {
      auto it = sh.servers.find(key);
      if (it == sh.servers.end()) return;
      it->second->forgotten = true;
      ReleaseCatchUp(*it->second);
      if (it->second->follower) it->second->follower->StopFollowing();
      if (o.store != nullptr && !quiet) (void)o.store->Forget(key);
      auto s = it->second;
      sh.servers.erase(it);
      // Destroyed once its stream has ended.
      asio::post(sh.io, [s] { (void)s; });
    });
    return known;
  }

  // --- Publishing (under mu). ---

  void Emit(std::vector<v1::Envelope>* msgs) {
    for (auto& m : *msgs) publish(std::move(m));
    msgs->clear();
  }

  // Analyzes the clusters `scope` covers and appends what opened, changed or
  // closed. Nothing before every known server was checked once.
  void Analyze(const ChangeScope& scope, std::vector<v1::Envelope>* msgs) {
    if (!settled) {
      if (topology.unchecked() != 0) return;
      settled = true;
      ChangeScope all;
      all.all = true;
      return Analyze(all, msgs);
    }
    // A cluster with a member never checked yet (one just discovered or
    // taken over) waits for it: its half would be analyzed as all of it.
    ChangeScope checked = scope;
    if (!adopting.empty() && checked.all) {
      checked.all = false;
      for (const auto& [c, keys] : topology.Clusters()) checked.clusters.insert(c);
    }
    if (!checked.all) {
      std::erase_if(checked.clusters, [this](const std::string& c) { return !topology.Checked(c) || Adopting(c); });
      if (checked.clusters.empty()) return;
    }
    AnalysisOptions ao = o.analysis;
    ao.include_downtimed = true;
    auto results = AnalyzeTopology(topology.AnalysisInput(Clock::now(), checked), ao);
    std::vector<v1::Analysis> bodies;
    tracker.Update(results, checked, [this](const std::string& k) { return topology.Evidence(k); }, &bodies);
    for (auto& b : bodies) {
      v1::Envelope e = topology.MessageAbout(b.analyzed_instance());
      *e.mutable_analysis() = std::move(b);
      msgs->push_back(std::move(e));
    }
  }

  // Whether cluster `c` has a server of an adoption batch not wholly checked
  // yet (under mu). Batches past their time are dropped.
  bool Adopting(const std::string& c) {
    for (const auto& k : topology.MembersOf(c)) {
      auto it = adopting.find(k);
      if (it == adopting.end() || it->second->unchecked.empty()) continue;
      if (Steady::now() < it->second->until) return true;
      const auto batch = it->second;
      for (const auto& key : batch->keys) adopting.erase(key);
    }
    return false;
  }

  // `key` has been checked (under mu): once its adoption batch is, the
  // clusters of the batch are analyzed (added to `scope`).
  void Checked(const std::string& key, ChangeScope* scope) {
    auto it = adopting.find(key);
    if (it == adopting.end()) return;
    const auto batch = it->second;
    batch->unchecked.erase(key);
    if (!batch->unchecked.empty()) return;
    for (const auto& k : batch->keys) {
      adopting.erase(k);
      if (const InstanceRecord* r = topology.Find(k)) scope->clusters.insert(r->cluster);
    }
  }

  // Applies `change` to a known instance and analyzes its cluster again;
  // false when the instance is unknown.
  bool ChangeInstance(const std::string& key, const std::function<void(Topology&)>& change) {
    std::vector<v1::Envelope> msgs;
    std::lock_guard<std::mutex> lock(mu);
    const InstanceRecord* r = topology.Find(key);
    if (r == nullptr) return false;
    ChangeScope scope;
    scope.clusters.insert(r->cluster);
    change(topology);
    Analyze(scope, &msgs);
    Emit(&msgs);
    return true;
  }

  // --- Probing. ---

  // On the thread of `key`'s shard (or before the shards run).
  std::shared_ptr<Server> EnsureServer(const std::string& key) {
    Shard& sh = ShardOf(key);
    auto it = sh.servers.find(key);
    if (it != sh.servers.end()) return it->second;
    auto s = std::make_shared<Server>();
    s->key = key;
    s->shard = &sh;
    if (!SplitHostPort(key, &s->host, &s->port)) {
      s->host = key;
      s->port = o.probe.default_port;
    }
    sh.servers[key] = s;
    return s;
  }

  void Dispatch(const std::shared_ptr<Server>& s) {
    if (s->forgotten || !running) return;
    const auto now = Steady::now();
    const bool urgent = !s->rechecks.empty() && s->rechecks.front() <= now;
    uint64_t ticket = s->probe_claim.load();
    if (s->in_flight) {
      // Only a recheck overtakes a probe in flight, and only one not started:
      // a running probe's result comes, and the rechecks due after it.
      if (s->loading || !urgent || (ticket & 1) || !s->probe_claim.compare_exchange_strong(ticket, ticket + 2)) {
        return;
      }
      ticket += 2;
    } else {
      ticket += 2;
      s->probe_claim.store(ticket);
    }
    s->in_flight = true;
    s->next_poll = now + o.poll_interval;
    while (!s->rechecks.empty() && s->rechecks.front() <= now) s->rechecks.pop_front();
    asio::post(urgent ? urgent_workers : workers, [this, s, ticket] {
      uint64_t queued = ticket;
      if (!s->probe_claim.compare_exchange_strong(queued, ticket | 1)) return;  // overtaken by a recheck
      const bool had = s->probe_connection != nullptr;
      ProbeResult p = ProbeInstance(o.probe, s->host, s->port, &s->probe_connection, &s->probe_session);
      if (s->probe_connection && !had && kept_connections.fetch_add(1) >= kept_cap) {
        s->probe_connection.reset();
        --kept_connections;
      } else if (!s->probe_connection && had) {
        --kept_connections;
      }
      std::vector<std::string> referenced = Apply(p);
      s->probe_claim.store(ticket);
      asio::post(s->shard->io, [this, s, ticket, p = std::move(p), referenced = std::move(referenced)] {
        AfterProbe(s, p, referenced, ticket);
      });
    });
  }

  // Applies a probe to the model (any thread). Returns the keys the probe
  // pointed at (its master, its replicas) for discovery.
  // Ignored replicas are dropped from `p` first (DiscoveryIgnoreReplicaHostnameFilters).
  std::vector<std::string> Apply(ProbeResult& p) {
    std::erase_if(p.replica_keys, [this](const std::string& k) { return IgnoredAs(k, ignore_replica); });
    std::vector<v1::Envelope> msgs;
    std::lock_guard<std::mutex> lock(mu);
    ++counters.probes;
    if (!p.reachable) ++counters.probe_failures;
    if (p.connected) ++counters.probe_connects;
    if (topology.Forgotten(p.key)) return {};  // a probe that was under way when it was forgotten
    if (!p.reachable) {
      const InstanceRecord* before = topology.Find(p.key);
      if (before == nullptr || before->reachable || before->last_error != p.error) {
        spdlog::warn("{}: cannot be read: {}", p.key, p.error);
      }
    }
    ChangeScope scope = topology.ApplyProbe(p, &msgs);
    if (!adopting.empty()) Checked(p.key, &scope);
    Analyze(scope, &msgs);
    Emit(&msgs);
    std::vector<std::string> referenced = p.replica_keys;
    if (const InstanceRecord* r = topology.Find(p.key);
        r != nullptr && !r->master_key.empty() && !IgnoredAs(r->master_key, ignore_master)) {
      referenced.push_back(r->master_key);
    }
    return referenced;
  }

  // `ticket`: the probe's (0: one made outside the workers, by Discover).
  // Still in flight when a recheck has overtaken it meanwhile.
  void AfterProbe(const std::shared_ptr<Server>& s, const ProbeResult& p, const std::vector<std::string>& referenced,
                  uint64_t ticket) {
    if (ticket != 0 && s->probe_claim.load() == ticket) s->in_flight = false;
    if (s->forgotten || !running) return;
    for (const auto& k : referenced) {
      OnShardOf(k, s->shard, [this, k](Shard& sh) {
        if (sh.servers.count(k) != 0 || !running) return;
        {
          std::lock_guard<std::mutex> lock(mu);
          if (topology.Forgotten(k)) return;
        }
        Dispatch(EnsureServer(k));
      });
    }
    if (o.follow_streams && p.reachable && !p.partial && p.instance.log_bin && !s->streaming) {
      if (!s->follower || s->follower->unverified()) {
        LoadStored(s, p);
      } else {
        OpenStream(s, p);
      }
    }
    if (!s->rechecks.empty() && s->rechecks.front() <= Steady::now()) Dispatch(s);
  }

  // Probes `key` and its known replicas now and on the recheck schedule
  // (from the thread of `here`).
  void Recheck(const std::string& key, bool with_replicas, Shard* here) {
    std::vector<std::string> keys{key};
    if (with_replicas) {
      std::lock_guard<std::mutex> lock(mu);
      for (auto& r : topology.ReplicasOf(key)) keys.push_back(r);
    }
    const auto now = Steady::now();
    for (const auto& k : keys) {
      OnShardOf(k, here, [this, k, now](Shard& sh) {
        auto it = sh.servers.find(k);
        if (it == sh.servers.end()) return;
        auto& s = it->second;
        for (auto d : o.recheck_after) s->rechecks.push_back(now + d);
        std::sort(s->rechecks.begin(), s->rechecks.end());
        Dispatch(s);
      });
    }
  }

  // Each shard's schedule, every 25 ms on its thread.
  void Tick(Shard& sh) {
    if (!running) return;
    const auto now = Steady::now();
    const bool report_progress = now - sh.last_progress >= std::chrono::seconds(1);
    for (auto& [k, s] : sh.servers) {
      if (s->catching_up && now - s->catch_up_since >= kCatchUpSlotHeld) ReleaseCatchUp(*s);
      const bool due = now >= s->next_poll || (!s->rechecks.empty() && s->rechecks.front() <= now);
      if (due) Dispatch(s);
      if (report_progress && s->progress_dirty) {
        std::lock_guard<std::mutex> lock(mu);
        auto* stream = s->follower ? s->follower->stream() : nullptr;
        topology.StreamProgress(k, stream ? stream->file() : "", stream ? stream->pos() : 0, s->events);
        if (s->follower && s->follower->index()) topology.SetPseudoGtid(k, s->follower->index()->entry_count() > 0);
        s->progress_dirty = false;
      }
    }
    if (report_progress) sh.last_progress = now;
    const bool first = &sh == shards.front().get();
    if (first && o.forget_unseen.count() > 0 &&
        now - last_unseen_check >= std::min<Steady::duration>(std::chrono::minutes(1), o.forget_unseen / 2)) {
      // UnseenInstanceForgetHours, as orchestrator's ForgetLongUnseenInstances.
      last_unseen_check = now;
      std::vector<std::string> unseen;
      {
        std::lock_guard<std::mutex> lock(mu);
        for (const auto& [k, r] : topology.instances()) {
          if (r.last_seen != Clock::time_point{} && Clock::now() - r.last_seen > o.forget_unseen) unseen.push_back(k);
        }
      }
      for (const auto& k : unseen) {
        spdlog::info("forgetting {}: not seen for {} s (UnseenInstanceForgetHours)", k, o.forget_unseen.count());
        ForgetInstance(k);
      }
    }
    SyncSlice(sh, now);
    if (first && now - sh.last_sync >= o.store_sync_interval) {
      SaveTopologyLater();
      sh.last_sync = now;
    }
    sh.tick.expires_after(std::chrono::milliseconds(25));
    sh.tick.async_wait([this, &sh](const boost::system::error_code& ec) {
      if (!ec) Tick(sh);
    });
  }

  // --- Indexes and streams (pgtid/index_follower.h). ---

  // Makes the server's follower and loads its stored index on a worker,
  // verified against the server; the stream then opens, from the stored
  // position if it held.
  pgtid::IndexFollowerOptions FollowerOptions(const Server& s) const {
    pgtid::IndexFollowerOptions fo;
    fo.host = s.host;
    fo.port = s.port;
    fo.stream = o.stream;
    fo.pattern = o.pattern;
    fo.index = o.index;
    fo.store = o.store;
    fo.verify_server_id = o.stream.server_id + 1;  // beside the stream, not instead of it
    return fo;
  }

  void LoadStored(const std::shared_ptr<Server>& s, const ProbeResult& p) {
    // A follower restored at start holds its stored index unverified: it is
    // verified on the worker, out of the io thread's sight meanwhile.
    std::shared_ptr<pgtid::IndexFollower> follower = std::move(s->follower);
    if (!follower) follower = std::make_shared<pgtid::IndexFollower>(FollowerOptions(*s));
    s->in_flight = true;  // no probe while loading: the stream opens first
    s->loading = true;
    asio::post(workers, [this, s, p, follower] {
      bool found = follower->unverified();
      Status st = found ? Status::OK() : follower->Load(&found);
      if (st.ok() && found) {
        st = follower->Verify(p.instance.binary_logs);
        if (st.ok()) {
          spdlog::info("{}: index loaded from the store: {} entries, through {}", s->key,
                       follower->index()->entry_count(), follower->index()->position().ToString());
        } else {
          spdlog::warn("{}: {}", s->key, st.message());
        }
      } else if (!st.ok()) {
        spdlog::warn("{}: index store: {}", s->key, st.message());
      }
      asio::post(s->shard->io, [this, s, p, follower] {
        s->in_flight = false;
        s->loading = false;
        if (s->forgotten || !running || s->follower) return;
        s->follower = follower;
        OpenStream(s, p);
      });
    });
  }

  // The topology a previous run saved, and the stored index of each of its
  // servers, unverified (a dead server's index still places its replicas).
  // Returns the keys to probe. Before the shards run.
  std::vector<std::string> Restore() {
    std::vector<std::string> keys;
    if (o.topology_file.empty()) return keys;
    std::vector<ProbeResult> saved;
    Status st = LoadTopology(o.topology_file, &saved);
    if (!st.ok()) {
      spdlog::warn("topology: {}", st.message());
      return keys;
    }
    {
      std::lock_guard<std::mutex> lock(mu);
      for (const auto& p : saved) topology.Restore(p);
      for (const auto& [k, r] : topology.instances()) keys.push_back(k);
    }
    for (const auto& k : keys) {
      auto s = EnsureServer(k);
      if (o.store == nullptr || o.pattern == nullptr) continue;
      auto follower = std::make_shared<pgtid::IndexFollower>(FollowerOptions(*s));
      bool found = false;
      if (follower->Load(&found).ok() && found) s->follower = follower;
    }
    if (!saved.empty()) spdlog::info("topology: {} instances known from {}", keys.size(), o.topology_file);
    return keys;
  }

  // Writes the model to the topology file, on a worker (io thread).
  void SaveTopologyLater() {
    if (o.topology_file.empty()) return;
    auto copy = std::make_shared<Topology>();
    {
      std::lock_guard<std::mutex> lock(mu);
      if (!settled) return;  // a half-checked model is not written over a whole one
      *copy = topology;
    }
    asio::post(workers, [this, copy] {
      Status st = SaveTopology(o.topology_file, *copy);
      if (!st.ok()) spdlog::warn("topology: {}", st.message());
    });
  }

  // Writes what changed of the indexes due since the last tick, so that each
  // is written once every store_sync_interval and no tick holds the shard's
  // streams back to write them all (its thread).
  void SyncSlice(Shard& sh, Steady::time_point now) {
    const auto since = sh.last_tick == Steady::time_point{} ? Steady::duration{} : now - sh.last_tick;
    sh.last_tick = now;
    const size_t n = sh.servers.size();
    if (n == 0 || o.store_sync_interval.count() <= 0) return;
    // This shard's share of the rate cap.
    const double per_second = std::min<double>(
        static_cast<double>(n) / std::chrono::duration<double>(o.store_sync_interval).count(),
        o.max_syncs_per_second / static_cast<double>(shards.size()));
    sh.sync_owed = std::min<double>(static_cast<double>(n),
                                    sh.sync_owed + per_second * std::chrono::duration<double>(since).count());
    while (sh.sync_owed >= 1) {
      sh.sync_owed -= 1;
      auto it = sh.servers.upper_bound(sh.sync_cursor);
      if (it == sh.servers.end()) it = sh.servers.begin();
      sh.sync_cursor = it->first;
      Sync(*it->second);
    }
  }

  // Writes what changed of the server's index (its shard's thread).
  void Sync(Server& s) {
    if (!s.follower) return;
    Status st = s.follower->Sync();
    if (!st.ok()) spdlog::warn("{}: index store: {}", s.key, st.message());
  }

  // Writes what changed of every index of the shard (its thread).
  void SyncIndexes(Shard& sh) {
    for (auto& [k, s] : sh.servers) Sync(*s);
  }


  // Streams per shard reading their backlog at once, and how long one holds
  // its slot at most: a server written faster than it is read must not keep
  // the others waiting.
  static constexpr size_t kCatchingUpPerShard = 64;
  static constexpr std::chrono::seconds kCatchUpSlotHeld{60};

  // Opens the server's stream when its shard has a catch-up slot free, else
  // when one frees.
  void OpenStream(const std::shared_ptr<Server>& s, const ProbeResult& p) {
    if (p.instance.binary_logs.empty()) return;
    s->streaming = true;
    Shard& sh = *s->shard;
    if (sh.catching_up >= kCatchingUpPerShard) {
      sh.waiting.emplace_back(s);
      return;
    }
    StartStream(s, p);
  }

  // The stream reached the server's end, or stopped: its slot goes to the
  // next waiting.
  void ReleaseCatchUp(Server& s) {
    if (!s.catching_up) return;
    s.catching_up = false;
    Shard& sh = *s.shard;
    --sh.catching_up;
    while (sh.catching_up < kCatchingUpPerShard && !sh.waiting.empty()) {
      auto next = sh.waiting.front().lock();
      sh.waiting.pop_front();
      if (!next || next->forgotten || !running || !next->streaming) continue;
      // Its latest probe, not the one that queued it: binlogs listed then
      // may have been purged while it waited.
      ProbeResult latest;
      {
        std::lock_guard<std::mutex> lock(mu);
        const InstanceRecord* r = topology.Find(next->key);
        if (r != nullptr && r->probed) latest = r->probe;
      }
      if (latest.instance.binary_logs.empty()) {
        next->streaming = false;  // opened by the next probe that finds binary logs
        continue;
      }
      StartStream(next, latest);
    }
  }

  void StartStream(const std::shared_ptr<Server>& s, const ProbeResult& p) {
    const auto& logs = p.instance.binary_logs;
    s->catching_up = true;
    s->catch_up_since = Steady::now();
    ++s->shard->catching_up;
    s->live = false;
    s->live_at = p.instance.self;
    std::weak_ptr<Server> weak = s;
    pgtid::IndexFollower::Callbacks cb;
    cb.on_heartbeat = [this, weak] {
      // Sent only when the server has nothing more to send: caught up.
      if (auto sp = weak.lock()) {
        sp->live = true;
        ReleaseCatchUp(*sp);
      }
    };
    cb.on_event = [this, weak](const binlog::StreamEvent& e) {
      auto sp = weak.lock();
      if (!sp) return;
      ++sp->events;
      sp->bytes += e.raw.header.event_size;
      sp->progress_dirty = true;
      if (!sp->live && !sp->live_at.empty() && pgtid::BinlogCoordinates{e.file, e.raw.next_pos()} >= sp->live_at) {
        sp->live = true;
        ReleaseCatchUp(*sp);
      }
    };
    cb.on_entry = [this, weak](const pgtid::PseudoGtidEntry& entry, std::string_view file) {
      if (auto sp = weak.lock()) OnEntry(*sp, entry, file);
    };
    cb.on_index_dropped = [key = s->key](const std::string& why) {
      // Rebuilt when the stream is opened again; the stream itself goes on.
      spdlog::error("{}: index stopped: {}", key, why);
    };
    cb.on_status = [this, weak](const binlog::StreamStatus& st) {
      if (auto sp = weak.lock()) OnStatus(sp, st);
    };
    s->follower->Follow(s->shard->io, logs, p.instance.self, std::move(cb));
  }

  void OnEntry(Server& s, const pgtid::PseudoGtidEntry& entry, std::string_view file) {
    std::lock_guard<std::mutex> lock(mu);
    ++counters.pseudo_gtid_entries;
    if (!s.live) return;
    const pgtid::ServerIndex& index = *s.follower->index();
    v1::Envelope m = topology.MessageAbout(s.key);
    auto* pe = m.mutable_pseudo_gtid();
    pe->set_text(entry.text);
    pe->mutable_at()->set_file(std::string(file));
    pe->mutable_at()->set_pos(entry.pos);
    pe->mutable_at()->set_gtid(entry.gtid);
    pe->set_end_pos(entry.end_pos);
    pe->set_ordinal(entry.ordinal);
    const size_t n = index.entry_count();
    pe->set_events_since_previous(n >= 2 ? entry.ordinal - index.entry(n - 2).ordinal : entry.ordinal);
    *m.mutable_source()->mutable_coordinates() = pe->at();
    if (n == 1) topology.SetPseudoGtid(s.key, true);
    std::vector<v1::Envelope> msgs;
    msgs.push_back(std::move(m));
    Emit(&msgs);
  }

  void OnStatus(const std::shared_ptr<Server>& s, const binlog::StreamStatus& st) {
    const binlog::StreamState before = s->state;
    s->state = st.state;
    {
      std::vector<v1::Envelope> msgs;
      std::lock_guard<std::mutex> lock(mu);
      ChangeScope scope = topology.ApplyStream(s->key, st, &msgs);
      Analyze(scope, &msgs);
      Emit(&msgs);
    }
    using binlog::StreamState;
    const bool was_up = before == StreamState::kStreaming || before == StreamState::kLagging;
    if (was_up && (st.state == StreamState::kDisconnected || st.state == StreamState::kFailed)) {
      // The stream broke or fell silent: check the server and, for the
      // holistic view, its replicas, now.
      Recheck(s->key, true, s->shard);
    } else if (!was_up && st.state == StreamState::kStreaming && before == StreamState::kDisconnected) {
      Recheck(s->key, false, s->shard);  // it is back
    }
    if (st.state == StreamState::kFailed || st.state == StreamState::kEnded || st.state == StreamState::kDisconnected) {
      ReleaseCatchUp(*s);
    }
    if (st.state == StreamState::kFailed || st.state == StreamState::kEnded) {
      // Reopened by the next probe that finds the server.
      s->streaming = false;
    }
  }
};

Monitor::Monitor(MonitorOptions options, Publish publish)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(publish))) {}

Monitor::~Monitor() { Stop(); }

void Monitor::Start() {
  if (impl_->running.exchange(true)) return;
  for (auto& sh : impl_->shards) sh->guard.emplace(sh->io.get_executor());
  std::vector<std::string> keys = impl_->Restore();
  keys.insert(keys.end(), impl_->o.seeds.begin(), impl_->o.seeds.end());
  for (const auto& k : keys) {
    Shard& sh = impl_->ShardOf(k);
    asio::post(sh.io, [this, k] { impl_->Dispatch(impl_->EnsureServer(k)); });
  }
  for (auto& sh : impl_->shards) {
    asio::post(sh->io, [this, shard = sh.get()] { impl_->Tick(*shard); });
    sh->thread = std::thread([shard = sh.get()] { shard->io.run(); });
  }
}

void Monitor::Stop() {
  if (!impl_->running.exchange(false)) return;
  std::vector<std::promise<void>> stopped(impl_->shards.size());
  for (size_t i = 0; i < impl_->shards.size(); ++i) {
    Shard& sh = *impl_->shards[i];
    asio::post(sh.io, [this, &sh, done = &stopped[i]] {
      sh.tick.cancel();
      impl_->SyncIndexes(sh);
      for (auto& [k, s] : sh.servers) {
        if (s->follower) s->follower->StopFollowing();
      }
      done->set_value();
    });
  }
  for (auto& p : stopped) p.get_future().wait();
  impl_->SaveTopologyLater();
  impl_->workers.join();
  impl_->urgent_workers.join();
  // Streams end on their own once stopped; each shard's thread then runs out
  // of work.
  for (auto& sh : impl_->shards) {
    sh->guard.reset();
    sh->io.stop();
  }
  for (auto& sh : impl_->shards) {
    if (sh->thread.joinable()) sh->thread.join();
    sh->servers.clear();
  }
}

ProbeResult Monitor::Discover(const std::string& key) {
  std::string host;
  uint16_t port = 0;
  if (!SplitHostPort(key, &host, &port)) {
    host = key;
    port = impl_->o.probe.default_port;
  }
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->topology.Unforget(host + ":" + std::to_string(port));
  }
  ProbeResult p = ProbeInstance(impl_->o.probe, host, port);
  std::vector<std::string> referenced = impl_->Apply(p);
  asio::post(impl_->ShardOf(p.key).io, [this, p, referenced] {
    auto s = impl_->EnsureServer(p.key);
    impl_->AfterProbe(s, p, referenced, 0);
    s->next_poll = Steady::now() + impl_->o.poll_interval;
  });
  return p;
}

bool Monitor::Forget(const std::string& key) { return impl_->ForgetInstance(key); }

void Monitor::Adopt(const std::vector<std::string>& keys, const std::vector<v1::Analysis>& open) {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    for (const auto& a : open) impl_->tracker.Adopt(a);
    auto batch = std::make_shared<Impl::AdoptedBatch>();
    batch->until = Steady::now() + 2 * impl_->o.poll_interval;
    for (const auto& k : keys) {
      impl_->topology.Unforget(k);
      const InstanceRecord* r = impl_->topology.Find(k);
      if (r != nullptr && r->last_checked != Clock::time_point{}) continue;  // known here already
      batch->keys.insert(k);
      batch->unchecked.insert(k);
      impl_->adopting[k] = batch;
    }
  }
  for (const auto& k : keys) {
    asio::post(impl_->ShardOf(k).io, [this, k] {
      Shard& sh = impl_->ShardOf(k);
      if (sh.servers.count(k) == 0) impl_->Dispatch(impl_->EnsureServer(k));
    });
  }
}

void Monitor::Release(const std::vector<std::string>& keys) {
  for (const auto& k : keys) impl_->ForgetInstance(k, true);
}

bool Monitor::SetMaintenance(const std::string& key, Suspension s) {
  return impl_->ChangeInstance(key, [&](Topology& t) { t.SetMaintenance(key, std::move(s)); });
}

bool Monitor::SetDowntime(const std::string& key, Suspension s) {
  return impl_->ChangeInstance(key, [&](Topology& t) { t.SetDowntime(key, std::move(s)); });
}

bool Monitor::SetCandidate(const std::string& key, std::string rule, Clock::time_point until) {
  return impl_->ChangeInstance(key, [&](Topology& t) { t.SetCandidate(key, std::move(rule), until); });
}

void Monitor::Read(const std::function<void(const Topology&, const AnalysisTracker&)>& f) const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  f(impl_->topology, impl_->tracker);
}

std::vector<ReplicationAnalysis> Monitor::Analysis() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  AnalysisOptions ao = impl_->o.analysis;
  ao.include_downtimed = true;
  ChangeScope all;
  all.all = true;
  return AnalyzeTopology(impl_->topology.AnalysisInput(Clock::now(), all), ao);
}

bool Monitor::Settled() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->settled;
}

std::unique_ptr<pgtid::ServerIndex> Monitor::IndexSnapshot(const std::string& key, const std::string& through_file,
                                                           uint64_t through_pos, std::chrono::milliseconds timeout) {
  const auto deadline = Steady::now() + timeout;
  const pgtid::BinlogCoordinates through{through_file, through_pos};
  struct Copy {
    std::promise<std::unique_ptr<pgtid::ServerIndex>> index;
    bool has_index = false, far_enough = false;
  };
  while (impl_->running) {
    // Copied once: when the index has read far enough, or at the deadline
    // (the caller sees where it stands). Shared with the io thread, which
    // may run it after this call gave up.
    const bool last = Steady::now() >= deadline;
    auto copy = std::make_shared<Copy>();
    auto f = copy->index.get_future();
    Shard& sh = impl_->ShardOf(key);
    asio::post(sh.io, [&sh, key, through, copy, last] {
      auto it = sh.servers.find(key);
      const pgtid::ServerIndex* live =
          it == sh.servers.end() || !it->second->follower ? nullptr : it->second->follower->index();
      if (live == nullptr) {
        copy->index.set_value(nullptr);
        return;
      }
      const auto& index = *live;
      copy->has_index = true;
      copy->far_enough = through.empty() || !(index.position() < through);
      copy->index.set_value(copy->far_enough || last ? std::make_unique<pgtid::ServerIndex>(index) : nullptr);
    });
    if (f.wait_until(deadline + std::chrono::seconds(1)) != std::future_status::ready) return nullptr;
    auto snapshot = f.get();
    if (!copy->has_index || snapshot != nullptr) return snapshot;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return nullptr;
}

MonitorMetrics Monitor::Metrics() const {
  MonitorMetrics m;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    m = impl_->counters;
    m.probe_connections_kept = impl_->kept_connections.load();
    m.instances = impl_->topology.instances().size();
    m.clusters = impl_->topology.Clusters().size();
    m.open_analyses = impl_->tracker.OpenCount();
    for (const auto& [k, r] : impl_->topology.instances()) {
      if (r.probed && r.probe.instance.replica.configured) {
        const auto& sb = r.probe.instance.replica.seconds_behind;
        m.replica_lag_seconds[k] = sb ? *sb : -1;
      }
    }
  }
  if (!impl_->running) return m;
  // Each shard counts its own servers on its thread.
  struct Streams {
    std::promise<void> done;
    uint64_t events = 0, bytes = 0, undecoded = 0, buffers = 0;
    std::map<std::string, uint64_t> by_state, index_bytes;
  };
  std::vector<std::shared_ptr<Streams>> counted;
  for (auto& shard : impl_->shards) {
    auto st = std::make_shared<Streams>();
    counted.push_back(st);
    asio::post(shard->io, [sh = shard.get(), st] {
      for (const auto& [k, s] : sh->servers) {
        st->events += s->events;
        st->bytes += s->bytes;
        if (s->follower && s->follower->stream()) {
          st->undecoded += s->follower->stream()->status().undecoded_events;
          st->buffers += s->follower->stream()->receive_buffer_bytes();
        }
        if (s->streaming) ++st->by_state[binlog::StreamStateName(s->state)];
        if (s->follower && s->follower->index()) st->index_bytes[k] = s->follower->index()->MemoryBytes();
      }
      st->done.set_value();
    });
  }
  const auto deadline = Steady::now() + std::chrono::seconds(5);
  for (const auto& st : counted) {
    if (st->done.get_future().wait_until(deadline) != std::future_status::ready) return m;
  }
  for (const auto& st : counted) {
    m.stream_events += st->events;
    m.stream_bytes += st->bytes;
    m.stream_undecoded_events += st->undecoded;
    m.stream_buffer_bytes += st->buffers;
    for (const auto& [state, n] : st->by_state) m.streams_by_state[state] += n;
    m.index_bytes.insert(st->index_bytes.begin(), st->index_bytes.end());
  }
  return m;
}

}  // namespace tidewatch::analyzer
