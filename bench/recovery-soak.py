#!/usr/bin/env python3
"""Randomized recovery soak: `tidewatch run` with its recovery consumer against
real MariaDB topologies (tools/sandbox), one scenario after another, each
drawn at random:

  shape        star of 3 or 2 replicas, a chain with an intermediate master
               (master or intermediate master killed), co-masters with a replica
  replication  file:pos with Pseudo-GTID, or MariaDB GTID
  perturbation none, a replica delayed (MASTER_DELAY), a replica whose IO
               thread was stopped before the last writes, or one whose SQL
               thread is stopped
  kill         kill -9 during a write load, after it, or inside an open
               multi-statement transaction

and judged: the recovery must either succeed — every surviving server that
was not reported lost replicates (directly or not) from the one writable
successor, with CHECKSUM TABLE equal to the successor's once it has applied
everything — or be refused / fail with a reason. Anything else (a survivor
that diverges, that does not replicate, no verdict at all) is a divergence.

Not part of the test suite (it runs for a long time). Usage:
  bench/recovery-soak.py [--scenarios N] [--seed S] [--minutes M] [--base-port P]
Prints one line per scenario and a summary; exits 1 on any divergence.
Servers on 127.0.0.1, ports P… (default 26000), the daemon's API on P+90.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.realpath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools", "pylib"))

from tidewatch_browser import Daemon, Sandbox  # noqa: E402

SHAPES = {
    "star3": ("m>r1,r2,r3", "m"),
    "star2": ("m>r1,r2", "m"),
    "chain-master": ("m>i;i>r1,r2", "m"),
    "chain-intermediate": ("m>i,r0;i>r1,r2", "i"),
    "co-masters": ("a<>b;a>r1,r2", "a"),
}
PERTURBATIONS = ("none", "delay", "io-stopped", "sql-stopped")
KILLS = ("during-load", "after-load", "open-transaction")


def servers_of(spec: str) -> list[str]:
    names: list[str] = []
    for clause in spec.split(";"):
        for part in clause.replace("<>", ">").split(">"):
            for n in part.split(","):
                n = n.split("[")[0].strip()
                if n and n not in names:
                    names.append(n)
    return names


def replicas_of(spec: str) -> list[str]:
    """The servers that replicate from another (both of co-masters)."""
    out: list[str] = []
    for clause in spec.split(";"):
        if "<>" in clause:
            out += [n.split("[")[0].strip() for n in clause.split("<>")]
            continue
        parts = clause.split(">")
        for right in parts[1:]:
            out += [n.split("[")[0].strip() for n in right.split(",")]
    return [n for i, n in enumerate(out) if n and n not in out[:i]]


class Scenario:
    def __init__(self, rng: random.Random, number: int):
        self.number = number
        self.shape = rng.choice(list(SHAPES))
        self.spec, self.victim = SHAPES[self.shape]
        self.gtid = rng.random() < 0.5
        self.perturbation = rng.choice(PERTURBATIONS)
        self.kill = rng.choice(KILLS)
        replicas = [n for n in replicas_of(self.spec) if n != self.victim]
        self.perturbed = rng.choice(replicas) if self.perturbation != "none" else ""
        self.kill_after = rng.uniform(0.3, 2.5)

    def describe(self) -> str:
        return (f"#{self.number} {self.shape} {'gtid' if self.gtid else 'file:pos'} "
                f"{self.perturbation}{'(' + self.perturbed + ')' if self.perturbed else ''} kill {self.victim} "
                f"{self.kill}")


def messages(path: str) -> list[dict]:
    out = []
    try:
        with open(path) as f:
            for line in f:
                try:
                    out.append(json.loads(line))
                except ValueError:
                    pass
    except FileNotFoundError:
        pass
    return out


def verdict_of(path: str, victim_key: str) -> dict | None:
    """The recovery of the victim that ended: {outcome, instance, detail}."""
    for m in messages(path):
        r = m.get("recovery")
        if not r or r.get("step") != "recovery":
            continue
        if r.get("outcome") in ("SUCCEEDED", "FAILED", "REFUSED") and m.get("source", {}).get("server") == victim_key:
            return r
    return None


def run_scenario(sc: Scenario, work: str, base: int, binary: str) -> tuple[str, str]:
    """('ok' | 'refused' | 'divergence', detail)."""
    d = os.path.join(work, f"s{sc.number}")
    sb = Sandbox(os.path.join(d, "sandbox"), sc.spec, base)
    daemon = None
    try:
        sb._run("up", "--base-port", str(base), *([] if sc.gtid else ["--no-gtid"]), sc.spec)
        names = servers_of(sc.spec)
        keys = {n: sb.key(n) for n in names}
        jsonl = os.path.join(d, "messages.jsonl")
        seed = keys["a"] if "a" in keys else keys["m"]
        daemon = Daemon(os.path.join(d, "daemon"), base + 90, [seed], {
            "RecoveryConsumer": "embedded", "RecoverMasterClusterFilters": [".*"],
            "RecoverIntermediateMasterClusterFilters": [".*"], "JsonLinesFile": jsonl,
            "RecoveryPeriodBlockSeconds": 0})
        daemon.start()
        top = "a" if "a" in names else "m"
        sb._run("load", "--target", top, "--seconds", "1", "--rate", "200")
        p = sc.perturbed
        if sc.perturbation == "delay":
            sb._run("sql", p, "STOP SLAVE; CHANGE MASTER TO MASTER_DELAY=1; START SLAVE")
        elif sc.perturbation == "io-stopped":
            sb._run("sql", p, "STOP SLAVE IO_THREAD")
        elif sc.perturbation == "sql-stopped":
            sb._run("sql", p, "STOP SLAVE SQL_THREAD")
        writer = sc.victim if sc.victim in ("m", "a") else top
        load = subprocess.Popen([sys.executable, os.path.join(HERE, "..", "tools", "sandbox", "tidewatch-sandbox"),
                                 "--dir", sb.dir, "load", "--target", writer, "--seconds", "3", "--rate", "300"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        txn = None
        if sc.kill == "during-load":
            time.sleep(sc.kill_after)
        else:
            load.wait(30)
            time.sleep(1.2)  # a Pseudo-GTID entry after the last write
        if sc.kill == "open-transaction":
            txn = threading.Thread(target=lambda: subprocess.run(
                [sys.executable, os.path.join(HERE, "..", "tools", "sandbox", "tidewatch-sandbox"), "--dir", sb.dir,
                 "sql", writer, "BEGIN; INSERT INTO tidewatch_load.load_rows (k, v) VALUES (0, 'open'); "
                 "SELECT SLEEP(20); COMMIT"], capture_output=True, timeout=60), daemon=True)
            txn.start()
            time.sleep(0.5)
        sb.kill9(sc.victim)
        load.wait(30)
        deadline = time.monotonic() + 60
        verdict = None
        while time.monotonic() < deadline and verdict is None:
            verdict = verdict_of(jsonl, keys[sc.victim])
            time.sleep(0.1)
        if verdict is None:
            return "divergence", "no recovery verdict within 60 s"
        if verdict["outcome"] != "SUCCEEDED":
            return "refused", f"{verdict['outcome']}: {verdict.get('detail', '')}"[:300]
        successor = verdict["instance"]
        succ = next(n for n, k in keys.items() if k == successor)
        lost = [n for n, k in keys.items() if k in verdict.get("detail", "").split("lost:")[-1]] \
            if "lost:" in verdict.get("detail", "") else []
        if sc.perturbation == "delay":
            sb._run("sql", p, "STOP SLAVE; CHANGE MASTER TO MASTER_DELAY=0; START SLAVE")
        elif sc.perturbation in ("io-stopped", "sql-stopped") and p not in lost and p != succ:
            sb._run("sql", p, "START SLAVE")
        survivors = [n for n in names if n != sc.victim and n not in lost]
        sb._run("load", "--target", succ, "--seconds", "1", "--rate", "200")
        if sb.sql(succ, "SELECT @@read_only AS ro")[0]["ro"] != "0":
            return "divergence", f"successor {succ} is read-only"
        want = sb.sql(succ, "CHECKSUM TABLE tidewatch_load.load_rows")[0]["Checksum"]
        deadline = time.monotonic() + 60
        pending = [n for n in survivors if n != succ]
        problems: dict[str, str] = {}
        while pending and time.monotonic() < deadline:
            for n in list(pending):
                rows = sb.sql(n, "SHOW SLAVE STATUS")
                if not rows:
                    problems[n] = "not a replica"
                    continue
                r = rows[0]
                if r["Slave_IO_Running"] != "Yes" or r["Slave_SQL_Running"] != "Yes":
                    problems[n] = (f"replication IO {r['Slave_IO_Running']} SQL {r['Slave_SQL_Running']}: "
                                   f"{r.get('Last_IO_Error', '')} {r.get('Last_SQL_Error', '')}").strip()
                    continue
                have = sb.sql(n, "CHECKSUM TABLE tidewatch_load.load_rows")[0]["Checksum"]
                if have == want:
                    pending.remove(n)
                    problems.pop(n, None)
                else:
                    problems[n] = f"checksum {have} != {want}"
            time.sleep(0.3)
        if pending:
            return "divergence", "; ".join(f"{n}: {problems.get(n, '?')}" for n in pending)
        why_lost = ""
        if lost:
            # Why each was left behind: the moves that failed, as published.
            for m in messages(jsonl):
                r = m.get("recovery") or {}
                if r.get("outcome") == "FAILED" and r.get("step") != "recovery":
                    why_lost += f" [{r.get('step')} {r.get('instance')}: {r.get('detail', '')[:160]}]"
        return "ok", f"successor {succ}" + (f", lost {','.join(lost)}{why_lost}" if lost else "")
    except Exception as e:  # noqa: BLE001 - a scenario that cannot even be set up is reported, not fatal
        return "error", f"{type(e).__name__}: {e}"[:300]
    finally:
        if daemon is not None:
            daemon.stop()
        sb.down()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scenarios", type=int, default=200)
    ap.add_argument("--seed", type=int, default=int(time.time()))
    ap.add_argument("--minutes", type=float, default=0, help="stop starting scenarios after this long (0: no limit)")
    ap.add_argument("--base-port", type=int, default=26000)
    ap.add_argument("--keep", action="store_true", help="keep the directories of divergent scenarios")
    args = ap.parse_args()
    binary = os.environ.get("TIDEWATCH_BINARY", os.path.join(HERE, "..", "build", "tools", "tidewatch"))
    rng = random.Random(args.seed)
    work = tempfile.mkdtemp(prefix="tidewatch-soak-")
    # A copy: a rebuild during the soak does not change (or break) the daemon under test.
    shutil.copy2(binary, os.path.join(work, "tidewatch"))
    os.environ["TIDEWATCH_BINARY"] = binary = os.path.join(work, "tidewatch")
    print(f"seed {args.seed}, work {work}", flush=True)
    counts: dict[str, int] = {}
    started = time.monotonic()
    for i in range(1, args.scenarios + 1):
        if args.minutes and time.monotonic() - started > args.minutes * 60:
            break
        sc = Scenario(rng, i)
        t0 = time.monotonic()
        outcome, detail = run_scenario(sc, work, args.base_port, binary)
        counts[outcome] = counts.get(outcome, 0) + 1
        print(f"{outcome:10s} {time.monotonic() - t0:5.1f}s {sc.describe()}: {detail}", flush=True)
        if outcome not in ("divergence", "error") or not args.keep:
            shutil.rmtree(os.path.join(work, f"s{i}"), ignore_errors=True)
    total = sum(counts.values())
    print(f"\n{total} scenarios in {(time.monotonic() - started) / 60:.1f} min: " +
          ", ".join(f"{k} {v}" for k, v in sorted(counts.items())), flush=True)
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if counts.get("divergence") else 0


if __name__ == "__main__":
    sys.exit(main())
