#!/usr/bin/env python3
"""Three `tidewatch run` daemons sharing 300 simulated clusters through a Kafka consumer group (MonitorGroup).

A real Kafka broker (tools/kafka/tidewatch-kafka, KRaft, one node) and a simulated fleet (tidewatch-fleet) of
300 clusters of five. Every master is a seed of the first daemon's config; the records land on the daemons the
group gives their partitions. Measured:
  - start-up: from the daemons' start until every cluster is monitored by exactly one daemon and every server
    is streamed;
  - handover, per trial: the daemon that monitors most clusters is SIGKILLed; the time until the survivors
    monitor every cluster again (each taken over, its servers probed), and until every server is streamed again;
    then a master is killed in one of the orphaned clusters and the time from that kill to its DeadMaster on a
    survivor's output is taken; the killed daemon is then started again (its share comes back to it);
  - duplicates: every analysis OPENED over the whole run, counted per (instance, code) across all daemons'
    output: more than one is a duplicate.
With --plot FILE it draws the clusters each daemon monitors over time through the first handover.

Usage: bench/fleet-group.py [--clusters 300] [--trials 3] [--plot docs/fleet-group.png] [--json]
Builds nothing: run `ninja -C build tidewatch tidewatch-fleet` first (Release).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, ".."))
_spec = importlib.util.spec_from_file_location("fleet_scale", os.path.join(HERE, "fleet-scale.py"))
fleet_scale = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fleet_scale)
TIDEWATCH, FLEET = fleet_scale.TIDEWATCH, fleet_scale.FLEET
KAFKA_TOOL = os.path.join(ROOT, "tools", "kafka", "tidewatch-kafka")
DAEMONS = 3
PREFIX = "twbench"


def group_state(port: int) -> tuple[int, int]:
    """(clusters monitored here, servers streamed) of the daemon on `port`; (-1, -1) when it does not answer."""
    try:
        m = fleet_scale.metrics(port)
    except OSError:
        return -1, -1
    return int(m.get("group_clusters_here", 0)), int(m.get("streams_streaming", 0))


def owners(port: int) -> dict[str, str]:
    """Record key (a master at first) → the producer id of its owner, as the daemon on `port` reads them."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/monitor-group", timeout=10) as r:
        return {rec["Key"]: rec["Owner"] for rec in json.loads(r.read().decode())["Records"]}


class Group:
    def __init__(self, work: str, masters: list[str], kafka: str, api_base: int):
        self.work, self.masters, self.kafka, self.api_base = work, masters, kafka, api_base
        self.procs: list[subprocess.Popen | None] = [None] * DAEMONS
        self.runs = [0] * DAEMONS

    def port(self, i: int) -> int:
        return self.api_base + i

    def start(self, i: int) -> None:
        conf = os.path.join(self.work, f"d{i}.json")
        with open(conf, "w") as f:
            json.dump({"MySQLTopologyUser": "sim", "MySQLTopologyPassword": "sim",
                       "DiscoverySeeds": self.masters if i == 0 else [], "InstancePollSeconds": 5,
                       "ListenAddress": f"127.0.0.1:{self.port(i)}", "StreamHeartbeatMilliseconds": 1000,
                       "IndexWindowEvents": 16384, "IndexMaxEntries": 4096, "ProbeWorkers": 8,
                       "StateDir": os.path.join(self.work, f"state{i}"), "ProducerId": f"daemon-{i}",
                       "KafkaBrokers": self.kafka, "KafkaTopicPrefix": PREFIX, "KafkaTopicPartitions": 12,
                       "MonitorGroup": "tidewatch-bench"}, f)
        self.runs[i] += 1
        out = os.path.join(self.work, f"d{i}-{self.runs[i]}.jsonl")
        log = open(os.path.join(self.work, f"d{i}.log"), "a")
        self.procs[i] = subprocess.Popen([TIDEWATCH, "run", "-c", conf, "--jsonl", out], stdout=log,
                                         stderr=subprocess.STDOUT)

    def alive(self) -> list[int]:
        return [i for i, p in enumerate(self.procs) if p is not None and p.poll() is None]

    def state(self) -> tuple[list[int], int]:
        """Clusters monitored by each live daemon, and servers streamed by all."""
        here, streaming = [], 0
        for i in self.alive():
            h, s = group_state(self.port(i))
            here.append(h)
            streaming += max(0, s)
        return here, streaming

    def outputs(self) -> list[str]:
        return sorted(os.path.join(self.work, f) for f in os.listdir(self.work) if f.endswith(".jsonl"))

    def stop(self) -> None:
        for p in self.procs:
            if p is not None and p.poll() is None:
                p.terminate()
        for p in self.procs:
            if p is not None:
                try:
                    p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    p.kill()


