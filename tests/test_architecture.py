"""The rules of the house (docs/architecture.md, "Layers"), checked by reading the source.

Each rule walks the syntax trees of `src/anxin` (imports inside functions and under
TYPE_CHECKING count as imports too, except where a rule says otherwise), so a new module that
breaks one fails here, with the offending file and line.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "anxin"

CORE = "core"
# Shared services every business domain may use; they use only core (and people; alerts also
# the console toolkit, for its own pages).
SHARED = {"people": {CORE}, "iot": {CORE, "people"}, "alerts": {CORE, "people", "ui"}}
SHARED["ledger"] = {CORE, "people"}
SHARED["ui"] = {CORE, "people"}  # the console toolkit domains' pages use
# Leaves: they import domains; no domain imports them. `domains` is the discovery of the
# composition root: it imports core statically and the domains' setups dynamically.
LEAVES = {"web", "cli", "demo", "app", "bootstrap", "domains"}
NOT_CHECKED = {"migrations"}


@dataclass(frozen=True)
class Import:
    path: Path
    line: int
    package: str  # the importing top-level package (module name for top-level modules)
    target: str  # the full module imported, e.g. "anxin.iot.models"
    type_only: bool  # under `if TYPE_CHECKING:`

    @property
    def target_package(self) -> str:
        return self.target.split(".")[1]

    def __str__(self) -> str:
        return f"{self.path.relative_to(SRC.parent)}:{self.line} imports {self.target}"


def _package_of(path: Path) -> str:
    parts = path.relative_to(SRC).parts
    return parts[0].removesuffix(".py")


def _type_checking_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                lines.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


def imports(root: Path = SRC) -> Iterator[Import]:
    for path in sorted(root.rglob("*.py")):
        package = _package_of(path)
        if package in NOT_CHECKED:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        typed = _type_checking_lines(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module]
                targets += [f"{node.module}.{alias.name}" for alias in node.names]
            else:
                continue
            for target in targets:
                if target.startswith("anxin.") and target.count(".") >= 1:
                    yield Import(path, node.lineno, package, target, node.lineno in typed)


def _business_domains() -> set[str]:
    return {p.parent.name for p in SRC.glob("*/setup.py") if p.parent.name not in SHARED} - LEAVES


def layer_problems(found: list[Import]) -> list[str]:
    """Every import that breaks a layer rule (a pure function, so the rules can be tested)."""
    business = _business_domains()
    problems = []
    for imp in found:
        src, dst = imp.package, imp.target_package
        if src == dst or dst not in {*SHARED, CORE, *business, *LEAVES}:
            continue
        if src == CORE:
            problems.append(f"{imp}: core imports no other package")
        elif src in SHARED and dst not in SHARED[src]:
            problems.append(f"{imp}: {src} is a shared service and imports only core/people")
        elif dst in LEAVES and src not in LEAVES:
            problems.append(f"{imp}: {dst} is a leaf; domains never import it")
        elif src == "domains" and dst != CORE:
            problems.append(f"{imp}: the discovery imports domains dynamically only")
    return problems


def package_cycles(found: list[Import]) -> list[list[str]]:
    graph: dict[str, set[str]] = {}
    for imp in found:
        if imp.package != imp.target_package and not imp.type_only:
            graph.setdefault(imp.package, set()).add(imp.target_package)
    cycles: list[list[str]] = []

    def visit(node: str, trail: list[str]) -> None:
        for nxt in sorted(graph.get(node, ())):
            if nxt in trail:
                cycle = [*trail[trail.index(nxt) :], nxt]
                if min(cycle[:-1]) == cycle[0]:  # report each cycle once
                    cycles.append(cycle)
            elif len(trail) < len(graph) + 1:
                visit(nxt, [*trail, nxt])

    for start in sorted(graph):
        visit(start, [start])
    return cycles


def table_reads(found: list[Import]) -> list[str]:
    """A domain reads another domain's data through its service: another domain's models may
    be imported for foreign keys (in models.py) or as types (under TYPE_CHECKING) only."""
    out = []
    for imp in found:
        if imp.package in LEAVES or imp.package == imp.target_package:
            continue
        across = imp.target.startswith(f"anxin.{imp.target_package}.models")
        if across and imp.path.name != "models.py" and not imp.type_only:
            out.append(f"{imp}: read another domain's data through its service")
    return out


def test_layers_hold() -> None:
    assert layer_problems(list(imports())) == []


def test_no_cycles_between_packages() -> None:
    assert package_cycles(list(imports())) == []


def test_domains_read_each_other_through_services() -> None:
    assert table_reads(list(imports())) == []


# --- the rules catch what they are meant to -------------------------------------------------


def _fake(package: str, target: str, *, type_only: bool = False, name: str = "x.py") -> Import:
    return Import(SRC / package / name, 1, package, target, type_only)


@pytest.mark.parametrize(
    ("package", "target"),
    [
        ("core", "anxin.iot.service"),  # core imports a domain
        ("iot", "anxin.homecare.service"),  # iot imports a consumer
        ("ledger", "anxin.collateral.service"),  # ledger imports a domain
        ("homecare", "anxin.web.views"),  # a domain imports a leaf
        ("collateral", "anxin.demo.seed"),  # a domain imports the demo
        ("iot", "anxin.app"),  # a domain imports the composition root
    ],
)
def test_a_broken_layer_is_reported(package: str, target: str) -> None:
    assert len(layer_problems([_fake(package, target)])) == 1


def test_a_cycle_is_reported() -> None:
    found = [_fake("homecare", "anxin.collateral.service"), _fake("collateral", "anxin.homecare")]
    assert package_cycles(found) == [["collateral", "homecare", "collateral"]]


def test_a_table_read_across_domains_is_reported() -> None:
    assert table_reads([_fake("homecare", "anxin.alerts.models")])
    assert not table_reads([_fake("homecare", "anxin.alerts.models", type_only=True)])
    assert not table_reads([_fake("homecare", "anxin.people.models", name="models.py")])


# --- wiring travels in the unit of work -----------------------------------------------------


def _calls_and_attributes() -> Iterator[tuple[Path, ast.AST]]:
    for path in sorted(SRC.rglob("*.py")):
        if _package_of(path) in NOT_CHECKED:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            yield path, node


def wiring_problems(nodes: Iterator[tuple[Path, ast.AST]]) -> list[str]:
    problems = []
    for path, node in nodes:
        where = f"{path.relative_to(SRC.parent)}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Attribute) and node.attr == "info":
            owner = ast.unparse(node.value)
            if owner == "session" or owner.endswith(".session"):
                problems.append(f"{where}: session.info carries nothing (use the unit of work)")
        if isinstance(node, ast.Call):
            called = ast.unparse(node.func)
            if called.endswith("SystemClock") and path != SRC / "core" / "context.py":
                problems.append(
                    f"{where}: only the composition root (AppContext.build) constructs SystemClock"
                )
            if called.endswith("unit_of") and path.parent != SRC / "core":
                problems.append(f"{where}: unit_of is for core's flush and commit hooks")
    return problems


def test_no_wiring_outside_the_unit_of_work() -> None:
    assert wiring_problems(_calls_and_attributes()) == []


@pytest.mark.parametrize(
    "code",
    [
        "clock = session.info.get('clock')",
        "uow.session.info['bus'] = bus",
        "now = SystemClock().now()",
        "actor = unit_of(session).actor",
    ],
)
def test_wiring_through_a_back_channel_is_reported(code: str) -> None:
    path = SRC / "homecare" / "flows.py"
    nodes = ((path, node) for node in ast.walk(ast.parse(code)))
    assert len(wiring_problems(nodes)) == 1


def test_no_test_overrides_an_apps_dependencies() -> None:
    """The tests' apps share their routes' preparation (`tests.conftest._share_route_preparation`),
    which holds the first app as the provider of `dependency_overrides`: an override set on
    another app would be silently ignored. Tests build what they need through settings."""
    tests = Path(__file__).resolve().parent
    word = "dependency" + "_overrides"
    users = [
        str(path.relative_to(tests))
        for path in tests.rglob("*.py")
        if word in path.read_text(encoding="utf-8")
        and path.name != "conftest.py"
        and path != Path(__file__).resolve()
    ]
    assert users == []
