"""The layers hold: the package's imports, read with ``ast`` (nothing is imported), run one way.

- models import nothing above them (no service, no view): only models, extensions and the clock;
- a service (any module outside the web layer) imports no view and never reads ``flask.request``;
- no package imports another package's views (what views share lives in ``audit_tracker.web``);
- no import cycle between the top-level packages and modules of ``audit_tracker``.

A package's views (its pages, and every route of the API) are the top layer: they may call the
services of any package, and nothing but the app factory imports them. So the cycle check draws
each package's views as a node of their own, « dossier (views) » beside « dossier »: the
dossier's pages may use the readiness services while the readiness pages link to the dossier,
but the readiness *services* may never need the dossier's. Imports inside functions count too: a
deferred import is still a dependency, and a loop of them is the knot these rules exist to
prevent. ``docs/architecture.md`` explains the layers.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = "audit_tracker"
PACKAGE_DIR = Path(__file__).resolve().parent.parent / ROOT

# What a model may lean on: the declarative base and the one clock, nothing of the features.
MODEL_ALLOWED = (f"{ROOT}.models", f"{ROOT}.extensions", f"{ROOT}.clock")
# The web shell around the views: the app factory, commands, error pages, locale selection,
# template helpers, the login and permission gate. They may read the request; services may not.
WEB_SHELL = {
    ROOT,
    f"{ROOT}.cli",
    f"{ROOT}.errors",
    f"{ROOT}.i18n",
    f"{ROOT}.templating",
    f"{ROOT}.accounts.security",
    f"{ROOT}.requestlog",
    f"{ROOT}.uploads",
}
# Where views share their helpers: a layer of its own, above the services.
WEB_LAYER = f"{ROOT}.web"
REQUEST_NAMES = {"request", "has_request_context"}


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    line: int

    def __str__(self) -> str:
        return f"{self.source}:{self.line} imports {self.target}"


@cache
def modules() -> dict[str, Path]:
    """Every module of the package by dotted name; a package is its ``__init__``."""
    found = {}
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        parts = path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


@cache
def tree_of(name: str) -> ast.Module:
    return ast.parse(modules()[name].read_text(encoding="utf-8"), filename=str(modules()[name]))


def _is_package(name: str) -> bool:
    return modules()[name].name == "__init__.py"


def _resolve(name: str, node: ast.ImportFrom) -> str:
    """The absolute module an ``import from`` starts from."""
    if not node.level:
        return node.module or ""
    base = name.split(".")
    if not _is_package(name):
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


@cache
def edges_of(name: str) -> tuple[Edge, ...]:
    """The package's own modules that ``name`` imports, anywhere in its body (once each)."""
    known = modules()
    edges: dict[str, Edge] = {}
    for node in ast.walk(tree_of(name)):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(name, node)
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                       for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known and "." in target:
                target = target.rsplit(".", 1)[0]  # ``import a.b.c`` of a name inside ``a.b``
            if target in known and target not in edges:
                edges[target] = Edge(name, target, node.lineno)
    return tuple(edges.values())


def reads_request(name: str) -> list[int]:
    """Lines where ``name`` imports ``flask.request`` (or asks whether there is one)."""
    lines = []
    for node in ast.walk(tree_of(name)):
        if isinstance(node, ast.ImportFrom) and node.module == "flask" and not node.level:
            if any(alias.name in REQUEST_NAMES for alias in node.names):
                lines.append(node.lineno)
        elif (isinstance(node, ast.Attribute) and node.attr in REQUEST_NAMES
              and isinstance(node.value, ast.Name) and node.value.id == "flask"):
            lines.append(node.lineno)
    return lines


def top_level(name: str) -> str:
    """``audit_tracker.dossier.builder`` → ``dossier``; the package itself is the app factory."""
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else ROOT


def _creates_blueprint(name: str) -> bool:
    return any(isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Blueprint"
               for node in ast.walk(tree_of(name)))


def is_view(name: str) -> bool:
    """Route modules: ``views``, ``*_views``, every module of the API, any module that makes a
    blueprint."""
    last = name.rsplit(".", 1)[-1]
    return (last == "views" or last.endswith("_views") or top_level(name) == "api"
            or _creates_blueprint(name))


def in_web_layer(name: str) -> bool:
    return (is_view(name) or name in WEB_SHELL or name == WEB_LAYER
            or name.startswith(WEB_LAYER + "."))


def node_of(name: str) -> str:
    """The module's node in the cycle check: its top-level package, its views apart."""
    return f"{top_level(name)} (views)" if is_view(name) else top_level(name)


def _report(problems: list[str]) -> str:
    return "\n" + "\n".join(sorted(problems))


# ------------------------------------------------------------------------------------- rules


def test_the_package_is_found_and_read():
    assert {f"{ROOT}.models", f"{ROOT}.dossier.builder", ROOT} <= set(modules())
    assert any(e.target == f"{ROOT}.models" for e in edges_of(f"{ROOT}.dossier.builder"))


def test_models_import_no_service_nor_view():
    problems = [
        str(edge)
        for name in modules() if name.startswith(f"{ROOT}.models")
        for edge in edges_of(name)
        if not any(edge.target == allowed or edge.target.startswith(allowed + ".")
                   for allowed in MODEL_ALLOWED)
    ]
    assert not problems, "models reach above themselves:" + _report(problems)


def test_services_import_no_view_and_never_the_request():
    problems = []
    for name in modules():
        if in_web_layer(name):
            continue
        problems += [f"{name}:{line} reads flask.request" for line in reads_request(name)]
        problems += [f"{edge} (a view)" for edge in edges_of(name) if is_view(edge.target)]
    assert not problems, "services reach up into the web layer:" + _report(problems)


def test_no_package_imports_another_packages_views():
    problems = [
        f"{edge} (a view of another package)"
        for name in modules() if name != ROOT  # the app factory registers every blueprint
        for edge in edges_of(name)
        if is_view(edge.target) and top_level(edge.target) != top_level(name)
    ]
    assert not problems, "views shared across packages belong in audit_tracker.web:" + _report(
        problems)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle_between_top_level_packages():
    graph: dict[str, set[str]] = {}
    witness: dict[tuple[str, str], Edge] = {}
    for name in modules():
        for edge in edges_of(name):
            source, target = node_of(name), node_of(edge.target)
            if source != target:
                graph.setdefault(source, set()).add(target)
                witness.setdefault((source, target), edge)
    problems = []
    for component in _cycles(graph):
        members = set(component)
        links = [str(witness[(a, b)]) for a in component for b in sorted(graph[a] & members)]
        problems.append(" ↔ ".join(component) + ":\n    " + "\n    ".join(links))
    assert not problems, "top-level packages import each other in a loop:" + _report(problems)
