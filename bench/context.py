"""What every case is given: the run's namespace, its sizes, a scratch folder."""

from dataclasses import dataclass
from pathlib import Path

from bench.stack import scoped
from shared.kernel.settings import Settings


@dataclass(frozen=True)
class Sizes:
    writers: int  # append: concurrent writers
    append_seconds: float  # append: each measure runs this long
    rounds: int  # append: measures alternated this many times, best kept
    relay_events: int
    rebuild_events: int
    surge_dossiers: int
    surge_clients: int
    latency_seconds: float  # surge: the half-rate phase lasts this long
    audit_logs: tuple[int, int]  # audit: events in the small and in the big log
    audit_queries: int
    console_dossiers: int  # console: dossiers of the campaign behind the instructor's table
    console_clients: int
    console_seconds: float  # console: each round of each way lasts this long
    ds_dossiers: int  # ds_import: dossiers of the local Démarches Simplifiées, imported once
    export_dossiers: int  # exports: dossiers of the campaign exported in each format


QUICK = Sizes(
    writers=4,
    append_seconds=4,
    rounds=1,
    relay_events=10_000,
    rebuild_events=20_000,
    surge_dossiers=300,
    surge_clients=8,
    latency_seconds=10,
    audit_logs=(10_000, 100_000),
    audit_queries=200,
    console_dossiers=10_000,
    console_clients=4,
    console_seconds=5,
    ds_dossiers=1_000,
    export_dossiers=500,
)
FULL = Sizes(
    writers=8,
    append_seconds=10,
    rounds=3,
    relay_events=100_000,
    rebuild_events=1_000_000,
    surge_dossiers=10_000,
    surge_clients=32,
    latency_seconds=30,
    audit_logs=(10_000, 1_000_000),
    audit_queries=200,
    console_dossiers=10_000,
    console_clients=4,
    console_seconds=15,
    ds_dossiers=10_000,
    export_dossiers=10_000,
)


@dataclass(frozen=True)
class Bench:
    settings: Settings
    sizes: Sizes
    work: Path
    profiles: Path | None = None  # where py-spy profiles of the service processes go, if asked

    def scoped(self, case: str) -> Settings:
        return scoped(self.settings, case)

    def folder(self, case: str) -> Path:
        path = self.work / case
        path.mkdir(parents=True, exist_ok=True)
        return path
