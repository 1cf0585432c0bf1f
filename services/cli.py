"""`aap`: run a service, set up topics and databases, rebuild read models, mint tokens, demo."""

import asyncio
import importlib
import os
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import Progress, ProgressColumn, Task
from rich.text import Text

from services.cli_audit import audit_app
from shared import db, topics
from shared.actors import Role
from shared.settings import Settings

if TYPE_CHECKING:
    import asyncpg

    from shared.consumer import Subscription
    from shared.runtime import Runtime

app = typer.Typer(help="aap — the platform of a call for projects, on Kafka.", no_args_is_help=True)
token_app = typer.Typer(help="Development bearer tokens: a key pair, and tokens signed with it.",
                        no_args_is_help=True)
app.add_typer(token_app, name="token")
app.add_typer(audit_app, name="audit")
console = Console()
err = Console(stderr=True)

PORTS = {"applications": 8001, "selection": 8002, "payments": 8003, "notifications": 8004}


def _service(name: str) -> ModuleType:
    if name not in PORTS:
        raise typer.BadParameter(f"unknown service {name!r}; one of {', '.join(PORTS)}")
    return importlib.import_module(f"services.{name}.main")


@app.command()
def serve(service: str, port: int = typer.Option(0, help="HTTP port (default: the service's)"),
          host: str = typer.Option("", help="bind address (default: AAP_HTTP_HOST)")) -> None:
    """Run one service: HTTP API, consumers and outbox relay."""
    import uvicorn

    module = _service(service)
    settings = Settings()
    uvicorn.run(lambda: module.create_app(settings), factory=True,
                host=host or settings.http_host, port=port or PORTS[service],
                log_level="info", timeout_graceful_shutdown=20)


@app.command()
def setup() -> None:
    """Create the topics and every service's database (idempotent)."""
    settings = Settings()

    async def run() -> None:
        await topics.provision(settings, topics.all_topics(settings.topic_prefix))
        for name in PORTS:
            await db.provision(settings, name, _service(name).spec().schema_sql)

    asyncio.run(run())
    console.print(f"topics and databases ready ({', '.join(PORTS)})")


@app.command()
def rebuild(service: str) -> None:
    """Drop a service's read models and rebuild them from offset 0; compare the digests.

    Stop the service first: its live consumers would race the rebuild.
    """
    from shared.runtime import Runtime

    module = _service(service)
    settings = Settings()

    async def run() -> bool:
        spec = module.spec()
        rt = Runtime(spec, settings)
        pool = await db.open_pool(settings, service)
        try:
            return all([await _replayed(pool, rt, sub)
                        for sub in spec.subscriptions(rt) if sub.read_models])
        finally:
            await pool.close()

    if not asyncio.run(run()):
        raise typer.Exit(1)


