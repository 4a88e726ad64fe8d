"""Module-level state in studio/ and pipelines/: a container or object that a function of its module changes at run
time (an item set, a mutating method, an attribute set, a ``global`` rebinding) is either owned by an object that is
passed on, or a registry that says so in the comment above it ("Process-wide registry: ... written only by ...")."""

from __future__ import annotations

import ast

from tests.conftest import REPO_ROOT

MUTATING_METHODS = {"append", "extend", "insert", "update", "setdefault", "pop", "popitem", "clear", "add",
                    "discard", "remove", "appendleft", "sort", "reverse"}
MARK = "Process-wide registry"


def _module_names(tree: ast.Module) -> dict[str, int]:
    """Names bound by a plain assignment at module level -> the line of that assignment."""
    names: dict[str, int] = {}
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        for target in targets:
            if isinstance(target, ast.Name):
                names.setdefault(target.id, node.lineno)
    return names


def _flat(targets: list[ast.expr]) -> list[ast.expr]:
    """Assignment targets with tuples and lists unpacked (``a.x, b[0] = ...``)."""
    out: list[ast.expr] = []
    for target in targets:
        if isinstance(target, ast.Tuple | ast.List):
            out += _flat(list(target.elts))
        else:
            out.append(target.value if isinstance(target, ast.Starred) else target)
    return out


def _changed_at_run_time(tree: ast.Module, names: dict[str, int]) -> set[str]:
    """The module-level names a function body (of this module) changes."""
    changed: set[str] = set()

    def base(node: ast.AST) -> str | None:
        return node.id if isinstance(node, ast.Name) and node.id in names else None

    for function in (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)):
        local = {a.arg for a in function.args.args + function.args.kwonlyargs}
        for node in ast.walk(function):
            if isinstance(node, ast.Global):
                changed.update(n for n in node.names if n in names)
            elif isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign | ast.Delete):
                targets = node.targets if isinstance(node, ast.Assign | ast.Delete) else [node.target]
                for target in _flat(targets):
                    if isinstance(target, ast.Subscript | ast.Attribute) and (name := base(target.value)):
                        changed.add(name)
            elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                  and node.func.attr in MUTATING_METHODS and (name := base(node.func.value))):
                changed.add(name)
        changed -= local
    return changed


def _undocumented_state(source: str, label: str) -> list[str]:
    tree = ast.parse(source)
    names = _module_names(tree)
    lines = source.splitlines()
    found = []
    for name in sorted(_changed_at_run_time(tree, names)):
        line = names[name]
        comment = []  # the comment lines directly above the assignment
        for text in reversed(lines[: line - 1]):
            if not text.lstrip().startswith("#"):
                break
            comment.append(text)
        if not any(MARK in text for text in comment):
            found.append(f"{label}:{line} {name}")
    return found


def test_module_level_state_is_a_documented_registry_or_none():
    found = [f for tree in ("studio", "pipelines") for path in sorted((REPO_ROOT / tree).rglob("*.py"))
             for f in _undocumented_state(path.read_text(encoding="utf-8"), str(path.relative_to(REPO_ROOT)))]
    assert not found, "module-level state changed at run time without a registry comment:\n" + "\n".join(found)


def test_the_check_sees_a_changed_dict_a_global_and_an_attribute():
    """The scanner itself: each way of changing module state is caught, a table only read is not, and the
    registry comment above a name clears that name."""
    body = ("\n\ndef f(key):\n    global COUNT\n    COUNT += 1\n    CACHE[key] = 1\n    LOCAL.slot, n = key, 0\n"
            "    return TABLE['a']\n")
    state = "CACHE = {}\nCOUNT = 0\nLOCAL = object()\nTABLE = {'a': 1}\n"
    assert _undocumented_state(state + body, "m") == ["m:1 CACHE", "m:2 COUNT", "m:3 LOCAL"]
    marked = "#: Process-wide registry: written only by f.\n" + state
    assert _undocumented_state(marked + body, "m") == ["m:3 COUNT", "m:4 LOCAL"]
