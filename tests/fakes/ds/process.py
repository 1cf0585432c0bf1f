"""The local DS as a process, as the tests start it, and its control routes."""

import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[3]
SCHEMA = Path(__file__).resolve().parent / "schema.graphql"


@dataclass
class FakeDs:
    url: str
    process: subprocess.Popen[bytes]

    @property
    def endpoint(self) -> str:
        return f"{self.url}/api/v2/graphql"

    def control(self, method: str, path: str, body: Any = None) -> Any:
        answer = httpx.request(method, f"{self.url}/_fake/{path}", json=body, timeout=10)
        answer.raise_for_status()
        return answer.json()

    def mutations(self, name: str, dossier: int | None = None) -> list[dict[str, Any]]:
        """The mutations `dossier<name>` DS ran (a request a fault stopped first is not one)."""
        return [
            m
            for m in self.control("GET", "mutations")["mutations"]
            if m["mutation"] == f"dossier{name}"
            and m.get("executed", True)
            and (dossier is None or m["dossier"] == dossier)
        ]

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()


def start_fake(dossiers: int, *options: str) -> FakeDs:
    """Started and listening (it says so on its first line)."""
    command = [sys.executable, "-m", "tests.fakes.ds", "--port", "0", "--dossiers", str(dossiers)]
    process = subprocess.Popen([*command, *options], cwd=ROOT, stdout=subprocess.PIPE)
    assert process.stdout is not None
    line = process.stdout.readline().decode()
    found = re.search(r"listening on (http://\S+)", line)
    if found is None:
        process.kill()
        raise RuntimeError(f"the local DS did not start: {line!r}")
    return FakeDs(found.group(1), process)
