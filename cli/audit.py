"""`aap audit`: replay a dossier from the event stores, travel in time, verify every chain,
bundles."""

import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import typer
import uvloop
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from shared import audit
from shared.audit import AuditEvent, Break
from shared.audit.events import SERVICES, with_keys
from shared.kernel.settings import Settings
from shared.language.campaigns import load_campaigns
from shared.personal.vault import VAULT, PostgresVault

audit_app = typer.Typer(
    help="Auditors: replay a dossier, travel in time, prove nothing was altered.",
    no_args_is_help=True,
)
console = Console()
err = Console(stderr=True, soft_wrap=True)  # one break a line, whatever the width

# What the table shows of an event's payload, when the event carries it.
SUMMARY = (
    "outcome",
    "eligible",
    "opinion",
    "party",
    "requested_eur",
    "proposed_eur",
    "granted_eur",
    "committed_eur",
    "amount_eur",
    "paid_total_eur",
    "justified_spending_eur",
    "withheld_eur",
    "template",
    "reason",
)


def _instant(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not an ISO 8601 instant (e.g. 2024-06-20T10:00+02:00)"
        ) from None
    if at.tzinfo is None:
        raise typer.BadParameter(f"{text!r} has no UTC offset: say which time zone (e.g. +02:00)")
    return at


@asynccontextmanager
async def _stores(
    settings: Settings, services: Sequence[str]
) -> AsyncIterator[dict[str, asyncpg.Pool]]:
    """A pool on each service's database, as its owner: the auditor reads, never writes."""
    pools: dict[str, asyncpg.Pool] = {}
    try:
        for service in services:
            try:
                pools[service] = await asyncpg.create_pool(
                    settings.admin_dsn(service), min_size=1, max_size=2
                )
            except asyncpg.InvalidCatalogNameError:
                err.print(
                    f"[red]no database {settings.database(service)}[/]: run `aap setup` first"
                )
                raise typer.Exit(2) from None
        yield pools
    finally:
        for pool in pools.values():
            await pool.close()


@asynccontextmanager
async def _vault(settings: Settings) -> AsyncIterator[PostgresVault | None]:
    """The people's keys, to read what the events name of them; None where no vault was made
    (what they name then reads as sealed)."""
    try:
        pool = await asyncpg.create_pool(settings.admin_dsn(VAULT), min_size=1, max_size=2)
    except asyncpg.InvalidCatalogNameError:
        yield None
        return
    try:
        yield PostgresVault(pool)
    finally:
        await pool.close()


def _summary(data: dict[str, Any]) -> str:
    return ", ".join(f"{key}={data[key]}" for key in SUMMARY if key in data)


def _caused_by(event: AuditEvent, events: Sequence[AuditEvent]) -> str:
    if not event.causation_id:
        return ""
    cause = next((e for e in events if str(e.event_id) == event.causation_id), None)
    return f"{cause.type} ({cause.service} v{cause.version})" if cause else event.causation_id


def _print_breaks(breaks: Sequence[Break]) -> None:
    for b in breaks:
        err.print(
            f"[red]{b.what}[/] {b.service} stream {b.stream_id} at version {b.version}: "
            f"{escape(b.detail)}"
        )


