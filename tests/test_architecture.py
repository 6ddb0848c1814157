"""Measures of the code's shape (issue 11): cycles, sizes, seams, names.

Read with a small AST walk, never by importing the code:
- no import cycle inside `device/`, `hwsim/` or `firmware/p2mfw/` (function-level
  imports count too: a cycle hidden in a function is still a cycle);
- no module over 500 lines and no function over 60 lines outside `tests/`;
- hwsim's chip models, world and controls import nothing from `device/` but
  `device.errors`, and nothing from the firmware but its tick helpers
  (`p2mfw.compat`); only `hwsim/mcu.py`, the simulated MCU, hosts the firmware;
- no two modules, and no two classes, with the same name for different things;
- `Any` appears at most 20 times in `device/` (`grep -rnw Any device | wc -l`).

Today's offenders are listed below, each list only allowed to shrink: a name
that no longer offends must leave its list (the test says so), and a new
offender fails at once.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 60
MAX_ANY = 20

# Where each importable package lives: (package name, its directory).
PACKAGES = {
    "device": ROOT / "device",
    "hwsim": ROOT / "hwsim",
    "p2mfw": ROOT / "firmware" / "p2mfw",
}
# Code outside tests/ held to the size limits.
SIZED = [ROOT / "device", ROOT / "hwsim", ROOT / "firmware", ROOT / "bench"]

# --- allow-lists: today's offenders; each may only shrink ---------------------

# Modules over MAX_MODULE_LINES (path relative to the repository).
LONG_MODULES: set[str] = set()

# Functions over MAX_FUNCTION_LINES ("path:qualified.name").
LONG_FUNCTIONS: set[str] = set()

# Import cycles, each as the sorted tuple of its modules.
CYCLES: set[tuple[str, ...]] = set()

# Module base names that several packages use on purpose: one chip, seen from
# the daemon (component), the simulator (chip model) and the firmware (driver).
SAME_THING: dict[str, str] = {
    "bme280": "the BME280: daemon component, hwsim chip model, firmware driver",
    "rda5807m": "the RDA5807M: hwsim chip model, firmware driver",
    "si4703": "the Si4703: hwsim chip model, firmware driver",
    "frame": "link frames: one codec (p2mfw.frame), device.link.frame its typed host face",
}
# Module base names used twice for different things (may only shrink).
SHARED_MODULE_NAMES: set[str] = set()

# Class names defined in several modules.
DUPLICATE_CLASSES: set[str] = {
    # One codec: device.link.frame.FrameDecoder is the typed face of p2mfw.frame's.
    "FrameDecoder",
    # The chip model and the firmware driver (see SAME_THING).
    "Rda5807m", "Si4703",
}

# hwsim modules that still borrow from the daemon or the firmware.
HWSIM_BORROWS: set[str] = set()

# The ceiling on `Any` in device/ until the typed seams land (target MAX_ANY).
ANY_CEILING = 0


# --- the walk -----------------------------------------------------------------


@dataclass(frozen=True)
class Module:
    """One source file known by its dotted name."""

    name: str
    path: Path
    is_package: bool

    @property
    def rel(self) -> str:
        return self.path.relative_to(ROOT).as_posix()


@functools.cache
def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"))


def _modules(package: str) -> dict[str, Module]:
    base = PACKAGES[package]
    found: dict[str, Module] = {}
    for path in sorted(base.rglob("*.py")):
        if "node_modules" in path.parts:
            continue
        parts = list(path.relative_to(base).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        name = ".".join([package, *parts])
        found[name] = Module(name, path, is_package)
    return found


def _all_modules() -> dict[str, Module]:
    found: dict[str, Module] = {}
    for package in PACKAGES:
        found.update(_modules(package))
    return found


def _imported_names(module: Module) -> Iterator[str]:
    """Every dotted name the module imports, relative imports resolved."""
    tree = _tree(module.path)
    here = module.name.split(".") if module.is_package else module.name.split(".")[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - (node.level - 1)]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            for alias in node.names:
                yield f"{prefix}.{alias.name}"  # resolves to prefix when not a module


def _resolve(name: str, known: dict[str, Module]) -> str | None:
    """The longest known module that `name` names (a.b.C → a.b)."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in known:
            return candidate
        parts.pop()
    return None


