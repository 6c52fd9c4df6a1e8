#!/usr/bin/env python3
"""orchestrator's own client (../shared/peers/orchestrator-client) moving replicas through `tidewatch run`.

The relocation commands orchestrator-client offers — relocate, relocate-replicas, move-up, move-below,
move-up-replicas, take-master, take-siblings, repoint, repoint-replicas, make-co-master — run through the
real client (bash, curl, jq) against a daemon following a sandbox that replicates by binlog file and
position without Pseudo-GTID, so every move is a file:pos one. After each, the client's answer
("instance<master", or the moved replicas) is checked, and so is MariaDB itself (SHOW SLAVE STATUS); at
the end the data agree on every server (CHECKSUM TABLE) after a write load that ran during the moves.

Needs ../shared/peers/orchestrator-client beside the source tree, curl and jq (a missing peer is a
failure, not a skip). Run: python3 tests/orchestrator/test_orchestrator_client_relocations.py -v
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from peers import ClientTestCase, sleep_until, tidewatch_binary  # noqa: E402


class OrchestratorClientRelocationsTest(ClientTestCase):
    SPEC = "m>r1,r2;r1>r3"
    UP_ARGS = ("--no-gtid", "--pseudo-gtid-interval", "0")
    BASE_PORT = 30740
    API_PORT = 30749

    def test_relocations(self):
        sb = self.sb
        m, r1, r2, r3 = (sb.key(n) for n in ("m", "r1", "r2", "r3"))
        load = subprocess.Popen([sys.executable, os.path.join(os.path.dirname(__file__), "..", "..", "tools",
                                                              "sandbox", "tidewatch-sandbox"),
                                 "--dir", sb.dir, "load", "--seconds", "20", "--rate", "150"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            self.assertEqual(self.lines("move-up", "-i", r3), [f"{r3}<{m}"])
            self.assertEqual(self.master_of("r3"), m)
            self.assertEqual(self.lines("move-below", "-i", r3, "-d", r2), [f"{r3}<{r2}"])
            self.assertEqual(self.master_of("r3"), r2)
            # r1 is r3's uncle now: no single file:pos step, refused, nothing changed.
            out = self.oc("relocate", "-i", r3, "-d", r1, ok=False)
            self.assertIn("too complex", out)
            self.assertEqual(self.master_of("r3"), r2)
            self.assertEqual(self.lines("relocate", "-i", r3, "-d", m), [f"{r3}<{m}"])
            self.assertEqual(self.lines("relocate", "-i", r3, "-d", r1), [f"{r3}<{r1}"])
            self.assertEqual(self.master_of("r3"), r1)
            # move-equivalent is relocate's choice: here up to the grandparent, and back.
            self.assertEqual(self.lines("move-equivalent", "-i", r3, "-d", m), [f"{r3}<{m}"])
            self.assertEqual(self.master_of("r3"), m)
            self.assertEqual(self.lines("relocate", "-i", r3, "-d", r1), [f"{r3}<{r1}"])

            # r3 and r1 swap; then r1 moves up again beside r3.
            self.assertEqual(self.lines("take-master", "-i", r3), [f"{r3}<{m}"])
            self.assertEqual((self.master_of("r3"), self.master_of("r1")), (m, r3))
            self.assertEqual(self.lines("move-up-replicas", "-i", r3), [r1])
            self.assertEqual(self.master_of("r1"), m)

            # r2 takes its siblings r1 and r3; relocate-replicas brings them back up.
            self.assertEqual(self.lines("take-siblings", "-i", r2), [f"{r2}<{m}"])
            self.assertEqual((self.master_of("r1"), self.master_of("r3")), (r2, r2))
            self.assertEqual(sorted(self.lines("relocate-replicas", "-i", r2, "-d", m)), sorted([r1, r3]))
            self.assertEqual((self.master_of("r1"), self.master_of("r3")), (m, m))

            self.assertEqual(self.lines("repoint", "-i", r1, "-d", m), [f"{r1}<{m}"])
            self.assertEqual(sorted(self.lines("repoint-replicas", "-i", m)), sorted([r1, r2, r3]))
            out = self.oc("make-co-master", "-i", r1, ok=False)
            self.assertIn("not read-only", out)
            self.assertEqual(sb.rows("m", "SHOW SLAVE STATUS"), [])

            # The daemon answers what it did; its model has every new edge.
            cand = self.daemon.get(f"/api/get-candidate-replica/127.0.0.1/{sb.port('m')}")
            self.assertEqual(cand["Code"], "OK", cand)
            self.assertIn(cand["Details"]["Key"]["Port"], [sb.port(n) for n in ("r1", "r2", "r3")])
            self.assertEqual(sorted(self.lines("which-replicas", "-i", m)), sorted([r1, r2, r3]))

            # The command asks the daemon when one answers.
            conf = os.path.join(sb.dir, "tidewatch.conf.json")
            p = subprocess.run([tidewatch_binary(), "move-below", "-i", r3, "-s", r1, "-c", conf, "--json"],
                               capture_output=True, text=True, timeout=120)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            j = json.loads(p.stdout)
            self.assertEqual((j["source"], j["method"], j["destination"]), ("daemon", "file:pos", r1), j)
            self.assertEqual(self.master_of("r3"), r1)
        finally:
            load.wait(timeout=60)
        sb.tool("load", "--seconds", "1", "--rate", "100")
        want = sb.value("m", "SELECT @@gtid_binlog_pos")
        self.assertTrue(sleep_until(lambda: all(sb.value(n, "SELECT @@gtid_slave_pos") == want
                                                for n in ("r1", "r2", "r3")), 60), "the replicas caught up")
        sums = {n: sb.rows(n, "CHECKSUM TABLE tidewatch_load.load_rows")[0]["Checksum"]
                for n in ("m", "r1", "r2", "r3")}
        self.assertEqual(len(set(sums.values())), 1, sums)


if __name__ == "__main__":
    unittest.main()
