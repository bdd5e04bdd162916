"""Index the must-pass suite without importing it: node ids and their idempotent ids.

Reading the source with ``ast`` keeps lint and coverage free of the suite's imports and
side effects (fixtures, clouds), and fast.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

MARK_NAME = "idempotent_id"


@dataclass(frozen=True)
class SuiteTest:
    """A test function carrying ``@pytest.mark.idempotent_id``."""

    __test__ = False

    node_id: str  # relative to the scan root, without parameters: tests/x.py::TestA::test_b
    idempotent_id: str | None
    path: str
    line: int


@dataclass
class SuiteIndex:
    root: str
    tests: dict[str, SuiteTest] = field(default_factory=dict)  # node id -> test
    # Files that could not be parsed, marks with a non-literal argument, marked functions
    # pytest would not collect: each "path:line: what".
    problems: list[str] = field(default_factory=list)

    def by_idempotent_id(self) -> dict[str, list[SuiteTest]]:
        index: dict[str, list[SuiteTest]] = defaultdict(list)
        for test in self.tests.values():
            if test.idempotent_id:
                index[test.idempotent_id].append(test)
        return dict(index)


def _is_mark(decorator: ast.expr) -> ast.Call | None:
    """``@pytest.mark.idempotent_id(...)`` or ``@mark.idempotent_id(...)``."""
    if not isinstance(decorator, ast.Call):
        return None
    func = decorator.func
    if isinstance(func, ast.Attribute) and func.attr == MARK_NAME:
        owner = func.value
        if isinstance(owner, ast.Attribute) and owner.attr == "mark":
            return decorator
        if isinstance(owner, ast.Name) and owner.id == "mark":
            return decorator
    return None


def _walk(
    body: Sequence[ast.stmt], prefix: str, in_class: bool
) -> Iterator[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef, bool]]:
    for node in body:
        if isinstance(node, ast.ClassDef):
            collectable = node.name.startswith("Test")
            for name, func, ok in _walk(node.body, f"{prefix}::{node.name}", True):
                yield name, func, ok and collectable
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield f"{prefix}::{node.name}", node, node.name.startswith("test")


def scan_file(path: Path, root: Path, index: SuiteIndex) -> None:
    relative = path.relative_to(root).as_posix()
    try:
        tree = ast.parse(path.read_bytes(), filename=str(path))
    except (SyntaxError, ValueError) as exc:
        line = getattr(exc, "lineno", 0) or 0
        index.problems.append(f"{relative}:{line}: cannot parse: {exc.__class__.__name__}")
        return
    for node_id, func, collectable in _walk(tree.body, relative, False):
        for decorator in func.decorator_list:
            call = _is_mark(decorator)
            if call is None:
                continue
            where = f"{relative}:{func.lineno}"
            args = call.args
            if len(args) != 1 or not (
                isinstance(args[0], ast.Constant) and isinstance(args[0].value, str)
            ):
                index.problems.append(
                    f"{where}: idempotent_id needs one string literal, e.g. "
                    '@pytest.mark.idempotent_id("<uuid4>")'
                )
                idempotent_id = None
            else:
                idempotent_id = args[0].value
            if not collectable:
                index.problems.append(
                    f"{where}: {node_id} carries an idempotent_id but pytest does not collect it "
                    "(name functions test_* and classes Test*)"
                )
                continue
            index.tests[node_id] = SuiteTest(node_id, idempotent_id, relative, func.lineno)


def scan_suite(root: Path | str, paths: Sequence[Path | str] = (".",)) -> SuiteIndex:
    """Scan ``test_*.py`` and ``*_test.py`` under ``paths`` (relative to ``root``).

    Node ids are relative to ``root`` with ``/`` separators, as pytest prints them when run
    from ``root``.
    """
    root_path = Path(root).resolve()
    index = SuiteIndex(root=str(root_path))
    for entry in paths:
        base = Path(entry)
        base = base if base.is_absolute() else root_path / base
        if base.is_file():
            files = [base]
        else:
            files = sorted({*base.rglob("test_*.py"), *base.rglob("*_test.py")})
        for path in files:
            scan_file(path.resolve(), root_path, index)
    return index
