"""The shape of the code, checked: the Python package imports in one direction (no cycles), no
module reaches into another's private names, the binding does no numerics, and the stubs'
vocabularies are the core's."""

from __future__ import annotations

import ast
import re
import typing
from pathlib import Path

import powerfit as pf
from powerfit import _core, types

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "python" / "powerfit"
BINDING = ROOT / "rust" / "powerfit-py"

#: Private names of other libraries that the package uses on purpose, with the reason.
FOREIGN_PRIVATE = {
    "_meta": "dask.dataframe's empty frame describing the columns (its documented meta)",
}


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, ast.Module]:
    return {
        _module_name(p): ast.parse(p.read_text(encoding="utf-8"), filename=str(p))
        for p in sorted(PACKAGE.rglob("*.py"))
    }


def _resolve(module: str, node: ast.ImportFrom, is_package: bool) -> list[str]:
    """Absolute names of the package's modules an ``from ... import`` refers to."""
    if node.level == 0:
        base = node.module or ""
    else:
        parts = module.split(".")
        keep = len(parts) - node.level + (1 if is_package else 0)
        base = ".".join(parts[:keep] + ([node.module] if node.module else []))
    out = [base]
    out += [f"{base}.{a.name}" for a in node.names]
    return out


def _import_graph() -> dict[str, set[str]]:
    mods = _modules()
    packages = {_module_name(p) for p in PACKAGE.rglob("__init__.py")}
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for m, tree in mods.items():
        for node in ast.walk(tree):
            targets: list[str] = []
            if isinstance(node, ast.ImportFrom):
                targets = _resolve(m, node, m in packages)
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            for t in targets:
                if t in mods and t != m and not m.startswith(t + "."):
                    graph[m].add(t)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
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
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    return out


def test_no_import_cycles() -> None:
    graph = _import_graph()
    assert len(graph) > 20
    assert _cycles(graph) == []


def _defined_private(tree: ast.Module) -> set[str]:
    """Private names a module defines: functions, classes, module variables, attributes it
    assigns on self or in ``__slots__``."""
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            out.add(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            out.add(node.attr)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            out.add(node.value)  # __slots__ entries
        elif isinstance(node, ast.arg):
            out.add(node.arg)
    return {n for n in out if n.startswith("_")}


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def test_no_module_reads_another_modules_private_names() -> None:
    found = []
    mods = _modules()
    packages = {_module_name(p) for p in PACKAGE.rglob("__init__.py")}
    for m, tree in mods.items():
        own = _defined_private(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and _private(node.attr):
                base = node.value
                if isinstance(base, ast.Name) and base.id in ("self", "cls"):
                    continue
                if node.attr in own or node.attr in FOREIGN_PRIVATE:
                    continue
                found.append(f"{m}:{node.lineno}: .{node.attr}")
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(m, node, m in packages)[0]
                for a in node.names:
                    # a private module of the package (``_core``, ``_data``) is the package's
                    # own; a private name inside another module is not
                    known = f"{base}.{a.name}" in mods or f"{base}.{a.name}" == "powerfit._core"
                    if _private(a.name) and not known:
                        found.append(f"{m}:{node.lineno}: imports {a.name}")
    assert found == []


def test_the_binding_does_no_numerics() -> None:
    manifest = (BINDING / "Cargo.toml").read_text(encoding="utf-8")
    assert "rayon" not in manifest
    numeric = re.compile(r"\.(exp|ln|sqrt|powf|powi|log10)\(\)|par_iter|par_chunks|\bf64::consts")
    hits = [
        f"{p.name}:{i + 1}"
        for p in sorted((BINDING / "src").glob("*.rs"))
        for i, line in enumerate(p.read_text(encoding="utf-8").splitlines())
        if numeric.search(line)
    ]
    assert hits == []


def test_one_exception_mapping_and_one_doorway() -> None:
    sources = {p.name: p.read_text(encoding="utf-8") for p in (BINDING / "src").glob("*.rs")}
    # every long call goes through enter(); no module spawns its own polling loop
    for name, text in sources.items():
        if name != "enter.rs":
            assert "check_signals" not in text, name
            assert "thread::scope" not in text, name
        if name != "errors.rs":
            assert "create_exception!" not in text, name


def test_vocabularies_come_from_the_core() -> None:
    pairs = {
        types.LawName: _core.LAWS,
        types.LossName: _core.LOSSES,
        types.StartsName: _core.STARTS,
        types.BootstrapMethod: _core.BOOTSTRAP_METHODS,
        types.GroupBootstrapMethod: _core.GROUP_BOOTSTRAP_METHODS,
        types.IntervalMethod: _core.INTERVAL_METHODS,
    }
    for alias, names in pairs.items():
        assert list(typing.get_args(alias)) == list(names)
    stub = ast.parse((PACKAGE / "_core.pyi").read_text(encoding="utf-8"))
    literals = {}
    for node in stub.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            value = node.value
            if isinstance(value, ast.Subscript) and getattr(value.value, "id", "") == "Literal":
                elts = value.slice.elts if isinstance(value.slice, ast.Tuple) else [value.slice]
                literals[node.target.id] = [e.value for e in elts]  # type: ignore[attr-defined]
    assert literals["_LawName"] == list(_core.LAWS)
    assert literals["_LossName"] == list(_core.LOSSES)
    assert literals["_StartsName"] == list(_core.STARTS)
    assert literals["_BootstrapMethod"] == list(_core.BOOTSTRAP_METHODS)
    assert literals["_IntervalMethod"] == list(_core.INTERVAL_METHODS)
    import importlib

    from powerfit import cli, laws

    bootstrap = importlib.import_module("powerfit.bootstrap")

    assert tuple(_core.LAWS) == laws.BUILTIN
    assert tuple(_core.LOSSES) == cli.LOSSES
    assert tuple(_core.BOOTSTRAP_METHODS) == bootstrap.METHODS


def test_results_do_not_change_after_construction() -> None:
    res = pf.fit(pf.datasets.chinchilla(), law="chinchilla", loss="l2", warn=False)
    before = (res.values.copy(), res.cost, res.status)
    res.values[0] = -1.0  # a copy: the result keeps its own
    assert res.values[0] == before[0][0]
    for attr in ("problem", "solution"):
        try:
            setattr(res, attr, None)
        except AttributeError:
            continue
        raise AssertionError(f"{attr} could be replaced")


def test_every_regime_has_a_style() -> None:
    from powerfit.diagnosis import REGIMES
    from powerfit.plot.diagnosis import STYLE

    assert tuple(STYLE) == tuple(REGIMES)
