#!/usr/bin/env python3
"""orchestrator and `tidewatch run` watching the same sandbox at once.

Tidewatch's streams do not register (COM_REGISTER_SLAVE) unless TidewatchRegisterAsReplica is set,
so no server lists them in SHOW SLAVE HOSTS, and orchestrator — discovering replicas through SHOW
SLAVE HOSTS — logs no error about them. With registration on, the same run makes orchestrator log
its `'show slave hosts' returned row with <host,port>` complaint: the check can see what it looks for.

Needs ../shared/peers/orchestrator beside the source tree (a missing peer is a failure, not a skip).
Run: python3 tests/orchestrator/test_side_by_side.py -v
"""

from __future__ import annotations

import os
import re
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from peers import (Daemon, Sandbox, http_get, peer, sandbox_config, sleep_until, start_orchestrator,  # noqa: E402
                   stop_process, tail)

BASE_PORT = 28200
TIDEWATCH_PORT = 28992
ORCHESTRATOR_PORT = 28993
WATCH_SECONDS = 25


class SideBySideTest(unittest.TestCase):
    def setUp(self):
        peer("orchestrator")
        self.sandbox = Sandbox("m>r1,r2", BASE_PORT)
        self.daemon = None
        self.orchestrator = None

    def tearDown(self):
        if self.daemon:
            self.daemon.stop()
        if self.orchestrator:
            stop_process(self.orchestrator)
        self.sandbox.down()

    def tidewatch_dumps(self, name: str) -> int:
        return len(self.sandbox.rows(name, "SELECT id FROM information_schema.processlist "
                                           "WHERE user = 'tidewatch' AND command LIKE 'Binlog Dump%'"))

    def slave_hosts(self, name: str) -> set[tuple[str, str]]:
        return {(r["Host"], r["Port"]) for r in self.sandbox.rows(name, "SHOW SLAVE HOSTS")}

    def test_no_complaint_from_orchestrator(self):
        sb = self.sandbox
        config = sandbox_config(sb.key("m"))
        self.daemon = Daemon(sb.dir, config, TIDEWATCH_PORT)
        self.assertTrue(sleep_until(lambda: all(self.tidewatch_dumps(n) == 1 for n in ("m", "r1", "r2")), 30),
                        "tidewatch streams every server:\n" + tail(self.daemon.log))
        real = {("127.0.0.1", str(sb.port("r1"))), ("127.0.0.1", str(sb.port("r2")))}
        for name in ("m", "r1", "r2"):
            self.assertEqual(self.slave_hosts(name), real if name == "m" else set(), f"SHOW SLAVE HOSTS on {name}")

        self.orchestrator, orc_log = start_orchestrator(sb.dir, "tidewatch", "tidewatch", ORCHESTRATOR_PORT)
        d = http_get(f"http://127.0.0.1:{ORCHESTRATOR_PORT}/api/discover/127.0.0.1/{sb.port('m')}")
        self.assertEqual(d["Code"], "OK", d)
        time.sleep(WATCH_SECONDS)
        cluster = http_get(f"http://127.0.0.1:{ORCHESTRATOR_PORT}/api/cluster/{sb.key('m')}")
        self.assertEqual(sorted(f"{i['Key']['Hostname']}:{i['Key']['Port']}" for i in cluster),
                         sorted(sb.key(n) for n in ("m", "r1", "r2")), "orchestrator sees the sandbox, nothing else")
        with open(orc_log, errors="replace") as f:
            errors = [line for line in f if " ERROR " in line or line.startswith("ERROR")]
        self.assertEqual(errors, [], "orchestrator logged errors while Tidewatch streamed the same servers")
        self.assertEqual(self.daemon.proc.poll(), None, "tidewatch still runs")
        self.assertTrue(all(self.tidewatch_dumps(n) == 1 for n in ("m", "r1", "r2")), "tidewatch still streams")

        # The control: registered streams are what orchestrator complains about.
        self.daemon.stop()
        config.update({"TidewatchRegisterAsReplica": True, "TidewatchReportHost": "tidewatch-report-host"})
        self.daemon = Daemon(sb.dir, config, TIDEWATCH_PORT)
        self.assertTrue(sleep_until(lambda: ("tidewatch-report-host", "0") in self.slave_hosts("m"), 30),
                        "a registered stream is listed:\n" + tail(self.daemon.log))
        complaint = re.compile(r"'show slave hosts' returned row with <host,port>: <tidewatch-report-host,0>")

        def complained():
            with open(orc_log, errors="replace") as f:
                return any(complaint.search(line) for line in f)
        self.assertTrue(sleep_until(complained, 20), "orchestrator complains about a registered stream:\n" +
                        tail(orc_log))


if __name__ == "__main__":
    unittest.main()