async def _replayed(pool: "asyncpg.Pool", rt: "Runtime", sub: "Subscription") -> bool:
    """One projection rebuilt with a progress bar; True when its digest is unchanged."""
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn

    from shared.projection import digest
    from shared.projection import rebuild as replay

    before = await digest(pool, sub.read_models)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("events"), EventsPerSecond(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        task = progress.add_task(f"{rt.name}.{sub.consumer.name}", total=None)
        applied = await replay(pool, sub, bootstrap=rt.settings.kafka_bootstrap,
                               topics=[rt.topic(s) for s in sub.services],
                               progress=lambda seen, total: progress.update(
                                   task, completed=seen, total=total))
        [done] = progress.tasks
    after = await digest(pool, sub.read_models)
    verdict = "[green]equal[/]" if before == after else "[red]DIFFERENT[/]"
    console.print(f"{sub.consumer.name}: {done.completed:.0f} events read, {applied} applied, "
                  f"{EventsPerSecond.rate(done):,.0f} events/s; digest before {before[:12]} "
                  f"after {after[:12]} — {verdict}")
    return before == after


class EventsPerSecond(ProgressColumn):
    """The replay's pace, in events per second."""

    @staticmethod
    def rate(task: Task) -> float:
        elapsed = task.finished_time if task.finished else task.elapsed
        return task.completed / elapsed if elapsed else 0.0

    def render(self, task: Task) -> Text:
        return Text(f"{self.rate(task):,.0f} events/s")


@app.command()
def schemas(folder: str = typer.Argument("docs/schemas/events")) -> None:
    """Write the JSON Schema of every event type and version (the contract integrators read)."""
    from shared.contracts.schemas import write

    for name in write(Path(folder)):
        console.print(f"{folder}/{name}")


@app.command()
def asyncapi(folder: str = typer.Argument("docs/asyncapi")) -> None:
    """Write each service's AsyncAPI document: the topic it publishes, the topics it reads."""
    from shared.asyncapi import write

    for name in write(Path(folder), {service: _service(service).spec() for service in PORTS}):
        console.print(f"{folder}/{name}")


@token_app.command("keygen")
def token_keygen(folder: Path = typer.Option(Path("var/jwt"), "--dir",
                                             help="where to write private.pem and public.pem")) -> None:
    """Write a P-256 key pair (private.pem, 0600; public.pem), unless it is already there."""
    from shared.auth import generate_keypair

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
        err.print("[red]no key to sign tokens[/]: set AAP_JWT_PRIVATE_KEY_FILE to a private.pem "
                  "(`aap token keygen` writes a pair; `./dev token` sets it for you)")
        raise typer.Exit(1)
    try:
        return Path(settings.jwt_private_key_file).read_text()
    except OSError as error:
        err.print(f"[red]cannot read AAP_JWT_PRIVATE_KEY_FILE[/] {settings.jwt_private_key_file}: {error}")
        raise typer.Exit(1) from None


@token_app.command("mint")
def token_mint(role: Role = typer.Argument(..., help="applicant, prefecture, instructor, president or auditor"),
               siren: str = typer.Option("", help="the applicant's SIREN"),
               departement: str = typer.Option("", help="the préfecture's département code"),
               subject: str = typer.Option("", help="who: the token's `sub` (default: ROLE@aap.example.fr)"),
               hours: float = typer.Option(12, help="how long the token is valid")) -> None:
    """Print a bearer token for ROLE, signed with AAP_JWT_PRIVATE_KEY_FILE."""
    from datetime import timedelta

    from shared.auth import mint
    from shared.errors import DomainError

    settings = Settings()
    try:
        token = mint(private_key(settings), role=role, subject=subject or f"{role.value}@aap.example.fr",
                     issuer=settings.jwt_issuer, audience=settings.jwt_audience,
                     siren=siren or None, departement=departement or None,
                     ttl=timedelta(hours=hours))
    except DomainError as refused:
        err.print(f"[red]no token[/]: {refused.detail}")
        raise typer.Exit(2) from None
    print(token)


@app.command()
def demo(campaign: str = typer.Option("demo", help="an open campaign"),
         applications_url: str = typer.Option("http://127.0.0.1:8001", envvar="AAP_APPLICATIONS_URL"),
         selection_url: str = typer.Option("http://127.0.0.1:8002", envvar="AAP_SELECTION_URL"),
         payments_url: str = typer.Option("http://127.0.0.1:8003", envvar="AAP_PAYMENTS_URL"),
         notifications_url: str = typer.Option("http://127.0.0.1:8004", envvar="AAP_NOTIFICATIONS_URL"),
         timeout: float = typer.Option(60, help="seconds to wait for each asynchronous step")) -> None:
    """Walk one new dossier through every step, over HTTP, against the running services."""
    from rich.markup import escape

    from services.demo import DemoStopped, Walk
    from shared.auth import mint

    settings = Settings()
    key = private_key(settings)

    def sign(role: Role, **binding: str) -> str:
        return mint(key, role=role, issuer=settings.jwt_issuer, audience=settings.jwt_audience,
                    subject=binding.pop("subject", f"{role.value}@aap.example.fr"), **binding)

    urls = {"applications": applications_url, "selection": selection_url,
            "payments": payments_url, "notifications": notifications_url}
    try:
        Walk({name: url.rstrip("/") for name, url in urls.items()}, sign, campaign=campaign,
             timeout=timeout, console=console).run()
    except DemoStopped as stop:
        err.print(f"[bold red]stopped[/]: {escape(str(stop))}")
        raise typer.Exit(1) from None


def main() -> None:
    """`aap`: a misconfiguration is said in a line naming the setting, not in a traceback."""
    try:
        app()
    except ValidationError as error:  # Settings() read from the environment
        for problem in error.errors():
            where = ", ".join(f"AAP_{str(part).upper()}" for part in problem["loc"])
            reason = problem["msg"].removeprefix("Value error, ")
            err.print(f"aap: {where + ': ' if where else ''}{reason}", markup=False, soft_wrap=True)
        raise SystemExit(2) from None
    except topics.TopicsNotCreated as error:
        err.print(f"aap: {error}", markup=False, soft_wrap=True)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
