#!/usr/bin/env python3
"""orchestrator's MySQLTopologySSL* settings: TLS to the watched servers as configured.

A sandbox whose servers have a certificate for 127.0.0.1 signed by the sandbox's CA; the replica r1
requires secure transport. `tidewatch run` with MySQLTopologyUseMutualTLS and the sandbox's CA probes
and streams both servers over verified TLS, and a change through orchestrator-client (set-read-only on
r1) is made over it; with another CA the certificate is refused and r1 is never read; with
MySQLTopologySSLSkipVerify the same wrong CA is accepted. A config naming a missing CA file is refused,
naming the key.

Run: python3 tests/orchestrator/test_topology_tls.py -v
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from peers import Daemon, Sandbox, orchestrator_client, sandbox_config, sleep_until, tidewatch_binary  # noqa: E402


class TopologyTlsTest(unittest.TestCase):
    BASE_PORT = 30800

    @classmethod
    def setUpClass(cls):
        cls.sb = Sandbox("m[tls]>r1[tls]", cls.BASE_PORT, "--pseudo-gtid-interval", "0")
        try:
            cls.sb.tool("sql", "r1", "SET GLOBAL require_secure_transport = ON")
            cls.ca = os.path.join(cls.sb.dir, "tls", "ca.pem")
            other = os.path.join(cls.sb.dir, "other")
            os.makedirs(other)
            subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                            "/CN=other", "-keyout", "k.pem", "-out", "ca.pem"], cwd=other, check=True,
                           capture_output=True)
            cls.other_ca = os.path.join(other, "ca.pem")
        except BaseException:
            cls.sb.down()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.sb.down()

    def daemon(self, name: str, port: int, **tls) -> Daemon:
        directory = os.path.join(self.sb.dir, name)
        os.makedirs(directory, exist_ok=True)
        d = Daemon(directory, sandbox_config(self.sb.key("m"), **tls), port)
        self.addCleanup(d.stop)
        return d

    def instance(self, d: Daemon, name: str) -> dict:
        return d.get(f"/api/instance/127.0.0.1/{self.sb.port(name)}") or {}

    def test_verified(self):
        d = self.daemon("verified", 30808, MySQLTopologyUseMutualTLS=True, MySQLTopologySSLCAFile=self.ca)
        self.assertTrue(sleep_until(lambda: self.instance(d, "r1").get("IsLastCheckValid") is True, 30),
                        self.instance(d, "r1"))
        self.assertTrue(sleep_until(lambda: self.instance(d, "r1").get("TidewatchStream", {}).get("State")
                                    == "streaming" and self.instance(d, "r1").get("AllowTLS") is True, 30),
                        self.instance(d, "r1"))
        self.assertTrue(self.instance(d, "m").get("IsLastCheckValid"), self.instance(d, "m"))
        # A change over the same TLS: r1 accepts no other.
        env = dict(os.environ, ORCHESTRATOR_API="http://127.0.0.1:30808/api")
        client = orchestrator_client()
        for command, want in (("set-read-only", "1"), ("set-writeable", "0")):
            p = subprocess.run([client, "-c", command, "-i", self.sb.key("r1")], capture_output=True, text=True,
                               env=env, timeout=60)
            self.assertEqual(p.stdout.strip(), self.sb.key("r1"), p.stdout + p.stderr)
            self.assertEqual(self.sb.value("r1", "SELECT @@read_only"), want)

    def test_wrong_ca_refused_then_skip_verify(self):
        d = self.daemon("wrong", 30807, MySQLTopologyUseMutualTLS=True, MySQLTopologySSLCAFile=self.other_ca)
        self.assertFalse(sleep_until(lambda: self.instance(d, "r1").get("IsLastCheckValid") is True, 5))
        self.assertFalse(self.instance(d, "m").get("IsLastCheckValid", False), "m's certificate is refused too")
        with open(d.log) as f:
            self.assertIn("certificate", f.read().lower())
        d.stop()
        s = self.daemon("skip", 30806, MySQLTopologyUseMutualTLS=True, MySQLTopologySSLCAFile=self.other_ca,
                        MySQLTopologySSLSkipVerify=True)
        self.assertTrue(sleep_until(lambda: self.instance(s, "r1").get("IsLastCheckValid") is True, 30),
                        self.instance(s, "r1"))

    def test_missing_file_refused(self):
        path = os.path.join(self.sb.dir, "bad.conf.json")
        with open(path, "w") as f:
            json.dump({"MySQLTopologyUseMutualTLS": True, "MySQLTopologySSLCAFile": "/nonexistent/ca.pem"}, f)
        p = subprocess.run([tidewatch_binary(), "check-config", "-c", path], capture_output=True, text=True,
                           timeout=30)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("MySQLTopologySSLCAFile", p.stderr)


if __name__ == "__main__":
    unittest.main()
