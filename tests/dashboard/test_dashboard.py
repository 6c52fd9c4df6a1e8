#!/usr/bin/env python3
"""The dashboard in a real headless Chromium (Debian's chromium, chromium-driver,
python3-selenium) against real MariaDB servers (tools/sandbox) and a real
`tidewatch run`.

Topologies: 'm>r1,r2,r3,nb[nobinlog]' (the star of the issue plus a replica
without binary logs to refuse a move onto) and the chain 'a>b>c'. Two daemons
follow them: one that may change things, one with ReadOnly. Ports: servers
27100… and 27200…, API 27993 and 27994. Screenshots go to
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
API, API_READONLY = 27993, 27994

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
        ENV["daemon"] = Daemon(os.path.join(work, "daemon"), API, seeds)
        ENV["daemon"].start()
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
    for d in ("daemon", "readonly"):
        if d in ENV:
            ENV[d].stop()
    for s in ("star", "chain"):
        if s in ENV:
            ENV[s].down()
    if ENV.get("shots") != ENV.get("work"):
        shutil.rmtree(ENV["work"], ignore_errors=True)


class DashboardTest(unittest.TestCase):
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
        self.assertIn("read-only", self.b.find_element("id", "who").text)
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
