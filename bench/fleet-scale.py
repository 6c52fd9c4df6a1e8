#!/usr/bin/env python3
"""One `tidewatch run` following a simulated fleet (tools/fleet: tidewatch-fleet), measured at several sizes.

For each size N (servers; clusters of five: a master and four replicas): the fleet is started (in processes
of at most 4,000 servers each: a process may hold 20,000 descriptors here), then `tidewatch run` with every
master as a seed. Measured:
  - discovery: from the daemon's start until it knows all N instances and streams from all N;
  - over a steady window: the daemon's resident memory, its CPU (user + system over wall time, in cores),
    events indexed per second and probes per second (from its /metrics);
  - detection: masters killed one at a time (the fleet resets their connections and refuses new ones, and
    their replicas report the IO thread failing to connect); the time from the kill to the DeadMaster
    analysis of that cluster appearing in the daemon's JSON-lines output; p50 and p99;
  - start-up from the index store: the daemon stopped (SIGTERM: indexes and topology written to its StateDir)
    and started again; the time until every live server is streamed again, and the events read by then
    (beside those the first start read before every server was streamed);
  - with --outage, the whole fleet lost at once (every fleet process SIGKILLed: every stream and probe
    connection reset, every port refused, as a network partition would look): the time until every cluster
    has its DeadMasterAndReplicas, and the daemon's CPU and /metrics answer time over the 10 s after.
Prints a table (and --json), and with --plot FILE draws memory, CPU, events/s and detection latency by size.

Usage: bench/fleet-scale.py [--sizes 1000,2000,5000,10000] [--kills 20] [--window 20] [--outage]
                             [--plot docs/fleet-scale.png]
Builds nothing: run `ninja -C build tidewatch tidewatch-fleet` first (Release).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, ".."))
BUILD = os.environ.get("TIDEWATCH_BUILD", os.path.join(ROOT, "build"))
TIDEWATCH = os.path.join(BUILD, "tools", "tidewatch")
FLEET = os.path.join(BUILD, "tools", "tidewatch-fleet")
PER_PROCESS = 4000
CLUSTER = 5


def metrics(port: int) -> dict[str, float]:
    out: dict[str, float] = {}
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=30) as r:
        for line in r.read().decode().splitlines():
            if line.startswith("#") or not line:
                continue
            name, _, value = line.rpartition(" ")
            key = name.split("{")[0]
            if key in ("tidewatch_stream_events_total", "tidewatch_probes_total", "tidewatch_instances",
                       "tidewatch_probe_failures_total", "tidewatch_probe_connects_total", "tidewatch_index_bytes", "tidewatch_stream_buffer_bytes"):
                out[key] = out.get(key, 0.0) + float(value)
            elif key == "tidewatch_streams":
                state = re.search(r'state="([a-z]+)"', name)
                out["streams_" + (state.group(1) if state else "?")] = float(value)
            elif key == "tidewatch_group_clusters":  # a daemon of a monitor group
                scope = re.search(r'scope="([a-z]+)"', name)
                out["group_clusters_" + (scope.group(1) if scope else "?")] = float(value)
    return out


def tools_built() -> bool:
    """Whether the binaries the benchmark runs are there (it builds nothing); says which is missing."""
    for tool in (TIDEWATCH, FLEET):
        if not os.access(tool, os.X_OK):
            print(f"{tool} is missing: ninja -C build tidewatch tidewatch-fleet", file=sys.stderr)
            return False
    return True


DAEMON_DESCRIPTORS = 65536


def daemon_limits() -> None:
    """The daemon's descriptor limit, as a service unit's LimitNOFILE would set it: two per followed server
    (its stream and its kept probe connection) and a reserve. Raising the hard limit needs root; without it
    the daemon keeps what it is given and probes the servers past its cap over fresh connections."""
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (DAEMON_DESCRIPTORS, DAEMON_DESCRIPTORS))
    except (ValueError, OSError):
        pass


def proc_cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


class FleetProcs:
    def __init__(self, servers: int, base_port: int):
        self.procs: list[subprocess.Popen] = []
        self.ranges: list[tuple[int, int, subprocess.Popen]] = []  # [first port, end) → process
        self.masters: list[str] = []
        clusters = servers // CLUSTER
        per = PER_PROCESS // CLUSTER
        port = base_port
        while clusters > 0:
            n = min(per, clusters)
            p = subprocess.Popen([FLEET, "--clusters", str(n), "--replicas", str(CLUSTER - 1), "--base-port", str(port)],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
            ready = json.loads(p.stdout.readline())
            assert ready.get("ready"), ready
            self.procs.append(p)
            self.ranges.append((port, port + n * CLUSTER, p))
            self.masters += ready["masters"]
            port += n * CLUSTER
            clusters -= n

    def command(self, line: str) -> dict:
        port = int(line.split()[1].rsplit(":", 1)[1])
        target = next(p for first, end, p in self.ranges if first <= port < end)
        target.stdin.write(line + "\n")
        target.stdin.flush()
        return json.loads(target.stdout.readline())

    def stop(self) -> None:
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()


def run_size(servers: int, kills: int, window: float, base_port: int, api_port: int, outage: bool = False) -> dict:
    work = tempfile.mkdtemp(prefix="tidewatch-fleet-")
    fleet = FleetProcs(servers, base_port)
    daemon = None
    try:
        # A heartbeat a second (silence detected after three): a kill is seen
        # by the connection's reset, not by the heartbeat; the index's bounds
        # as a fleet of this size would set them.
        conf = {"MySQLTopologyUser": "sim", "MySQLTopologyPassword": "sim", "DiscoverySeeds": fleet.masters,
                "InstancePollSeconds": 5, "ListenAddress": f"127.0.0.1:{api_port}",
                "StreamHeartbeatMilliseconds": 1000, "IndexWindowEvents": 16384, "IndexMaxEntries": 4096,
                "ProbeWorkers": max(8, servers // 250),
                "StateDir": os.path.join(work, "state")}
        with open(os.path.join(work, "tw.json"), "w") as f:
            json.dump(conf, f)
        out_path = os.path.join(work, "out.jsonl")
        log = open(os.path.join(work, "tidewatch.log"), "w")
        started = time.monotonic()
        daemon = subprocess.Popen([TIDEWATCH, "run", "-c", os.path.join(work, "tw.json"), "--jsonl", out_path],
                                  stdout=log, stderr=subprocess.STDOUT, preexec_fn=daemon_limits)
        discovered = streaming = None
        first_start_events = 0.0
        deadline = started + 600
        while time.monotonic() < deadline and streaming is None:
            time.sleep(0.5)
            try:
                m = metrics(api_port)
            except OSError:
                continue
            if discovered is None and m.get("tidewatch_instances", 0) >= servers:
                discovered = time.monotonic() - started
            if m.get("streams_streaming", 0) >= servers:
                streaming = time.monotonic() - started
                first_start_events = m.get("tidewatch_stream_events_total", 0)
        if streaming is None:
            raise RuntimeError(f"{servers} servers: not all streaming after 600 s: {metrics(api_port)}")
        time.sleep(5)  # past the first probes' burst
        m0, c0, t0 = metrics(api_port), proc_cpu_seconds(daemon.pid), time.monotonic()
        rss = []
        while time.monotonic() - t0 < window:
            time.sleep(1)
            rss.append(proc_rss_mb(daemon.pid))
        m1, c1, t1 = metrics(api_port), proc_cpu_seconds(daemon.pid), time.monotonic()
        wall = t1 - t0
        result = {
            "servers": servers,
            "discovered_s": round(discovered or streaming, 2),
            "all_streaming_s": round(streaming, 2),
            "rss_mb": round(max(rss), 1),
            "cpu_cores": round((c1 - c0) / wall, 3),
            "events_per_s": round((m1["tidewatch_stream_events_total"] - m0["tidewatch_stream_events_total"]) / wall),
            "probes_per_s": round((m1["tidewatch_probes_total"] - m0["tidewatch_probes_total"]) / wall, 1),
            "probe_connects_per_s": round((m1.get("tidewatch_probe_connects_total", 0)
                                           - m0.get("tidewatch_probe_connects_total", 0)) / wall, 1),
            "index_mb": round(m1.get("tidewatch_index_bytes", 0) / 1e6, 1),
            "stream_buffers_mb": round(m1.get("tidewatch_stream_buffer_bytes", 0) / 1e6, 1),
        }
        # Detection: one master at a time, from the kill to its DeadMaster line.
        latencies = []
        offset = os.path.getsize(out_path)
        for victim in fleet.masters[:kills]:
            with open(out_path, "rb") as f:
                f.seek(0, 2)
                offset = f.tell()
            killed = time.monotonic()
            assert fleet.command(f"kill {victim}")["ok"]
            seen = None
            with open(out_path, "rb") as f:
                f.seek(offset)
                for lines in whole_lines(f, killed + 30, 0.002):
                    if any(b'"DeadMaster"' in line and victim.encode() in line for line in lines):
                        seen = time.monotonic()
                        break
            if seen is None:
                raise RuntimeError(f"no DeadMaster for {victim} within 30 s")
            latencies.append((seen - killed) * 1000.0)
            time.sleep(0.3)
        latencies.sort()
        result["detection_p50_ms"] = round(statistics.median(latencies), 1)
        result["detection_p99_ms"] = round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))], 1)
        result["kills"] = len(latencies)
        result["first_start_events"] = int(first_start_events)
        # Start-up from the index store: stopped (its indexes and topology
        # written), then started again on the same StateDir.
        daemon.terminate()
        daemon.wait(timeout=300)
        alive = servers - len(latencies)
        restarted = time.monotonic()
        daemon = subprocess.Popen([TIDEWATCH, "run", "-c", os.path.join(work, "tw.json"), "--jsonl", out_path],
                                  stdout=log, stderr=subprocess.STDOUT, preexec_fn=daemon_limits)
        again = None
        while time.monotonic() - restarted < 600 and again is None:
            time.sleep(0.25)
            try:
                m = metrics(api_port)
            except OSError:
                continue
            if m.get("streams_streaming", 0) >= alive:
                again = time.monotonic() - restarted
                result["restart_events"] = int(m.get("tidewatch_stream_events_total", 0))
        if again is None:
            raise RuntimeError(f"{servers} servers: not all streaming again after a restart: {metrics(api_port)}")
        result["restart_all_streaming_s"] = round(again, 2)
        if outage:
            result.update(whole_fleet_lost(fleet, daemon, out_path, servers // CLUSTER, api_port))
        return result
    finally:
        if daemon is not None:
            daemon.terminate()
            try:
                daemon.wait(timeout=30)
            except subprocess.TimeoutExpired:
                daemon.kill()
        fleet.stop()
        shutil.rmtree(work, ignore_errors=True)


def whole_lines(f, deadline: float, pause: float):
    """The whole lines appended to the open file `f` since the last batch, a batch at a time (pausing `pause`
    seconds between reads), until time.monotonic() passes `deadline`."""
    pending = b""  # a line not yet whole
    while time.monotonic() < deadline:
        lines = (pending + f.read()).split(b"\n")
        pending = lines.pop()
        yield lines
        time.sleep(pause)


def whole_fleet_lost(fleet: FleetProcs, daemon: subprocess.Popen, out_path: str, clusters: int, api_port: int) -> dict:
    """Every fleet process SIGKILLed at once; the time until every cluster has a DeadMasterAndReplicas OPENED
    after it, then the daemon's CPU and its /metrics answer time over 10 s."""
    time.sleep(5)  # the restarted daemon past its first probes
    offset = os.path.getsize(out_path)
    lost = time.monotonic()
    for p in fleet.procs:
        p.kill()
    seen: set[str] = set()
    whole = None
    with open(out_path, "rb") as f:
        f.seek(offset)
        for lines in whole_lines(f, lost + 120, 0.05):
            for line in lines:
                if b'"DeadMasterAndReplicas"' in line and b'"OPENED"' in line:
                    a = json.loads(line).get("analysis", {})
                    if a.get("code") == "DeadMasterAndReplicas":
                        seen.add(a.get("analyzed_instance", ""))
            if len(seen) >= clusters:
                whole = time.monotonic() - lost
                break
    c0, t0 = proc_cpu_seconds(daemon.pid), time.monotonic()
    answers = []
    while time.monotonic() - t0 < 10:
        t = time.monotonic()
        metrics(api_port)
        answers.append((time.monotonic() - t) * 1000.0)
        time.sleep(1)
    return {"outage_clusters_reported": len(seen), "outage_all_reported_s": round(whole, 2) if whole else None,
            "outage_cpu_cores": round((proc_cpu_seconds(daemon.pid) - c0) / (time.monotonic() - t0), 3),
            "outage_metrics_ms_max": round(max(answers), 1)}


