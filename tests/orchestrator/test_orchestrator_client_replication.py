#!/usr/bin/env python3
"""orchestrator's replication-control commands through `tidewatch run`, each checked in MariaDB itself.

orchestrator-client (the real one, ../shared/peers) runs restart-replica-statements, delay-replication,
the four semi-sync switches, can-replicate-from-gtid and purge-binary-logs (refused while a replica still
needs the files, done once it does not), which-gtid-errant, locate-gtid-errant, gtid-errant-reset-master and
gtid-errant-inject-empty (refused on MariaDB, as orchestrator refuses it); Tidewatch's own CLI runs the commands orchestrator has only on
its command line: enable-gtid, disable-gtid (with a replica whose gtid_slave_pos was made wrong while it
replicated by file and position — enabling GTID must not make it re-apply or skip anything) and
master-pos-wait. The data agree on every server at the end (CHECKSUM TABLE).

Needs ../shared/peers/orchestrator-client beside the source tree, curl and jq (a missing peer is a
failure, not a skip). Run: python3 tests/orchestrator/test_orchestrator_client_replication.py -v
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from peers import SANDBOX, ClientTestCase, sleep_until, tidewatch_binary  # noqa: E402


class OrchestratorClientReplicationTest(ClientTestCase):
    SPEC = "m>r1,r2"
    UP_ARGS = ("--pseudo-gtid-interval", "0")
    BASE_PORT = 30760
    API_PORT = 30769

    def status(self, name: str) -> dict:
        rows = self.sb.rows(name, "SHOW SLAVE STATUS")
        self.assertEqual(len(rows), 1, f"{name} is a replica")
        return rows[0]

    def running(self, name: str) -> bool:
        s = self.status(name)
        return (s["Slave_IO_Running"], s["Slave_SQL_Running"], s["Last_SQL_Error"]) == ("Yes", "Yes", "")

    def tidewatch(self, *args: str, ok: bool = True) -> subprocess.CompletedProcess:
        conf = os.path.join(self.sb.dir, "tidewatch.conf.json")
        p = subprocess.run([tidewatch_binary(), *args, "-c", conf], capture_output=True, text=True, timeout=120)
        if ok:
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        else:
            self.assertNotEqual(p.returncode, 0, p.stdout + p.stderr)
        return p

    def write(self, rows: int = 20) -> None:
        self.sb.tool("load", "--seconds", "1", "--rate", str(rows))

    def caught_up(self) -> None:
        want = self.sb.value("m", "SELECT @@gtid_binlog_pos")
        self.assertTrue(sleep_until(lambda: all(self.sb.value(n, "SELECT @@gtid_slave_pos") == want
                                                for n in ("r1", "r2")), 60), "the replicas caught up")

    def checksums_agree(self) -> None:
        self.caught_up()
        sums = {n: self.sb.rows(n, "CHECKSUM TABLE tidewatch_load.load_rows")[0]["Checksum"]
                for n in ("m", "r1", "r2")}
        self.assertEqual(len(set(sums.values())), 1, sums)

    def test_1_restart_statements_and_delay(self):
        r1 = self.sb.key("r1")
        out = self.oc("restart-replica-statements", "-i", r1, "-q", "set global slave_net_timeout=61")
        self.assertEqual(json.loads(out), ["STOP SLAVE IO_THREAD;", "STOP SLAVE SQL_THREAD;",
                                           "set global slave_net_timeout=61;", "START SLAVE SQL_THREAD;",
                                           "START SLAVE IO_THREAD;"])
        # Only printed: nothing ran.
        self.assertNotEqual(self.sb.value("r1", "SELECT @@slave_net_timeout"), "61")

        self.assertEqual(self.oc("delay-replication", "-i", r1, "--seconds", "7").strip(), "7")
        s = self.status("r1")
        self.assertEqual(s["SQL_Delay"], "7")
        self.assertTrue(self.running("r1"))
        # With the SQL thread stopped, it stays stopped.
        self.oc("stop-replica", "-i", r1)
        self.sb.tool("sql", "r1", "START SLAVE IO_THREAD")
        self.assertEqual(self.oc("delay-replication", "-i", r1, "--seconds", "0").strip(), "0")
        s = self.status("r1")
        self.assertEqual((s["SQL_Delay"], s["Slave_SQL_Running"], s["Slave_IO_Running"]), ("0", "No", "Yes"))
        self.oc("start-replica", "-i", r1)
        self.assertIn("invalid seconds", self.oc("delay-replication", "-i", r1, "--seconds", "-3", ok=False))

    def test_2_semi_sync(self):
        m, r1 = self.sb.key("m"), self.sb.key("r1")
        try:
            self.assertEqual(self.lines("enable-semi-sync-master", "-i", m), [m])
            self.assertEqual(self.sb.value("m", "SELECT @@rpl_semi_sync_master_enabled"), "1")
            self.assertEqual(self.lines("enable-semi-sync-replica", "-i", r1), [r1])
            self.assertEqual(self.sb.value("r1", "SELECT @@rpl_semi_sync_slave_enabled"), "1")
            # The replica's IO thread was restarted: it announced itself as semi-sync to its master.
            self.assertTrue(sleep_until(lambda: self.sb.value(
                "m", "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS "
                     "WHERE VARIABLE_NAME = 'RPL_SEMI_SYNC_MASTER_CLIENTS'") == "1", 20), "r1 is a semi-sync client")
            self.assertTrue(self.running("r1"))
            # The daemon's instance JSON shows it, as orchestrator's does.
            inst = self.daemon.get(f"/api/instance/127.0.0.1/{self.sb.port('m')}")
            self.assertTrue(inst["SemiSyncMasterEnabled"], inst)
        finally:
            self.oc("disable-semi-sync-replica", "-i", r1)
            self.oc("disable-semi-sync-master", "-i", m)
        self.assertEqual(self.sb.value("m", "SELECT @@rpl_semi_sync_master_enabled"), "0")
        self.assertEqual(self.sb.value("r1", "SELECT @@rpl_semi_sync_slave_enabled"), "0")
        self.assertTrue(self.running("r1"))

    def test_3_can_replicate_from_gtid(self):
        r1, r2 = self.sb.key("r1"), self.sb.key("r2")
        self.assertEqual(self.lines("can-replicate-from-gtid", "-i", r1, "-d", r2), [r2])
        self.assertIn("cannot replicate from itself", self.oc("can-replicate-from-gtid", "-i", r1, "-d", r1, ok=False))

    def test_4_disable_and_enable_gtid(self):
        r1 = self.sb.key("r1")
        self.write()
        p = self.tidewatch("disable-gtid", "-i", r1)
        self.assertEqual(p.stdout.strip(), r1)
        self.assertEqual(self.status("r1")["Using_Gtid"], "No")
        self.tidewatch("disable-gtid", "-i", r1, ok=False)
        self.assertIn("not GTID compatible", self.oc("can-replicate-from-gtid", "-i", r1, "-d", self.sb.key("r2"),
                                                     ok=False))
        self.write()
        self.caught_up()
        self.assertTrue(self.running("r1"))
        # A replica set up by file and position may have a gtid_slave_pos that is not where it is.
        self.sb.tool("sql", "r1", "STOP SLAVE")
        self.sb.tool("sql", "r1", "SET GLOBAL gtid_slave_pos = ''")
        self.sb.tool("sql", "r1", "START SLAVE")
        self.assertTrue(sleep_until(lambda: self.running("r1"), 20))
        self.tidewatch("enable-gtid", "-i", r1)
        self.assertEqual(self.status("r1")["Using_Gtid"], "Slave_Pos")
        self.write()
        self.checksums_agree()
        self.assertTrue(self.running("r1"))
        self.tidewatch("enable-gtid", "-i", r1, ok=False)

    def test_5_master_pos_wait(self):
        r1 = self.sb.key("r1")
        self.write()
        st = self.sb.rows("m", "SHOW MASTER STATUS")[0]
        p = self.tidewatch("master-pos-wait", "-i", r1, "--binlog", f"{st['File']}:{st['Position']}")
        self.assertEqual(p.stdout.strip(), r1)
        s = self.status("r1")
        self.assertEqual((s["Relay_Master_Log_File"], s["Exec_Master_Log_Pos"]), (st["File"], st["Position"]))

    def test_6_purge_binary_logs(self):
        m, r2 = self.sb.key("m"), self.sb.key("r2")
        self.oc("stop-replica", "-i", r2)
        self.oc("flush-binary-logs", "-i", m)
        self.oc("flush-binary-logs", "-i", m)
        before = self.sb.rows("m", "SHOW BINARY LOGS")
        out = self.oc("purge-binary-logs", "-i", m, "--binlog", "latest", ok=False)
        self.assertIn("Unsafe to purge binary logs", out)
        self.assertIn(r2, out)
        self.assertEqual([r["Log_name"] for r in self.sb.rows("m", "SHOW BINARY LOGS")],
                         [r["Log_name"] for r in before])
        self.oc("start-replica", "-i", r2)
        self.write()
        self.caught_up()
        latest = self.sb.rows("m", "SHOW MASTER STATUS")[0]["File"]
        self.assertTrue(sleep_until(lambda: self.status("r2")["Relay_Master_Log_File"] == latest, 20))
        self.assertEqual(self.lines("purge-binary-logs", "-i", m, "--binlog", "latest"), [m])
        self.assertEqual([r["Log_name"] for r in self.sb.rows("m", "SHOW BINARY LOGS")], [latest])
        self.write()
        self.checksums_agree()

    def test_7_errant_gtid(self):
        r2 = self.sb.key("r2")
        sid = self.sb.value("r2", "SELECT @@server_id")
        self.write()
        self.caught_up()
        self.sb.tool("sql", "r2", "CREATE DATABASE errant_one")
        first = self.sb.rows("r2", "SHOW MASTER STATUS")[0]["File"]
        self.sb.tool("sql", "r2", "FLUSH BINARY LOGS")
        self.sb.tool("sql", "r2", "CREATE DATABASE errant_two")
        second = self.sb.rows("r2", "SHOW MASTER STATUS")[0]["File"]
        last = self.sb.value("r2", "SELECT @@gtid_binlog_pos")
        self.assertIn(f"-{sid}-", last)
        self.assertTrue(sleep_until(lambda: self.oc("which-gtid-errant", "-i", r2).strip() == last, 20),
                        self.oc("which-gtid-errant", "-i", r2))
        self.assertEqual(self.lines("locate-gtid-errant", "-i", r2), [first, second])
        self.assertIn("does not support oracle-gtid", self.oc("gtid-errant-inject-empty", "-i", r2, ok=False))
        self.assertIn("no errant GTID", self.oc("gtid-errant-reset-master", "-i", self.sb.key("r1"), ok=False))

        self.assertEqual(self.lines("gtid-errant-reset-master", "-i", r2), [r2])
        self.assertNotIn(f"-{sid}-", self.sb.value("r2", "SELECT @@gtid_binlog_state"))
        self.assertEqual(self.sb.value("r2", "SELECT @@gtid_binlog_pos"), self.sb.value("m", "SELECT @@gtid_binlog_pos"))
        self.assertTrue(self.running("r2"))
        self.assertTrue(sleep_until(lambda: self.oc("which-gtid-errant", "-i", r2).strip() == "", 20))
        self.write()
        self.checksums_agree()


class BinlogLookupsTest(ClientTestCase):
    """find-binlog-entry, correlate-binlog-pos and correlate-relaylog-pos (orchestrator's CLI commands) on a
    sandbox with Pseudo-GTID entries, each answer checked against SHOW BINLOG / RELAYLOG EVENTS."""

    SPEC = "m>r1,r2"
    BASE_PORT = 30770
    API_PORT = 30779

    def tidewatch(self, *args: str) -> str:
        conf = os.path.join(self.sb.dir, "tidewatch.conf.json")
        p = subprocess.run([tidewatch_binary(), *args, "-c", conf], capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        return p.stdout.strip()

    def events(self, name: str, relay: bool = False) -> list[dict]:
        what = "RELAYLOG" if relay else "BINLOG"
        if relay:
            files = [self.sb.rows(name, "SHOW SLAVE STATUS")[0]["Relay_Log_File"]]
        else:
            files = [r["Log_name"] for r in self.sb.rows(name, "SHOW BINARY LOGS")]
        return [row for f in files for row in self.sb.rows(name, f"SHOW {what} EVENTS IN '{f}'")]

    def test_find_and_correlate(self):
        sb = self.sb
        sb.tool("load", "--seconds", "2", "--rate", "20")
        self.assertTrue(sleep_until(lambda: any("_pseudo_gtid_" in e["Info"] for e in self.events("m")), 30))
        entry = [e for e in self.events("m") if e["Event_type"] == "Query" and "_pseudo_gtid_" in e["Info"]][-1]
        statement = entry["Info"][entry["Info"].index("drop view"):]
        self.assertEqual(self.tidewatch("find-binlog-entry", "-i", sb.key("m"), "--pattern", statement),
                         f"{entry['Log_name']}:{entry['Pos']}")

        # The last committed transaction of the master, and the same transaction in r1's binlog.
        sb.tool("load", "--seconds", "1", "--rate", "10")
        rows = self.events("m")
        xid = [i for i, e in enumerate(rows) if e["Event_type"] == "Xid"][-1]
        gtid = [e for e in rows[:xid] if e["Event_type"] == "Gtid"][-1]["Info"]
        at = f"{rows[xid]['Log_name']}:{rows[xid]['End_log_pos']}"
        self.assertTrue(sleep_until(lambda: any(e["Info"] == gtid for e in self.events("r1")), 30))
        r1 = self.events("r1")
        start = next(i for i, e in enumerate(r1) if e["Info"] == gtid)
        want = next(e for e in r1[start:] if e["Event_type"] == "Xid")
        self.assertEqual(self.tidewatch("correlate-binlog-pos", "-i", sb.key("m"), "--binlog", at, "-d", sb.key("r1")),
                         f"{want['Log_name']}:{want['End_log_pos']}")

        # r1's last executed relay log event, found in r2's relay log.
        sb.tool("sql", "r1", "STOP SLAVE")
        sb.tool("sql", "r2", "STOP SLAVE")
        try:
            out = self.tidewatch("correlate-relaylog-pos", "-i", sb.key("r1"), "-d", sb.key("r2"))
            mine, theirs, after = out.split(";")
            s1 = sb.rows("r1", "SHOW SLAVE STATUS")[0]
            self.assertEqual(mine, f"{s1['Relay_Log_File']}:{s1['Relay_Log_Pos']}")
            executed = [e for e in self.events("r1", relay=True) if int(e["Pos"]) < int(s1["Relay_Log_Pos"])][-1]
            r2 = self.events("r2", relay=True)
            k = next(i for i, e in enumerate(r2) if f"{e['Log_name']}:{e['Pos']}" == theirs)
            self.assertEqual((r2[k]["End_log_pos"], r2[k]["Event_type"]),
                             (executed["End_log_pos"], executed["Event_type"]))
            if k + 1 < len(r2):
                self.assertEqual(after, f"{r2[k + 1]['Log_name']}:{r2[k + 1]['Pos']}")
        finally:
            sb.tool("sql", "r1", "START SLAVE")
            sb.tool("sql", "r2", "START SLAVE")

    def test_correlate_far_from_the_last_entry(self):
        """A point 15,000 transactions (some 75,000 events) after the last Pseudo-GTID entry: the events between
        are compared in the indexes' windows instead of being read again; the answer checked against SHOW BINLOG
        EVENTS, and a point past the end of the destination refused."""
        sb = self.sb
        self.assertTrue(sleep_until(lambda: any("_pseudo_gtid_" in e["Info"] for e in self.events("m")), 30))
        sb.tool("sql", "m", "SET GLOBAL event_scheduler = OFF")
        try:
            time.sleep(1.5)  # an injection under way has ended
            statements = ("CREATE DATABASE IF NOT EXISTS far;\n"
                          "CREATE TABLE IF NOT EXISTS far.t (id INT PRIMARY KEY, v INT);\n" +
                          "".join(f"INSERT INTO far.t VALUES ({i}, {i});\n" for i in range(20000)))
            subprocess.run([sys.executable, SANDBOX, "--dir", sb.dir, "sql", "m", "-"], input=statements, text=True,
                           capture_output=True, check=True, timeout=600)
            rows = self.events("m")
            last_entry = max(i for i, e in enumerate(rows) if e["Event_type"] == "Query" and "_pseudo_gtid_" in e["Info"])
            xids = [i for i, e in enumerate(rows) if i > last_entry and e["Event_type"] == "Xid"]
            self.assertGreaterEqual(len(xids), 20000)
            pick = xids[15000]
            gtid = [e for e in rows[:pick] if e["Event_type"] == "Gtid"][-1]["Info"]
            at = f"{rows[pick]['Log_name']}:{rows[pick]['End_log_pos']}"
            last_gtid = [e for e in rows if e["Event_type"] == "Gtid"][-1]["Info"]
            self.assertTrue(sleep_until(lambda: any(e["Info"] == last_gtid for e in self.events("r1")), 120))
            r1 = self.events("r1")
            start = next(i for i, e in enumerate(r1) if e["Info"] == gtid)
            want = next(e for e in r1[start:] if e["Event_type"] == "Xid")
            self.assertEqual(
                self.tidewatch("correlate-binlog-pos", "-i", sb.key("m"), "--binlog", at, "-d", sb.key("r1")),
                f"{want['Log_name']}:{want['End_log_pos']}")
        finally:
            sb.tool("sql", "m", "SET GLOBAL event_scheduler = ON")


if __name__ == "__main__":
    unittest.main()
