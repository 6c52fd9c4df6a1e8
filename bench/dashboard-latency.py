#!/usr/bin/python3
"""The dashboard's figures (bench/README.md, "The dashboard"), in Debian's headless
Chromium under Selenium (chromium, chromium-driver, python3-selenium).

  deadmaster  kill -9 of a sandbox master ('m>r1,r2', ports 27300…) followed by a real
              `tidewatch run` (API 27995) → the DeadMaster badge in the page, measured in
              the page (a MutationObserver's Date.now() minus the time of the kill, one
              clock): --trials times; the master is restarted and the analysis closed
              between trials.
  synthetic   the page's own files (server/dashboard/) served by a small Python server
              that answers the API with a generated 200-instance topology (one master,
              9 intermediate masters, 190 replicas) and streams --rate instance changes a
              second on /api/stream for --seconds: the time to the first drawn tree, a
              full re-render, and for the updates: detection → on the page latency,
              render time per frame, long tasks, and the event loop's delay.

usage: bench/dashboard-latency.py [deadmaster|synthetic|all] [--trials 10] [--rate 100] [--seconds 20]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.realpath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools", "pylib"))

from tidewatch_browser import ROOT, Daemon, Sandbox, chromium, quit_chromium  # noqa: E402
from tidewatch_proc import wait_until  # noqa: E402


def pct(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))] if v else float("nan")


# ---------------------------------------------------------------------------

def dead_master(trials: int) -> None:
    work = tempfile.mkdtemp(prefix="tidewatch-dashboard-bench-")
    sb = Sandbox(os.path.join(work, "sb"), "m>r1,r2", 27300)
    daemon = Daemon(os.path.join(work, "daemon"), 27995, [])
    browser = None
    try:
        sb.up()
        daemon.config["DiscoverySeeds"] = [sb.key("m")]
        with open(daemon.conf_path, "w") as f:
            json.dump(daemon.config, f)
        daemon.start()
        browser = chromium()
        browser.get(f"http://127.0.0.1:27995/#/cluster/{sb.key('m')}")
        wait_until(lambda: browser.execute_script("return document.querySelectorAll('.tree .node').length") == 3, 20)
        samples = []
        for i in range(trials):
            wait_until(lambda: browser.execute_script(
                "return tidewatchDashboard.state.live && tidewatchDashboard.state.analyses.size == 0"), 60)
            time.sleep(1.0)
            browser.execute_script("""
                window.deadMasterSeen = 0;
                new MutationObserver((_, obs) => {
                  if (document.querySelector('.node [data-analysis="DeadMaster"]')) { window.deadMasterSeen = Date.now(); obs.disconnect(); }
                }).observe(document.body, {subtree: true, childList: true});""")
            killed = sb.kill9("m")
            seen = wait_until(lambda: browser.execute_script("return window.deadMasterSeen"), 30, 0.01)
            samples.append(seen - killed * 1000)
            print(f"trial {i + 1}: {samples[-1]:.0f} ms", file=sys.stderr)
            sb.start("m")
        print(f"deadmaster: kill -9 -> DeadMaster on the page, {trials} trials: "
              f"p50 {statistics.median(samples):.0f} ms, min {min(samples):.0f}, max {max(samples):.0f} ms")
    finally:
        if browser:
            quit_chromium(browser)
        daemon.stop()
        sb.down()
        shutil.rmtree(work, ignore_errors=True)


# ---------------------------------------------------------------------------

def now_rfc3339() -> str:
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")


def synthetic_topology():
    """200 instances: master :30000, intermediates :30001-30009, replicas :30010-30199."""
    keys = [f"10.0.0.1:{30000 + i}" for i in range(200)]
    master = {keys[0]: ""}
    for i in range(1, 10):
        master[keys[i]] = keys[0]
    for i in range(10, 200):
        master[keys[i]] = keys[1 + (i - 10) % 9]
    return keys, master


def orchestrator_instance(key: str, master: str, lag: int) -> dict:
    host, port = key.rsplit(":", 1)
    mk = master.rsplit(":", 1) if master else ["", "0"]
    return {
        "Key": {"Hostname": host, "Port": int(port)}, "MasterKey": {"Hostname": mk[0], "Port": int(mk[1])},
        "ClusterName": "10.0.0.1:30000", "Version": "10.11.19-MariaDB-log", "ServerID": int(port),
        "Binlog_format": "ROW", "ReadOnly": bool(master), "LogBinEnabled": True, "LogReplicationUpdatesEnabled": True,
        "ReplicationIOThreadRuning": bool(master), "ReplicationSQLThreadRuning": bool(master),
        "SecondsBehindMaster": {"Int64": lag, "Valid": bool(master)}, "DataCenter": f"dc{int(port) % 3}",
        "PromotionRule": "neutral", "IsLastCheckValid": True, "IsDowntimed": False,
        "TidewatchStream": {"State": "streaming", "Reason": "", "Events": 0,
                            "Coordinates": {"LogFile": "b.000001", "LogPos": 4, "Type": 0}},
    }


class FakeApi(BaseHTTPRequestHandler):
    keys, master = synthetic_topology()
    rate = 100
    seconds = 20
    stream_started = threading.Event()
    sent = 0

    def log_message(self, *args):
        pass

    def send(self, body: bytes, ctype: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):  # noqa: N802
        path = self.path.split("?")[0]
        files = {"/": "index.html", "/dashboard/dashboard.js": "dashboard.js", "/dashboard/dashboard.css": "dashboard.css",
                 "/dashboard/index.html": "index.html"}
        types = {"html": "text/html", "js": "text/javascript", "css": "text/css"}
        if path in files:
            with open(os.path.join(ROOT, "server", "dashboard", files[path]), "rb") as f:
                return self.send(f.read(), types[files[path].rsplit(".", 1)[1]])
        j = lambda o: self.send(json.dumps(o).encode(), "application/json")  # noqa: E731
        if path == "/api/dashboard-rights":
            return j({"User": "", "CanChange": True, "ReadOnly": False, "RecoveryConsumer": False, "GracefulTakeover": False})
        if path == "/api/clusters-info":
            return j([{"ClusterName": "10.0.0.1:30000", "ClusterAlias": "synthetic", "CountInstances": 200}])
        if path.startswith("/api/cluster/"):
            return j([orchestrator_instance(k, self.master[k], 0) for k in self.keys])
        if path == "/api/replication-analysis":
            return j({"Code": "OK", "Message": "Analysis", "Details": []})
        if path in ("/api/maintenance", "/api/audit-recovery"):
            return j([])
        if path == "/api/stream":
            return self.stream()
        self.send_response(404)
        self.end_headers()

    def stream(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        FakeApi.stream_started.set()
        interval = 1.0 / self.rate
        start = time.monotonic()
        n = 0
        try:
            while time.monotonic() - start < self.seconds + 5:
                k = random.choice(self.keys[1:])
                host, port = k.rsplit(":", 1)
                msg = {"schema_version": 1, "sequence": str(n), "detection_time": now_rfc3339(),
                       "source": {"server": k, "cluster": "10.0.0.1:30000"},
                       "instance": {"kind": "CHANGED", "changed_fields": ["seconds_behind_master"], "instance": {
                           "key": k, "version": "10.11.19-MariaDB-log", "server_id": int(port), "read_only": True,
                           "log_bin": True, "log_replica_updates": True, "binlog_format": "ROW",
                           "master_key": self.master[k], "replica_io_running": True, "replica_sql_running": True,
                           "seconds_behind_master": str(random.randint(0, 30)), "data_center": f"dc{int(port) % 3}",
                           "promotion_rule": "neutral"}}}
                self.wfile.write(f"event: instance\ndata: {json.dumps(msg)}\n\n".encode())
                self.wfile.flush()
                n += 1
                FakeApi.sent = n
                time.sleep(max(0.0, start + n * interval - time.monotonic()))
        except (BrokenPipeError, ConnectionResetError):
            pass


def synthetic(rate: int, seconds: int) -> None:
    FakeApi.rate, FakeApi.seconds = rate, seconds
    server = ThreadingHTTPServer(("127.0.0.1", 27996), FakeApi)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    browser = chromium()
    try:
        browser.get("http://127.0.0.1:27996/#/cluster/10.0.0.1:30000")
        wait_until(lambda: browser.execute_script("return tidewatchDashboard.stats.firstTreeMs") > 0, 30)
        first = browser.execute_script("return tidewatchDashboard.stats.firstTreeMs")
        nodes = browser.execute_script("return document.querySelectorAll('.tree .node').length")
        full = browser.execute_script("""const t = [];
            for (let i = 0; i < 20; i++) { drawn = ""; const s = performance.now(); render(true); t.push(performance.now() - s); }
            return t;""")
        # Under the stream: responsiveness probes.
        browser.execute_script("""
            tidewatchDashboard.stats.applyLatencyMs = [];
            window.bench = {longTasks: [], delays: [], renders0: tidewatchDashboard.stats.renders,
                            renderMs0: tidewatchDashboard.stats.renderMs, messages0: tidewatchDashboard.stats.messages};
            new PerformanceObserver(l => l.getEntries().forEach(e => bench.longTasks.push(e.duration)))
              .observe({entryTypes: ['longtask']});
            let last = performance.now();
            bench.probe = setInterval(() => { const n = performance.now(); bench.delays.push(n - last - 50); last = n; }, 50);""")
        time.sleep(seconds)
        r = browser.execute_script("""clearInterval(bench.probe);
            const s = tidewatchDashboard.stats;
            return {lat: s.applyLatencyMs, longTasks: bench.longTasks, delays: bench.delays,
                    renders: s.renders - bench.renders0, renderMs: s.renderMs - bench.renderMs0,
                    messages: s.messages - bench.messages0,
                    nodes: document.querySelectorAll('.tree .node').length};""")
        print(f"synthetic: {nodes} instances drawn {first:.0f} ms after navigation start; "
              f"full re-render p50 {statistics.median(full):.1f} ms (max {max(full):.1f})")
        print(f"synthetic: {r['messages']} instance changes in {seconds} s ({r['messages'] / seconds:.0f}/s), "
              f"{r['renders']} renders, {r['renderMs'] / max(1, r['renders']):.2f} ms per render; "
              f"detection -> on the page p50 {pct(r['lat'], 50):.0f} ms, p99 {pct(r['lat'], 99):.0f} ms; "
              f"long tasks (>50 ms): {len(r['longTasks'])}; event-loop delay p99 {pct(r['delays'], 99):.1f} ms, "
              f"max {max(r['delays'] or [0]):.1f} ms; nodes after: {r['nodes']}")
    finally:
        quit_chromium(browser)
        server.shutdown()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", nargs="?", default="all", choices=["deadmaster", "synthetic", "all"])
    ap.add_argument("--trials", type=int, default=10)
    ap.add_argument("--rate", type=int, default=100)
    ap.add_argument("--seconds", type=int, default=20)
    a = ap.parse_args()
    if a.what in ("synthetic", "all"):
        synthetic(a.rate, a.seconds)
    if a.what in ("deadmaster", "all"):
        dead_master(a.trials)


if __name__ == "__main__":
    main()
