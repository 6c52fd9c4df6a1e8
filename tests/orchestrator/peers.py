"""peers: what the orchestrator compatibility tests share — a sandbox, `tidewatch run` on it, the
peers (orchestrator, orchestrator-client) from ../shared/peers beside the source tree, SQL.

python3 >= 3.11, standard library only.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.normpath(os.path.join(HERE, "..", ".."))
PEERS = os.path.normpath(os.path.join(SOURCE, "..", "shared", "peers"))
SANDBOX = os.path.join(SOURCE, "tools", "sandbox", "tidewatch-sandbox")
sys.path.insert(0, os.path.join(SOURCE, "tools", "pylib"))

from tidewatch_cli import tail  # noqa: E402
from tidewatch_proc import wait_gone, wait_until  # noqa: E402


def peer(name: str) -> str:
    """The peer program's path; AssertionError (a failure, not a skip) when it is missing."""
    path = os.path.join(PEERS, name)
    if not os.access(path, os.X_OK):
        raise AssertionError(f"peer program {name} is missing: expected an executable {path} "
                             f"(../shared/peers beside the source tree; see its README.md)")
    return path


def orchestrator_client() -> str:
    """orchestrator's client script, after checking for the tools it needs (a failure, not a skip)."""
    path = peer("orchestrator-client")
    for tool in ("curl", "jq"):
        if shutil.which(tool) is None:
            raise AssertionError(f"{tool} is missing (tools/install-deps.sh installs it): orchestrator-client needs it")
    return path


def sandbox_config(*seeds: str, **more) -> dict:
    """A `tidewatch run` configuration for the sandbox: its user, these seeds, a poll a second, and `more`."""
    return {"MySQLTopologyUser": "tidewatch", "MySQLTopologyPassword": "tidewatch", "DiscoverySeeds": list(seeds),
            "InstancePollSeconds": 1, **more}


def tidewatch_binary() -> str:
    path = os.environ.get("TIDEWATCH_BINARY") or os.path.join(SOURCE, "build", "tools", "tidewatch")
    if not os.access(path, os.X_OK):
        raise AssertionError(f"tidewatch binary not found at {path} (build it, or set TIDEWATCH_BINARY)")
    return path


class Sandbox:
    """A tidewatch-sandbox topology in a directory of its own, torn down by down()."""

    def __init__(self, spec: str, base_port: int, *up_args: str):
        self.dir = tempfile.mkdtemp(prefix="tidewatch-orc-")
        self.spec = spec
        self.base_port = base_port
        self.tool("up", "--base-port", str(base_port), *up_args, spec, timeout=300)
        self.env = {}
        for line in self.tool("env").splitlines():
            k, _, v = line.partition("=")
            self.env[k] = v.strip("'")

    def tool(self, *args: str, timeout: float = 120, check: bool = True) -> str:
        p = subprocess.run([sys.executable, SANDBOX, "--dir", self.dir, *args], capture_output=True, text=True,
                           timeout=timeout)
        if check and p.returncode != 0:
            raise AssertionError(f"tidewatch-sandbox {' '.join(args)} failed ({p.returncode}):\n{p.stdout}{p.stderr}")
        return p.stdout

    def port(self, name: str) -> int:
        return int(self.env["TIDEWATCH_SANDBOX_PORT_" + name.upper()])

    def key(self, name: str) -> str:
        return f"127.0.0.1:{self.port(name)}"

    def rows(self, name: str, sql: str) -> list[dict]:
        """The result set of `sql` on server `name`, one dict per row (values as text; NULL as 'NULL')."""
        out = self.tool("sql", name, sql).splitlines()
        if not out:
            return []
        head = out[0].split("\t")
        return [dict(zip(head, line.split("\t"))) for line in out[1:]]

    def value(self, name: str, sql: str) -> str:
        r = self.rows(name, sql)
        return next(iter(r[0].values())) if r else ""

    def down(self) -> None:
        self.tool("down", check=False, timeout=120)
        shutil.rmtree(self.dir, ignore_errors=True)


