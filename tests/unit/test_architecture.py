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
            others = [
                m
                for m in imports_of(path)
                if m.startswith("services.") and m.split(".")[1] != service
            ]
            assert not others, f"{path} imports {others}: services meet only on the bus"


# The adapters of a service: everything else in its folder is its pure domain core.
ADAPTERS = {
    "__init__",
    "handlers",
    "consumers",
    "projections",
    "api",
    "main",
    "mailer",
    "queries",
    "audit_trail",
}


def test_a_domain_core_does_no_io():
    allowed_roots = {
        "dataclasses",
        "datetime",
        "decimal",
        "uuid",
        "typing",
        "collections",
        "enum",
        "pydantic",
        "shared",
        "services",
        "__future__",
        "zoneinfo",
    }
    forbidden = {
        "shared.kernel.eventstore",
        "shared.kernel.outbox",
        "shared.kernel.runtime",
        "shared.kernel.db",
        "shared.kernel.consumer",
        "shared.kernel.app",
        "shared.kernel.aggregate",
        "shared.kernel.auth",
        "shared.kernel.projection",
        "shared.kernel.topics",
        "shared.kernel.http",
    }
    checked = 0
    for service in SERVICES:
        for path in (ROOT / "services" / service).glob("*.py"):
            if path.stem in ADAPTERS:
                continue
            modules = imports_of(path)
            assert {m.split(".")[0] for m in modules} <= allowed_roots, path
            assert not modules & forbidden, path
            assert not [
                m for m in modules if m.startswith("services.") and m.split(".")[-1] in ADAPTERS
            ], f"{path} imports an adapter"
            checked += 1
    assert checked >= 10
