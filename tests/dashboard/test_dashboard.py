#!/usr/bin/env python3
"""The dashboard in a real headless Chromium (Debian's chromium, chromium-driver,
python3-selenium) against real MariaDB servers (tools/sandbox) and a real
`tidewatch run`.

Topologies: 'm>r1,r2,r3,nb[nobinlog]' (the star of the issue plus a replica
without binary logs to refuse a move onto) and the chain 'a>b>c'. Two daemons
follow them: one that may change things (and runs the recovery consumer, for
the graceful takeover), one with ReadOnly; a third one behind orchestrator's
"multi" authentication. Ports: servers 27100… and 27200…, API 27993, 27994
and 27995. Screenshots go to
$TIDEWATCH_DASHBOARD_SHOTS (default: the test's directory, kept on failure).

The tests run in order (their names): the kill -9 of the master comes last.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.realpath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools", "pylib"))

from tidewatch_browser import Daemon, Sandbox, chromium, http_get, quit_chromium  # noqa: E402
from tidewatch_proc import wait_until  # noqa: E402

STAR_BASE, CHAIN_BASE = 27100, 27200
API, API_READONLY, API_AUTH = 27993, 27994, 27995
ADMIN = ("admin", "s3cret")

ENV: dict = {}


def setUpModule():
    work = tempfile.mkdtemp(prefix="tidewatch-dashboard-")
    ENV["work"] = work
    ENV["shots"] = os.environ.get("TIDEWATCH_DASHBOARD_SHOTS", work)
    os.makedirs(ENV["shots"], exist_ok=True)
    try:
        star = Sandbox(os.path.join(work, "star"), "m>r1,r2,r3,nb[nobinlog]", STAR_BASE)
        chain = Sandbox(os.path.join(work, "chain"), "a>b>c", CHAIN_BASE)
        ENV["star"], ENV["chain"] = star, chain
        star.up()
        chain.up()
        seeds = [star.key("m"), chain.key("a")]
        ENV["daemon"] = Daemon(os.path.join(work, "daemon"), API, seeds, {
            "RecoveryConsumer": "embedded", "ReplicationCredentialsQuery": "SELECT 'repl', 'repl'"})
        ENV["daemon"].start()
        ENV["auth"] = Daemon(os.path.join(work, "auth"), API_AUTH, seeds, {
            "AuthenticationMethod": "multi", "HTTPAuthUser": ADMIN[0], "HTTPAuthPassword": ADMIN[1]})
        ENV["auth"].start(settle=False)
        ENV["readonly"] = Daemon(os.path.join(work, "readonly"), API_READONLY, seeds, {"ReadOnly": True})
        ENV["readonly"].start()
        ENV["browser"] = chromium()
        ENV["browser"].set_script_timeout(30)
    except BaseException:
        tearDownModule()
        raise


def tearDownModule():
    if "browser" in ENV:
        try:
            quit_chromium(ENV["browser"])
        except Exception:  # noqa: BLE001
            pass
    for d in ("daemon", "readonly", "auth"):
        if d in ENV:
            ENV[d].stop()
    for s in ("star", "chain"):
        if s in ENV:
            ENV[s].down()
    # The test's directory, screenshots and logs with it, is kept only when a
    # test failed; screenshots put elsewhere (TIDEWATCH_DASHBOARD_SHOTS) stay.
    if "work" in ENV and not ENV.get("failed"):
        shutil.rmtree(ENV["work"], ignore_errors=True)
    elif "work" in ENV:
        print(f"dashboard test: a test failed; its directory is kept: {ENV['work']}", file=sys.stderr)


class DashboardTest(unittest.TestCase):
    def tearDown(self):
        result = getattr(self._outcome, "result", None)
        if result is not None and (result.failures or result.errors):
            ENV["failed"] = True

    @classmethod
    def setUpClass(cls):
        cls.b = ENV["browser"]
        cls.star, cls.chain = ENV["star"], ENV["chain"]

    def open(self, port: int, fragment: str) -> None:
        self.b.get(f"http://127.0.0.1:{port}/#/{fragment}")
        self.wait_js("return document.getElementById('link').classList.contains('up')", 20)

    def wait_js(self, script: str, timeout: float = 10):
        return wait_until(lambda: self.b.execute_script(script), timeout, 0.02)

    def node(self, key: str):
        return self.b.find_element("css selector", f'.tree .node[data-instance="{key}"]')

    def tree_keys(self) -> set[str]:
        return set(self.b.execute_script(
            "return [...document.querySelectorAll('.tree .node')].map(e => e.dataset.instance)"))

    def child_of(self, master: str, replica: str) -> bool:
        """Whether the page draws `replica` directly below `master`."""
        return self.b.execute_script(
            """const li = document.querySelector(`.tree .node[data-instance="${arguments[0]}"]`).parentElement;
               const kids = li.querySelector(':scope > ul');
               return !!kids && [...kids.children].some(c => c.querySelector(':scope > .node').dataset.instance === arguments[1]);""",
            master, replica)

    def drag(self, source: str, target: str) -> None:
        from selenium.webdriver.common.action_chains import ActionChains
        ActionChains(self.b).drag_and_drop(self.node(source), self.node(target)).perform()

    def shot(self, name: str) -> str:
        path = os.path.join(ENV["shots"], name)
        self.b.save_screenshot(path)
        return path

    # --------------------------------------------------------------------

    def test_1_every_instance_of_the_star_and_the_chain(self):
        star_keys = {self.star.key(n) for n in ("m", "r1", "r2", "r3", "nb")}
        chain_keys = {self.chain.key(n) for n in ("a", "b", "c")}
        self.open(API, "")
        self.wait_js("return document.querySelectorAll('tr.cluster').length == 2")
        self.shot("dashboard-clusters.png")
        self.open(API, "cluster/" + self.star.key("m"))
        wait_until(lambda: self.tree_keys() == star_keys, 10)
        for r in ("r1", "r2", "r3", "nb"):
            self.assertTrue(self.child_of(self.star.key("m"), self.star.key(r)))
        text = self.node(self.star.key("nb")).text
        self.assertIn("no binlog", text)
        self.assertIn("REPLICA", text)
        self.assertIn("streaming", self.node(self.star.key("m")).text)
        self.shot("dashboard-topology.png")
        self.open(API, "cluster/" + self.chain.key("a"))
        wait_until(lambda: self.tree_keys() == chain_keys, 10)
        self.assertTrue(self.child_of(self.chain.key("a"), self.chain.key("b")))
        self.assertTrue(self.child_of(self.chain.key("b"), self.chain.key("c")))
        self.assertIn("INTERMEDIATE MASTER", self.node(self.chain.key("b")).text)

    def test_2_refused_move_says_why_and_changes_nothing(self):
        self.open(API, "cluster/" + self.star.key("m"))
        wait_until(lambda: self.star.key("nb") in self.tree_keys(), 10)
        self.drag(self.star.key("r2"), self.star.key("nb"))
        confirm = wait_until(lambda: self.b.find_elements("css selector", '#dialog [data-action="confirm"]'), 5)
        self.assertTrue(self.b.find_elements("css selector", '#dialog [data-action="cancel"]'))
        self.assertIn(self.star.key("nb"), self.b.find_element("id", "dialog-body").text)
        confirm[0].click()
        result = wait_until(lambda: self.b.find_elements("id", "action-result"), 20)[0]
        self.assertEqual(result.get_attribute("data-ok"), "false")
        self.assertIn("does not write binary logs", result.text)
        self.shot("dashboard-refused.png")
        self.b.find_element("css selector", '#dialog [data-action="close"]').click()
        self.assertEqual(self.star.master_port_of("r2"), self.star.port("m"))
        self.assertTrue(self.child_of(self.star.key("m"), self.star.key("r2")))

    def test_3_drag_r3_onto_r1_moves_it_in_mariadb(self):
        self.open(API, "cluster/" + self.star.key("m"))
        wait_until(lambda: self.star.key("r3") in self.tree_keys(), 10)
        # Cancel first: nothing happens.
        self.drag(self.star.key("r3"), self.star.key("r1"))
        wait_until(lambda: self.b.find_elements("css selector", '#dialog [data-action="cancel"]'), 5)[0].click()
        self.assertEqual(self.star.master_port_of("r3"), self.star.port("m"))
        self.drag(self.star.key("r3"), self.star.key("r1"))
        wait_until(lambda: self.b.find_elements("css selector", '#dialog [data-action="confirm"]'), 5)[0].click()
        result = wait_until(lambda: self.b.find_elements("id", "action-result"), 60)[0]
        self.assertEqual(result.get_attribute("data-ok"), "true", result.text)
        self.assertIn(f"to below {self.star.key('r1')}", result.text)
        self.b.find_element("css selector", '#dialog [data-action="close"]').click()
        self.assertEqual(self.star.master_port_of("r3"), self.star.port("r1"))
        rows = self.star.sql("r3", "SHOW SLAVE STATUS")
        self.assertEqual((rows[0]["Slave_IO_Running"], rows[0]["Slave_SQL_Running"]), ("Yes", "Yes"))
        # The page follows by itself.
        wait_until(lambda: self.child_of(self.star.key("r1"), self.star.key("r3")), 10)
        self.shot("dashboard-moved.png")

    def test_4_read_only_has_no_controls_and_refuses_forgery(self):
        self.open(API_READONLY, "cluster/" + self.star.key("m"))
        wait_until(lambda: self.star.key("r2") in self.tree_keys(), 10)
        self.assertEqual(self.b.find_elements("css selector", ".node.draggable"), [])
        self.assertEqual(self.b.find_elements("id", "graceful-takeover"), [])
        self.assertIn("read-only", self.b.find_element("id", "who").text)
        status, body = http_get(API_READONLY, f"/api/graceful-master-takeover-auto/{self.star.key('m')}")
        self.assertEqual(status, 500)
        self.assertEqual(json.loads(body)["Message"], "Unauthorized")
        # A drag does nothing.
        self.drag(self.star.key("r2"), self.star.key("r1"))
        time.sleep(0.5)
        self.assertFalse(self.b.find_elements("css selector", '#dialog:not(.hidden) [data-action="confirm"]'))
        self.open(API_READONLY, "instance/" + self.star.key("r2"))
        self.wait_js("return document.querySelectorAll('button[data-do]').length == 4", 10)
        self.assertTrue(self.b.execute_script(
            "return [...document.querySelectorAll('button[data-do]')].every(b => b.disabled)"))
        host, port = self.star.key("r2").split(":")
        rhost, rport = self.star.key("r1").split(":")
        status, body = http_get(API_READONLY, f"/api/match-below/{host}/{port}/{rhost}/{rport}")
        self.assertEqual(status, 500)
        self.assertEqual(json.loads(body)["Message"], "Unauthorized")
        status, body = http_get(API_READONLY, f"/api/begin-downtime/{host}/{port}/x/y/1m")
        self.assertEqual(status, 500)
        self.assertEqual(self.star.master_port_of("r2"), self.star.port("m"))
        rights = json.loads(http_get(API_READONLY, "/api/dashboard-rights")[1])
        self.assertFalse(rights["CanChange"])

    def test_5_daemon_restart_is_shown_and_recovered(self):
        self.open(API, "cluster/" + self.star.key("m"))
        wait_until(lambda: self.star.key("r3") in self.tree_keys(), 10)
        syncs = self.b.execute_script("return tidewatchDashboard.stats.syncs")
        daemon = ENV["daemon"]
        daemon.kill9()
        self.wait_js("return document.getElementById('banner').dataset.state == 'disconnected'", 10)
        self.assertTrue(self.b.find_element("id", "banner").is_displayed())
        self.assertIn("lost", self.b.find_element("id", "banner").text)
        self.shot("dashboard-disconnected.png")
        daemon.start()
        self.wait_js("return document.getElementById('banner').dataset.state == 'live'", 20)
        self.assertFalse(self.b.find_element("id", "banner").is_displayed())
        self.assertGreater(self.b.execute_script("return tidewatchDashboard.stats.syncs"), syncs)
        wait_until(lambda: len(self.tree_keys()) == 5, 10)
        self.assertTrue(self.child_of(self.star.key("r1"), self.star.key("r3")))

    def test_5b_graceful_takeover_from_the_page(self):
        """The star's master hands over to r1 (r3 is below r1 since test 3)."""
        m, r1 = self.star.key("m"), self.star.key("r1")
        self.open(API, "cluster/" + m)
        wait_until(lambda: self.star.key("r2") in self.tree_keys(), 10)
        self.wait_js("return !!document.getElementById('graceful-takeover')", 10)
        self.b.find_element("id", "graceful-takeover").click()
        # Cancel first: nothing happens.
        wait_until(lambda: self.b.find_elements("css selector", '#dialog [data-action="cancel"]'), 5)[0].click()
        self.assertEqual(self.star.sql("m", "SELECT @@read_only AS ro")[0]["ro"], "0")
        self.b.find_element("id", "graceful-takeover").click()
        from selenium.webdriver.support.ui import Select
        Select(wait_until(lambda: self.b.find_elements("id", "f-designated"), 5)[0]).select_by_value(r1)
        self.shot("dashboard-takeover-dialog.png")
        self.b.find_element("css selector", '#dialog [data-action="confirm"]').click()
        result = wait_until(lambda: self.b.find_elements("id", "action-result"), 120)[0]
        self.assertEqual(result.get_attribute("data-ok"), "true", result.text)
        self.assertIn(f"successor: {r1}", result.text)
        self.b.find_element("css selector", '#dialog [data-action="close"]').click()
        # In MariaDB: r1 writable and no replica; m read-only below r1, as are r2 and nb; r3 stays below r1.
        self.assertEqual(self.star.sql("r1", "SELECT @@read_only AS ro")[0]["ro"], "0")
        self.assertEqual(self.star.sql("r1", "SHOW SLAVE STATUS"), [])
        self.assertEqual(self.star.sql("m", "SELECT @@read_only AS ro")[0]["ro"], "1")
        for name in ("m", "r2", "nb", "r3"):
            self.assertEqual(self.star.master_port_of(name), self.star.port("r1"), name)
            rows = self.star.sql(name, "SHOW SLAVE STATUS")
            self.assertEqual((rows[0]["Slave_IO_Running"], rows[0]["Slave_SQL_Running"]), ("Yes", "Yes"), name)
        # The page follows: the cluster is now r1's, with m below it.
        self.open(API, "cluster/" + r1)
        wait_until(lambda: m in self.tree_keys() and self.child_of(r1, m), 15)
        self.shot("dashboard-takeover.png")

    def test_7_multi_authentication(self):
        """orchestrator's "multi": the configured user changes things, "readonly" (any password) only looks."""
        self.assertEqual(http_get(API_AUTH, "/api/clusters")[0], 401)
        # Credentials in the URL: Chromium keeps them for the page's own requests and its event stream.
        self.b.get(f"http://{ADMIN[0]}:{ADMIN[1]}@127.0.0.1:{API_AUTH}/#/cluster/{self.star.key('r1')}")
        self.wait_js("return document.getElementById('link').classList.contains('up')", 30)
        wait_until(lambda: self.star.key("r2") in self.tree_keys(), 30)
        self.assertTrue(self.b.find_elements("css selector", ".node.draggable"))
        self.assertIn(ADMIN[0], self.b.find_element("id", "who").text)
        self.b.get("about:blank")
        self.b.get(f"http://readonly:anything@127.0.0.1:{API_AUTH}/#/cluster/{self.star.key('r1')}")
        self.wait_js("return document.getElementById('link').classList.contains('up')", 30)
        wait_until(lambda: self.star.key("r2") in self.tree_keys(), 30)
        self.assertEqual(self.b.find_elements("css selector", ".node.draggable"), [])
        self.assertIn("read-only", self.b.find_element("id", "who").text)
        self.shot("dashboard-readonly-user.png")

    def test_6_kill9_of_the_master_shows_DeadMaster(self):
        self.open(API, "cluster/" + self.chain.key("a"))
        wait_until(lambda: self.chain.key("c") in self.tree_keys(), 10)
        self.b.execute_script("""
            window.deadMasterSeen = 0;
            new MutationObserver((_, obs) => {
              if (document.querySelector('.node [data-analysis="DeadMaster"]')) { window.deadMasterSeen = Date.now(); obs.disconnect(); }
            }).observe(document.body, {subtree: true, childList: true});""")
        killed = self.chain.kill9("a")
        seen = wait_until(lambda: self.b.execute_script("return window.deadMasterSeen"), 30, 0.02)
        millis = seen - killed * 1000
        ENV["dead_master_ms"] = millis
        badge = self.node(self.chain.key("a")).find_element("css selector", '[data-analysis="DeadMaster"]')
        self.assertEqual(badge.text, "DeadMaster")
        self.assertIn("DeadMaster", self.b.find_element("tag name", "body").text)
        print(f"\nkill -9 of the master -> DeadMaster on the page: {millis:.0f} ms", file=sys.stderr)
        with open(os.path.join(ENV["shots"], "dead-master-ms.txt"), "w") as f:
            f.write(f"{millis:.1f}\n")
        self.shot("dashboard-deadmaster.png")
        self.open(API, "problems")
        self.wait_js("return document.body.innerText.includes('DeadMaster')", 10)
        self.shot("dashboard-problems.png")
        self.open(API, "")
        self.wait_js("return !!document.querySelector('tr.cluster.sev-critical [data-analysis=\"DeadMaster\"]')", 10)
        self.shot("dashboard-clusters-deadmaster.png")


if __name__ == "__main__":
    unittest.main(verbosity=2)
