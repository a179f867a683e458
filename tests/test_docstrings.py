"""Every route and every public model method says in one line why it exists.

The code says what a route or a property does; its docstring says why it is there (who needs it,
which rule it keeps), so that the next reader changes it without breaking the reason. Read with
``ast``, like the layers (``tests/test_architecture.py``): a route is a function decorated with a
blueprint's ``route``/``get``/``post``/... or the API's ``@endpoint``, in any module of the
package; a public model method is any method or property of a class in ``audit_tracker/models/``
whose name does not start with an underscore. A second check asks the running app: every view
function it serves has a docstring, however it was registered.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from .test_architecture import ROOT, modules, tree_of

ROUTE_METHODS = {"route", "get", "post", "put", "patch", "delete"}
# ``@x.setter`` and friends extend a property whose getter carries the docstring.
PROPERTY_PARTS = {"setter", "deleter", "getter", "expression", "comparator", "inplace"}

Function = ast.FunctionDef | ast.AsyncFunctionDef


def _is_route_decorator(node: ast.expr) -> bool:
    """``@bp.get("/...")``, ``@exports_bp.route(...)``, ``@endpoint("summary", ...)``."""
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    if isinstance(func, ast.Attribute):
        return func.attr in ROUTE_METHODS and isinstance(func.value, ast.Name)
    return isinstance(func, ast.Name) and func.id == "endpoint"


def routes_in(tree: ast.Module) -> Iterator[Function]:
    for node in ast.walk(tree):
        if isinstance(node, Function) and any(map(_is_route_decorator, node.decorator_list)):
            yield node


def _extends_a_property(node: Function) -> bool:
    return any(isinstance(d, ast.Attribute) and d.attr in PROPERTY_PARTS
               for d in node.decorator_list)


def public_methods_in(tree: ast.Module) -> Iterator[tuple[str, Function]]:
    for cls in ast.walk(tree):
        if not isinstance(cls, ast.ClassDef):
            continue
        for node in cls.body:
            if (isinstance(node, Function) and not node.name.startswith("_")
                    and not _extends_a_property(node)):
                yield f"{cls.name}.{node.name}", node


def _problem(where: str, node: Function) -> str | None:
    """What is wrong with ``node``'s docstring, or None: missing, empty, or more than a line."""
    docstring = ast.get_docstring(node)
    if not docstring or not docstring.strip():
        return f"{where}:{node.lineno} has no docstring"
    if "\n" in docstring.strip():
        return f"{where}:{node.lineno} has a docstring of more than one line"
    return None


def route_problems() -> tuple[int, list[str]]:
    found, problems = 0, []
    for name in modules():
        for node in routes_in(tree_of(name)):
            found += 1
            problems.append(_problem(f"{name}.{node.name}", node))
    return found, [p for p in problems if p]


def model_problems() -> tuple[int, list[str]]:
    found, problems = 0, []
    for name in modules():
        if not (name == f"{ROOT}.models" or name.startswith(f"{ROOT}.models.")):
            continue
        for qualname, node in public_methods_in(tree_of(name)):
            found += 1
            problems.append(_problem(f"{name}.{qualname}", node))
    return found, [p for p in problems if p]


# ------------------------------------------------------------------------------------- tests


def test_the_walk_finds_routes_and_model_methods():
    """Guard against a walk that finds nothing and so passes whatever the code says."""
    routes = {f"{name}.{node.name}" for name in modules() for node in routes_in(tree_of(name))}
    assert {f"{ROOT}.accounts.views.login", f"{ROOT}.api.views.openapi",
            f"{ROOT}.findings.exports.plan_csv", f"{ROOT}.findings.calendar_views.feed"} <= routes
    assert len(routes) >= 90
    methods = {f"{name}.{q}" for name in modules() if name.startswith(f"{ROOT}.models")
               for q, _node in public_methods_in(tree_of(name))}
    assert {f"{ROOT}.models.campaign.Milestone.last_day", f"{ROOT}.models.accounts.Role.label",
            f"{ROOT}.models.accounts.ApiToken.issue"} <= methods
    assert not any(".__" in m or "._" in m for m in methods)


def test_the_check_reports_a_missing_or_long_docstring():
    tree = ast.parse(
        "@bp.get('/a')\ndef bare(): pass\n"
        "@bp.post('/b')\n@endpoint('x', replies={})\ndef told():\n    'Why.'\n"
        "@bp.route('/c')\ndef long():\n    '''Why,\n    and more.'''\n"
        "class K:\n    @property\n    def p(self): return 1\n"
        "    @p.setter\n    def p(self, v): pass\n    def _private(self): pass\n"
    )
    assert [_problem(n.name, n) for n in routes_in(tree)] == [
        "bare:2 has no docstring", None, "long:8 has a docstring of more than one line"]
    assert [q for q, _node in public_methods_in(tree)] == ["K.p"]


def test_every_route_has_a_one_line_docstring():
    found, problems = route_problems()
    assert found
    assert not problems, "routes without their one-line why:\n" + "\n".join(problems)


def test_every_public_model_method_has_a_one_line_docstring():
    found, problems = model_problems()
    assert found
    assert not problems, "model methods without their one-line why:\n" + "\n".join(problems)


def test_every_view_the_app_serves_has_a_docstring(app):
    """Whatever registered it (a decorator, ``add_url_rule``), a served view says why."""
    missing = sorted(
        endpoint for endpoint, view in app.view_functions.items()
        if endpoint != "static" and not (getattr(view, "__doc__", None) or "").strip()
    )
    assert len(app.view_functions) >= 90
    assert not missing, "views without a docstring: " + ", ".join(missing)
