#!/usr/bin/env python3
"""Three `tidewatch run` daemons sharing a simulated fleet through a Kafka consumer group (MonitorGroup).

A real Kafka broker (tools/kafka/tidewatch-kafka) and 30 simulated clusters of three (tidewatch-fleet). The
seeds of 25 clusters are given to the first daemon's config, the other five to the second daemon's
/api/discover: every record lands on the daemon the group gives its partition, and each cluster is monitored by
exactly one daemon. Any daemon answers for any cluster (forwarded to its owner). A master killed before a daemon is
SIGKILLed is reported once; after the group's session timeout the survivors take that daemon's clusters, adopt the
open DeadMaster without opening it again, and report a master killed afterwards — each analysis exactly once on
Kafka. Run: python3 tests/fleet/test_fleet_group.py -v
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
KAFKA_TOOL = os.path.join(SOURCE, "tools", "kafka", "tidewatch-kafka")
KAFKA_PORT = 29600  # and 29601 (controller)
BASE_PORT = 28400   # servers 28400-28489
API_PORTS = [28500, 28501, 28502]
CLUSTERS = 30
PREFIX = "twgroup"
PARTITIONS = 6  # KafkaTopicPartitions' default
# The target: orphaned clusters monitored again within 10 s of the kill.
HANDOVER_LIMIT = 10.0


def kafka(base: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, KAFKA_TOOL, "--dir", base, *args], capture_output=True, text=True,
                          timeout=900, check=True)


def get(port: int, path: str, headers: bool = False):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30) as r:
            body = r.read().decode()
            value = body if path == "/metrics" else json.loads(body)
            return (value, dict(r.headers)) if headers else value
    except OSError:
        return (None, {}) if headers else None


def metric(port: int, name: str) -> float:
    for line in (get(port, "/metrics") or "").splitlines():
        sample, _, value = line.rpartition(" ")
        if sample == name:
            return float(value)
    return 0.0


class FleetGroupTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        for tool in (TIDEWATCH, FLEET):
            if not os.access(tool, os.X_OK):
                raise AssertionError(f"{tool} is missing (build it first)")
        cls.dir = tempfile.mkdtemp(prefix="tidewatch-group-test-")
        cls.kafka_dir = os.path.join(cls.dir, "kafka")
        cls.fleet = None
        cls.daemons: list[subprocess.Popen | None] = []
        cls.failed = False
        try:
            kafka(cls.kafka_dir, "up", "--port", str(KAFKA_PORT))
            cls.fleet = subprocess.Popen([FLEET, "--clusters", str(CLUSTERS), "--replicas", "2", "--base-port",
                                          str(BASE_PORT), "--tps", "20"],
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
            ready = json.loads(cls.fleet.stdout.readline())
            assert ready["ready"] and ready["servers"] == CLUSTERS * 3, ready
            cls.masters = ready["masters"]
            for i, port in enumerate(API_PORTS):
                conf = os.path.join(cls.dir, f"d{i}.conf.json")
                with open(conf, "w") as f:
                    json.dump({"MySQLTopologyUser": "sim", "MySQLTopologyPassword": "sim",
                               "DiscoverySeeds": cls.masters[:25] if i == 0 else [],
                               "InstancePollSeconds": 2, "ListenAddress": f"127.0.0.1:{port}",
                               "StateDir": os.path.join(cls.dir, f"state{i}"), "ProducerId": f"daemon-{i}",
                               "KafkaBrokers": f"127.0.0.1:{KAFKA_PORT}", "KafkaTopicPrefix": PREFIX,
                               "MonitorGroup": "tidewatch-test-group",
                               "DetectClusterAliasQuery": "select cluster_name from meta.cluster where anchor = 1"},
                              f)
                with open(os.path.join(cls.dir, f"d{i}.log"), "w") as log:
                    cls.daemons.append(subprocess.Popen([TIDEWATCH, "run", "-c", conf, "--jsonl",
                                                         os.path.join(cls.dir, f"d{i}.jsonl")], stdout=log,
                                                        stderr=subprocess.STDOUT))
            for m in cls.masters[25:]:
                host, port = m.rsplit(":", 1)
                assert wait_until(lambda: get(API_PORTS[1], f"/api/discover/{host}/{port}") is not None, 30), m
            if not wait_until(lambda: cls.owned() == [CLUSTERS, CLUSTERS, CLUSTERS] and
                              sum(cls.here()) == CLUSTERS and cls.streaming() == CLUSTERS * 3, 90):
                raise AssertionError(f"the fleet is not shared out: records {cls.owned()}, monitored {cls.here()}, "
                                     f"{cls.streaming()} streaming\n" + cls.logs())
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        for d in cls.daemons:
            if d is not None and d.poll() is None:
                d.terminate()
                if not wait_gone(d.pid, 20):
                    d.kill()
                d.wait()
        if cls.fleet is not None:
            cls.fleet.stdin.close()
            try:
                cls.fleet.wait(timeout=20)
            except subprocess.TimeoutExpired:
                cls.fleet.kill()
        try:
            kafka(cls.kafka_dir, "down")
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as e:
            print(f"kafka down: {e}", file=sys.stderr)
        if os.environ.get("TIDEWATCH_KEEP"):
            print(f"kept {cls.dir}", file=sys.stderr)
        else:
            shutil.rmtree(cls.dir, ignore_errors=True)

    @classmethod
    def alive(cls) -> list[int]:
        return [API_PORTS[i] for i, d in enumerate(cls.daemons) if d is not None and d.poll() is None]

    @classmethod
    def owned(cls) -> list[int]:
        return [int(metric(p, 'tidewatch_group_clusters{scope="group"}')) for p in cls.alive()]

    @classmethod
    def here(cls) -> list[int]:
        return [int(metric(p, 'tidewatch_group_clusters{scope="here"}')) for p in cls.alive()]

    @classmethod
    def partitions(cls) -> int:
        return sum(int(metric(p, "tidewatch_group_partitions")) for p in cls.alive())

    @classmethod
    def streaming(cls) -> int:
        return sum(int(metric(p, 'tidewatch_streams{state="streaming"}')) for p in cls.alive())

    @classmethod
    def logs(cls) -> str:
        return "\n".join(f"--- daemon {i}\n" + tail(os.path.join(cls.dir, f"d{i}.log")) for i in range(len(API_PORTS)))

    @classmethod
    def owner_of(cls, master: str) -> int:
        """The index of the daemon that monitors `master`'s cluster."""
        for i, port in enumerate(API_PORTS):
            if port not in cls.alive():
                continue
            group = get(port, "/api/monitor-group") or {}
            for r in group.get("Records", []):
                if r["MonitoredHere"] and master in r["Seeds"]:
                    return i
        return -1

    def analyses(self) -> list[dict]:
        """Every analysis message on Kafka, in order."""
        out = subprocess.run([TIDEWATCH, "tail", "--kafka", f"127.0.0.1:{KAFKA_PORT}", "--topic",
                              f"{PREFIX}.analysis", "--from-beginning", "--idle-exit-ms", "1500"],
                             capture_output=True, text=True, timeout=120)
        return [json.loads(l)["analysis"] for l in out.stdout.splitlines() if '"analysis"' in l]

    def opened(self, instance: str, code: str = "DeadMaster") -> int:
        return sum(1 for a in self.analyses() if a.get("analyzed_instance") == instance and a.get("code") == code
                   and a.get("phase") == "OPENED")

    def command(self, line: str) -> dict:
        self.fleet.stdin.write(line + "\n")
        self.fleet.stdin.flush()
        return json.loads(self.fleet.stdout.readline())

    def test_1_every_cluster_once_and_any_daemon_answers(self):
        def records():
            return (get(API_PORTS[0], "/api/monitor-group") or {}).get("Records", [])
        # Each owner writes its cluster's members into its record.
        self.assertTrue(wait_until(lambda: all(len(r["Seeds"]) == 3 for r in records()), 20), records())
        records = records()
        self.assertEqual(sorted(r["Key"] for r in records), sorted(self.masters))
        owners = {r["Key"]: r["Owner"] for r in records}
        self.assertEqual(set(owners.values()), {"daemon-0", "daemon-1", "daemon-2"}, owners)
        # Each daemon lists every cluster of the fleet, and answers about one another daemon monitors.
        for port in API_PORTS:
            self.assertEqual(sorted(get(port, "/api/clusters") or []), sorted(self.masters), port)
        for i, port in enumerate(API_PORTS):
            other = next(m for m in self.masters if self.owner_of(m) not in (i, -1))
            body, headers = get(port, f"/api/cluster/{other}", headers=True)
            self.assertEqual(len(body or []), 3, body)
            self.assertIn("X-Tidewatch-Owner", headers)
            host, p = other.rsplit(":", 1)
            inst = get(port, f"/api/instance/{host}/{p}")
            self.assertEqual(inst["Key"]["Port"], int(p))

    def test_1b_a_cluster_named_by_its_alias_is_answered_by_any_daemon(self):
        def records():
            return (get(API_PORTS[0], "/api/monitor-group") or {}).get("Records", [])
        # Each owner writes its cluster's alias (DetectClusterAliasQuery) into its record.
        self.assertTrue(wait_until(lambda: all(r["ClusterAlias"].startswith("sim-cluster-") for r in records()), 20),
                        records())
        aliases = {r["Key"]: r["ClusterAlias"] for r in records()}
        self.assertEqual(len(set(aliases.values())), CLUSTERS, aliases)
        for i, port in enumerate(API_PORTS):
            other = next(m for m in self.masters if self.owner_of(m) not in (i, -1))
            for path in (f"/api/cluster/alias/{aliases[other]}", f"/api/cluster/{aliases[other]}"):
                body, headers = get(port, path, headers=True)
                self.assertEqual(len(body or []), 3, (path, body))
                self.assertIn(other, [f"{x['Key']['Hostname']}:{x['Key']['Port']}" for x in body or []], path)
                self.assertIn("X-Tidewatch-Owner", headers, path)

    def test_2_a_killed_daemon_is_replaced_and_nothing_is_reported_twice(self):
        victim = self.owner_of(self.masters[0])
        self.assertGreaterEqual(victim, 0)
        theirs = [m for m in self.masters if self.owner_of(m) == victim]
        self.assertGreaterEqual(len(theirs), 2, "the victim monitors too few clusters for this test")
        first, second = theirs[0], theirs[1]
        # A failure open when the daemon dies.
        self.assertTrue(self.command(f"kill {first}")["ok"])
        self.assertTrue(wait_until(lambda: self.opened(first) == 1, 20), self.logs())
        killed = time.monotonic()
        self.daemons[victim].send_signal(signal.SIGKILL)
        self.daemons[victim].wait()
        # Every orphaned cluster monitored again: all 30 here, all live servers streamed.
        ok = wait_until(lambda: sum(self.here()) == CLUSTERS and self.streaming() == CLUSTERS * 3 - 1, 60,
                        interval=0.2)
        took = time.monotonic() - killed
        self.assertTrue(ok, f"monitored {self.here()}, {self.streaming()} streaming\n" + self.logs())
        print(f"\norphaned clusters monitored again {took:.1f} s after the kill", file=sys.stderr)
        self.assertLess(took, HANDOVER_LIMIT, self.logs())
        for m in theirs:
            self.assertNotIn(self.owner_of(m), (victim, -1), m)
        # A master killed afterwards in an orphaned cluster.
        self.assertTrue(self.command(f"kill {second}")["ok"])
        self.assertTrue(wait_until(lambda: self.opened(second) == 1, 20), self.logs())
        time.sleep(3)
        # Once each: the open one adopted, not opened again; nothing closed that is still true.
        self.assertEqual(self.opened(first), 1)
        self.assertEqual(self.opened(second), 1)
        closed = [a for a in self.analyses() if a.get("analyzed_instance") in (first, second)
                  and a.get("code") == "DeadMaster" and a.get("phase") == "CLOSED"]
        self.assertEqual(closed, [])
        # Every survivor's analysis shows both failures, whichever monitors them.
        for port in self.alive():
            found = {(a["AnalyzedInstanceKey"]["Hostname"] + ":" + str(a["AnalyzedInstanceKey"]["Port"]), a["Analysis"])
                     for a in (get(port, "/api/replication-analysis") or {}).get("Details", [])}
            self.assertIn((first, "DeadMaster"), found, port)
            self.assertIn((second, "DeadMaster"), found, port)


    def test_3_a_broker_outage_blinds_nothing(self):
        # The broker stopped for longer than the group's session: the daemons
        # lose their partitions as far as the group is concerned, yet keep
        # watching their clusters; once it is back, the group shares the fleet
        # out again, each cluster once.
        before = self.streaming()
        kafka(self.kafka_dir, "stop")
        try:
            time.sleep(12)  # twice the session timeout
            self.assertEqual(sum(self.here()), CLUSTERS)
            self.assertGreaterEqual(self.streaming(), before - 1)
            for port in self.alive():
                self.assertIsNotNone(get(port, "/api/clusters"), port)
            lost = ""
            for i in range(len(API_PORTS)):
                with open(os.path.join(self.dir, f"d{i}.log")) as f:
                    lost += f.read()
            # The group is out of reach: what was given is kept watched, not dropped.
            self.assertIn("the group cannot be reached", lost)
        finally:
            kafka(self.kafka_dir, "start")
        # Back in the group: every partition given again (lost ones do not
        # count), every cluster monitored once.
        self.assertTrue(wait_until(lambda: self.partitions() == PARTITIONS and sum(self.here()) == CLUSTERS and
                                   min(self.here()) > 0 and self.streaming() >= before - 1, 120, interval=0.5),
                        f"partitions {self.partitions()}, monitored {self.here()}, {self.streaming()} streaming\n" +
                        self.logs())
        records = (get(self.alive()[0], "/api/monitor-group") or {}).get("Records", [])
        self.assertEqual(len([r for r in records if not r["MergedInto"]]), CLUSTERS)


    def test_4_a_daemon_stopped_cleanly_hands_over_at_once(self):
        # SIGTERM: the daemon leaves the group, its partitions move without
        # waiting for the session timeout.
        leaving = self.alive()[0]
        index = API_PORTS.index(leaving)
        stopped = time.monotonic()
        self.daemons[index].terminate()
        self.daemons[index].wait(timeout=60)
        took = wait_until(lambda: sum(self.here()) == CLUSTERS, 30, interval=0.1)
        self.assertTrue(took, f"monitored {self.here()}\n" + self.logs())
        elapsed = time.monotonic() - stopped
        print(f"\na cleanly stopped daemon's clusters monitored again {elapsed:.1f} s later", file=sys.stderr)
        self.assertLess(elapsed, 5.0)


if __name__ == "__main__":
    unittest.main()