@audit_app.command()
def show(
    dossier: UUID,
    as_of: str = typer.Option(
        "", "--as-of", help="an instant with its offset, e.g. 2024-06-20T10:00+02:00"
    ),
    as_json: bool = typer.Option(False, "--json", help="print JSON instead of tables"),
) -> None:
    """A dossier's whole history across the services, and its state as of an instant."""
    settings, at = Settings(), _instant(as_of)

    async def run() -> tuple[list[AuditEvent], audit.DossierAsOf]:
        async with _stores(settings, SERVICES) as pools, _vault(settings) as vault:
            events = await with_keys(vault, await audit.history(pools, dossier, at))
            instant = at or datetime.now(UTC)
            campaign = load_campaigns(settings.campaigns_dir).get(audit.campaign_of(events) or "")
            envelope = (
                None
                if campaign is None
                else await audit.campaign_envelope(
                    pools["selection"], campaign.id, campaign.envelope_eur, instant
                )
            )
            return events, audit.as_of(events, instant, envelope)

    events, state = uvloop.run(run())
    if not events:
        err.print(
            f"no event of dossier {dossier} in the stores"
            + (f" up to {at.isoformat()}" if at else "")
        )
        raise typer.Exit(1)
    breaks = audit.verify_streams(events)
    if as_json:
        print(
            json.dumps(
                {
                    "dossier_id": str(dossier),
                    "as_of": state.at.isoformat(),
                    "events": [e.as_read() for e in events],
                    "state": audit.to_json(state),
                    "chain": {"verified": not breaks, "breaks": [b.as_json() for b in breaks]},
                },
                indent=2,
                ensure_ascii=False,
            )
        )
    else:
        table = Table(title=f"dossier {dossier}")
        for column in ("time", "service", "v", "type"):
            table.add_column(column, no_wrap=True)
        for column in ("actor", "caused by", "summary"):
            table.add_column(column)
        for e in events:
            read = e.as_read()
            table.add_row(
                e.occurred_at.isoformat(timespec="seconds"),
                e.service,
                str(e.version),
                e.type,
                escape(read["actor"] or ""),
                _caused_by(e, events),
                escape(_summary(read["data"])),
            )
        console.print(table)
        console.print(f"[bold]as of {state.at.isoformat()}[/]")
        console.print_json(json.dumps(audit.to_json(state), ensure_ascii=False))
        verdict = "[green]chains verified[/]" if not breaks else f"[red]{len(breaks)} break(s)[/]"
        console.print(verdict)
    _print_breaks(breaks)
    if breaks:
        raise typer.Exit(1)


@audit_app.command()
def verify(service: str = typer.Option("", help="one service (default: all four)")) -> None:
    """Recompute the hash chain of every stream of every store, and check the bytes of every
    file the events name; exit 1 on any break."""
    if service and service not in SERVICES:
        raise typer.BadParameter(f"unknown service {service!r}; one of {', '.join(SERVICES)}")
    settings, services = Settings(), [service] if service else list(SERVICES)

    async def run() -> list[Break]:
        breaks: list[Break] = []
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("events"),
            TimeElapsedColumn(),
        )
        async with _stores(settings, services) as pools:
            with Progress(*columns, console=console) as progress:
                for name, pool in pools.items():
                    task = progress.add_task(name, total=None)

                    def advance(done: int, total: int, task: TaskID = task) -> None:
                        progress.update(task, completed=done, total=total)

                    breaks += await audit.verify_store(
                        pool,
                        name,
                        advance,
                    )
        return breaks

    breaks = uvloop.run(run())
    _print_breaks(breaks)
    if breaks:
        err.print(
            f"[red]{len(breaks)} break(s)[/] in the chains (and the files they name) of "
            f"{', '.join(services)}"
        )
        raise typer.Exit(1)
    console.print(f"[green]every chain holds[/] (and every file) in {', '.join(services)}")


@audit_app.command()
def export(
    dossier: UUID,
    output: Path = typer.Option(..., "-o", "--output", help="the bundle file to write"),
    as_of: str = typer.Option("", "--as-of", help="only the history up to this instant"),
) -> None:
    """Write a dossier's history as a self-contained bundle, to verify offline with `check`."""
    settings, at = Settings(), _instant(as_of)

    async def run() -> list[AuditEvent]:
        async with _stores(settings, SERVICES) as pools:
            return await audit.history(pools, dossier, at)

    events = uvloop.run(run())
    if not events:
        err.print(f"no event of dossier {dossier} in the stores")
        raise typer.Exit(1)
    bundle = audit.export_bundle(events, dossier, datetime.now(UTC))
    output.write_text(json.dumps(bundle, indent=2, ensure_ascii=False) + "\n")
    console.print(
        f"{len(events)} events of dossier {dossier} written to {output} "
        f"(sha256 {bundle['digest']['value'][:16]}…)"
    )


@audit_app.command()
def check(bundle: Path) -> None:
    """Verify a bundle offline (no database): its digest, every chain link, every stream's head."""
    try:
        document: Any = json.loads(bundle.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        err.print(f"[red]unreadable[/] {bundle}: {escape(str(error))}")
        raise typer.Exit(1) from None
    breaks = audit.verify_bundle(document)
    _print_breaks(breaks)
    if breaks:
        err.print(f"[red]{len(breaks)} break(s)[/]: the bundle is not what was exported")
        raise typer.Exit(1)
    streams = ", ".join(
        f"{s['service']} v{s['versions']} {s['head_hash'][:12]}…" for s in document["streams"]
    )
    console.print(
        f"[green]verified[/]: dossier {document['dossier_id']}, {len(document['events'])} events; "
        f"heads {streams}"
    )
