"""tidewatch_proc: programs, processes and TCP ports on this machine (Linux: /proc).

Shared by tools/sandbox/tidewatch-sandbox, tools/kafka/tidewatch-kafka and their
tests. Linux only (/proc); python3 >= 3.11, standard library only.
"""

from __future__ import annotations

import fnmatch
import os
import shutil
import socket
import subprocess
import time
from typing import Callable, Iterable, TypeVar

T = TypeVar("T")

LOOPBACK = "127.0.0.1"


# ---------------------------------------------------------------------------
# Programs


def find_binary(name: str, *fallbacks: str) -> str | None:
    """$TIDEWATCH_<NAME> ('-' read as '_'), else `name` on PATH, else the first executable
    fallback, else the first fallback; None when there is none of these."""
    env = os.environ.get("TIDEWATCH_" + name.upper().replace("-", "_"))
    if env:
        return env
    found = shutil.which(name)
    if found:
        return found
    for path in fallbacks:
        if os.access(path, os.X_OK):
            return path
    return fallbacks[0] if fallbacks else None


# ---------------------------------------------------------------------------
# Processes


def proc_cmdline(pid: int) -> list[str]:
    """The process's arguments, [] when it is gone or unreadable."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return [a.decode("utf-8", "replace") for a in f.read().split(b"\0") if a]
    except OSError:
        return []


def proc_state(pid: int) -> str | None:
    """Single-letter process state from /proc, None if gone."""
    try:
        with open(f"/proc/{pid}/stat", "r") as f:
            data = f.read()
    except OSError:
        return None
    # The command name in parentheses may itself hold ')'; the state follows the last one.
    return data[data.rfind(")") + 2:].split(" ", 1)[0]


def pid_alive(pid: int) -> bool:
    """The process exists and is neither a zombie nor dead."""
    st = proc_state(pid)
    return st is not None and st not in ("Z", "X")


def pids_under(directory: str, programs: str | Iterable[str], option: str = "") -> dict[int, str]:
    """Live processes other than this one whose executable's base name matches one of the
    shell patterns `programs`, and one of whose arguments is `option` followed by a path
    below `directory` (spelled as given or with symlinks resolved): pid -> that path."""
    patterns = (programs,) if isinstance(programs, str) else tuple(programs)
    prefixes = tuple({option + os.path.realpath(directory).rstrip("/") + "/",
                      option + os.path.abspath(directory).rstrip("/") + "/"})
    me = os.getpid()
    out: dict[int, str] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        pid = int(entry)
        args = proc_cmdline(pid)
        if not args or not any(fnmatch.fnmatchcase(os.path.basename(args[0]), p) for p in patterns):
            continue
        named = next((a for a in args[1:] if a.startswith(prefixes)), None)
        if named is not None and pid_alive(pid):
            out[pid] = named[len(option):]
    return out


def spawn_detached(cmd: list[str], output: str) -> subprocess.Popen:
    """cmd started in a session of its own, so that no signal to this process's group or
    terminal reaches it; stdin is /dev/null, stdout and stderr are appended to `output`.
    OSError when `output` cannot be opened or cmd cannot be started."""
    out = open(output, "ab")
    try:
        return subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True, close_fds=True)
    finally:
        out.close()


def run_logged(cmd: list[str], output: str, timeout: float) -> subprocess.CompletedProcess:
    """cmd run to its end with stdin /dev/null, stdout and stderr written to `output` (which it
    replaces). subprocess.TimeoutExpired, with cmd killed, after `timeout` seconds."""
    with open(output, "w") as out:
        return subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, timeout=timeout)


def signal_pids(pids: Iterable[int], sig: int) -> dict[int, PermissionError]:
    """Sends sig to each process; one already gone is passed over. The processes this one
    may not signal: pid -> the error."""
    refused = {}
    for pid in pids:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass
        except PermissionError as e:
            refused[pid] = e
    return refused


# ---------------------------------------------------------------------------
# Waiting


def wait_until(pred: Callable[[], T], timeout: float, interval: float = 0.05) -> T:
    """pred()'s first true value within `timeout` seconds, else its false value at the
    deadline. pred runs at least once, and once more after the deadline has passed."""
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def wait_gone(pid: int, timeout: float, interval: float = 0.02) -> bool:
    """True once the process has exited (or is a zombie), False if it is alive after `timeout`."""
    return wait_until(lambda: not pid_alive(pid), timeout, interval)


# ---------------------------------------------------------------------------
# TCP ports


def listening_ports() -> set[int]:
    """Ports with a socket in LISTEN state on any address, IPv4 or IPv6."""
    ports = set()
    for path in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(path) as f:
                next(f)
                for line in f:
                    parts = line.split()
                    # parts[1] is local_address ADDR:PORT in hex, parts[3] the state; 0A is LISTEN.
                    if len(parts) > 3 and parts[3] == "0A":
                        ports.add(int(parts[1].rsplit(":", 1)[1], 16))
        except (OSError, StopIteration):
            pass
    return ports


def port_free(port: int, host: str = LOOPBACK, reuse_address: bool = True) -> bool:
    """Nothing listens on `port` and a TCP socket can bind to host:port. With reuse_address,
    as mariadbd and Kafka bind, a port held only by connections in TIME_WAIT is free."""
    if port in listening_ports():
        return False
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        if reuse_address:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((host, port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def wait_ports_closed(ports: Iterable[int], timeout: float, interval: float = 0.05) -> list[int]:
    """The ports of `ports` that still listen after up to `timeout` seconds; [] once none does."""
    ports = list(ports)

    def busy() -> list[int]:
        listening = listening_ports()
        return [p for p in ports if p in listening]

    if wait_until(lambda: not busy(), timeout, interval):
        return []
    return busy()
