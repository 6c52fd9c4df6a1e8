#!/usr/bin/env python3
"""End-to-end test of tools/sandbox/tidewatch-sandbox with real MariaDB servers.

Brings up m>r1,r2;r2>r3 on 127.0.0.1 in a temporary directory with a free base port,
checks replication, Pseudo-GTID injection, kill -9 + restart of a replica, and that
`down` leaves no mariadbd process and no listening port behind.

Run: python3 tests/sandbox/test_sandbox.py -v
Needs Debian's mariadb-server (mariadbd, mariadb-install-db, mariadb, mariadb-binlog).
Environment:
  TIDEWATCH_SANDBOX_UP_LIMIT  maximum seconds allowed for `up` of 4 servers (default 15)
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
TOOL = os.path.normpath(os.path.join(HERE, "..", "..", "tools", "sandbox", "tidewatch-sandbox"))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.realpath(__file__)), "..", "..", "tools", "pylib"))

from tidewatch_proc import listening_ports, pids_under, port_free, signal_pids, wait_until  # noqa: E402

SPEC = "m>r1,r2;r2>r3"
SERVERS = ["m", "r1", "r2", "r3"]
UP_LIMIT = float(os.environ.get("TIDEWATCH_SANDBOX_UP_LIMIT", "15"))
PGTID_RE = re.compile(
    r"drop view if exists `meta`\.`_pseudo_gtid_hint__asc:[0-9A-F]{8}:[0-9A-F]{16}:[0-9A-F]{8}`")


def mariadbd_pids_under(path: str) -> list[int]:
    """Live (non-zombie) mariadbd processes whose --defaults-file lies under path."""
    return sorted(pids_under(path, "*mariadbd*", "--defaults-file="))


def pick_base_port(count: int) -> int:
    """A base port with `count` free consecutive ports, below the ephemeral range."""
    rng = random.Random(os.getpid() ^ int(time.time() * 1000))
    for _ in range(200):
        base = rng.randrange(20000, 32000 - count)
        # Without SO_REUSEADDR: a port with connections in TIME_WAIT is not taken either.
        if all(port_free(port, reuse_address=False) for port in range(base, base + count)):
            return base
    raise RuntimeError("no free port range found")


class SandboxTopologyTest(unittest.TestCase):
    tmp: str
    dir: str
    base_port: int
    up_seconds: float

    @classmethod
    def tool(cls, *args: str, check: bool = True, timeout: float = 180) -> subprocess.CompletedProcess:
        cmd = [sys.executable, TOOL, "--dir", cls.dir, *args]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        if check and p.returncode != 0:
            raise AssertionError(f"{' '.join(cmd)} failed (exit {p.returncode}):\n{p.stdout}\n{p.stderr}")
        return p

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="tw-sbx-")
        cls.dir = os.path.join(cls.tmp, "sb")
        cls.base_port = pick_base_port(len(SERVERS))
        cls.addClassCleanup(cls.cleanup)
        t0 = time.monotonic()
        p = cls.tool("up", SPEC, "--base-port", str(cls.base_port))
        cls.up_seconds = time.monotonic() - t0
        print(f"\n[sandbox] up {SPEC!r} (4 servers, base port {cls.base_port}) took "
              f"{cls.up_seconds:.2f}s\n{p.stdout}", file=sys.stderr, flush=True)

    @classmethod
    def tearDownClass(cls):
        cls.cleanup()

    @classmethod
    def cleanup(cls):
        """Runs even when a test or setUpClass failed: down, then kill anything left."""
        if not getattr(cls, "tmp", None) or not os.path.isdir(cls.tmp):
            return
        try:
            subprocess.run([sys.executable, TOOL, "--dir", cls.dir, "down"],
                           capture_output=True, text=True, timeout=120)
        except Exception as e:  # keep cleaning up
            print(f"[sandbox] down during cleanup failed: {e}", file=sys.stderr)
        signal_pids(mariadbd_pids_under(cls.dir), signal.SIGKILL)
        shutil.rmtree(cls.tmp, ignore_errors=True)

    # helpers ------------------------------------------------------------------
    def wait_for(self, pred, timeout: float, interval: float = 0.2, what: str = "condition"):
        value = wait_until(pred, timeout, interval)
        if not value:
            self.fail(f"timed out after {timeout}s waiting for {what}")
        return value

    def sql(self, name: str, statement: str) -> list[list[str]]:
        out = self.tool("sql", name, "-N", statement).stdout
        return [line.split("\t") for line in out.splitlines() if line]

    def status(self) -> dict:
        data = json.loads(self.tool("status", "--json").stdout)
        return {s["name"]: s for s in data["servers"]}

    def replicating(self, name: str) -> bool:
        r = self.status()[name].get("replication") or {}
        return r.get("io_running") == "Yes" and r.get("sql_running") == "Yes"

    # tests ----------------------------------------------------------------------
    def test_01_up_time(self):
        self.assertLess(self.up_seconds, UP_LIMIT, f"up of 4 servers took {self.up_seconds:.2f}s")

    def test_02_status(self):
        st = self.status()
        self.assertEqual(sorted(st), sorted(SERVERS))
        for i, name in enumerate(SERVERS):
            self.assertEqual(st[name]["state"], "running", name)
            self.assertEqual(st[name]["port"], self.base_port + i)
            self.assertEqual(st[name]["host"], "127.0.0.1")
        self.assertEqual(st["m"]["role"], "master")
        self.assertEqual(st["r2"]["role"], "intermediate")
        self.assertEqual(st["r3"]["master"], "r2")
        for name in ("r1", "r2", "r3"):
            self.assertTrue(self.replicating(name), name)
        text = self.tool("status").stdout
        self.assertIn(f"127.0.0.1:{self.base_port}", text)
        self.assertIn("└── r3", text)
        # every server listens on 127.0.0.1 only
        for name in SERVERS:
            rows = self.sql(name, "SELECT @@bind_address, @@skip_name_resolve, @@log_slave_updates")
            self.assertEqual(rows[0], ["127.0.0.1", "1", "1"], name)

    def test_03_replication_m_to_r3(self):
        token = f"tok-{os.getpid()}-{time.time_ns()}"
        self.sql("m", "CREATE DATABASE IF NOT EXISTS sbx_test")
        self.sql("m", "CREATE TABLE IF NOT EXISTS sbx_test.t (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(100))")
        self.sql("m", f"INSERT INTO sbx_test.t (v) VALUES ('{token}')")
        self.wait_for(lambda: self.sql("r3", f"SELECT COUNT(*) FROM information_schema.TABLES WHERE "
                                             f"TABLE_SCHEMA='sbx_test' AND TABLE_NAME='t'") == [["1"]]
                      and self.sql("r3", f"SELECT COUNT(*) FROM sbx_test.t WHERE v='{token}'") == [["1"]],
                      20, what="the row written on m to arrive on r3")

    def test_04_pseudo_gtid(self):
        files = self.tool("binlogs", "m").stdout.split()
        self.assertTrue(files, "no binlog files for m")

        def hints():
            files = self.tool("binlogs", "m").stdout.split()
            p = subprocess.run(["mariadb-binlog", "--no-defaults", *files], capture_output=True, text=True,
                               errors="replace", timeout=60)
            return PGTID_RE.findall(p.stdout)

        t0 = time.monotonic()
        found = self.wait_for(lambda: len(hints()) >= 2, 8, 0.5, "Pseudo-GTID entries in m's binlog")
        found = hints()
        print(f"[sandbox] {len(found)} Pseudo-GTID entries in m's binlog after "
              f"{time.monotonic() - t0:.1f}s, e.g. {found[-1]}", file=sys.stderr)
        self.assertEqual(self.sql("m", "SELECT STATUS FROM information_schema.EVENTS WHERE "
                                       "EVENT_SCHEMA='meta' AND EVENT_NAME='create_pseudo_gtid_event'"),
                         [["ENABLED"]])
        self.wait_for(lambda: self.sql("r1", "SELECT STATUS FROM information_schema.EVENTS WHERE "
                                             "EVENT_SCHEMA='meta'") == [["SLAVESIDE_DISABLED"]],
                      10, what="event on r1 as SLAVESIDE_DISABLED")

    def test_05_kill_and_restart_r1(self):
        before = self.status()["r1"]["pid"]
        self.assertTrue(before)
        self.tool("kill", "r1")
        self.assertEqual(self.status()["r1"]["state"], "dead")
        self.assertEqual(mariadbd_pids_under(os.path.join(self.dir, "r1") + "/"), [])
        token = f"after-kill-{time.time_ns()}"
        self.sql("m", "CREATE DATABASE IF NOT EXISTS sbx_test")
        self.sql("m", "CREATE TABLE IF NOT EXISTS sbx_test.t (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(100))")
        self.sql("m", f"INSERT INTO sbx_test.t (v) VALUES ('{token}')")
        t0 = time.monotonic()
        self.tool("start", "r1")
        self.wait_for(lambda: self.sql("r1", f"SELECT COUNT(*) FROM sbx_test.t WHERE v='{token}'") == [["1"]],
                      20, what="r1 to replicate again after kill -9 and start")
        print(f"[sandbox] r1 restarted and caught up in {time.monotonic() - t0:.2f}s", file=sys.stderr)
        st = self.status()["r1"]
        self.assertEqual(st["state"], "running")
        self.assertNotEqual(st["pid"], before)
        self.assertTrue(self.replicating("r1"))

    def test_06_load_reaches_r3(self):
        self.tool("load", "--seconds", "1", "--rate", "40")
        count_m = self.sql("m", "SELECT COUNT(*), COALESCE(SUM(n),0) FROM tidewatch_load.load_rows")
        self.assertGreater(int(count_m[0][0]), 0)
        self.wait_for(lambda: self.sql("r3", "SELECT COUNT(*), COALESCE(SUM(n),0) FROM tidewatch_load.load_rows")
                      == count_m, 20, what="r3 to match m after load")

    def test_07_up_is_idempotent(self):
        t0 = time.monotonic()
        p = self.tool("up", SPEC, "--base-port", str(self.base_port))
        self.assertIn("already running", p.stdout)
        self.assertLess(time.monotonic() - t0, 5)
        env = dict(line.split("=", 1) for line in self.tool("env").stdout.splitlines())
        self.assertEqual(env["TIDEWATCH_SANDBOX_PORT_R3"], str(self.base_port + 3))
        self.assertEqual(env["TIDEWATCH_SANDBOX_USER"], "tidewatch")
        self.assertEqual(self.tool("port", "r2").stdout.strip(), str(self.base_port + 2))

    def test_99_down(self):
        ports = [self.base_port + i for i in range(len(SERVERS))]
        self.assertTrue(set(ports) <= listening_ports())
        self.tool("down")
        self.assertEqual(mariadbd_pids_under(self.dir), [])
        self.assertFalse(os.path.exists(self.dir))
        self.assertEqual(set(ports) & listening_ports(), set())
        for port in ports:
            self.assertTrue(port_free(port), f"port {port} cannot be bound after down")
        self.tool("down")  # idempotent


if __name__ == "__main__":
    unittest.main()
