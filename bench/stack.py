"""The bench's own stack on the local servers: a namespace, its cleanup, and service processes.

Like the tests, the bench works under a random topic and database prefix, so it never meets
a platform started by `./dev up` nor a test session running at the same time; everything
under the prefix is dropped at the end, whatever happened.
"""

import asyncio
import os
import secrets
import signal
import socket
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import httpx
from aiokafka.admin import AIOKafkaAdminClient

from shared.auth import generate_keypair
from shared.settings import Settings


def namespace(base: Settings, keys: Path) -> Settings:
    """The servers of `base` under a fresh prefix, with a JWT key pair of the run's own."""
    prefix = "b" + secrets.token_hex(4)
    private_pem, public_pem = generate_keypair()
    keys.mkdir(parents=True, exist_ok=True)
    private_key_file = keys / "private.pem"
    private_key_file.write_text(private_pem)
    dsn = urlsplit(base.pg_admin_dsn)
    return base.model_copy(update={
        "topic_prefix": prefix, "db_prefix": prefix,
        "pg_host": dsn.hostname or base.pg_host, "pg_port": dsn.port or base.pg_port,
        "jwt_public_key": public_pem, "jwt_private_key_file": str(private_key_file),
    })


def scoped(settings: Settings, case: str) -> Settings:
    """A case's corner of the namespace: its own databases and topics."""
    return settings.model_copy(update={"topic_prefix": f"{settings.topic_prefix}.{case}",
                                       "db_prefix": f"{settings.db_prefix}_{case}"})


async def clean(settings: Settings) -> list[str]:
    """Drop every database and topic of the namespace; returns what was dropped."""
    dropped: list[str] = []
    admin = await asyncpg.connect(settings.pg_admin_dsn)
    try:
        names = await admin.fetch("SELECT datname FROM pg_database WHERE starts_with(datname, $1)",
                                  settings.db_prefix + "_")
        for row in names:
            await admin.execute(f'DROP DATABASE IF EXISTS "{row["datname"]}" WITH (FORCE)')
            dropped.append(row["datname"])
    finally:
        await admin.close()
    kafka = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    await kafka.start()
    try:
        mine = [t for t in await kafka.list_topics() if t.startswith(settings.topic_prefix + ".")]
        if mine:
            await kafka.delete_topics(mine)
        dropped += mine
    finally:
        await kafka.close()
    return dropped


def environment(settings: Settings, **extra: str) -> dict[str, str]:
    """The process environment that gives a service these settings."""
    values = {f"AAP_{name.upper()}": str(value) for name, value in settings.model_dump().items()}
    return {**os.environ, **values, **extra}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def peak_rss_mib(pid: int) -> float:
    """The process's peak resident set (VmHWM), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    """User and system CPU time the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, all cores together."""
    ticks = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = ticks[3] + ticks[4]  # idle + iowait
    hz = os.sysconf("SC_CLK_TCK")
    return (sum(ticks[:8]) - idle) / hz, sum(ticks[:8]) / hz


@dataclass
class Processes:
    """HTTP servers started as processes (`python -m …`), each on a free port, logs in a folder."""

    logs: Path
    env: Mapping[str, str]
    urls: dict[str, str] = field(default_factory=dict)
    running: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    spies: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self, name: str, module_args: Sequence[str]) -> str:
        port = free_port()
        self.logs.mkdir(parents=True, exist_ok=True)
        self.running[name] = subprocess.Popen(
            [sys.executable, "-m", *module_args, "--port", str(port)], env=dict(self.env),
            stdout=(self.logs / f"{name}.log").open("wb"), stderr=subprocess.STDOUT)
        self.urls[name] = f"http://127.0.0.1:{port}"
        return self.urls[name]

    async def ready(self, path: str = "/readyz", timeout: float = 120) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        async with httpx.AsyncClient(timeout=5) as client:
            for name, url in self.urls.items():
                while True:
                    if self.running[name].poll() is not None:
                        tail = (self.logs / f"{name}.log").read_text()[-3000:]
                        raise RuntimeError(f"{name} exited before it was ready:\n{tail}")
                    try:
                        if (await client.get(url + path)).status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    if loop.time() > deadline:
                        raise RuntimeError(f"{name} not ready after {timeout:.0f} s")
                    await asyncio.sleep(0.3)

    def peak_rss_mib(self) -> dict[str, float]:
        return {name: round(peak_rss_mib(p.pid), 1) for name, p in self.running.items()
                if p.poll() is None}

    def profile(self, folder: Path) -> None:
        """Sample each process with py-spy (the GIL holder only: where Python spends CPU) until
        `unprofile`; the raw profiles go to folder/<name>.raw."""
        folder.mkdir(parents=True, exist_ok=True)
        spy = Path(sys.executable).with_name("py-spy")
        for name, process in self.running.items():
            self.spies.append(subprocess.Popen(
                [str(spy), "record", "--gil", "--rate", "100", "--format", "raw", "--nonblocking",
                 "--pid", str(process.pid), "-o", str(folder / f"{name}.raw")],
                stdout=subprocess.DEVNULL, stderr=(self.logs / f"py-spy-{name}.log").open("wb")))

    def unprofile(self) -> None:
        for spy in self.spies:
            spy.send_signal(signal.SIGINT)  # py-spy writes its profile on ^C
        for spy in self.spies:
            spy.wait(timeout=60)
        self.spies.clear()

    def cpu_seconds(self) -> dict[str, float]:
        return {name: cpu_seconds(p.pid) for name, p in self.running.items() if p.poll() is None}

    def stop(self) -> None:
        self.unprofile()
        for process in self.running.values():
            if process.poll() is None:
                process.terminate()
        for process in self.running.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.running.clear()
        self.urls.clear()
