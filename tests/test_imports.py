"""The import graph: no library module imports from the CLI layer (``commands/``), and no
module imports another module's private names (the first landing's review found both)."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src" / "assay"


def _imports(path: Path):
    tree = ast.parse(path.read_text())
    package = path.relative_to(SRC.parent).with_suffix("").parts[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = list(package[:len(package) - node.level + 1]) if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            yield node.lineno, module, [a.name for a in node.names]
        elif isinstance(node, ast.Import):
            for a in node.names:
                yield node.lineno, a.name, []


def test_no_library_module_imports_from_commands():
    bad = []
    for path in SRC.rglob("*.py"):
        rel = path.relative_to(SRC)
        if rel.parts[0] == "commands" or rel.name == "cli.py":
            continue
        for line, module, _ in _imports(path):
            if module.startswith("assay.commands"):
                bad.append(f"{rel}:{line} imports {module}")
    assert not bad, bad


def test_no_private_name_is_imported_across_modules():
    bad = [f"{path.relative_to(SRC)}:{line} imports {n} from {module}"
           for path in SRC.rglob("*.py") for line, module, names in _imports(path)
           for n in names if n.startswith("_") and n != "__version__"]
    assert not bad, bad


def test_parse_failure_rate_is_defined_once():
    hits = [str(p.relative_to(SRC)) for p in SRC.rglob("*.py")
            if '"parse_failure_rate"' in p.read_text() and "custom(" in p.read_text()]
    assert hits == ["metrics/runner.py"]
