"""Packaging promises: light import, a Studio-ready graph export."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def test_import_does_not_load_the_gemini_client_or_llama():
    code = ("import sys, tierwise; from tierwise import build_graph; build_graph(); "
            "print(sorted(m for m in sys.modules if m.startswith(('google.genai', 'langchain_google_genai', "
            "'llama_cpp'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_langgraph_json_points_at_the_exported_graphs():
    import importlib

    root = Path(__file__).resolve().parents[1]
    config = json.loads((root / "langgraph.json").read_text())
    assert "tierwise" in config["graphs"]
    graphs = {}
    for name, target in config["graphs"].items():
        module, _, attr = target.partition(":")
        graph = getattr(importlib.import_module(module.removeprefix("./").removesuffix(".py").replace("/", ".")), attr)
        assert graph.checkpointer is None, f"{name}: the server brings its own checkpointer"
        graphs[name] = graph

    nodes = set(graphs["tierwise"].get_graph().nodes)
    assert nodes >= {"triage", "extract", "reason", "draft", "judge", "polish", "respond"}


def test_the_private_langgraph_runnable_nodes_use_is_still_where_we_import_it():
    """nodes/base.py uses LangGraph's RunnableCallable (sync + async twins in one node, no extra traced run) and
    falls back to RunnableLambda if it moves: this test fails when it moves, so the fallback is never silent."""
    from langgraph._internal._runnable import RunnableCallable

    from tierwise.nodes import base

    assert base._Node is RunnableCallable


def test_every_third_party_import_is_declared():
    """`pip install .` alone must give working commands: every distribution tierwise imports is a declared
    dependency, or an optional extra's (imported only inside the function that needs it)."""
    import ast
    import re
    import sys
    import tomllib
    from importlib.metadata import packages_distributions
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]

    def names(requirements):
        return {re.split(r"[\[<>=!~; ]", r, maxsplit=1)[0].lower().replace("_", "-") for r in requirements}

    core = names(project["dependencies"])
    extras = names(r for group, reqs in project["optional-dependencies"].items() if group != "dev" for r in reqs)
    owners = packages_distributions()
    missing = []
    for path in (root / "tierwise").rglob("*.py"):
        tree = ast.parse(path.read_text())
        top_level = {id(node) for node in tree.body}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
                if top == "tierwise" or top in sys.stdlib_module_names or top == "__future__":
                    continue
                dists = {d.lower().replace("_", "-") for d in owners.get(top, [top])}
                allowed = core if id(node) in top_level else core | extras
                if not dists & allowed:
                    missing.append(f"{path.relative_to(root)}: {module} ({', '.join(sorted(dists))})")
    assert not missing, "imports not declared in pyproject.toml:\n" + "\n".join(sorted(set(missing)))
