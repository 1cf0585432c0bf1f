"""The layout's rules, kept true by walking the imports."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("applications", "selection", "payments", "notifications")


def imports_of(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_the_kernel_never_imports_a_service():
    for path in (ROOT / "shared").rglob("*.py"):
        assert not [m for m in imports_of(path) if m.startswith("services")], path


def test_services_never_import_each_other():
    for service in SERVICES:
        for path in (ROOT / "services" / service).rglob("*.py"):
            others = [m for m in imports_of(path)
                      if m.startswith("services.") and m.split(".")[1] != service]
            assert not others, f"{path} imports {others}: services meet only on the bus"


def test_a_domain_core_does_no_io():
    allowed_roots = {"dataclasses", "datetime", "decimal", "uuid", "typing", "collections",
                     "enum", "pydantic", "shared", "services", "__future__"}
    forbidden = {"shared.eventstore", "shared.outbox", "shared.runtime", "shared.db",
                 "shared.consumer", "shared.app"}
    for service in SERVICES:
        for name in ("domain.py", "eligibility.py"):
            path = ROOT / "services" / service / name
            if not path.exists():
                continue
            modules = imports_of(path)
            assert {m.split(".")[0] for m in modules} <= allowed_roots, path
            assert not modules & forbidden, path
