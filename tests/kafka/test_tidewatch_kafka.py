#!/usr/bin/env python3
"""End-to-end test of tools/kafka/tidewatch-kafka with a real Apache Kafka broker.

Brings a broker up in a temporary directory, checks that it answers, that stop
and start keep its data and port, that `down` is idempotent and leaves no
process or listening port, that `down` finds a broker whose pid file is gone,
and that `up` refuses a busy port without leaving anything behind.

Run: python3 tests/kafka/test_tidewatch_kafka.py -v
Needs Java 17, Maven and kcat (tools/install-deps.sh).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
TOOL = os.path.normpath(os.path.join(HERE, "..", "..", "tools", "kafka", "tidewatch-kafka"))
PORT = 29460  # and 29461 (controller); 29462-29463 for the busy-port case
sys.path.insert(0, os.path.join(os.path.dirname(os.path.realpath(__file__)), "..", "..", "tools", "pylib"))

from tidewatch_proc import listening_ports, pids_under  # noqa: E402


def java_pids_under(path: str) -> list[int]:
    """Live java processes with an argument naming a file under path."""
    return sorted(pids_under(path, "java"))


def tool(base: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    p = subprocess.run([sys.executable, TOOL, "--dir", base, *args], capture_output=True, text=True, timeout=900)
    if check and p.returncode != 0:
        raise AssertionError(f"tidewatch-kafka {' '.join(args)} failed ({p.returncode}):\n{p.stdout}{p.stderr}")
    return p


class TidewatchKafkaTest(unittest.TestCase):
    def setUp(self):
        self.base = tempfile.mkdtemp(prefix="tidewatch-kafka-tool-")
        shutil.rmtree(self.base)  # `up` makes it

    def tearDown(self):
        tool(self.base, "down", check=False)
        shutil.rmtree(self.base, ignore_errors=True)

    def test_lifecycle(self):
        out = tool(self.base, "up", "--port", str(PORT)).stdout
        self.assertIn(f"127.0.0.1:{PORT}", out)
        self.assertEqual(tool(self.base, "bootstrap").stdout.strip(), f"127.0.0.1:{PORT}")
        st = json.loads(tool(self.base, "status", "--json").stdout)
        self.assertEqual(st["state"], "ready")
        self.assertEqual(st["version"], "4.1.1")
        self.assertIn(PORT, listening_ports())
        self.assertIn(PORT + 1, listening_ports())
        # Only loopback: the listeners are bound to 127.0.0.1.
        with open(os.path.join(self.base, "server.properties")) as f:
            props = f.read()
        self.assertIn(f"listeners=PLAINTEXT://127.0.0.1:{PORT},CONTROLLER://127.0.0.1:{PORT + 1}", props)
        cluster_id = st["cluster_id"]

        tool(self.base, "stop")
        self.assertEqual(java_pids_under(self.base), [])
        self.assertNotIn(PORT, listening_ports())
        self.assertEqual(tool(self.base, "status", check=False).returncode, 3)
        tool(self.base, "start")
        st = json.loads(tool(self.base, "status", "--json").stdout)
        self.assertEqual(st["state"], "ready")
        self.assertEqual(st["cluster_id"], cluster_id, "same data after start")
        self.assertIn("already running", tool(self.base, "up", "--port", str(PORT)).stdout)

        # A broker whose pid file is gone is still found through /proc.
        os.remove(os.path.join(self.base, "broker.pid"))
        pids = java_pids_under(self.base)
        self.assertEqual(len(pids), 1)
        tool(self.base, "down")
        self.assertEqual(java_pids_under(self.base), [])
        self.assertFalse(os.path.exists(self.base))
        self.assertNotIn(PORT, listening_ports())
        self.assertNotIn(PORT + 1, listening_ports())
        self.assertIn("did not exist", tool(self.base, "down").stdout)

    def test_busy_port_is_refused_and_nothing_is_left(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", PORT + 3))  # the controller's port
        s.listen()
        try:
            p = tool(self.base, "up", "--port", str(PORT + 2), check=False)
        finally:
            s.close()
        self.assertEqual(p.returncode, 1)
        self.assertIn(str(PORT + 3), p.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.base, "kafka.json")))
        self.assertEqual(java_pids_under(self.base), [])


if __name__ == "__main__":
    unittest.main()
