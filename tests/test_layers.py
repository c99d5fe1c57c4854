"""The package's imports follow the data: no module imports one from a higher layer.

The layer map is the table in docs/architecture.md (a module may import its own layer and the ones below); this
test reads it from there, so the map a newcomer reads is the map that is checked.
Run this file directly to print the graph: python tests/test_layers.py
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "mialab"

ARCHITECTURE = PACKAGE.parent / "docs" / "architecture.md"


def _layers_from_the_map() -> dict[str, int]:
    """{top-level module name: layer} from the layer table of docs/architecture.md (rows "| N | `a`, `b` | ... |")."""
    layers = {"__init__": 0}
    for line in ARCHITECTURE.read_text(encoding="utf-8").splitlines():
        row = re.match(r"\|\s*(\d)\s*\|([^|]*)\|", line)
        if row:
            layers.update({name: int(row.group(1)) for name in re.findall(r"`([\w.]+)`", row.group(2))})
    return layers


LAYERS = _layers_from_the_map()


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(parts)


def _layer(name: str) -> int:
    top = name.split(".")[0]
    if top not in LAYERS:
        raise KeyError(f"mialab.{name} has no layer: add its top-level name to the layer table in "
                       "docs/architecture.md")
    return LAYERS[top]


def _imports(path: Path) -> set[str]:
    """mialab modules imported by the file at `path` (relative and absolute imports, anywhere in the file)."""
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    package = parts[:-1]                                   # a/b/c.py and a/b/__init__.py both live in a.b
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - (node.level - 1)]
                target = ".".join([*base, *(node.module.split(".") if node.module else [])])
            elif node.module and node.module.split(".")[0] == "mialab":
                target = node.module.partition(".")[2]
            else:
                continue
            for alias in node.names:                       # `from . import data` imports the module data
                sub = f"{target}.{alias.name}" if target else alias.name
                is_module = (PACKAGE / sub.replace(".", "/")).with_suffix(".py").exists() or \
                    (PACKAGE / sub.replace(".", "/")).is_dir()
                found.add(sub if is_module else target)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "mialab":
                    found.add(alias.name.partition(".")[2])
    return {f for f in found if f}


def graph() -> dict[str, set[str]]:
    return {_module_name(p): _imports(p) for p in sorted(PACKAGE.rglob("*.py"))}


def test_the_map_gives_every_top_level_module_a_layer():
    tops = {path.relative_to(PACKAGE).parts[0].removesuffix(".py") for path in PACKAGE.iterdir()
            if (path.suffix == ".py" or (path / "__init__.py").exists())}
    assert not tops - set(LAYERS), f"add to the layer table of docs/architecture.md: {sorted(tops - set(LAYERS))}"
    assert not set(LAYERS) - tops, f"the layer table names modules that do not exist: {sorted(set(LAYERS) - tops)}"


def test_no_module_imports_from_a_higher_layer():
    upward = [f"mialab.{module} (layer {_layer(module)}) imports mialab.{target} (layer {_layer(target)})"
              for module, targets in graph().items() for target in targets
              if _layer(target) > _layer(module)]
    assert not upward, "\n".join(upward)


def test_the_leaves_import_nothing_from_the_package():
    """The grading guard (_reference) and the validation vocabulary import no other mialab module."""
    imports = graph()
    assert {m: imports[m] for m in ("_reference", "_validation", "threads", "progress") if imports[m]} == {}


def test_the_core_never_imports_the_course_tooling():
    core = {m: t for m, t in graph().items() if _layer(m) < 7}
    assert not [(m, t) for m, targets in core.items() for t in targets if t.split(".")[0] in ("checks", "course")]


# checks/grading.py and course/grading.py: the lead is rebuilding grading (issue 24); remove this when they merge
_SHARED_NAMES_BEING_FIXED = {"grading"}


def test_no_two_modules_share_a_name():
    """The reference guard keys on a module's last name (`generative.precision_at_k`), and a reader on the file name:
    two modules called the same would share both."""
    by_name: dict[str, list[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        if path.name not in ("__init__.py", "__main__.py"):
            by_name.setdefault(path.stem, []).append(_module_name(path))
    shared = {name: sorted(where) for name, where in by_name.items()
              if len(where) > 1 and name not in _SHARED_NAMES_BEING_FIXED}
    assert not shared, f"rename one of each: {shared}"


if __name__ == "__main__":
    for module, targets in graph().items():
        print(f"[{_layer(module)}] mialab.{module}: " + ", ".join(f"{t} [{_layer(t)}]" for t in sorted(targets)))
    sys.exit(0)
