"""The machine a run measured: CPU, cores, memory, OS, and the versions of what ran on it."""

import os
import platform
import re
from pathlib import Path
from typing import Any

import asyncpg

from shared.kernel.settings import Settings


def kafka_lib() -> Path:
    """The Kafka jars deploy/local/kafka.sh runs the broker from (AAP_KAFKA_LIB to override)."""
    if os.environ.get("AAP_KAFKA_LIB"):
        return Path(os.environ["AAP_KAFKA_LIB"])
    cache = Path(os.environ.get("AAP_CACHE") or Path.home() / ".cache" / "aap")
    return cache / f"kafka-{os.environ.get('KAFKA_VERSION', '4.1.1')}" / "lib"


def _first(path: str, pattern: str) -> str:
    try:
        found = re.search(pattern, Path(path).read_text(), re.MULTILINE)
    except OSError:
        return "unknown"
    return found.group(1).strip() if found else "unknown"


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


async def describe(settings: Settings) -> dict[str, Any]:
    conn = await asyncpg.connect(settings.pg_admin_dsn)
    try:
        postgres = await conn.fetchval("SHOW server_version")
    finally:
        await conn.close()
    clients = sorted(kafka_lib().glob("kafka-clients-*.jar"))
    mem_kib = _first("/proc/meminfo", r"^MemTotal:\s+(\d+)")
    os_name = _first("/etc/os-release", r'^PRETTY_NAME="?([^"\n]+)')
    return {
        "cpu": _first("/proc/cpuinfo", r"^model name\s*:\s*(.+)$"),
        "cores": os.cpu_count(),
        "ram_gib": round(int(mem_kib) / 1024 / 1024, 1) if mem_kib.isdigit() else "unknown",
        "os": f"{os_name} (Linux {platform.release()})",
        "python": platform.python_version(),
        "postgresql": postgres,
        "kafka": clients[0].stem.removeprefix("kafka-clients-") if clients else "unknown",
        "load_average_at_start": load(),
    }
