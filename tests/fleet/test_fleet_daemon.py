#!/usr/bin/env python3
"""`tidewatch run` following a simulated fleet (tools/fleet: tidewatch-fleet) of 20 clusters of three.

The daemon discovers every cluster from its master, follows every server with a stream, and reports what
the simulated failures are: a killed master as DeadMaster (its replicas fail to connect), a hung master
(it accepts and answers nothing) as a master that cannot be reached while its replicas still replicate,
and a replica whose IO thread broke as not replicating. Run: python3 tests/fleet/test_fleet_daemon.py -v
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(SOURCE, "tools", "pylib"))

from tidewatch_cli import tail  # noqa: E402
from tidewatch_proc import wait_gone, wait_until  # noqa: E402

BUILD = os.environ.get("TIDEWATCH_BUILD", os.path.join(SOURCE, "build"))
TIDEWATCH = os.environ.get("TIDEWATCH_BINARY") or os.path.join(BUILD, "tools", "tidewatch")
FLEET = os.environ.get("TIDEWATCH_FLEET_BINARY") or os.path.join(BUILD, "tools", "tidewatch-fleet")
BASE_PORT = 25860
API_PORT = 25859
CLUSTERS = 20


class FleetDaemonTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        for tool in (TIDEWATCH, FLEET):
            if not os.access(tool, os.X_OK):
                raise AssertionError(f"{tool} is missing (build it first)")
        cls.dir = tempfile.mkdtemp(prefix="tidewatch-fleet-test-")
        # Binlogs rotate every second and the last two are kept: a stream
        # away for longer finds its position purged.
        cls.fleet = subprocess.Popen([FLEET, "--clusters", str(CLUSTERS), "--replicas", "2", "--base-port",
                                      str(BASE_PORT), "--tps", "50", "--transactions-per-file", "50",
                                      "--files-kept", "2"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        cls.daemon = None
        try:
            ready = json.loads(cls.fleet.stdout.readline())
            assert ready["ready"] and ready["servers"] == CLUSTERS * 3, ready
            cls.masters = ready["masters"]
            conf = os.path.join(cls.dir, "tidewatch.conf.json")
            with open(conf, "w") as f:
                json.dump({"MySQLTopologyUser": "sim", "MySQLTopologyPassword": "sim", "DiscoverySeeds": cls.masters,
                           "InstancePollSeconds": 2, "ListenAddress": f"127.0.0.1:{API_PORT}",
                           "StateDir": os.path.join(cls.dir, "state")}, f)
            cls.out = os.path.join(cls.dir, "out.jsonl")
            cls.log = os.path.join(cls.dir, "tidewatch.log")
            with open(cls.log, "w") as log:
                cls.daemon = subprocess.Popen([TIDEWATCH, "run", "-c", conf, "--jsonl", cls.out], stdout=log,
                                              stderr=subprocess.STDOUT)
            if not wait_until(lambda: cls.streaming() == CLUSTERS * 3, 60):
                raise AssertionError("not every simulated server is streamed:\n" + tail(cls.log))
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.daemon is not None and cls.daemon.poll() is None:
            cls.daemon.terminate()
            if not wait_gone(cls.daemon.pid, 20):
                cls.daemon.kill()
            cls.daemon.wait()
        cls.fleet.stdin.close()
        try:
            cls.fleet.wait(timeout=20)
        except subprocess.TimeoutExpired:
            cls.fleet.kill()
        shutil.rmtree(cls.dir, ignore_errors=True)

    @classmethod
    def get(cls, path: str):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{API_PORT}{path}", timeout=10) as r:
                body = r.read().decode()
                return json.loads(body) if path != "/metrics" else body
        except OSError:
            return None

    @classmethod
    def streaming(cls) -> int:
        m = cls.get("/metrics") or ""
        for line in m.splitlines():
            if line.startswith('tidewatch_streams{state="streaming"}'):
                return int(float(line.split()[-1]))
        return 0

    def command(self, line: str) -> dict:
        self.fleet.stdin.write(line + "\n")
        self.fleet.stdin.flush()
        return json.loads(self.fleet.stdout.readline())

    def analyses(self, key: str) -> set[str]:
        codes = set()
        with open(self.out) as f:
            for line in f:
                if key in line and '"analysis"' in line:
                    a = json.loads(line).get("analysis", {})
                    if a.get("instance") == key or a.get("cluster") == key or key in json.dumps(a):
                        codes.add(a.get("code", ""))
        return codes

    def test_1_discovery(self):
        self.assertEqual(sorted(self.get("/api/clusters")), sorted(self.masters))
        cluster = self.get(f"/api/cluster/{self.masters[3]}")
        self.assertEqual(len(cluster), 3)
        replicas = sorted(i["Key"]["Port"] for i in cluster if i["MasterKey"]["Port"] != 0)
        port = int(self.masters[3].rsplit(":", 1)[1])
        self.assertEqual(replicas, [port + 1, port + 2])
        events = [float(l.split()[-1]) for l in self.get("/metrics").splitlines()
                  if l.startswith("tidewatch_stream_events_total")]
        self.assertGreater(sum(events), 0)

    def test_2_killed_master_is_dead(self):
        victim = self.masters[5]
        killed = time.monotonic()
        self.assertTrue(self.command(f"kill {victim}")["ok"])
        self.assertTrue(wait_until(lambda: "DeadMaster" in self.analyses(victim), 10),
                        f"{self.analyses(victim)}\n" + tail(self.log))
        self.assertLess(time.monotonic() - killed, 10)

    def test_3_hung_master_is_unreachable_not_dead(self):
        victim = self.masters[7]
        self.assertTrue(self.command(f"hang {victim}")["ok"])
        self.assertTrue(wait_until(lambda: "UnreachableMaster" in self.analyses(victim), 30),
                        f"{self.analyses(victim)}\n" + tail(self.log))
        self.assertNotIn("DeadMaster", self.analyses(victim))

    def test_4_broken_replica(self):
        port = int(self.masters[9].rsplit(":", 1)[1]) + 1
        replica = f"127.0.0.1:{port}"
        self.assertTrue(self.command(f"break {replica}")["ok"])

        def stopped():
            i = self.get(f"/api/instance/127.0.0.1/{port}") or {}
            return i.get("Slave_IO_Running") is False and "1236" in i.get("LastIOError", "")
        self.assertTrue(wait_until(stopped, 15), json.dumps(self.get(f"/api/instance/127.0.0.1/{port}"))[:2000])

    def test_5_purged_position_resumes_from_the_oldest_binlog(self):
        # The daemon frozen past the servers' binlog retention: its streams'
        # positions are purged when it resumes; each stream fails at once
        # and is reopened from the server's oldest binlog.
        os.kill(self.daemon.pid, signal.SIGSTOP)
        time.sleep(4)
        os.kill(self.daemon.pid, signal.SIGCONT)
        with open(self.out) as f:
            f.seek(0, 2)
            start = f.tell()
        self.assertTrue(wait_until(lambda: self.streaming() >= CLUSTERS * 3 - 8, 60),
                        f"{self.streaming()} streaming\n" + tail(self.log))
        with open(self.out) as f:
            f.seek(start)
            after = f.read()
        self.assertIn("1236", after, "the servers refused the purged positions")


if __name__ == "__main__":
    unittest.main()