def import_graph(known: dict[str, Module] | None = None) -> dict[str, set[str]]:
    """Module → the modules of the same project it imports (anywhere in its body)."""
    known = known if known is not None else _all_modules()
    graph: dict[str, set[str]] = {name: set() for name in known}
    for name, module in known.items():
        for imported in _imported_names(module):
            target = _resolve(imported, known)
            if target is None or target == name:
                continue
            # `from pkg import mod` names pkg too; a package's own __init__ is no edge.
            if known[target].is_package and name.startswith(target + "."):
                continue
            graph[name].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[tuple[str, ...]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[tuple[str, ...]] = []
    counter = 0

    def visit(v: str) -> None:
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(tuple(sorted(component)))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def _sized_files() -> Iterator[Path]:
    for base in SIZED:
        for path in sorted(base.rglob("*.py")):
            if "node_modules" not in path.parts:
                yield path


def long_modules() -> set[str]:
    return {
        p.relative_to(ROOT).as_posix()
        for p in _sized_files()
        if len(p.read_text(encoding="utf-8").splitlines()) > MAX_MODULE_LINES
    }


def _functions(tree: ast.AST, prefix: str = "") -> Iterator[tuple[str, ast.AST]]:
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield prefix + node.name, node
            yield from _functions(node, prefix + node.name + ".")
        elif isinstance(node, ast.ClassDef):
            yield from _functions(node, prefix + node.name + ".")


def long_functions() -> set[str]:
    found: set[str] = set()
    for path in _sized_files():
        tree = _tree(path)
        for qualname, node in _functions(tree):
            assert node.end_lineno is not None
            if node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES:
                found.add(f"{path.relative_to(ROOT).as_posix()}:{qualname}")
    return found


def any_count() -> int:
    """Lines in device/ with the word Any (as `grep -rnw Any device | wc -l` counts)."""
    word = re.compile(r"(?<![A-Za-z0-9_])Any(?![A-Za-z0-9_])")
    total = 0
    for path in sorted((ROOT / "device").rglob("*")):
        if path.is_file() and path.suffix in {".py", ".md", ".toml", ".txt"}:
            text = path.read_text(encoding="utf-8", errors="replace")
            total += sum(1 for line in text.splitlines() if word.search(line))
    return total


def _class_homes() -> dict[str, set[str]]:
    homes: dict[str, set[str]] = {}
    for module in _all_modules().values():
        for node in _tree(module.path).body:
            if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                homes.setdefault(node.name, set()).add(module.name)
    return homes


def _module_homes() -> dict[str, set[str]]:
    homes: dict[str, set[str]] = {}
    for module in _all_modules().values():
        if module.is_package or module.path.stem == "__main__":
            continue
        homes.setdefault(module.path.stem, set()).add(module.name)
    return homes


def _shrinking(kind: str, found: set[str], allowed: set[str]) -> None:
    new = sorted(found - allowed)
    gone = sorted(allowed - found)
    assert not new, f"new {kind} (fix it; do not grow the allow-list): {new}"
    assert not gone, f"{kind} fixed — remove from the allow-list in {__file__}: {gone}"


# --- the tests ----------------------------------------------------------------


def test_architecture_no_import_cycles() -> None:
    found = {" ↔ ".join(c) for c in cycles(import_graph())}
    _shrinking("import cycles", found, {" ↔ ".join(c) for c in CYCLES})


def test_architecture_no_module_over_500_lines() -> None:
    _shrinking(f"modules over {MAX_MODULE_LINES} lines", long_modules(), LONG_MODULES)


def test_architecture_no_function_over_60_lines() -> None:
    _shrinking(f"functions over {MAX_FUNCTION_LINES} lines", long_functions(), LONG_FUNCTIONS)


def test_architecture_hwsim_independent_of_device_and_firmware() -> None:
    known = _all_modules()
    graph = import_graph(known)
    bad = []
    for name, targets in graph.items():
        if not name.startswith("hwsim"):
            continue
        for target in targets:
            if target.startswith("device") and target != "device.errors":
                bad.append(f"{name} → {target}")
            if target.startswith("p2mfw") and target != "p2mfw.compat" and name != "hwsim.mcu":
                bad.append(f"{name} → {target}")
    _shrinking("hwsim imports from the daemon or the firmware", set(bad), HWSIM_BORROWS)


def test_architecture_no_two_modules_share_a_name() -> None:
    found = {stem for stem, homes in _module_homes().items() if len(homes) > 1}
    _shrinking("module names used twice", found - set(SAME_THING), SHARED_MODULE_NAMES)


def test_architecture_no_two_classes_share_a_name() -> None:
    found = {name for name, homes in _class_homes().items() if len(homes) > 1}
    _shrinking("class names defined twice", found, DUPLICATE_CLASSES)


def test_architecture_any_count() -> None:
    count = any_count()
    assert count <= ANY_CEILING, f"`Any` used {count} times in device/ (ceiling {ANY_CEILING})"


def test_architecture_graph_sees_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [("a", "b", "c")]
