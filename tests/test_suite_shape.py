"""The suite's own shape: shared code lives in ``tests/helpers``, test modules stand alone.

A test module that imports another test module runs that module's tests' imports and
definitions as a side effect, couples two specifications that should change apart, and
makes pytest collect names where they do not belong; a ``conftest`` imported as a module is
loaded twice. So: no module under ``tests/`` imports a ``test_*`` module or a ``conftest``,
and a ``conftest`` defines only fixtures and pytest hooks (anything else that a test module
would want to import belongs in ``tests/helpers``).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.helpers.lanes import (
    ESCALATION_DRILLS,
    LANE_OF_MODULE,
    NODE_PROCESSES,
    RULE_DRILLS,
    lane_of,
)

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent


def module_name(path: Path) -> str:
    """``tests/node/test_x.py`` -> ``tests.node.test_x``."""
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def imported_modules(source: str, module: str) -> set[str]:
    """Every module ``source`` (the text of ``module``) may import, relative imports resolved.

    ``from a.b import c`` counts ``a.b`` and ``a.b.c``, since ``c`` may be a module.
    """
    package = module.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                anchor = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{anchor}.{base}" if base else anchor
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def forbidden_imports(source: str, module: str) -> list[str]:
    """The test modules and conftests among what ``module`` imports."""
    return sorted(
        name
        for name in imported_modules(source, module)
        if name.split(".")[0] == "tests"
        and (name.split(".")[-1].startswith("test_") or name.split(".")[-1] == "conftest")
    )


def non_fixtures(source: str) -> list[str]:
    """Public top-level functions and classes of a conftest that are neither fixtures nor
    pytest hooks."""
    found = []
    for node in ast.parse(source).body:
        if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            found.append(node.name)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            hook = node.name.startswith("pytest_")
            if not (hook or node.name.startswith("_") or any(map(is_fixture, node.decorator_list))):
                found.append(node.name)
    return found


def is_fixture(decorator: ast.expr) -> bool:
    """``@pytest.fixture`` or ``@pytest.fixture(...)``."""
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    return isinstance(target, ast.Attribute) and target.attr == "fixture"


def python_files() -> list[Path]:
    return sorted(TESTS.rglob("*.py"))


def test_no_module_of_the_suite_imports_a_test_module_or_a_conftest() -> None:
    offenders = {
        str(path.relative_to(ROOT)): found
        for path in python_files()
        if (found := forbidden_imports(path.read_text(encoding="utf-8"), module_name(path)))
    }
    assert offenders == {}, "import shared code from tests.helpers instead"


def test_conftest_files_hold_only_fixtures_and_hooks() -> None:
    offenders = {
        str(path.relative_to(ROOT)): found
        for path in python_files()
        if path.name == "conftest.py" and (found := non_fixtures(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}, "move these to tests.helpers"


@pytest.mark.parametrize(
    "source",
    [
        "from tests.sync.test_replication import register_and_route",
        "from tests.sync import test_replication",
        "import tests.node.test_deadlines",
        "from . import test_deadlines",
        "from .test_deadlines import sweep",
        "from ..sync.test_replication import start_line",
        "from tests.conftest import World",
        "from tests import conftest",
        "def f():\n    from tests.e2e.test_deadline_drill import poll",
    ],
)
def test_each_way_of_importing_a_test_module_is_caught(source: str) -> None:
    assert forbidden_imports(source, "tests.node.test_example") != []


@pytest.mark.parametrize(
    "source",
    [
        "from tests.helpers.world import World, spec",
        "from tests.helpers import domain",
        "from .helpers import waiting",
        "import pytest",
        "from node.edge.client import NodeClient",
    ],
)
def test_helpers_and_the_code_under_test_may_be_imported(source: str) -> None:
    assert forbidden_imports(source, "tests.node.test_example") == []


def test_a_conftest_with_a_helper_class_or_function_is_caught() -> None:
    source = (
        "import pytest\n"
        "class World: ...\n"
        "def spec(name): ...\n"
        "def _private(): ...\n"
        "def pytest_addoption(parser): ...\n"
        "@pytest.fixture\ndef world(): ...\n"
        "@pytest.fixture(scope='session')\ndef hierarchy(): ...\n"
    )
    assert non_fixtures(source) == ["World", "spec"]


def test_every_module_given_a_lane_exists() -> None:
    assert [m for m in LANE_OF_MODULE if not (ROOT / m).is_file()] == []


def test_real_process_tests_have_lanes_and_the_rest_none() -> None:
    assert lane_of("tests/e2e/test_deadline_drill.py::test_x[sqlite]") == ESCALATION_DRILLS
    assert lane_of("tests/e2e/test_deadline_drill_rules.py::test_x[postgresql]") == RULE_DRILLS
    assert lane_of("tests/e2e/test_demo.py::test_x") == NODE_PROCESSES
    assert lane_of("tests/faults/test_replication_faults.py::test_x") == NODE_PROCESSES
    assert lane_of("tests/faults/test_link_proxy.py::test_x") is None
    assert lane_of("tests/node/test_deadlines.py::test_x[sqlite]") is None
