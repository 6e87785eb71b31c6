"""The house rules, computed from the source: no import cycles between modules (imports
inside functions count), no reach into another room's private names, judgeaudit never
imports annotation or finetune, and the core never imports heavy libraries at module level."""

from __future__ import annotations

import ast
import functools
from pathlib import Path

from .importgraph import cycles, imports, loop, modules, private_reach_ins

ROOT = Path(__file__).resolve().parents[2]


@functools.lru_cache(maxsize=None)
def _graph():
    return imports(ROOT)


def test_no_import_cycles():
    graph = _graph()
    found = cycles(graph)
    assert not found, "import cycles:\n" + "\n".join(" -> ".join(loop(graph, g)) for g in found)


def test_no_private_reach_ins():
    assert private_reach_ins(_graph()) == []


def test_judgeaudit_never_imports_annotation_or_finetune():
    graph = _graph()
    bad = [(m, t) for m, edges in graph.items() if m.startswith("judgeaudit")
           for t in edges if t.split(".")[0] in ("annotation", "finetune")]
    assert bad == []


HEAVY = {"torch", "transformers", "vllm", "datasets", "label_studio_sdk", "peft", "accelerate", "trl",
         "inspect_ai", "tokenizers", "safetensors"}


def test_heavy_libraries_are_imported_inside_functions_only():
    bad = []
    for name, f in modules(ROOT).items():
        if not name.startswith("judgeaudit"):
            continue
        for node in ast.parse(f.read_text(encoding="utf-8")).body:  # module level only
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else []
            bad += [(name, n) for n in names if n.split(".")[0] in HEAVY]
    assert bad == []


def test_the_graph_sees_cycles_and_reach_ins(tmp_path):
    # A made-up tree with one cycle through a function-level import and one private reach-in:
    # the checks above must be able to fail.
    pkg = tmp_path / "judgeaudit"
    (pkg / "a").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "a" / "__init__.py").write_text("")
    (pkg / "a" / "_private.py").write_text("X = 1\n")
    (pkg / "a" / "one.py").write_text("def f():\n    from judgeaudit.b import two\n")
    (pkg / "b.py").write_text("from judgeaudit.a import one\nfrom judgeaudit.a._private import X\n")
    (pkg / "two.py").write_text("")
    graph = imports(tmp_path)
    assert cycles(graph) == [["judgeaudit.a.one", "judgeaudit.b"]]
    assert private_reach_ins(graph) == [("judgeaudit.b", "judgeaudit.a._private", "(module)")]


def test_only_the_cli_imports_the_commands():
    # Building judges and scorers from specs lives in the library: no stage imports the CLI.
    graph = _graph()
    bad = [(m, t) for m, edges in graph.items()
           if not (m == "judgeaudit.cli" or m.startswith("judgeaudit.commands"))
           for t in edges if t == "judgeaudit.cli" or t.startswith("judgeaudit.commands")]
    assert bad == []


def test_no_test_package_shadows_an_installed_library():
    # tests/ is on sys.path under pytest: a tests/<name>/__init__.py would hide the library
    # <name> (tests/datasets/ once hid Hugging Face datasets from trl and the hub loaders).
    from importlib.metadata import packages_distributions

    installed = set(packages_distributions())
    shadows = sorted(d.name for d in (ROOT / "tests").iterdir()
                     if (d / "__init__.py").exists() and d.name in installed)
    assert shadows == []
