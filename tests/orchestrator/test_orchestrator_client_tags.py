#!/usr/bin/env python3
"""orchestrator's own client (../shared/peers/orchestrator-client) against `tidewatch run` for what
orchestrator keeps beside the probes: instance tags (tag, untag, untag-all, tags, tag-value, tagged,
topology-tags), pools, hostname unresolve registrations, forget-cluster, snapshot-topologies,
submit-masters-to-kv-stores, which-cluster-osc-replicas, dominant-dc, and the raft-* answers of an
orchestrator without raft.

Two sandbox clusters, m>r1,r2 and x>y (ports 28700-28704); the daemon (API on 28790) keeps its state
in a StateDir, and is restarted once: tags, pools and unresolve registrations are still there.

Needs ../shared/peers/orchestrator-client beside the source tree, curl and jq (a missing peer is a
failure, not a skip). Run: python3 tests/orchestrator/test_orchestrator_client_tags.py -v
"""

from __future__ import annotations

import glob
import json
import os
import subprocess
import sys
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from peers import (ClientCommands, Daemon, Sandbox, orchestrator_client, sandbox_config, sleep_until, tail,  # noqa: E402
                   tidewatch_binary)

BASE_PORT = 28700
API_PORT = 28790


class OrchestratorClientTagsTest(ClientCommands, unittest.TestCase):
    API_PORT = API_PORT

    @classmethod
    def setUpClass(cls):
        cls.client = orchestrator_client()
        cls.sb = Sandbox("m>r1,r2;x>y", BASE_PORT)
        cls.daemon = None
        try:
            cls.config = sandbox_config(cls.sb.key("m"), cls.sb.key("x"),
                                        DetectClusterDomainQuery="SELECT 'orders.example.com'",
                                        DetectDataCenterQuery="SELECT 'dc-east'")
            cls.start_daemon()
        except BaseException:
            cls.tear_down()
            raise

    @classmethod
    def start_daemon(cls):
        cls.daemon = Daemon(cls.sb.dir, cls.config, API_PORT)
        sb = cls.sb
        ok = sleep_until(lambda: len(cls.daemon.get("/api/cluster/" + sb.key("m")) or []) == 3 and
                         len(cls.daemon.get("/api/cluster/" + sb.key("x")) or []) == 2, 30)
        if not ok:
            raise AssertionError("tidewatch did not discover the sandbox:\n" + tail(cls.daemon.log))

    @classmethod
    def tear_down(cls):
        try:
            if cls.daemon is not None:
                cls.daemon.stop()
        finally:
            cls.sb.down()

    @classmethod
    def tearDownClass(cls):
        cls.tear_down()

    def state(self, *parts: str) -> str:
        return os.path.join(self.sb.dir, "tidewatch-state", *parts)

    def tw(self, command: str, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([tidewatch_binary(), command, *args, "--api", f"127.0.0.1:{API_PORT}"],
                              capture_output=True, text=True, timeout=60)

    def answer(self, path: str) -> tuple[int, object]:
        """HTTP status and JSON body of GET /api/<path>, errors included."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{API_PORT}/api/{path}", timeout=10) as r:
                return r.status, json.loads(r.read().decode())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read().decode())

    # --- Tags, across a restart. ---

    def test_1_tags(self):
        sb = self.sb
        m, r1, r2 = sb.key("m"), sb.key("r1"), sb.key("r2")
        self.assertEqual(self.lines("tag", "-i", r1, "-t", "role=backup"), [r1])
        self.assertEqual(self.lines("tag", "-i", r2, "-t", "role=reporting"), [r2])
        self.assertEqual(self.lines("tag", "-i", r2, "-t", "dc=east"), [r2])
        self.assertEqual(self.lines("tag", "-i", m, "-t", "primary"), [m])
        self.assertEqual(self.lines("tag", "-i", r1, "-t", "role=spare"), [r1], "a value is replaced")

        self.assertEqual(self.lines("tags", "-i", r2), ["dc=east", "role=reporting"])
        self.assertEqual(self.lines("tags", "-i", m), ["primary="])
        self.assertEqual(self.lines("tag-value", "-i", r1, "-t", "role"), ["spare"])
        out = self.oc("tag-value", "-i", m, "-t", "role", ok=False)
        self.assertIn(f"tag role not found for {m}", out)

        self.assertEqual(self.lines("tagged", "-t", "role"), [r1, r2])
        self.assertEqual(self.lines("tagged", "-t", "role=spare"), [r1])
        self.assertEqual(self.lines("tagged", "-t", "role,dc=east"), [r2], "intersection")
        self.assertEqual(self.lines("tagged", "-t", "role,!dc"), [r1], "negation")
        self.assertEqual(self.lines("tagged", "-t", "!role=spare"), [r2], "another value")
        self.assertEqual(self.lines("tagged", "-t", "!role"), [m], "tagged instances without that tag")
        self.assertEqual(self.lines("tagged", "-t", "nothing"), [])

        tree = self.lines("topology-tags", "-i", m)
        self.assertEqual(len(tree), 3, tree)
        self.assertTrue(tree[0].startswith(m) and tree[0].endswith(" [primary]"), tree)
        self.assertTrue(tree[1].startswith("+ " + r1) and tree[1].endswith(" [role=spare]"), tree)
        self.assertTrue(tree[2].endswith(" [dc=east,role=reporting]"), tree)
        self.assertEqual(self.lines("topology-tags", "-i", sb.key("y"))[1].split()[-1], "[]")

        # untag: one instance; untag-all: every instance with that tag and value.
        self.assertEqual(self.lines("untag", "-i", r2, "-t", "dc"), [r2])
        self.assertEqual(self.lines("tags", "-i", r2), ["role=reporting"])
        self.assertEqual(self.lines("untag", "-i", r2, "-t", "dc"), [], "nothing left to remove")
        self.assertEqual(self.lines("tag", "-i", m, "-t", "role=reporting"), [m])
        self.assertIn("Will not delete on-valued tag across instances", self.oc("untag-all", "-t", "role", ok=False))
        self.assertEqual(self.lines("untag-all", "-t", "role=reporting"), [m, r2])
        self.assertEqual(self.lines("tagged", "-t", "role"), [r1])
        self.assertIn("does not support negation", self.oc("untag", "-i", r1, "-t", "!role", ok=False))

        # The tidewatch CLI, orchestrator's command names.
        p = self.tw("tagged", "--tag", "role")
        self.assertEqual((p.returncode, p.stdout.split()), (0, [r1]), p.stderr)
        p = self.tw("tags", "-i", m)
        self.assertEqual(p.stdout.split(), ["primary="], p.stderr)

        # Pools and an unresolve registration, to be found after the restart too.
        self.assertEqual(self.lines("submit-pool-instances", "--pool", "web", "-i", f"{r1},{r2}"), ["web"])
        self.assertEqual(self.lines("register-hostname-unresolve", "-i", r1, "--hostname", "vip-orders"), [r1])

        # Restart: what was tagged is still tagged.
        self.daemon.stop()
        with open(self.state("tags.json")) as f:
            self.assertEqual(json.load(f)["instances"][r1], {"role": "spare"})
        type(self).start_daemon()
        self.assertEqual(self.lines("tags", "-i", r1), ["role=spare"])
        self.assertEqual(self.lines("tags", "-i", m), ["primary="])
        self.assertEqual(self.lines("tagged", "-t", "role"), [r1])
        self.assertTrue(sleep_until(lambda: self.lines("which-heuristic-cluster-pool-instances", "-i", m) == [r1, r2],
                                    20), "pools kept across the restart")
        with open(self.state("hostname-unresolve.json")) as f:
            self.assertEqual(json.load(f)["hosts"]["127.0.0.1"]["unresolved_hostname"], "vip-orders")

    # --- Pools. ---

    def test_2_pools(self):
        sb = self.sb
        m, r1, r2, y = sb.key("m"), sb.key("r1"), sb.key("r2"), sb.key("y")
        self.assertEqual(self.lines("submit-pool-instances", "--pool", "web", "-i", f"{r1},{y}"), ["web"])
        self.assertEqual(self.lines("submit-pool-instances", "--pool", "batch", "-i", r2), ["batch"])
        self.assertEqual(self.lines("which-heuristic-cluster-pool-instances", "-i", m), [r1, r2])
        self.assertEqual(self.lines("which-heuristic-cluster-pool-instances", "-i", m, "--pool", "web"), [r1])
        self.assertEqual(self.lines("which-heuristic-cluster-pool-instances", "-i", sb.key("x"), "--pool", "web"), [y])
        self.assertEqual(self.lines("which-heuristic-cluster-pool-instances", "-i", m, "--pool", "none"), [])
        st, j = self.answer(f"cluster-pool-instances/{m}")
        self.assertEqual(st, 200, j)
        self.assertEqual(j["Details"], {"batch": [{"Hostname": "127.0.0.1", "Port": sb.port("r2")}],
                                        "web": [{"Hostname": "127.0.0.1", "Port": sb.port("r1")}]})
        st, j = self.answer(f"cluster-pool-instances/{m}/batch")
        self.assertEqual(list(j["Details"]), ["batch"])
        p = self.tw("cluster-pool-instances", "-a", m)
        self.assertEqual(p.stdout.splitlines(), [f"{m}\t{m}\tbatch\t{r2}", f"{m}\t{m}\tweb\t{r1}"], p.stderr)
        # A submission replaces the pool's list; an empty one empties it.
        self.assertEqual(self.lines("submit-pool-instances", "--pool", "web", "-i", r2), ["web"])
        self.assertEqual(self.lines("which-heuristic-cluster-pool-instances", "-i", m, "--pool", "web"), [r2])
        # A replica whose last check failed is not offered.
        sb.tool("kill", "r2")
        try:
            self.assertTrue(sleep_until(lambda: not (self.daemon.get(f"/api/instance/127.0.0.1/{sb.port('r2')}") or {})
                                        .get("IsLastCheckValid", True), 20))
            self.assertEqual(self.lines("which-heuristic-cluster-pool-instances", "-i", m), [])
        finally:
            sb.tool("start", "r2")
        self.assertTrue(sleep_until(lambda: self.lines("which-heuristic-cluster-pool-instances", "-i", m) == [r2], 30))

    # --- Clusters: OSC replicas, domain, data center, KV pairs, snapshot. ---

    def test_3_cluster_information(self):
        sb = self.sb
        m, r1, r2, x = sb.key("m"), sb.key("r1"), sb.key("r2"), sb.key("x")
        self.assertEqual(self.lines("which-cluster-osc-replicas", "-i", m), [r1, r2])
        self.assertEqual(self.lines("which-cluster-osc-replicas", "-i", x), [sb.key("y")])
        self.assertEqual(self.lines("which-cluster-osc-running-replicas", "-i", m), [r1, r2])
        self.assertEqual(self.lines("dominant-dc"), ["dc-east"])
        info = self.daemon.get("/api/cluster-info/" + m)
        self.assertEqual(info["ClusterDomain"], "orders.example.com")
        self.assertEqual([i["DataCenter"] for i in self.daemon.get("/api/masters")], ["dc-east", "dc-east"])
        p = self.tw("which-cluster-domain", "-i", r1)
        self.assertEqual((p.returncode, p.stdout.strip()), (0, "orders.example.com"), p.stderr)
        p = self.tw("dominant-dc")
        self.assertEqual(p.stdout.strip(), "dc-east", p.stderr)

        kv = self.lines("submit-masters-to-kv-stores", "-alias", m)
        self.assertEqual(kv[:3], [f"mysql/master/{m}:{m}", f"mysql/master/{m}/hostname:127.0.0.1",
                                  f"mysql/master/{m}/port:{sb.port('m')}"])
        self.assertIn(f"mysql/master/{m}/ipv4:127.0.0.1", kv)
        every = self.lines("submit-masters-to-kv-stores")
        self.assertIn(f"mysql/master/{x}:{x}", every)
        self.assertIn(f"mysql/master/{m}:{m}", every)
        st, j = self.answer("submit-masters-to-kv-stores")
        self.assertIn("no KV store", j["Message"])

        took = self.lines("snapshot-topologies")
        self.assertTrue(took and took[0].startswith("Took "), took)
        snapshots = sorted(glob.glob(self.state("topology-snapshots", "*.json")))
        self.assertTrue(snapshots, "a snapshot file under StateDir")
        with open(snapshots[-1]) as f:
            edges = {f"{i['Hostname']}:{i['Port']}": f"{i['MasterHost']}:{i['MasterPort']}" for i in json.load(f)["instances"]}
        self.assertEqual(edges[r1], m)
        self.assertEqual(edges[sb.key("y")], x)
        self.assertEqual(edges[m], ":0")

    # --- raft: orchestrator's answers without raft. ---

    def test_4_raft(self):
        self.assertIn("raft-state: not running with raft setup", self.oc("raft-leader", ok=False))
        self.assertIn("raft-state: not running with raft setup", self.oc("raft-health", ok=False))
        self.assertIn("raft-state: not running with raft setup",
                      self.oc("raft-elect-leader", "--hostname", "elsewhere", ok=False))
        for path, message in (("raft-state", "raft-state: not running with raft setup"),
                              ("raft-leader", "raft-leader: not running with raft setup"),
                              ("raft-health", "raft-state: not running with raft setup"),
                              ("raft-yield-hint/east", "raft-yield-hint: not running with raft setup")):
            st, j = self.answer(path)
            self.assertEqual((st, j["Code"], j["Message"]), (500, "ERROR", message), path)
        p = self.tw("raft-health")
        self.assertEqual(p.returncode, 1)
        self.assertIn("not running with raft setup", p.stderr)

    # --- forget-cluster, last: the cluster is gone from `clusters`. ---

    def test_5_forget_cluster(self):
        sb = self.sb
        m, x = sb.key("m"), sb.key("x")
        self.assertEqual(sorted(self.lines("clusters")), sorted([m, x]))
        self.assertIn("Unable to determine cluster name", self.oc("forget-cluster", "-alias", "nowhere", ok=False))
        self.oc("forget-cluster", "-i", sb.key("y"))
        self.assertTrue(sleep_until(lambda: self.lines("clusters") == [m], 10), self.lines("clusters"))
        self.assertEqual(self.lines("all-instances"), [m, sb.key("r1"), sb.key("r2")])
        # Tags are kept for forgotten instances, as orchestrator keeps them.
        self.assertEqual(self.lines("tags", "-i", m), ["primary="])


if __name__ == "__main__":
    unittest.main()
