"""tidewatch_cli: what tidewatch-sandbox and tidewatch-kafka share as command-line tools.

The -v step log, tails of log files for error messages, the JSON state file that
marks a tool's directory, the command line (--dir, -v, subcommands) and the run of a
subcommand.
python3 >= 3.11, standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import time
from typing import Callable

_verbose = False


def set_verbose(on: bool) -> None:
    global _verbose
    _verbose = on


def log(msg: str) -> None:
    """A timestamped line on stderr, with -v only."""
    if _verbose:
        print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def tail(path: str, lines: int = 20, window: int = 16384) -> str:
    """The last `lines` lines among the last `window` bytes of a file, each indented by four
    spaces, or a note that the file is empty or unreadable."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - window))
            data = f.read().decode("utf-8", "replace")
    except OSError:
        return f"    ({path} not readable)"
    out = data.splitlines()[-lines:]
    if not out:
        return f"    ({path} is empty)"
    return "\n".join("    " + line for line in out)


def read_state(path: str, error: type[Exception]) -> dict | None:
    """The JSON object in `path`, None when the file does not exist; `error` when it cannot be read."""
    try:
        with open(path) as f:
            return json.load(f)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as e:
        raise error(f"cannot read {path}: {e}")


def write_state(path: str, state: dict) -> None:
    """Replaces `path` atomically: a reader sees the old or the new state, never a part."""
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(state, f, indent=2, sort_keys=True)
        f.write("\n")
    os.replace(tmp, path)


def remove_tool_dir(base: str, state_file: str, has_state: bool) -> list[str]:
    """Removes the directory `base` when it is the tool's (has_state: it holds `state_file`) or
    empty, and leaves any other alone. The problems, as messages for the user."""
    if has_state or not os.listdir(base):
        shutil.rmtree(base, ignore_errors=True)
        if os.path.exists(base):
            return [f"could not remove {base}"]
        return []
    return [f"{base} holds no {state_file}; not removing it"]


def _add_dir_and_verbose(parser: argparse.ArgumentParser, dir_help: str, *, parent: bool = False) -> None:
    # In the parent parser of the subcommands the defaults are SUPPRESS, so that a value
    # given before the subcommand is kept.
    parser.add_argument("--dir", default=argparse.SUPPRESS if parent else None, help=dir_help)
    parser.add_argument("-v", "--verbose", action="store_true",
                        default=argparse.SUPPRESS if parent else False, help="log steps with timings to stderr")


def command_parser(dir_help: str, subcommand_options: dict | None = None, **options):
    """An ArgumentParser made with `options`, taking --dir and -v/--verbose, and
    add(name, func, help_text, **kw): a subcommand (its parser made with subcommand_options
    and kw) that takes --dir and -v too and sets args.func = func, args.command = name.
    Returns (parser, add)."""
    common = argparse.ArgumentParser(add_help=False)
    _add_dir_and_verbose(common, dir_help, parent=True)
    parser = argparse.ArgumentParser(**options)
    _add_dir_and_verbose(parser, dir_help)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def add(name: str, func: Callable, help_text: str, **kw) -> argparse.ArgumentParser:
        sp = sub.add_parser(name, parents=[common], help=help_text, description=help_text,
                            **{**(subcommand_options or {}), **kw})
        sp.set_defaults(func=func)
        return sp

    return parser, add


def run_main(prog: str, build_parser: Callable[[], argparse.ArgumentParser], error: type[Exception],
             argv: list[str] | None = None) -> int:
    """Runs the subcommand's args.func. Exit status: its own; 1 on `error`, whose message is
    meant for the user; 130 on an interrupt; 2 on python3 < 3.11 or a usage error."""
    if sys.version_info < (3, 11):
        print(f"{prog}: python3 >= 3.11 required", file=sys.stderr)
        return 2
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    parser = build_parser()
    args = parser.parse_args(argv)
    set_verbose(bool(args.verbose))
    try:
        return args.func(args)
    except error as e:
        print(f"{prog} {args.command}: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
