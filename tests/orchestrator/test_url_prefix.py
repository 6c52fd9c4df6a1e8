#!/usr/bin/env python3
"""orchestrator's URLPrefix and StatusEndpoint: `tidewatch run` behind a path, as behind a proxy.

With "URLPrefix": "/orchestrator/" (normalized as orchestrator does) every path — the API, the live
stream, the page and its files, /metrics — is served under /orchestrator and nowhere else;
/orchestrator redirects to /orchestrator/ so that the page's relative paths resolve under it; the real
orchestrator-client works with ORCHESTRATOR_API pointing there. A custom "StatusEndpoint" answers
orchestrator's health check at that very path, outside the prefix, in place of /api/status.

Run: python3 tests/orchestrator/test_url_prefix.py -v
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from peers import Daemon, Sandbox, orchestrator_client, sandbox_config, sleep_until  # noqa: E402


class UrlPrefixTest(unittest.TestCase):
    PORT = 30829

    @classmethod
    def setUpClass(cls):
        cls.sb = Sandbox("m>r1", 30820, "--pseudo-gtid-interval", "0")
        try:
            cls.daemon = Daemon(cls.sb.dir, sandbox_config(cls.sb.key("m"), URLPrefix="/orchestrator/",
                                                           StatusEndpoint="/health/check"),
                                cls.PORT, health_path="/orchestrator/api/health")
        except BaseException:
            cls.sb.down()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.daemon.stop()
        cls.sb.down()

    def request(self, path: str) -> tuple[int, dict, str]:
        c = http.client.HTTPConnection("127.0.0.1", self.PORT, timeout=10)
        try:
            c.request("GET", path)
            r = c.getresponse()
            headers = {k.lower(): v for k, v in r.getheaders()}
            body = r.read().decode() if "event-stream" not in headers.get("content-type", "") else ""
            return r.status, headers, body
        finally:
            c.close()

    def test_paths_under_the_prefix(self):
        m, r1 = self.sb.key("m"), self.sb.key("r1")
        self.assertTrue(sleep_until(lambda: len(json.loads(self.request("/orchestrator/api/cluster/" + m)[2]
                                                           or "[]")) == 2, 30))
        status, _, body = self.request("/orchestrator/api/clusters")
        self.assertEqual((status, json.loads(body)), (200, [m]))
        self.assertEqual(self.request("/api/clusters")[0], 404)
        self.assertEqual(self.request("/metrics")[0], 404)
        self.assertEqual(self.request("/orchestrator/metrics")[0], 200)
        status, headers, _ = self.request("/orchestrator")
        self.assertEqual((status, headers.get("location")), (301, "/orchestrator/"))
        status, _, page = self.request("/orchestrator/")
        self.assertEqual(status, 200)
        self.assertIn('src="dashboard/dashboard.js"', page, "the page's paths are relative")
        self.assertEqual(self.request("/orchestrator/dashboard/dashboard.js")[0], 200)
        status, headers, _ = self.request("/orchestrator/api/stream")
        self.assertEqual(status, 200)
        self.assertIn("event-stream", headers.get("content-type", ""))

        env = dict(os.environ, ORCHESTRATOR_API=f"http://127.0.0.1:{self.PORT}/orchestrator/api")
        client = orchestrator_client()
        for args, want in ((["-c", "clusters"], m), (["-c", "which-master", "-i", r1], m)):
            p = subprocess.run([client, *args], capture_output=True, text=True, env=env, timeout=60)
            self.assertEqual((p.returncode, p.stdout.strip()), (0, want), p.stdout + p.stderr)

    def test_status_endpoint(self):
        # orchestrator serves a custom StatusEndpoint at that very path, outside the prefix, instead of
        # <prefix>/api/status.
        status, _, body = self.request("/health/check")
        j = json.loads(body)
        self.assertEqual((status, j["Code"], j["Message"]), (200, "OK", "Application node is healthy"))
        self.assertEqual(self.request("/orchestrator/api/status")[0], 404)
        self.assertEqual(self.request("/orchestrator/api/health")[0], 200)


if __name__ == "__main__":
    unittest.main()