class Daemon:
    """`tidewatch run` with a config written from `config`, its output in <dir>/tidewatch.log."""

    def __init__(self, directory: str, config: dict, listen_port: int, health_path: str = "/api/health"):
        self.dir = directory
        self.port = listen_port
        self.config_path = os.path.join(directory, "tidewatch.conf.json")
        config = dict(config)
        config.setdefault("ListenAddress", f"127.0.0.1:{listen_port}")
        config.setdefault("StateDir", os.path.join(directory, "tidewatch-state"))
        with open(self.config_path, "w") as f:
            json.dump(config, f)
        self.log = os.path.join(directory, "tidewatch.log")
        out = open(self.log, "ab")
        self.proc = subprocess.Popen([tidewatch_binary(), "run", "-c", self.config_path], stdout=out,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        out.close()
        if not wait_until(lambda: self.get(health_path) is not None or self.proc.poll() is not None, 30):
            raise AssertionError("tidewatch run did not answer /api/health:\n" + tail(self.log))
        if self.proc.poll() is not None:
            raise AssertionError(f"tidewatch run exited ({self.proc.returncode}):\n" + tail(self.log))

    def get(self, path: str):
        """The decoded JSON answer of GET path, None when it cannot be had."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=10) as r:
                return json.loads(r.read().decode())
        except (urllib.error.URLError, OSError, ValueError):
            return None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            if not wait_gone(self.proc.pid, 20):
                self.proc.kill()
            self.proc.wait()


def start_orchestrator(directory: str, user: str, password: str, http_port: int) -> tuple[subprocess.Popen, str]:
    """orchestrator itself (the peer binary) on SQLite, configured as ../shared/peers/README.md says
    works on one host; its log in <dir>/orchestrator.log."""
    conf = {
        "Debug": True,
        "ListenAddress": f"127.0.0.1:{http_port}",
        "MySQLTopologyUser": user,
        "MySQLTopologyPassword": password,
        "BackendDB": "sqlite",
        "SQLite3DataFile": os.path.join(directory, "orchestrator.db"),
        "HostnameResolveMethod": "none",
        "MySQLHostnameResolveMethod": "",
        "DiscoverByShowSlaveHosts": True,
        "InstancePollSeconds": 1,
        "PseudoGTIDPattern": "drop view if exists `_pseudo_gtid_`",
        "PseudoGTIDPatternIsFixedSubstring": True,
    }
    path = os.path.join(directory, "orchestrator.conf.json")
    with open(path, "w") as f:
        json.dump(conf, f)
    log = os.path.join(directory, "orchestrator.log")
    out = open(log, "ab")
    proc = subprocess.Popen([peer("orchestrator"), f"--config={path}", "http"], stdout=out, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, cwd=directory)
    out.close()

    def up():
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/api/health", timeout=5):
                return True
        except (urllib.error.URLError, OSError):
            return proc.poll() is not None
    wait_until(up, 60, 0.2)
    if proc.poll() is not None:
        raise AssertionError(f"orchestrator exited ({proc.returncode}):\n" + tail(log))
    return proc, log


def stop_process(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        if not wait_gone(proc.pid, 20):
            proc.kill()
        proc.wait()


def http_get(url: str, timeout: float = 30):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return json.loads(r.read().decode())


def sleep_until(pred, timeout: float, interval: float = 0.2):
    return wait_until(pred, timeout, interval)


__all__ = ["Sandbox", "Daemon", "peer", "orchestrator_client", "sandbox_config", "tidewatch_binary", "start_orchestrator", "stop_process", "http_get",
           "sleep_until", "tail", "time"]


class ClientCommands:
    """orchestrator-client run against the daemon at API_PORT, and what MariaDB says: for test cases with
    `client` (the peer's path), `daemon`, `sb` and API_PORT."""

    API_PORT = 0

    def oc(self, command: str, *args: str, ok: bool = True) -> str:
        env = dict(os.environ, ORCHESTRATOR_API=f"http://127.0.0.1:{self.API_PORT}/api")
        p = subprocess.run([self.client, "-c", command, *args], capture_output=True, text=True, env=env, timeout=120)
        # 141 (SIGPIPE) is the client's own race, not an answer: some of its functions pipe the
        # response into one that prints a variable instead of reading (`print_response |
        # print_details`), and under `set -o pipefail` the writer's SIGPIPE becomes the exit status.
        # An error answer exits 1.
        if ok and p.returncode not in (0, 141):
            raise AssertionError(f"orchestrator-client -c {command} {' '.join(args)} failed ({p.returncode}):\n"
                                 f"{p.stdout}{p.stderr}\n" + tail(self.daemon.log))
        if not ok and p.returncode != 1:
            raise AssertionError(f"orchestrator-client -c {command} {' '.join(args)} succeeded:\n{p.stdout}")
        return p.stdout if ok else p.stdout + p.stderr

    def lines(self, command: str, *args: str) -> list[str]:
        return [line for line in self.oc(command, *args).splitlines() if line]

    def master_of(self, name: str) -> str:
        """The master of sandbox server `name` as MariaDB says (host:port; "" when it is no replica), after
        checking that it replicates without error."""
        rows = self.sb.rows(name, "SHOW SLAVE STATUS")
        if not rows:
            return ""
        s = rows[0]
        self.assertEqual((s["Slave_IO_Running"], s["Slave_SQL_Running"], s["Last_SQL_Error"]), ("Yes", "Yes", ""),
                         f"{name} replicates")
        return f"127.0.0.1:{s['Master_Port']}"


class ClientTestCase(ClientCommands, unittest.TestCase):
    """orchestrator-client (the real one) against `tidewatch run` following a sandbox. Subclasses set
    SPEC, UP_ARGS, BASE_PORT and API_PORT; the daemon has discovered every server of SPEC when the
    tests start."""

    SPEC = "m>r1,r2"
    UP_ARGS: tuple[str, ...] = ()
    BASE_PORT = 0
    API_PORT = 0
    CONFIG: dict = {}  # more configuration for the daemon
    EXPECT_SERVERS = 0  # how many servers the daemon discovers from the master (0: every server of SPEC)

    @classmethod
    def setUpClass(cls):
        cls.client = orchestrator_client()
        cls.sb = Sandbox(cls.SPEC, cls.BASE_PORT, *cls.UP_ARGS)
        servers = cls.EXPECT_SERVERS or len(set(n for part in cls.SPEC.split(";")
                                                for n in part.replace(">", ",").split(",")))
        try:
            cls.daemon = Daemon(cls.sb.dir, sandbox_config(cls.sb.key("m"), **cls.CONFIG), cls.API_PORT)
            sb = cls.sb
            ok = sleep_until(lambda: len(cls.daemon.get("/api/cluster/" + sb.key("m")) or []) == servers, 30)
            if not ok:
                raise AssertionError("tidewatch did not discover the sandbox:\n" + tail(cls.daemon.log))
        except BaseException:
            cls.sb.down()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.daemon.stop()
        cls.sb.down()

