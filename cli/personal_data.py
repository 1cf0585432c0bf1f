"""`aap personal-data`: erase a person's data on request (RGPD), the chains kept whole."""

import asyncpg
import typer
import uvloop
from rich.console import Console

from shared.kernel.clock import utc_now
from shared.kernel.erasure import erase
from shared.kernel.settings import Settings

personal_data_app = typer.Typer(
    help="The DPO's requests: erase a person's data (docs/personal-data.md).",
    no_args_is_help=True,
)
console = Console()


@personal_data_app.command("erase")
def erase_command(
    email: str = typer.Option(..., help="the e-mail the person is known by"),
) -> None:
    """Destroy the person's key: every value sealed under it (name, e-mail) reads as erased,
    in every store, topic and read model, while every hash chain still holds."""
    settings = Settings()
    try:
        announced = uvloop.run(erase(settings, email, utc_now()))
    except asyncpg.InvalidCatalogNameError as missing:
        console.print(f"[red]{missing}[/]: run `aap setup` first (it makes the vault)")
        raise typer.Exit(2) from None
    if not announced:
        console.print("no person known by this e-mail (never named, or erased already)")
        return
    for a in announced:
        console.print(
            f"erased person {a.person_id}: {len(a.streams)} dossier(s) or draft(s) rewritten "
            f"by the services ({'PersonalDataErased published' if a.new else 'announced before'})"
        )
