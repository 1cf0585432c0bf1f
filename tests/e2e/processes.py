"""Services as processes, as an operator runs them: started, probed, scraped, stopped by signal."""

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from shared.kernel.settings import Settings
from tests.conftest import settings_env
from tests.helpers import free_port, metric, wait_for


@dataclass
class Service:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def log_lines(self) -> list[dict[str, Any]]:
        """The JSON log lines written so far (anything else is skipped)."""
        lines = []
        for line in self.log.read_text(errors="replace").splitlines():
            try:
                lines.append(json.loads(line))
            except ValueError:
                continue
        return lines

    async def readiness(self) -> dict[str, Any] | None:
        """The /readyz answer, or None while the process does not answer."""
        if self.process.poll() is not None:
            raise AssertionError(f"{self.name} exited:\n{self.log.read_text()[-3000:]}")
        try:
            async with httpx.AsyncClient(timeout=5) as client:
                answer: dict[str, Any] = (await client.get(self.url("/readyz"))).json()
                return answer
        except httpx.TransportError:
            return None

    async def metric(self, name: str, **labels: str) -> float:
        """The sum of a Prometheus sample over the series that carry these labels."""
        return await metric(self.url("/metrics"), name, **labels)

    def terminate(self, timeout: float = 60) -> int:
        """SIGTERM, as Kubernetes sends it, and the exit code once the process is gone."""
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise AssertionError(
                f"{self.name} did not stop on SIGTERM within {timeout} s"
            ) from None


def start(settings: Settings, name: str, logs: Path, port: int = 0, **env: str) -> Service:
    port = port or free_port()
    log = logs / f"{name}-{port}.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "cli", "serve", name, "--port", str(port)],
        env={**os.environ, **settings_env(settings), "AAP_METRICS_INTERVAL_SECONDS": "0.5", **env},
        stdout=log.open("ab"),  # a restart on the same port goes on with the same log
        stderr=subprocess.STDOUT,
    )
    return Service(name, port, process, log)


async def ready(service: Service, timeout: float = 90) -> Service:
    async def answers() -> bool:
        answer = await service.readiness()
        return bool(answer and answer["ready"])

    await wait_for(answers, timeout=timeout, what=f"{service.name} to be ready")
    return service


@asynccontextmanager
async def running(
    settings: Settings, names: list[str], logs: Path, **env: str
) -> AsyncIterator[list[Service]]:
    """The services started together and ready; stopped by SIGTERM at the end."""
    services = [start(settings, name, logs, **env) for name in names]
    try:
        await asyncio.gather(*(ready(s) for s in services))
        yield services
    finally:
        for service in services:
            if service.process.poll() is None:
                service.process.send_signal(signal.SIGTERM)
        for service in services:
            try:
                service.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                service.process.kill()
