#!/usr/bin/env python3
"""orchestrator-client's remaining everyday commands through `tidewatch run`, each checked in MariaDB or in
what the daemon answers afterwards: the Pseudo-GTID and GTID moves (match, match-up, match-up-replicas,
move-gtid, move-replicas-gtid, last-pseudo-gtid), topology and clusters-alias, discover / async-discover /
forget, downtime and maintenance (a move of an instance in maintenance refused), register-candidate,
replication-analysis, the global recovery switch, register- and deregister-hostname-unresolve (a replica
moved below an instance is told its virtual name, and read back by the real one), and the raft commands a
node without raft refuses.

Needs ../shared/peers/orchestrator-client beside the source tree, curl and jq (a missing peer is a
failure, not a skip). Run: python3 tests/orchestrator/test_orchestrator_client_operations.py -v
"""

from __future__ import annotations

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from peers import ClientTestCase, Daemon, sandbox_config, sleep_until  # noqa: E402


class OrchestratorClientOperationsTest(ClientTestCase):
    SPEC = "m>r1,r2;r1>r3"
    BASE_PORT = 30780
    API_PORT = 30789
    # Candidates and the global switch are the recovery consumer's.
    CONFIG = {"RecoveryConsumer": "embedded"}

    def test_1_moves(self):
        sb = self.sb
        m, r1, r2, r3 = (sb.key(n) for n in ("m", "r1", "r2", "r3"))
        sb.tool("load", "--seconds", "2", "--rate", "20")
        self.assertTrue(sleep_until(lambda: "_pseudo_gtid_" in self.oc("last-pseudo-gtid", "-i", m), 30))
        self.assertEqual(self.lines("match-up", "-i", r3), [f"{r3}<{m}"])
        self.assertEqual(self.master_of("r3"), m)
        self.assertEqual(self.lines("match", "-i", r3, "-d", r1), [f"{r3}<{r1}"])
        self.assertEqual(self.master_of("r3"), r1)
        self.assertEqual(self.lines("match-up-replicas", "-i", r1), [r3])
        self.assertEqual(self.master_of("r3"), m)
        self.assertEqual(self.lines("move-gtid", "-i", r3, "-d", r2), [f"{r3}<{r2}"])
        self.assertEqual(self.master_of("r3"), r2)
        self.assertEqual(self.lines("move-replicas-gtid", "-i", r2, "-d", r1), [r3])
        self.assertEqual(self.master_of("r3"), r1)
        tree = self.oc("topology", "-i", m).splitlines()
        self.assertTrue(tree[0].startswith(m), tree)
        self.assertTrue(any(line.strip().startswith("+ " + r3) and line.startswith("  ") for line in tree), tree)
        self.assertEqual(self.lines("clusters-alias"), [f"{m},{m}"])
        sb.tool("load", "--seconds", "1", "--rate", "20")
        want = sb.value("m", "SELECT @@gtid_binlog_pos")
        for n in ("r1", "r2", "r3"):
            self.assertEqual(sb.value(n, f"SELECT MASTER_GTID_WAIT('{want}', 60)"), "0", f"{n} caught up")
        sums = {n: sb.rows(n, "CHECKSUM TABLE tidewatch_load.load_rows")[0]["Checksum"] for n in ("m", "r1", "r2", "r3")}
        self.assertEqual(len(set(sums.values())), 1, sums)

    def test_2_discovery_downtime_maintenance(self):
        sb = self.sb
        m, r2 = sb.key("m"), sb.key("r2")
        self.oc("forget", "-i", r2)
        self.assertNotIn(r2, self.lines("all-instances"))
        self.assertEqual(self.lines("discover", "-i", r2), [r2])
        self.assertIn(r2, self.lines("all-instances"))
        self.oc("forget", "-i", r2)
        # orchestrator answers no instance to async-discover: the client prints ":null" for it too.
        self.oc("async-discover", "-i", r2)
        self.assertTrue(sleep_until(lambda: r2 in self.lines("all-instances"), 20))

        self.assertEqual(self.lines("begin-downtime", "-i", r2, "-o", "ops", "-r", "disk swap", "-u", "10m"), [r2])
        self.assertEqual(self.lines("downtimed"), [r2])
        self.assertEqual(self.lines("end-downtime", "-i", r2), [r2])
        self.assertEqual(self.lines("downtimed"), [])

        self.assertEqual(self.lines("begin-maintenance", "-i", r2, "-o", "ops", "-r", "kernel"), [r2])
        out = self.oc("move-gtid", "-i", r2, "-d", sb.key("r1"), ok=False)
        self.assertIn("maintenance", out)
        self.assertEqual(self.master_of("r2"), m)
        self.assertEqual(self.lines("end-maintenance", "-i", r2), [r2])

    def test_3_candidates_analysis_recoveries(self):
        sb = self.sb
        r1, r2 = sb.key("r1"), sb.key("r2")
        self.assertEqual(self.lines("register-candidate", "-i", r1, "-R", "prefer"), [r1])
        inst = self.daemon.get(f"/api/instance/127.0.0.1/{sb.port('r1')}")
        self.assertEqual(inst["PromotionRule"], "prefer", inst)

        # Neither of the master's replicas replicates: orchestrator's AllMasterReplicasNotReplicating.
        m = sb.key("m")
        want = f"{m} (cluster {m}): AllMasterReplicasNotReplicating"
        self.oc("stop-replica", "-i", r1)
        self.oc("stop-replica", "-i", r2)
        try:
            self.assertTrue(sleep_until(lambda: want in self.lines("replication-analysis"), 20),
                            self.oc("replication-analysis"))
        finally:
            self.oc("start-replica", "-i", r1)
            self.oc("start-replica", "-i", r2)
        self.assertTrue(sleep_until(lambda: want not in self.lines("replication-analysis"), 20),
                        self.oc("replication-analysis"))

        self.oc("disable-global-recoveries")
        self.assertEqual(self.oc("check-global-recoveries").strip(), "disabled")
        self.oc("enable-global-recoveries")
        self.assertEqual(self.oc("check-global-recoveries").strip(), "enabled")

    def test_4_hostname_unresolve_and_raft(self):
        sb = self.sb
        r1, r2, r3 = sb.key("r1"), sb.key("r2"), sb.key("r3")
        # Every sandbox server's host is 127.0.0.1; "127.1" is another name of it.
        self.assertEqual(self.lines("register-hostname-unresolve", "-i", r2, "--hostname", "127.1"), [r2])
        try:
            self.assertEqual(self.lines("move-gtid", "-i", r3, "-d", r2), [f"{r3}<{r2}"])
            s = sb.rows("r3", "SHOW SLAVE STATUS")[0]
            self.assertEqual((s["Master_Host"], s["Master_Port"], s["Slave_IO_Running"], s["Slave_SQL_Running"]),
                             ("127.1", str(sb.port("r2")), "Yes", "Yes"))
            # Read back by the host's own name: the model has the edge.
            self.assertTrue(sleep_until(lambda: self.lines("which-master", "-i", r3) == [r2], 20))
            self.assertNotIn(f"127.1:{sb.port('r2')}", self.lines("all-instances"))
            self.assertEqual(self.lines("move-gtid", "-i", r3, "-d", r1), [f"{r3}<{r1}"])
            self.assertEqual(sb.rows("r3", "SHOW SLAVE STATUS")[0]["Master_Host"], "127.1")
        finally:
            self.assertEqual(self.lines("deregister-hostname-unresolve", "-i", r2), [r2])
            sb.tool("sql", "r3", "STOP SLAVE")
            sb.tool("sql", "r3", "CHANGE MASTER TO MASTER_HOST='127.0.0.1'")
            sb.tool("sql", "r3", "START SLAVE")
        self.assertTrue(sleep_until(lambda: self.lines("which-master", "-i", r3) == [r1], 20))
        for command in ("raft-leader", "raft-health", "raft-leader-hostname"):
            self.assertIn("not running with raft setup", self.oc(command, ok=False), command)


