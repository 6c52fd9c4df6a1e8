"""tidewatch_browser: a sandbox, a `tidewatch run` and a headless Chromium, for the
dashboard's browser tests (tests/dashboard/) and its benchmark (bench/dashboard-latency.py).

Needs Debian's chromium, chromium-driver and python3-selenium (tools/install-deps.sh).
Everything started here is stopped by close()/down() even when a test fails.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

from tidewatch_proc import pid_alive, port_free, wait_gone, wait_until

ROOT = os.path.realpath(os.path.join(os.path.dirname(os.path.realpath(__file__)), "..", ".."))
SANDBOX = os.path.join(ROOT, "tools", "sandbox", "tidewatch-sandbox")


def tidewatch_binary() -> str:
    """$TIDEWATCH_BINARY, else the build's tools/tidewatch."""
    return os.environ.get("TIDEWATCH_BINARY") or os.path.join(ROOT, "build", "tools", "tidewatch")


def http_get(port: int, path: str, timeout: float = 5.0, headers: dict | None = None) -> tuple[int, str]:
    """(status, body) of a GET on 127.0.0.1:port; (0, reason) when nothing answered."""
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")
    except OSError as e:
        return 0, str(e)


class Sandbox:
    """A tidewatch-sandbox topology in a directory of its own."""

    def __init__(self, directory: str, spec: str, base_port: int):
        self.dir, self.spec, self.base_port = directory, spec, base_port

    def _run(self, *args: str, timeout: float = 180) -> str:
        r = subprocess.run([SANDBOX, "--dir", self.dir, *args], capture_output=True, text=True, timeout=timeout)
        if r.returncode != 0:
            raise RuntimeError(f"tidewatch-sandbox {' '.join(args)}: {r.stderr.strip()}")
        return r.stdout

    def up(self) -> None:
        self._run("up", "--base-port", str(self.base_port), self.spec)

    def down(self) -> None:
        try:
            self._run("down")
        except Exception:  # noqa: BLE001 - teardown goes on
            pass

    def port(self, name: str) -> int:
        return int(self._run("port", name).strip())

    def key(self, name: str) -> str:
        return f"127.0.0.1:{self.port(name)}"

    def sql(self, name: str, query: str) -> list[dict]:
        """Rows of the query's result as dicts (the tool prints a header line, tab-separated)."""
        out = self._run("sql", name, query).rstrip("\n").split("\n")
        if not out or not out[0]:
            return []
        head = out[0].split("\t")
        return [dict(zip(head, line.split("\t"))) for line in out[1:]]

    def master_port_of(self, name: str) -> int | None:
        rows = self.sql(name, "SHOW SLAVE STATUS")
        return int(rows[0]["Master_Port"]) if rows else None

    def kill9(self, name: str) -> float:
        """kill -9 of the server's mariadbd, directly (no subprocess in between): the time of the
        kill (time.time())."""
        with open(os.path.join(self.dir, name, "mariadbd.pid")) as f:
            pid = int(f.read().strip())
        t = time.time()
        os.kill(pid, signal.SIGKILL)
        wait_gone(pid, 10)
        return t

    def start(self, name: str) -> None:
        self._run("start", name)


class Daemon:
    """A `tidewatch run` with a config of its own on 127.0.0.1:port."""

    def __init__(self, directory: str, port: int, seeds: list[str], extra: dict | None = None):
        os.makedirs(directory, exist_ok=True)
        self.dir, self.port = directory, port
        self.config = {
            "MySQLTopologyUser": "tidewatch", "MySQLTopologyPassword": "tidewatch",
            "DiscoverySeeds": seeds, "InstancePollSeconds": 1,
            "ListenAddress": f"127.0.0.1:{port}", "StateDir": os.path.join(directory, "state"),
        }
        self.config.update(extra or {})
        self.conf_path = os.path.join(directory, "tidewatch.conf.json")
        with open(self.conf_path, "w") as f:
            json.dump(self.config, f, indent=2)
        self.proc: subprocess.Popen | None = None

    def start(self, settle: bool = True) -> None:
        if not port_free(self.port):
            wait_until(lambda: port_free(self.port), 10)
        log = open(os.path.join(self.dir, "tidewatch.log"), "ab")
        self.proc = subprocess.Popen([tidewatch_binary(), "run", "-c", self.conf_path], stdin=subprocess.DEVNULL,
                                     stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        wait_until(lambda: http_get(self.port, "/api/health")[0] in (200, 401, 500), 20)
        if settle:
            wait_until(lambda: self.settled(), 60)

    def settled(self) -> bool:
        status, body = http_get(self.port, "/api/health")
        try:
            return status == 200 and json.loads(body)["Details"].get("Settled", False)
        except (ValueError, KeyError):
            return False

    def kill9(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None


def chromium(width: int = 1280, height: int = 900):
    """A headless Chromium under chromedriver (Debian's), with no network chatter of its own."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = os.environ.get("TIDEWATCH_CHROMIUM", "/usr/bin/chromium")
    profile = tempfile.mkdtemp(prefix="tidewatch-chromium-")
    for a in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
              "--disable-background-networking", "--disable-component-update", "--disable-sync",
              "--disable-dev-shm-usage", f"--window-size={width},{height}", "--user-data-dir=" + profile):
        opts.add_argument(a)
    service = Service(os.environ.get("TIDEWATCH_CHROMEDRIVER", "/usr/bin/chromedriver"))
    try:
        driver = webdriver.Chrome(service=service, options=opts)
    except BaseException:
        shutil.rmtree(profile, ignore_errors=True)
        raise
    driver.tidewatch_profile = profile
    return driver


def quit_chromium(driver) -> None:
    """Ends the browser and removes its profile directory."""
    profile = getattr(driver, "tidewatch_profile", "")
    try:
        driver.quit()
    finally:
        if profile:
            shutil.rmtree(profile, ignore_errors=True)


__all__ = ["Daemon", "Sandbox", "chromium", "quit_chromium", "http_get", "pid_alive", "tidewatch_binary", "ROOT"]
