"""`aap token`: a development key pair, and bearer tokens signed with its private half."""

import os
from pathlib import Path

import typer
from rich.console import Console

from shared.kernel.settings import Settings
from shared.language.actors import Role

token_app = typer.Typer(
    help="Development bearer tokens: a key pair, and tokens signed with it.", no_args_is_help=True
)
console = Console()
err = Console(stderr=True)


@token_app.command("keygen")
def token_keygen(
    folder: Path = typer.Option(
        Path("var/jwt"), "--dir", help="where to write private.pem and public.pem"
    ),
) -> None:
    """Write a P-256 key pair (private.pem, 0600; public.pem), unless it is already there."""
    from shared.kernel.auth import generate_keypair

    private, public = folder / "private.pem", folder / "public.pem"
    if private.exists() and public.exists():
        console.print(f"keys already in {folder}: kept")
        return
    if private.exists() or public.exists():
        err.print(f"[red]{folder} holds only half a key pair[/]: remove it, or add the other half")
        raise typer.Exit(1)
    private_pem, public_pem = generate_keypair()
    folder.mkdir(parents=True, exist_ok=True)
    with os.fdopen(os.open(private, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as out:
        out.write(private_pem)
    public.write_text(public_pem)
    console.print(f"wrote {private} (0600) and {public}")


def private_key(settings: Settings) -> str:
    """The PEM that signs development tokens (AAP_JWT_PRIVATE_KEY_FILE)."""
    if not settings.jwt_private_key_file:
        err.print(
            "[red]no key to sign tokens[/]: set AAP_JWT_PRIVATE_KEY_FILE to a private.pem "
            "(`aap token keygen` writes a pair; `./dev token` sets it for you)"
        )
        raise typer.Exit(1)
    try:
        return Path(settings.jwt_private_key_file).read_text()
    except OSError as error:
        err.print(
            f"[red]cannot read AAP_JWT_PRIVATE_KEY_FILE[/] {settings.jwt_private_key_file}: {error}"
        )
        raise typer.Exit(1) from None


@token_app.command("mint")
def token_mint(
    role: Role = typer.Argument(
        ..., help="applicant, prefecture, instructor, president or auditor"
    ),
    siren: str = typer.Option("", help="the applicant's SIREN"),
    departement: str = typer.Option("", help="the préfecture's département code"),
    subject: str = typer.Option("", help="who: the token's `sub` (default: ROLE@aap.example.fr)"),
    hours: float = typer.Option(12, help="how long the token is valid"),
) -> None:
    """Print a bearer token for ROLE, signed with AAP_JWT_PRIVATE_KEY_FILE."""
    from datetime import timedelta

    from shared.kernel.auth import mint
    from shared.language.errors import DomainError

    settings = Settings()
    try:
        token = mint(
            private_key(settings),
            role=role,
            subject=subject or f"{role.value}@aap.example.fr",
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            siren=siren or None,
            departement=departement or None,
            ttl=timedelta(hours=hours),
        )
    except DomainError as refused:
        err.print(f"[red]no token[/]: {refused.detail}")
        raise typer.Exit(2) from None
    print(token)
