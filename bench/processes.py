"""Processes the bench starts (services, the web stack alone): ports, readiness, CPU, memory,
py-spy."""

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from io import BufferedWriter
from pathlib import Path

import httpx

from bench.stack import free_port


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


def machine_busy() -> float:
    """CPU seconds the whole machine (all cores together) spent busy since boot."""
    ticks = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    idle = ticks[3] + ticks[4]  # idle + iowait
    return (sum(ticks) - idle) / os.sysconf("SC_CLK_TCK")


@dataclass
class Processes:
    """HTTP servers started as processes (`python -m …`), each on a free port, logs in a folder."""

    logs: Path
    env: Mapping[str, str]
    urls: dict[str, str] = field(default_factory=dict)
    running: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    spies: list[subprocess.Popen[bytes]] = field(default_factory=list)
    outputs: list[BufferedWriter] = field(default_factory=list)

    def _log(self, name: str) -> BufferedWriter:
        self.logs.mkdir(parents=True, exist_ok=True)
        self.outputs.append((self.logs / f"{name}.log").open("wb"))
        return self.outputs[-1]

    def start(
        self, name: str, module_args: Sequence[str], port: int | None = None, **env: str
    ) -> str:
        """Start `python -m module_args --port P` (a free port unless given), with `env` added."""
        port = port or free_port()
        self.running[name] = subprocess.Popen(
            [sys.executable, "-m", *module_args, "--port", str(port)],
            env={**self.env, **env},
            stdout=self._log(name),
            stderr=subprocess.STDOUT,
        )
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
        return {
            name: round(peak_rss_mib(p.pid), 1)
            for name, p in self.running.items()
            if p.poll() is None
        }

    def profile(self, folder: Path) -> None:
        """Sample each process with py-spy (the GIL holder only: where Python spends CPU) until
        `unprofile`; the raw profiles go to folder/<name>.raw."""
        folder.mkdir(parents=True, exist_ok=True)
        spy = Path(sys.executable).with_name("py-spy")
        for name, process in self.running.items():
            self.spies.append(
                subprocess.Popen(
                    [
                        str(spy),
                        "record",
                        "--gil",
                        "--rate",
                        "100",
                        "--format",
                        "raw",
                        "--nonblocking",
                        "--pid",
                        str(process.pid),
                        "-o",
                        str(folder / f"{name}.raw"),
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=self._log(f"py-spy-{name}"),
                )
            )

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
        for output in self.outputs:
            output.close()
        self.running.clear()
        self.urls.clear()
        self.outputs.clear()
