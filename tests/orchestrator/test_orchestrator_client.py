#!/usr/bin/env python3
"""orchestrator's own client (../shared/peers/orchestrator-client) against `tidewatch run` on a sandbox.

Every command Tidewatch serves that orchestrator-client offers is run through the real client (bash,
curl, jq); its output is checked, and for the commands that change something, the change is checked
in MariaDB itself (SHOW SLAVE STATUS, @@read_only, SHOW BINARY LOGS), not only the exit status.
Refusals answer orchestrator's {"Code": "ERROR", "Message": …}: the client exits 1 with the message.

Needs ../shared/peers/orchestrator-client beside the source tree, curl and jq (a missing peer is a
failure, not a skip). Run: python3 tests/orchestrator/test_orchestrator_client.py -v
"""

from __future__ import annotations

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from peers import ClientTestCase, sleep_until  # noqa: E402


class OrchestratorClientTest(ClientTestCase):
    SPEC = "m>r1,r2"
    BASE_PORT = 28300
    API_PORT = 28994

    def status(self, name: str) -> dict:
        rows = self.sb.rows(name, "SHOW SLAVE STATUS")
        return rows[0] if rows else {}

    def running(self, name: str) -> bool:
        s = self.status(name)
        return s.get("Slave_IO_Running") == "Yes" and s.get("Slave_SQL_Running") == "Yes"

    def stopped(self, name: str) -> bool:
        s = self.status(name)
        return s.get("Slave_IO_Running") == "No" and s.get("Slave_SQL_Running") == "No"

    # --- Information. ---

    def test_information(self):
        sb = self.sb
        m, r1, r2 = sb.key("m"), sb.key("r1"), sb.key("r2")
        self.assertEqual(self.lines("which-instance", "-i", r1), [r1])
        self.assertEqual(self.lines("instance", "-i", r1), [r1])
        self.assertEqual(self.lines("which-master", "-i", r1), [m])
        self.assertEqual(self.lines("which-replicas", "-i", m), [r1, r2])
        self.assertEqual(self.lines("which-slaves", "-i", m), [r1, r2], "the legacy spelling")
        self.assertEqual(self.lines("which-replicas", "-i", r1), [])
        self.assertEqual(self.lines("which-broken-replicas", "-i", m), [])
        self.assertEqual(self.lines("which-cluster", "-i", r2), [m], "a cluster is named after its master")
        self.assertEqual(self.lines("which-cluster-alias", "-i", r2), [m])
        self.assertEqual(self.lines("which-cluster-master", "-i", r2), [m])
        self.assertEqual(self.lines("which-cluster-instances", "-i", r1), [m, r1, r2])
        self.assertEqual(self.lines("all-clusters-masters"), [m])
        self.assertEqual(self.lines("all-instances"), [m, r1, r2])
        self.assertEqual(self.lines("clusters"), [m])
        self.assertEqual(self.lines("search", "-i", str(sb.port("r2"))), [r2])
        self.assertEqual(self.lines("search", "-i", "MariaDB"), [m, r1, r2], "master first, as orchestrator orders")
        self.assertEqual(self.lines("is-replicating", "-i", r1), [r1])
        self.assertEqual(self.lines("is-replication-stopped", "-i", r1), [])
        tab = self.lines("topology-tabulated", "-i", m)
        self.assertEqual(len(tab), 3)
        self.assertTrue(tab[0].startswith(m) and "|" in tab[0], tab)
        self.assertTrue(tab[1].startswith("+ " + r1), tab)
        self.assertEqual(len({line.index("|") for line in tab}), 1, "columns line up")
        self.assertEqual(self.lines("can-replicate-from", "-i", r1, "-d", r2), [r2])
        out = self.oc("can-replicate-from", "-i", r1, "-d", r1, ok=False)
        self.assertIn("cannot replicate from itself", out)
        out = self.oc("which-replicas", "-i", "127.0.0.1:1", ok=False)
        self.assertIn("Cannot read instance", out)

    # --- Replication control, checked in MariaDB. ---

    def test_replication_control(self):
        sb = self.sb
        r2 = sb.key("r2")
        self.assertEqual(self.lines("stop-replica", "-i", r2), [r2])
        self.assertTrue(self.stopped("r2"), self.status("r2"))
        self.assertEqual(self.lines("is-replication-stopped", "-i", r2), [r2])
        self.assertEqual(self.lines("is-replicating", "-i", r2), [])
        self.assertEqual(self.lines("start-replica", "-i", r2), [r2])
        self.assertTrue(self.running("r2"), self.status("r2"))
        self.assertEqual(self.lines("is-replicating", "-i", r2), [r2])

        # stop-replica-nice: stopped with the relay log applied, under writes.
        sb.tool("sql", "m", "CREATE DATABASE IF NOT EXISTS oc; CREATE TABLE IF NOT EXISTS oc.t (i INT PRIMARY KEY "
                "AUTO_INCREMENT, v VARCHAR(20)); INSERT INTO oc.t (v) VALUES ('a'),('b'),('c')")
        self.assertEqual(self.lines("stop-replica-nice", "-i", r2), [r2])
        s = self.status("r2")
        self.assertTrue(self.stopped("r2"), s)
        self.assertEqual((s["Relay_Master_Log_File"], s["Exec_Master_Log_Pos"]),
                         (s["Master_Log_File"], s["Read_Master_Log_Pos"]), "the relay log was applied")
        self.assertEqual(self.lines("restart-replica", "-i", r2), [r2])
        self.assertTrue(self.running("r2"))
        self.assertEqual(self.lines("restart-slave", "-i", r2), [r2], "the legacy spelling")
        self.assertTrue(self.running("r2"))

        # read_only.
        self.assertEqual(self.lines("set-read-only", "-i", r2), [r2])
        self.assertEqual(sb.value("r2", "SELECT @@global.read_only"), "1")
        self.assertEqual(self.lines("set-writeable", "-i", r2), [r2])
        self.assertEqual(sb.value("r2", "SELECT @@global.read_only"), "0")

        # flush-binary-logs: one more binary log.
        n = len(sb.rows("r2", "SHOW BINARY LOGS"))
        self.assertEqual(self.lines("flush-binary-logs", "-i", r2), [r2])
        self.assertEqual(len(sb.rows("r2", "SHOW BINARY LOGS")), n + 1)

        # detach / reattach: the master host gets and loses orchestrator's "//" prefix.
        self.assertEqual(self.lines("detach-replica", "-i", r2), [r2])
        self.assertEqual(self.status("r2")["Master_Host"], "//127.0.0.1")
        self.assertIn("already detached", self.oc("detach-replica", "-i", r2, ok=False))
        self.assertEqual(self.lines("reattach-replica", "-i", r2), [r2])
        self.assertEqual(self.status("r2")["Master_Host"], "127.0.0.1")
        self.assertTrue(sleep_until(lambda: self.running("r2"), 10), self.status("r2"))
        self.assertIn("does not seem to be detached", self.oc("reattach-replica", "-i", r2, ok=False))
        self.assertEqual(self.lines("detach-replica-master-host", "-i", r2), [r2])
        self.assertEqual(self.status("r2")["Master_Host"], "//127.0.0.1")
        self.assertEqual(self.lines("reattach-replica-master-host", "-i", r2), [r2])
        self.assertTrue(sleep_until(lambda: self.running("r2"), 10), self.status("r2"))

        # Refusals, orchestrator's messages, nothing changed.
        m = sb.key("m")
        self.assertIn("instance is not a replica", self.oc("stop-replica", "-i", m, ok=False))
        self.assertIn("Replication SQL thread is running", self.oc("skip-query", "-i", r2, ok=False))
        self.assertIn("threads are not stopped", self.oc("reset-replica", "-i", r2, ok=False))
        self.assertTrue(self.running("r2"))

        # skip-query on file:pos replication: an SQL error skipped, replication running again.
        sb.tool("sql", "r2", "STOP SLAVE; CHANGE MASTER TO MASTER_USE_GTID=no; "
                "SET GLOBAL read_only=0; SET sql_log_bin=0; INSERT INTO oc.t (i, v) VALUES (1000, 'conflict'); "
                "START SLAVE")
        sb.tool("sql", "m", "INSERT INTO oc.t (i, v) VALUES (1000, 'master')")
        self.assertTrue(sleep_until(lambda: self.status("r2").get("Slave_SQL_Running") == "No", 20))
        self.assertEqual(self.lines("skip-query", "-i", r2), [r2])
        self.assertTrue(sleep_until(lambda: self.running("r2"), 10), self.status("r2"))
        self.assertEqual(self.status("r2")["Last_SQL_Error"], "")
        sb.tool("sql", "r2", "STOP SLAVE; CHANGE MASTER TO MASTER_USE_GTID=slave_pos; START SLAVE")
        self.assertTrue(sleep_until(lambda: self.running("r2"), 10), self.status("r2"))

        # reset-replica on a stopped replica: it replicates from nothing afterwards.
        self.assertEqual(self.lines("stop-replica", "-i", sb.key("r1")), [sb.key("r1")])
        self.assertEqual(self.lines("reset-replica", "-i", sb.key("r1")), [sb.key("r1")])
        self.assertEqual(self.status("r1"), {})
        # Put it back (outside the client) for the other tests.
        sb.tool("sql", "r1", f"CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={sb.port('m')}, "
                "MASTER_USER='repl', MASTER_PASSWORD='repl', MASTER_USE_GTID=slave_pos; START SLAVE")
        self.assertTrue(sleep_until(lambda: self.running("r1"), 10), self.status("r1"))

        # A refusal is answered with HTTP 500, as orchestrator's.
        d = self.daemon.get(f"/api/stop-replica/127.0.0.1/{sb.port('m')}")
        self.assertIsNone(d, "an error answers HTTP 500")


if __name__ == "__main__":
    unittest.main()