def plot(results: list[dict], path: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    xs = [r["servers"] for r in results]
    fig, ax = plt.subplots(2, 2, figsize=(10, 7))
    for a, key, title in ((ax[0][0], "rss_mb", "resident memory (MB)"), (ax[0][1], "cpu_cores", "CPU (cores)"),
                          (ax[1][0], "events_per_s", "events indexed per second"),
                          (ax[1][1], None, "DeadMaster detection (ms)")):
        if key:
            a.plot(xs, [r[key] for r in results], marker="o")
        else:
            a.plot(xs, [r["detection_p50_ms"] for r in results], marker="o", label="p50")
            a.plot(xs, [r["detection_p99_ms"] for r in results], marker="o", label="p99")
            a.legend()
        a.set_title(title)
        a.set_xlabel("simulated servers")
        a.grid(True, alpha=0.3)
    fig.suptitle("tidewatch run following a simulated fleet (2-core VM)")
    fig.tight_layout()
    fig.savefig(path, dpi=90)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1000,2000,5000,10000")
    ap.add_argument("--kills", type=int, default=20)
    ap.add_argument("--window", type=float, default=20.0)
    ap.add_argument("--base-port", type=int, default=11000)
    ap.add_argument("--api-port", type=int, default=10999)
    ap.add_argument("--plot", default="")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--outage", action="store_true", help="at the end of each size, lose the whole fleet at once")
    args = ap.parse_args()
    if not tools_built():
        return 2
    results = []
    for n in (int(x) for x in args.sizes.split(",")):
        r = run_size(n, args.kills, args.window, args.base_port, args.api_port, args.outage)
        results.append(r)
        print(json.dumps(r) if args.json else
              f"{r['servers']:>6} servers: discovered {r['discovered_s']} s, all streaming {r['all_streaming_s']} s, "
              f"RSS {r['rss_mb']} MB (indexes {r['index_mb']} MB, stream buffers {r['stream_buffers_mb']} MB), "
              f"CPU {r['cpu_cores']} cores, {r['events_per_s']} events/s, "
              f"{r['probes_per_s']} probes/s, DeadMaster p50 {r['detection_p50_ms']} ms p99 {r['detection_p99_ms']} ms "
              f"({r['kills']} kills); restarted from its index store: all streaming {r['restart_all_streaming_s']} s "
              f"having read {r['restart_events']} events (the first start: {r['first_start_events']})"
              + (f"; whole fleet lost: {r['outage_clusters_reported']} clusters DeadMasterAndReplicas in "
                 f"{r['outage_all_reported_s']} s, then {r['outage_cpu_cores']} cores, /metrics at most "
                 f"{r['outage_metrics_ms_max']} ms" if "outage_cpu_cores" in r else ""), flush=True)
    if args.plot:
        plot(results, args.plot)
        print("plot:", args.plot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
