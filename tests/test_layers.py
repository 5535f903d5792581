"""The import contract of the package: layers that import only downwards, no cycles.

    lyapunov  <-  model  <-  engine  <-  analysis  <-  report  <-  pipeline  <-  cli

A module may import from its own layer and the layers below it; `lyapunov` imports
nothing from the package; nothing in the package imports `pipeline` or `cli` except the
layers above them. The top-level `weightdyn/__init__.py` (the public API) sits at the
engine's level. Imports are read from the source: every `import` and `from ... import`,
also inside functions, and every string that names a module of the package (the lazy
exports of the top level, `importlib.import_module` arguments), so a lazy import cannot
slip past.
"""
import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "weightdyn"
LAYERS = ["lyapunov", "model", "engine", "analysis", "report", "pipeline", "cli"]
TOP = "engine"  # the layer of weightdyn/__init__.py


def module_name(path: Path, root: Path = PACKAGE) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> str:
    parts = module.split(".")
    return TOP if len(parts) == 1 else parts[1]


def resolve(package: str, name: str) -> str:
    """A module name as `import` resolves it inside `package` (leading dots: relative)."""
    rest = name.lstrip(".")
    level = len(name) - len(rest)
    if not level:
        return name
    base = package.split(".")
    return ".".join(base[: len(base) - level + 1] + ([rest] if rest else []))


def imports_of(path: Path, root: Path = PACKAGE) -> set[str]:
    """The package modules that `path` imports (resolved to dotted names)."""
    module = module_name(path, root)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "weightdyn"}
        elif isinstance(node, ast.ImportFrom):
            target = resolve(package, "." * node.level + (node.module or ""))
            if target.split(".")[0] != "weightdyn":
                continue
            for alias in node.names:  # `from pkg import submodule` imports the submodule
                sub = f"{target}.{alias.name}"
                found.add(sub if sub in MODULES else target)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.strip("."):
            name = resolve(package, node.value)  # a module named in a string (a lazy import)
            if name in MODULES and name != module:
                found.add(name)
    return found


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}
GRAPH = {m: imports_of(p) for m, p in MODULES.items()}


def test_every_module_belongs_to_a_layer():
    assert {layer_of(m) for m in MODULES} <= set(LAYERS)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_point_down(module):
    rank = LAYERS.index(layer_of(module))
    upward = sorted(t for t in GRAPH[module] if LAYERS.index(layer_of(t)) > rank)
    assert not upward, f"{module} (layer {layer_of(module)}) imports from a higher layer: {upward}"


def test_lyapunov_is_generic():
    assert GRAPH["weightdyn.lyapunov"] == set()


def test_no_import_cycles():
    """Depth-first search over the module graph (a package's __init__ is a module too)."""
    state = {}

    def visit(m, path):
        state[m] = "open"
        for t in sorted(GRAPH.get(m, ())):
            if state.get(t) == "open":
                pytest.fail(f"import cycle: {' -> '.join(path + [m, t])}")
            if t not in state:
                visit(t, path + [m])
        state[m] = "done"

    for m in sorted(GRAPH):
        if m not in state:
            visit(m, [])


def test_the_checker_sees_a_violation(tmp_path):
    """The contract can fail: an upward import inside a function of a lower layer is caught."""
    root = tmp_path / "weightdyn"
    bad = root / "model" / "bad.py"
    bad.parent.mkdir(parents=True)
    bad.write_text("import numpy\n\ndef f():\n    from ..report.figures import FIGURES\n    return FIGURES\n\n\n"
                   "LAZY = {'draw': '..report.markdown', 'io': 'weightdyn.pipeline.io'}\n")
    assert module_name(bad, root) == "weightdyn.model.bad"
    assert imports_of(bad, root) == {"weightdyn.report.figures", "weightdyn.report.markdown", "weightdyn.pipeline.io"}
    assert LAYERS.index(layer_of("weightdyn.report.figures")) > LAYERS.index(layer_of("weightdyn.model.bad"))
