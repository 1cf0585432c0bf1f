"""`aap habilitations`: who aap lets act as what in the console (agents, by e-mail); applicants
need none (their SIREN comes from the SIRET their identity provider gives)."""

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import asyncpg
import typer
import uvloop
from rich.console import Console
from rich.table import Table

from services.console import main as console_main
from shared.kernel import db
from shared.kernel.settings import Settings

habilitations_app = typer.Typer(
    help="The console's habilitations: agents by e-mail.", no_args_is_help=True
)
out = Console()
err = Console(stderr=True)
T = TypeVar("T")


def _with_db(work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
    settings = Settings()

    async def run() -> T:
        await db.provision(settings, "console", console_main.schema())
        conn = await asyncpg.connect(settings.admin_dsn("console"))
        try:
            return await work(conn)
        finally:
            await conn.close()

    return uvloop.run(run())


def _refused(error: ValueError) -> None:
    err.print(f"[red]refused[/]: {error}")
    raise typer.Exit(2)


@habilitations_app.command("list")
def list_() -> None:
    """Every habilitation."""
    habilitations = console_main.habilitations

    rows = _with_db(habilitations.listed)
    table = Table("e-mail", "name", "role", "département", "granted")
    for r in rows:
        table.add_row(
            r["email"],
            r["name"],
            r["role"],
            r["departement"] or "",
            r["granted_at"].isoformat(timespec="seconds"),
        )
    out.print(table)


@habilitations_app.command()
def grant(
    email: str,
    role: str = typer.Option(..., help="prefecture, instructor, president or auditor"),
    departement: str = typer.Option("", help="a préfecture's département"),
    name: str = typer.Option("", help="the person's name, as the list shows it"),
) -> None:
    """Let EMAIL act as ROLE (a préfecture for its DEPARTEMENT)."""
    habilitations = console_main.habilitations

    try:
        _with_db(lambda conn: habilitations.grant(conn, email, role, departement or None, name))
    except habilitations.BadHabilitation as error:
        _refused(error)
    out.print(f"{email}: {role}{' ' + departement if departement else ''}")


@habilitations_app.command()
def revoke(email: str) -> None:
    """Take EMAIL's habilitation away (its sessions end at their next page)."""
    habilitations = console_main.habilitations

    if not _with_db(lambda conn: habilitations.revoke(conn, email)):
        err.print(f"no habilitation for {email}")
        raise typer.Exit(1)
    out.print(f"{email}: no habilitation")


@habilitations_app.command()
def load(file: Path) -> None:
    """Grant every habilitation of a JSON file: [{"email", "role", "departement", "name"}]."""
    habilitations = console_main.habilitations

    try:
        entries = json.loads(file.read_text())
    except (OSError, ValueError) as error:
        err.print(f"[red]unreadable[/] {file}: {error}")
        raise typer.Exit(2) from None

    async def all_of(conn: asyncpg.Connection) -> None:
        async with conn.transaction():  # all of them, or none
            for e in entries:
                await habilitations.grant(
                    conn, e["email"], e["role"], e.get("departement"), e.get("name", "")
                )

    try:
        _with_db(all_of)
    except (habilitations.BadHabilitation, KeyError, TypeError) as error:
        _refused(ValueError(str(error)))
    out.print(f"{len(entries)} habilitation(s) from {file}")
