#!/usr/bin/env python3
"""Fails when two modules of a crate depend on each other, directly or
through a chain: `python3 .ci/module-cycles.py runtime/src macros/src ...`.

A module is a file (`sink/file.rs` is `sink::file`, `sink/mod.rs` is
`sink`). Module A depends on B when A names a path into B: `crate::b::..`,
`super::..`, `self::..`, a child's name (`use file::FileSink` in a
`mod.rs`), or a name the crate root re-exports from B (`crate::Logger`).
Comment lines and `#[cfg(test)] mod tests` are left out: doc links and a
module's own tests are not dependencies. The crate root declares modules
and re-exports; its edges are not counted.
"""

import collections
import os
import re
import sys


def modules(root):
    mods = {}
    for dirpath, _, files in os.walk(root):
        for f in files:
            if not f.endswith(".rs"):
                continue
            path = os.path.join(dirpath, f)
            parts = os.path.relpath(path, root)[:-3].split("/")
            if parts[-1] == "mod":
                parts = parts[:-1]
            if parts in (["lib"], ["main"]):
                parts = []
            with open(path) as fh:
                src = "\n".join(line for line in fh.read().split("\n") if not line.strip().startswith("//"))
            tests = src.find("#[cfg(test)]\nmod tests")
            mods["::".join(parts)] = src if tests < 0 else src[:tests]
    return mods


def use_paths(body):
    """`a::{b, c::{d, e}}` as `a::b`, `a::c::d`, `a::c::e`."""
    body = " ".join(body.split())
    m = re.match(r"^([A-Za-z_:]*?)\{(.*)\}$", body)
    if not m:
        return [body.split(" as ")[0].strip()]
    prefix, inner, out, depth, cur = m.group(1), m.group(2), [], 0, ""
    for ch in inner:
        depth += ch == "{"
        depth -= ch == "}"
        if ch == "," and depth == 0:
            out += use_paths(prefix + cur.strip()) if cur.strip() else []
            cur = ""
        else:
            cur += ch
    if cur.strip():
        out += use_paths(prefix + cur.strip())
    return out


def edges_of(mods):
    reexported = {}
    for module, names in re.findall(r"pub use ([a-z_:]+)::\{?([^;}]*)\}?;", mods.get("", "")):
        for name in names.split(","):
            name = name.strip().split(" as ")[-1].strip()
            if name:
                reexported[name] = module

    def resolve(path):
        segs = path.split("::")
        for k in range(len(segs), 0, -1):
            if "::".join(segs[:k]) in mods:
                return "::".join(segs[:k])
        if segs[0] in reexported:
            return resolve(reexported[segs[0]])
        return None

    edges = collections.defaultdict(set)
    for m, src in mods.items():
        if m == "":
            continue
        parent = "::".join(m.split("::")[:-1])
        paths = []
        for body in re.findall(r"use\s+((?:crate|super|self)::[^;]*);", src):
            paths += use_paths(body)
        paths += re.findall(r"((?:crate|super)::[A-Za-z_:]+)", src)
        for body in re.findall(r"use\s+([a-z_]+::[^;]*);", src):
            paths += ["self::" + p for p in use_paths(body) if f"{m}::{p.split('::')[0]}" in mods]
        paths += ["self::" + p for p in re.findall(r"\b([a-z_]+)::[A-Za-z_]", src) if f"{m}::{p}" in mods]
        for p in paths:
            if p.startswith("crate::"):
                target = resolve(p[len("crate::"):])
            elif p.startswith("super::"):
                target = resolve((parent + "::" if parent else "") + p[len("super::"):])
            else:
                target = resolve(m + "::" + p[len("self::"):])
            if target and target != m:
                edges[m].add(target)
    return edges


def cycles(mods, edges):
    """Tarjan's strongly connected components of more than one module."""
    index, low, stack, on, found, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(mods):
        if v not in index:
            visit(v)
    return found


def main():
    failed = False
    for root in sys.argv[1:]:
        mods = modules(root)
        edges = edges_of(mods)
        for comp in cycles(mods, edges):
            failed = True
            detail = "; ".join(f"{m} -> {', '.join(sorted(edges[m] & set(comp)))}" for m in comp)
            print(f"{root}: modules that depend on each other: {detail}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
