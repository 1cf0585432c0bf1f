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
            # `from shared.kernel import db` imports the module shared.kernel.db
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def under(modules: set[str], *prefixes: str) -> set[str]:
    return {m for m in modules if any(m == p or m.startswith(p + ".") for p in prefixes)}


# --- shared/: the language, the contracts, the kernel, the auditors' tools ------------------------

# What each part of shared/ may import of shared/: the language imports nothing else, the
# contracts speak the language, the kernel runs on both, the auditors' tools on all three.
SHARED_MAY_IMPORT = {
    "language": {"shared.language"},
    "contracts": {"shared.language", "shared.contracts"},
    # the people's data sealed under their keys, and the vault of those keys
    "personal": {"shared.language", "shared.contracts", "shared.personal"},
    "kernel": {"shared.language", "shared.contracts", "shared.personal", "shared.kernel"},
    "audit": {
        "shared.language",
        "shared.contracts",
        "shared.personal",
        "shared.kernel",
        "shared.audit",
    },
}


def test_shared_has_a_home_for_every_module_and_no_loose_one():
    loose = [p.name for p in (ROOT / "shared").glob("*.py") if p.name != "__init__.py"]
    assert loose == []
    assert {
        p.name for p in (ROOT / "shared").iterdir() if p.is_dir() and p.name != "__pycache__"
    } == set(SHARED_MAY_IMPORT)


def test_each_part_of_shared_imports_only_the_parts_below_it():
    for part, allowed in SHARED_MAY_IMPORT.items():
        for path in (ROOT / "shared" / part).rglob("*.py"):
            mine = under(imports_of(path), "shared")
            wrong = {m for m in mine if m != "shared" and not under({m}, *allowed)}
            assert not wrong, f"{path} imports {wrong}: {part} may import only {allowed}"


def test_the_kernel_never_imports_a_service_nor_the_cli():
    for path in (ROOT / "shared").rglob("*.py"):
        assert not under(imports_of(path), "services", "cli"), path


# --- services/ ----------------------------------------------------------------------------------


def test_services_never_import_each_other():
    for service in SERVICES:
        for path in (ROOT / "services" / service).rglob("*.py"):
            others = [
                m
                for m in imports_of(path)
                if m.startswith("services.") and m.split(".")[1] != service
            ]
            assert not others, f"{path} imports {others}: services meet only on the bus"


def test_every_service_has_the_same_homes():
    for service in SERVICES:
        folder = ROOT / "services" / service
        for home in (
            "domain",
            "errors",
            "handlers",
            "projections",
            "queries",
            "consumers",
            "api",
            "main",
        ):
            assert (folder / f"{home}.py").exists(), f"{service} has no {home}.py"


# The adapters of a service: everything else in its folder is its pure domain core. Routes
# beyond api.py live in api_<part>.py (applications: api_exchange, api_corrections, api_drafts).
ADAPTERS = {
    "__init__",
    "handlers",
    "consumers",
    "projections",
    "api",
    "main",
    "mailer",
    "queries",
    "exports",  # the read side as tables (CSV, XLSX, ODS)
    "committee_handlers",  # the committee's commands, several streams in one transaction
    "committee_views",  # the committee's read models and reads
    "audit_trail",
    "decisions",
    "reviewers",  # who of the committee may read a dossier (applications)
    "numbering",
    "withdrawals",
    "envelopes",
    "smtp",
    "mime",  # the mailer's MIME message (the standard library's email package)
}


def is_adapter(stem: str) -> bool:
    return stem in ADAPTERS or stem.startswith("api_")


IO = {"asyncpg", "aiokafka", "faststream", "fastapi", "starlette", "httpx", "aiosmtplib", "uvicorn"}
KERNEL_IO = {
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
    "shared.kernel.deps",
    "shared.kernel.idempotency",
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
        "fractions",  # exact shares (services/selection/dotations.py): pure, no I/O
    }
    checked = 0
    for service in SERVICES:
        for path in (ROOT / "services" / service).glob("*.py"):
            if is_adapter(path.stem):
                continue
            modules = imports_of(path)
            assert {m.split(".")[0] for m in modules} <= allowed_roots, path
            assert not modules & KERNEL_IO, path
            assert not under(modules, "shared.audit"), path
            adapters = [
                m for m in modules if m.startswith("services.") and is_adapter(m.split(".")[-1])
            ]
            assert not adapters, f"{path} imports an adapter: {adapters}"
            checked += 1
    assert checked >= 14


