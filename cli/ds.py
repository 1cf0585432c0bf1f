"""`aap ds`: import a démarche of Démarches Simplifiées, check its mapping, follow the write-back.

Runs beside the services, on applications' database (the service's relay publishes what it
imports). DS is reached with `AAP_DS_URL` and `AAP_DS_READ_TOKEN` (docs/ds-bridge.md).
"""

import importlib
import json
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

import typer
import uvloop
from rich.console import Console
from rich.table import Table

from shared.kernel.settings import Settings

if TYPE_CHECKING:
    import services.applications.ds.main as bridge_main

ds_app = typer.Typer(help="Démarches Simplifiées: import a démarche's dossiers, write back.")
console = Console()
err = Console(stderr=True)
T = TypeVar("T")


def _bridge() -> "Any":
    """The bridge's wiring, imported when a command runs (nothing at import time)."""
    return importlib.import_module("services.applications.ds.main")


def _run(work: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """The command's work; DS's refusals and absences said in a line, exit code 1."""
    bridge = _bridge()
    try:
        return uvloop.run(work())
    except (bridge.DsError, bridge.ImportRunning, bridge.MappingFileError) as error:
        err.print(f"[red]{type(error).__name__}[/]: {error}")
        raise typer.Exit(1) from None


@ds_app.command("import")
def import_(
    demarche: int = typer.Option(..., help="the démarche's number on DS"),
    campaign: str = typer.Option(..., help="the aap campaign its dossiers are filed in"),
    since: datetime | None = typer.Option(
        None, help="read what changed since this instant (ISO 8601); default: since last run"
    ),
    dry_run: bool = typer.Option(False, help="map and check every dossier, store nothing"),
) -> None:
    """Import the démarche's dossiers (then only what changed); a rerun resumes where it stopped."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    if since is not None and since.tzinfo is None:
        raise typer.BadParameter("give the instant with its offset, e.g. 2024-03-01T00:00+01:00")
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=console) as bar:
        task = bar.add_task(f"démarche {demarche}", total=None)

        def shown(report: "bridge_main.ImportReport") -> None:
            bar.update(task, description=f"page {report.pages} · {report.summary()}")

        report = _run(
            lambda: _bridge().run_import(
                Settings(), demarche, campaign, since, dry_run=dry_run, progress=shown
            )
        )
    if report.resumed_after:
        console.print("resumed after the last page an earlier run finished")
    console.print(report.summary())
    for number, reasons in sorted(report.refused.items()):
        console.print(f"[yellow]not imported[/] DS {number}:")
        for reason in reasons:
            console.print(f"  {reason}")


@ds_app.command()
def errors(demarche: int = typer.Option(..., help="the démarche's number on DS")) -> None:
    """How the last run ended, and the DS dossiers not imported, and why (read again at each
    run when the reason may pass)."""
    standing, rows = _run(lambda: _bridge().import_errors(Settings(), demarche))
    if standing is None:
        console.print(f"démarche {demarche} was never imported")
        return
    if standing["last_error"]:
        console.print(f"[red]the last run failed[/]: {standing['last_error']}")
    elif standing["unfinished"]:
        console.print("the last run stopped before its end: the next one resumes after its page")
    else:
        console.print(f"last run finished at {standing['finished_at']:%Y-%m-%d %H:%M:%S %Z}")
    if not rows:
        console.print("every DS dossier read was imported")
    for row in rows:
        again = " (tried again at the next run)" if row["transient"] else ""
        console.print(f"DS {row['ds_number']}{again}:")
        for reason in json.loads(row["problems"]):
            console.print(f"  {reason}")


@ds_app.command()
def describe(demarche: int = typer.Option(..., help="the démarche's number on DS")) -> None:
    """The démarche's form as DS describes it: each champ's stable id, type and label."""
    found = _run(lambda: _bridge().describe(demarche)).get("demarche") or {}
    revision = found.get("activeRevision") or {}
    table = Table("champ id", "type", "label", "options", title=found.get("title"))
    for descriptor in revision.get("champDescriptors") or []:
        _row(table, descriptor, "")
        for inner in descriptor.get("champDescriptors") or []:
            _row(table, inner, "  ↳ ")
    for descriptor in revision.get("annotationDescriptors") or []:
        _row(table, descriptor, "annotation: ")
    console.print(table)
    for group in found.get("groupeInstructeurs") or []:
        for person in group.get("instructeurs") or []:
            console.print(f"instructeur {person['email']} (id {person['id']}) in {group['label']}")


@ds_app.command("check-mapping")
def check_mapping(
    campaign: str = typer.Option(..., help="the aap campaign whose mapping file is checked"),
    demarche: int = typer.Option(..., help="the démarche's number on DS"),
) -> None:
    """The campaign's mapping file against the live démarche: every champ there, of its type."""
    problems, warnings = _run(lambda: _bridge().check(campaign, demarche))
    for warning in warnings:
        console.print(f"[yellow]warning[/] {warning}")
    for problem in problems:
        console.print(f"[red]error[/] {problem}")
    if problems:
        raise typer.Exit(1)
    console.print(f"the mapping of {campaign} matches démarche {demarche}")


@ds_app.command()
def writes(
    dead: bool = typer.Option(False, help="only the steps DS refused for good"),
    retry: int | None = typer.Option(None, help="send this dead step again (its position)"),
) -> None:
    """What aap's events asked DS to do, and what became of it."""
    if retry is not None:
        if not _run(lambda: _bridge().retry_write(Settings(), retry)):
            console.print(f"no dead step at position {retry}")
            raise typer.Exit(1)
        console.print(f"step {retry} will be sent again")
        return
    table = Table("position", "DS dossier", "mutation", "status", "attempts", "outcome")
    for row in _run(lambda: _bridge().writes(Settings(), dead_only=dead)):
        table.add_row(
            str(row["position"]),
            str(row["ds_number"]),
            row["mutation"],
            row["status"],
            str(row["attempts"]),
            row["outcome"] or "",
        )
    console.print(table)


def _row(table: Table, descriptor: dict[str, Any], prefix: str) -> None:
    options = ", ".join(descriptor.get("options") or [])
    table.add_row(descriptor["id"], descriptor["__typename"], prefix + descriptor["label"], options)
