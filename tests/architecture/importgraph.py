"""The project's import graph, computed from the source with :mod:`ast`.

Every ``import`` and ``from ... import`` counts, inside functions too.  ``import a.b``
and ``from a import b`` resolve to the file ``a/b.py`` when it exists, else to the
package ``a/__init__.py``; an import of a name from a package resolves to its
``__init__.py``.  Used by ``test_architecture.py``; run it as a script to print
each cycle's shortest loop: ``python tests/architecture/importgraph.py``.
"""

from __future__ import annotations

import ast
import sys
from collections import deque
from pathlib import Path

PACKAGES = ("judgeaudit", "annotation", "finetune")


def modules(root: Path) -> dict:
    """Dotted module name -> file, for every module of :data:`PACKAGES`."""
    out = {}
    for pkg in PACKAGES:
        for f in sorted((root / pkg).rglob("*.py")):
            parts = list(f.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = f
    return out


def imports(root: Path) -> dict:
    """module -> {imported module: (line, imported names)} within the project."""
    mods = modules(root)
    graph = {}
    for name, f in mods.items():
        is_pkg = f.name == "__init__.py"
        pkg = name.split(".") if is_pkg else name.split(".")[:-1]
        edges = {}
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                for a in node.names:
                    if a.name in mods:
                        edges.setdefault(a.name, (node.lineno, set()))
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = pkg[: len(pkg) - (node.level - 1)]
                    mod = ".".join(base + ([node.module] if node.module else []))
                else:
                    mod = node.module or ""
                for a in node.names:
                    sub = f"{mod}.{a.name}"
                    target = sub if sub in mods else mod
                    if target in mods and target != name:
                        edges.setdefault(target, (node.lineno, set()))[1].add(a.name)
        edges.pop(name, None)
        graph[name] = edges
    return graph


def cycles(graph: dict) -> list:
    """Strongly connected groups of more than one module (Tarjan), each sorted."""
    index, low, on, stack, out = {}, {}, set(), [], []
    counter = [0]
    sys.setrecursionlimit(max(10000, sys.getrecursionlimit()))

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                out.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def loop(graph: dict, group) -> list:
    """A shortest import loop through the first module of ``group``."""
    members, start = set(group), group[0]
    prev, queue = {start: None}, deque([start])
    while queue:
        v = queue.popleft()
        for w in graph[v]:
            if w == start:
                path = [v]
                while prev[path[-1]] is not None:
                    path.append(prev[path[-1]])
                return [start] + path[::-1][1:] + [start] if len(path) > 1 else [start, v, start]
            if w in members and w not in prev:
                prev[w] = v
                queue.append(w)
    return list(group)


def private_reach_ins(graph: dict) -> list:
    """``(importer, imported, name)`` where a module imports another top-level room's private
    module or name (a ``_name`` outside its own package folder).  A room is the first two
    parts of a dotted name (``judgeaudit.audit``) or the top-level package (``annotation``)."""

    def room(mod):
        parts = mod.split(".")
        return ".".join(parts[:2]) if parts[0] == "judgeaudit" and len(parts) > 1 else parts[0]

    out = []
    for importer, edges in graph.items():
        for target, (_line, names) in edges.items():
            if room(target) == room(importer) or target.startswith(importer + "."):
                continue
            if any(p.startswith("_") and not p.startswith("__") for p in target.split(".")):
                out.append((importer, target, "(module)"))
            out += [(importer, target, n) for n in sorted(names) if n.startswith("_")]
    return sorted(out)


if __name__ == "__main__":
    root = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[2])
    g = imports(root)
    found = cycles(g)
    for group in found:
        print(f"{len(group)} modules: " + " -> ".join(loop(g, group)))
    for r in private_reach_ins(g):
        print("private reach-in: %s imports %s %s" % r)
    print(f"import cycles: {len(found)}")