def wait_for(pred, timeout: float, interval: float = 0.1) -> float | None:
    """Seconds until pred() held, or None."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if pred():
            return time.monotonic() - start
        time.sleep(interval)
    return None


def dead_master_seen(paths: list[str], victim: str, after: float, timeout: float) -> float | None:
    """Seconds from `after` (time.time()) until a DeadMaster OPENED for `victim` is in one of `paths`."""
    needle = victim.encode()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in paths:
            with open(path, "rb") as f:
                for line in f:
                    if b'"DeadMaster"' in line and needle in line and b'"OPENED"' in line:
                        e = json.loads(line)
                        if e["analysis"]["analyzed_instance"] == victim:
                            t = e["detection_time"]
                            return _epoch(t) - after
        time.sleep(0.05)
    return None


def _epoch(rfc3339: str) -> float:
    """Seconds since the epoch of a protobuf JSON timestamp ("…T…[.fraction]Z", UTC)."""
    from datetime import datetime, timezone
    whole, _, fraction = rfc3339.rstrip("Z").partition(".")
    t = datetime.fromisoformat(whole).replace(tzinfo=timezone.utc).timestamp()
    return t + (float("0." + fraction) if fraction else 0.0)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clusters", type=int, default=300)
    ap.add_argument("--trials", type=int, default=3)
    ap.add_argument("--base-port", type=int, default=11000)
    ap.add_argument("--api-port", type=int, default=10990)
    ap.add_argument("--kafka-port", type=int, default=29620)
    ap.add_argument("--plot", default="")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if not fleet_scale.tools_built():
        return 2
    work = tempfile.mkdtemp(prefix="tidewatch-fleet-group-")
    kafka_dir = os.path.join(work, "kafka")
    subprocess.run([sys.executable, KAFKA_TOOL, "--dir", kafka_dir, "up", "--port", str(args.kafka_port)],
                   check=True, capture_output=True, text=True)
    fleet = fleet_scale.FleetProcs(args.clusters * fleet_scale.CLUSTER, args.base_port)
    servers = args.clusters * fleet_scale.CLUSTER
    group = Group(work, fleet.masters, f"127.0.0.1:{args.kafka_port}", args.api_port)
    result: dict = {"clusters": args.clusters, "servers": servers, "daemons": DAEMONS}
    timeline: list[tuple[float, list[int]]] = []
    try:
        started = time.monotonic()
        for i in range(DAEMONS):
            group.start(i)
        dead = []  # masters killed so far: never streamed again

        def shared() -> bool:
            h, s = group.state()
            return len(h) == DAEMONS and min(h) > 0 and sum(h) == args.clusters and s == servers - len(dead)
        t = wait_for(shared, 300, 0.5)
        if t is None:
            raise RuntimeError(f"not shared out after 300 s: {group.state()}")
        result["startup_s"] = round(time.monotonic() - started, 2)
        trials = []
        victims = iter(fleet.masters)
        for trial in range(args.trials):
            time.sleep(5)
            here, _ = group.state()
            alive = group.alive()
            big = alive[max(range(len(here)), key=lambda k: here[k])]
            orphaned = [k for k, o in owners(group.port(alive[0])).items() if o == f"daemon-{big}"]
            kill_at = time.monotonic()
            group.procs[big].send_signal(signal.SIGKILL)
            group.procs[big].wait()
            samples = []

            def watch():
                h, s = group.state()
                now = time.monotonic() - kill_at
                samples.append((now, h))
                return sum(x for x in h if x > 0) == args.clusters, s == servers - len(dead)
            monitored = streamed = None
            while time.monotonic() - kill_at < 120 and streamed is None:
                m, s = watch()
                if m and monitored is None:
                    monitored = time.monotonic() - kill_at
                if m and s:
                    streamed = time.monotonic() - kill_at
                time.sleep(0.1)
            if streamed is None:
                raise RuntimeError(f"trial {trial}: not every server streamed again: {group.state()}")
            # A master of an orphaned cluster, killed now.
            victim = next(v for v in victims if v in orphaned)
            killed_wall = time.time()
            assert fleet.command(f"kill {victim}")["ok"]
            dead.append(victim)
            detect = dead_master_seen(group.outputs(), victim, killed_wall, 30)
            if detect is None:
                raise RuntimeError(f"trial {trial}: no DeadMaster for {victim}")
            trials.append({"orphaned": len(orphaned), "monitored_again_s": round(monitored, 2),
                           "streamed_again_s": round(streamed, 2), "dead_master_ms": round(detect * 1000, 1)})
            if trial == 0:
                timeline = [(round(t, 2), h) for t, h in samples]
            # It comes back; the group gives it a share again.
            back = time.monotonic()
            group.start(big)
            rejoined = wait_for(shared, 120, 0.5)
            if rejoined is None:
                raise RuntimeError(f"trial {trial}: daemon-{big} did not get its share back: {group.state()}")
            trials[-1]["rejoined_s"] = round(time.monotonic() - back, 2)
            print(f"trial {trial + 1}: daemon-{big} SIGKILLed with {len(orphaned)} clusters: monitored again in "
                  f"{monitored:.2f} s, every server streamed again in {streamed:.2f} s; a master killed then: "
                  f"DeadMaster in {detect * 1000:.1f} ms; restarted, its share back in {trials[-1]['rejoined_s']} s",
                  flush=True)
        result["trials"] = trials
        result["monitored_again_s_median"] = statistics.median(t["monitored_again_s"] for t in trials)
        result["monitored_again_s_max"] = max(t["monitored_again_s"] for t in trials)
        result["dead_master_ms_median"] = statistics.median(t["dead_master_ms"] for t in trials)
        time.sleep(3)
        opened: dict[tuple[str, str], int] = {}
        for path in group.outputs():
            with open(path) as f:
                for line in f:
                    if '"analysis"' in line and '"OPENED"' in line:
                        a = json.loads(line)["analysis"]
                        if a["phase"] == "OPENED":
                            k = (a["analyzed_instance"], a["code"])
                            opened[k] = opened.get(k, 0) + 1
        result["analyses_opened"] = len(opened)
        result["analyses_opened_twice"] = sum(1 for n in opened.values() if n > 1)
    finally:
        group.stop()
        fleet.stop()
        subprocess.run([sys.executable, KAFKA_TOOL, "--dir", kafka_dir, "down"], capture_output=True)
        if os.environ.get("TIDEWATCH_KEEP"):
            print("kept", work, file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(result) if args.json else
          f"{DAEMONS} daemons, {args.clusters} clusters ({servers} servers): shared out in {result['startup_s']} s; "
          f"handover median {result['monitored_again_s_median']} s (max {result['monitored_again_s_max']} s); "
          f"DeadMaster after handover median {result['dead_master_ms_median']} ms; "
          f"{result['analyses_opened']} analyses opened, {result['analyses_opened_twice']} opened twice")
    if args.plot and timeline:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=(8, 4))
        width = max(len(h) for _, h in timeline)
        for d in range(width):
            ax.plot([t for t, h in timeline if len(h) > d], [h[d] for t, h in timeline if len(h) > d],
                    label=f"survivor {d + 1}")
        ax.plot([t for t, _ in timeline], [sum(x for x in h if x > 0) for _, h in timeline], "k--",
                label="all survivors")
        ax.axvline(0, color="red", alpha=0.5)
        ax.set_xlabel("seconds after one of three daemons is SIGKILLed")
        ax.set_ylabel("clusters monitored")
        ax.set_title(f"{args.clusters} simulated clusters, three daemons in one Kafka consumer group")
        ax.grid(True, alpha=0.3)
        ax.legend()
        fig.tight_layout()
        fig.savefig(args.plot, dpi=90)
        print("plot:", args.plot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