class DiscoveryFiltersTest(ClientTestCase):
    """orchestrator's DiscoveryIgnoreReplicaHostnameFilters, DiscoveryIgnoreHostnameFilters and
    DiscoveryIgnoreMasterHostnameFilters: what matches is not discovered through a neighbour; an explicit
    discover still reads it."""

    SPEC = "m>r1,r2;r1>r3"
    BASE_PORT = 30790
    API_PORT = 30799
    CONFIG = {"DiscoveryIgnoreReplicaHostnameFilters": [":30792$"], "DiscoveryIgnoreHostnameFilters": [":30793$"]}
    EXPECT_SERVERS = 2

    def test_filters(self):
        sb = self.sb
        m, r1, r2, r3 = (sb.key(n) for n in ("m", "r1", "r2", "r3"))
        # Several polls later, still only m and r1; m lists r1 alone.
        self.assertFalse(sleep_until(lambda: len(self.lines("all-instances")) > 2, 4), self.lines("all-instances"))
        self.assertEqual(self.lines("all-instances"), [m, r1])
        self.assertEqual(self.lines("which-replicas", "-i", m), [r1])
        self.assertEqual(self.lines("which-replicas", "-i", r1), [])
        self.assertEqual(self.lines("discover", "-i", r2), [r2])
        self.assertEqual(self.lines("all-instances"), [m, r1, r2])

        # Another daemon, seeded with r3, told not to discover r1 as a master.
        directory = os.path.join(sb.dir, "second")
        os.makedirs(directory)
        second = Daemon(directory, sandbox_config(r3, DiscoveryIgnoreMasterHostnameFilters=[":30791$"]), 30798)
        try:
            self.assertTrue(sleep_until(lambda: second.get("/api/all-instances") is not None and
                                        len(second.get("/api/all-instances")) >= 1, 20))
            self.assertFalse(sleep_until(lambda: len(second.get("/api/all-instances")) > 1, 4))
            keys = [f"{i['Key']['Hostname']}:{i['Key']['Port']}" for i in second.get("/api/all-instances")]
            self.assertEqual(keys, [r3])
            inst = second.get(f"/api/instance/127.0.0.1/{sb.port('r3')}")
            self.assertEqual(inst["MasterKey"]["Port"], sb.port("r1"), "its master is still known by name")
        finally:
            second.stop()


if __name__ == "__main__":
    unittest.main()