# What each adapter may not reach: routes and consumers go through handlers and queries.
MAY_NOT_IMPORT = {
    "api": {
        "asyncpg",
        "aiokafka",
        "faststream",
        "shared.kernel.eventstore",
        "shared.kernel.outbox",
        "shared.kernel.runtime",
        "shared.kernel.db",
        "shared.kernel.aggregate",
        "shared.kernel.consumer",
        "shared.kernel.projection",
        "shared.kernel.topics",
    },
    "consumers": {
        "aiokafka",
        "faststream",
        "fastapi",
        "starlette",
        "shared.kernel.runtime",
        "shared.kernel.db",
        "shared.kernel.outbox",
        "shared.kernel.aggregate",
        "shared.kernel.app",
        "shared.kernel.deps",
        "shared.kernel.http",
    },
    "handlers": {
        "aiokafka",
        "faststream",
        "fastapi",
        "starlette",
        "shared.kernel.runtime",
        "shared.kernel.db",
        "shared.kernel.outbox",
        "shared.kernel.app",
        "shared.kernel.deps",
        "shared.kernel.http",
        "shared.kernel.consumer",
    },
    "projections": {
        "aiokafka",
        "faststream",
        "fastapi",
        "starlette",
        "shared.kernel.runtime",
        "shared.kernel.aggregate",
        "shared.kernel.outbox",
        "shared.kernel.app",
    },
    "queries": {
        "aiokafka",
        "faststream",
        "fastapi",
        "starlette",
        "shared.kernel.runtime",
        "shared.kernel.aggregate",
        "shared.kernel.outbox",
        "shared.kernel.eventstore",
    },
}


def violations(path: Path) -> set[str]:
    forbidden = MAY_NOT_IMPORT.get(path.stem, set())
    return under(imports_of(path), *forbidden) if forbidden else set()


def test_routes_consumers_handlers_projections_and_queries_import_only_what_they_should():
    checked = 0
    for service in SERVICES:
        for path in (ROOT / "services" / service).glob("*.py"):
            assert not violations(path), f"{path} imports {violations(path)}"
            checked += path.stem in MAY_NOT_IMPORT
    assert checked == 5 * len(SERVICES)


def test_the_rule_fails_a_route_that_reaches_into_the_event_store(tmp_path):
    route = tmp_path / "api.py"
    route.write_text("from shared.kernel.eventstore import read_stream\nimport asyncpg\n")
    assert violations(route) == {
        "shared.kernel.eventstore",
        "shared.kernel.eventstore.read_stream",
        "asyncpg",
    }
    consumer = tmp_path / "consumers.py"
    consumer.write_text("from faststream.kafka import KafkaBroker\n")
    assert violations(consumer) == {"faststream.kafka", "faststream.kafka.KafkaBroker"}


# --- cli/: not a service; it wires them ---------------------------------------------------------


def test_the_cli_reaches_a_service_only_through_its_wiring():
    checked = 0
    for path in (ROOT / "cli").rglob("*.py"):
        deeper = [
            m
            for m in under(imports_of(path), "services")
            if m != "services" and not m.endswith(".main") and m.count(".") >= 2
        ]
        assert not deeper, f"{path} imports {deeper}: the CLI may import a service's main only"
        checked += 1
    assert checked >= 4


def test_no_service_imports_the_cli():
    for path in (ROOT / "services").rglob("*.py"):
        assert not under(imports_of(path), "cli"), path


# --- services/console/: a front, not a service of the call --------------------------------------


def test_the_console_holds_no_rule_and_writes_no_store():
    # it calls the four services over HTTP: none of the machinery that decides and records
    forbidden = (
        "shared.kernel.eventstore",
        "shared.kernel.outbox",
        "shared.kernel.aggregate",
        "shared.kernel.decider",
        "shared.kernel.consumer",
        "shared.kernel.projection",
        "shared.kernel.runtime",
        "shared.kernel.topics",
        "shared.contracts",
        "aiokafka",
        "faststream",
        "services.applications",
        "services.selection",
        "services.payments",
        "services.notifications",
    )
    checked = 0
    for path in (ROOT / "services" / "console").rglob("*.py"):
        assert not under(imports_of(path), *forbidden), (
            f"{path} imports {under(imports_of(path), *forbidden)}"
        )
        checked += 1
    assert checked >= 10


# --- the pool: only the sessions that keep state are reset (shared/kernel/db.py) -----------------

# What outlives a transaction on a pooled connection. A pool reset clears it only for a
# connection taken with `db.session` (the reset of every release is a round trip otherwise).
SESSION_STATE = (
    "pg_advisory_lock(",
    "pg_try_advisory_lock(",
    "LISTEN ",
    "add_listener(",
    "SET SESSION",
    "WITH HOLD",
)


def test_a_module_that_takes_session_state_on_a_pooled_connection_takes_a_session():
    """A session-level lock, a LISTEN or a held cursor on a pooled connection is reset only
    when the connection was taken with `db.session`: a module that takes one must use it (or
    its own connection, as provisioning does)."""
    missing = []
    for path in [*(ROOT / "services").rglob("*.py"), *(ROOT / "shared").rglob("*.py")]:
        text = path.read_text()
        takes_state = any(state in text for state in SESSION_STATE)
        own_connection = "asyncpg.connect(" in text or path.name == "db.py"
        if takes_state and not own_connection and "db.session(" not in text:
            missing.append(str(path.relative_to(ROOT)))
    assert missing == []
