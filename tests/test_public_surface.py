"""The public surface holds: each package's `__all__` is what users and tests import, every public error lives in
tierwise.errors and is exported from `tierwise`, and tests reach past a package's `__init__` only into the sans-IO
core (or, for a few internals with no public handle, the one test file that unit-tests them; listed below)."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import pkgutil
from pathlib import Path

import pytest

import tierwise
import tierwise.errors

TESTS = Path(__file__).resolve().parent
PACKAGES = ["tierwise", *(f"tierwise.{m.name}" for m in pkgutil.iter_modules(tierwise.__path__) if m.ispkg)]

# The sans-IO core: pure functions and data that tests may import module by module, because their internals are
# what is being tested (a price to the cent, a plan's worst case, a router's math, a parser's refusals).
SANS_IO = {
    "tierwise.calls": "the call path's core: plans, the attempt loop, worst cases, bills, served tiers, cooldowns",
    "tierwise.tiers": "pricing, list prices, the catalogue, model families and the registry schema",
    "tierwise.routing": "routing math: features, calibration, curves, the learned router, outcome tables",
    "tierwise.search.bm25": "BM25 scoring",
    "tierwise.batch.grouping": "shared-prefix ordering of a batch",
    "tierwise.batch.items": "the batch input line parser",
    "tierwise.emulator.wire": "Gemini's wire format, translated both ways",
    "tierwise.emulator.schema": "JSON schema translation",
    "tierwise.emulator.tokens": "token counting",
    "tierwise.emulator.faults": "fault kinds and Gemini's block and finish reasons",
    "tierwise.emulator.faultwire": "faults as Gemini's error bodies",
    "tierwise.emulator.local": "the local model's schema hint (a pure function)",
    "tierwise.nodes": "a node's prepare/finish functions and pure helpers (citations, dedupe, tools)",
    "tierwise.evals.summary": "eval statistics",
}

# Internals with no public handle, each imported only by the test file that unit-tests it.
UNIT_TESTED = {
    ("ledger/test_journal.py", "tierwise.ledger.journal"): "the journal's grouping and durability",
    ("ledger/test_journal.py", "tierwise.ledger.entry"): "the journal's row format",
    ("ledger/test_store.py", "tierwise.ledger.pool"): "the connection pool's bound",
    ("batch/test_journal.py", "tierwise.batch.journal"): "the batch output file",
    ("test_fuzz_inputs.py", "tierwise.batch.journal"): "the batch output file, fuzzed",
    ("batch/test_batch_api.py", "tierwise.batch.jobs"): "Batch API job bookkeeping",
    ("batch/test_batch_api.py", "tierwise.batch.progress"): "the Batch API progress line",
    ("batch/test_runner.py", "tierwise.batch.runner"): "where the stage cache file goes",
    ("test_misuse_classes.py", "tierwise.emulator.record"): "a cassette's file names for hostile model ids",
    ("evals/test_learn_from_ledger.py", "tierwise.evals.routing_labels"): "what a hashed-prompt ledger yields",
    ("graphs/test_declared_stage.py", "tierwise.evals.stages"): "the built-in stages' declarations",
}


def _deep_imports(path: Path) -> list[str]:
    """Modules below a package's `__init__` that `path` imports (`from tierwise.a.b import x`, `import
    tierwise.a.b`, and `from tierwise.a import b` where b is a module)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("tierwise."):
            assert node.module is not None
            if node.module.count(".") >= 2:
                found.append(node.module)
            elif hasattr(package := importlib.import_module(node.module), "__path__"):
                found += [f"{node.module}.{a.name}" for a in node.names if a.name not in getattr(package, "__all__", ())
                          and importlib.util.find_spec(f"{node.module}.{a.name}") is not None]
        elif isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.startswith("tierwise.") and a.name.count(".") >= 2]
    return found


def _allowed(test: str, module: str) -> bool:
    return any(module == core or module.startswith(core + ".") for core in SANS_IO) or (test, module) in UNIT_TESTED


def test_tests_import_public_names_except_the_sans_io_core():
    stray = [f"{path.relative_to(TESTS)}: {module}" for path in sorted(TESTS.rglob("*.py"))
             for module in _deep_imports(path) if not _allowed(str(path.relative_to(TESTS)), module)]
    assert not stray, ("import these from their package (add the name to its __all__ if users need it), or list "
                       f"a sans-IO module in SANS_IO: {stray}")


def test_the_allow_list_has_no_stale_entries():
    used = {(str(p.relative_to(TESTS)), m) for p in TESTS.rglob("*.py") for m in _deep_imports(p)}
    assert set(UNIT_TESTED) <= used, set(UNIT_TESTED) - used


@pytest.mark.parametrize("package", PACKAGES)
def test_every_exported_name_resolves_and_none_is_shadowed_by_a_module(package):
    module = importlib.import_module(package)
    names = getattr(module, "__all__", None)
    if names is None:
        pytest.skip(f"{package} exports nothing")
    for name in names:
        assert getattr(module, name) is not None, f"{package}.{name}"
    # a name equal to a submodule's would become that module once the submodule is imported
    submodules = {m.name for m in pkgutil.iter_modules(module.__path__)}
    assert not set(names) & submodules


def _exception_classes():
    for info in pkgutil.walk_packages(tierwise.__path__, "tierwise."):
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if (inspect.isclass(value) and issubclass(value, Exception) and not issubclass(value, Warning)
                    and value.__module__ == info.name != "tierwise.errors"):
                yield info.name, name, value


# Exceptions that never reach a user: the emulator answers BackendError to its HTTP client as Google's error body.
NOT_RAISED_TO_USERS = {"BackendError"}


def test_every_public_error_is_in_tierwise_errors_and_exported():
    misplaced = [f"{module}.{name}" for module, name, _ in _exception_classes()
                 if not name.startswith("_") and name not in NOT_RAISED_TO_USERS]
    assert not misplaced, f"define these in tierwise/errors.py and export them from tierwise: {misplaced}"
    errors = {name for name, value in vars(tierwise.errors).items()
              if inspect.isclass(value) and issubclass(value, Exception) and value.__module__ == "tierwise.errors"}
    assert errors <= set(tierwise.__all__), errors - set(tierwise.__all__)
    assert all(issubclass(getattr(tierwise.errors, name), tierwise.TierwiseError) for name in errors)
