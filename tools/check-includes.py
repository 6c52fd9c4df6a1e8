#!/usr/bin/env python3
"""Module dependency check for Tidewatch's C++ sources.

The table ALLOWED below mirrors the module table of docs/DESIGN.md; a change
to one is a change to the other.

Every `#include "..."` line of the *.h, *.cc and *.cpp files under the
module folders is mapped to a module: the first path component of the
included file, taken relative to the repository root (the including file's
own directory is tried first, as the compiler does for quoted includes).
Generated protobuf headers (`tidewatch/v1/*.pb.h`, produced from
sinks/proto/) form the module `proto`. Angle-bracket includes are third-party
and not checked.

Include cycles: nodes are the project's files, edges their quoted includes
that name an existing project file. Only headers can be included, so every
cycle found runs through headers alone; a .cc that includes a header which
in turn includes the .cc's own header closes no cycle. With --components a
.cc/.cpp is counted as the header of the same name in the same folder (one
node per component), which also reports such component cycles.

Exit status: 0 when every include is allowed and there is no cycle, 1
otherwise (each finding on its own line as file:line), 2 on bad usage.
"""

import argparse
import os
import re
import sys

# module -> the modules it may include besides itself. Dependencies point
# down docs/DESIGN.md's table only. `proto` is generated code.
ALLOWED = {
    "base":      [],
    "binlog":    ["base"],
    "pgtid":     ["base", "binlog"],
    "sinks":     ["base", "proto"],
    "analyzer":  ["base", "binlog", "pgtid", "proto"],
    "server":    ["base", "binlog", "pgtid", "sinks", "analyzer", "proto"],
    "simulator": ["base", "binlog"],
    "tools":     ["base", "binlog", "pgtid", "sinks", "analyzer", "server", "simulator", "proto"],
    "bench":     ["base", "binlog", "pgtid", "sinks", "analyzer", "server", "simulator", "proto"],
    "tests":     ["base", "binlog", "pgtid", "sinks", "analyzer", "server", "simulator", "proto"],
    "proto":     [],
}

# Folders whose sources are checked; `proto` has no folder of its own.
SOURCE_MODULES = ["base", "binlog", "pgtid", "sinks", "analyzer", "server", "simulator", "tools",
                  "bench", "tests"]
SOURCE_SUFFIXES = (".h", ".cc", ".cpp")
HEADER_SUFFIXES = (".h",)
GENERATED_PROTO = re.compile(r"^tidewatch/v1/[^/]+\.pb\.h$")
INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"')


def source_files(root):
    for module in SOURCE_MODULES:
        top = os.path.join(root, module)
        for dirpath, dirnames, filenames in os.walk(top):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in sorted(filenames):
                if name.endswith(SOURCE_SUFFIXES):
                    yield os.path.relpath(os.path.join(dirpath, name), root).replace(os.sep, "/")


def includes(root, rel):
    with open(os.path.join(root, rel), encoding="utf-8", errors="replace") as f:
        for lineno, line in enumerate(f, 1):
            m = INCLUDE.match(line)
            if m:
                yield lineno, m.group(1)


def resolve(root, rel, included):
    """The repository-relative path of an included project file, or None."""
    for candidate in (os.path.join(os.path.dirname(rel), included), included):
        candidate = os.path.normpath(candidate).replace(os.sep, "/")
        if not candidate.startswith("../") and os.path.isfile(os.path.join(root, candidate)):
            return candidate
    return None


def module_of(path):
    if GENERATED_PROTO.match(path):
        return "proto"
    first = path.split("/", 1)[0]
    return first if "/" in path and first in ALLOWED else None


def strongly_connected(graph):
    """Tarjan's algorithm, iterative; returns the components of size > 1."""
    index, low, on_stack, stack, out = {}, {}, set(), [], []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    out.append(sorted(component))
    return out


def one_cycle(graph, component):
    """A shortest cycle through the component's first node, as a node list."""
    members = set(component)
    start = component[0]
    previous = {start: None}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for child in sorted(graph.get(node, ())):
                if child not in members:
                    continue
                if child == start:
                    path = [node]
                    while previous[path[-1]] is not None:
                        path.append(previous[path[-1]])
                    return path[::-1] + [start]
                if child not in previous:
                    previous[child] = node
                    following.append(child)
        frontier = following
    return component + [start]


def component_of(rel, existing):
    """--components: a .cc/.cpp stands for the header of the same name beside it."""
    if rel.endswith(HEADER_SUFFIXES):
        return rel
    stem = rel.rsplit(".", 1)[0]
    for suffix in HEADER_SUFFIXES:
        if stem + suffix in existing:
            return stem + suffix
    return rel


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--root", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                        help="repository root (default: the folder above tools/)")
    parser.add_argument("--components", action="store_true",
                        help="count a .cc as its header when looking for cycles")
    args = parser.parse_args()
    root = os.path.abspath(args.root)

    files = list(source_files(root))
    existing = set(files)
    problems = []
    graph = {}
    edge_site = {}  # (node, included node) -> first file:line that makes the edge

    for rel in files:
        source_module = rel.split("/", 1)[0]
        allowed = set(ALLOWED[source_module]) | {source_module}
        node = component_of(rel, existing) if args.components else rel
        graph.setdefault(node, set())
        for lineno, included in includes(root, rel):
            target = resolve(root, rel, included)
            target_module = module_of(target or included)
            if target_module is None:
                problems.append(f'{rel}:{lineno}: include "{included}" belongs to no module')
            elif target_module not in allowed:
                problems.append(f'{rel}:{lineno}: forbidden include "{included}": '
                                f'{source_module} -> {target_module} '
                                f'({source_module} may use: {", ".join(ALLOWED[source_module]) or "nothing"})')
            if target is None or target not in existing:
                continue
            if args.components:
                target = component_of(target, existing)
            if target == node:
                continue
            graph[node].add(target)
            edge_site.setdefault((node, target), f"{rel}:{lineno}")

    for component in strongly_connected(graph):
        cycle = one_cycle(graph, component)
        steps = [f"{a} -> {b} ({edge_site[(a, b)]})" for a, b in zip(cycle, cycle[1:])]
        what = "component" if args.components else "include"
        problems.append(f"{cycle[0]}: {what} cycle: " + "; ".join(steps)
                        + (f"; files on intertwined cycles: {', '.join(component)}"
                           if len(component) > len(cycle) - 1 else ""))

    for line in problems:
        print(line)
    modules = len({f.split("/", 1)[0] for f in files})
    if problems:
        print(f"check-includes: {len(problems)} problem(s) in {len(files)} files of {modules} modules",
              file=sys.stderr)
        return 1
    print(f"check-includes: {len(files)} files of {modules} modules, every include allowed, no cycle")
    return 0


if __name__ == "__main__":
    sys.exit(main())
