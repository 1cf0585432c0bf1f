"""`aap`: run a service, set up topics and databases, rebuild read models, mint tokens, demo."""

import importlib
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import typer
import uvloop
from pydantic import ValidationError
from rich.console import Console
from rich.progress import Progress, ProgressColumn, Task
from rich.text import Text

from cli.audit import audit_app
from cli.ds import ds_app
from cli.habilitations import habilitations_app
from cli.personal_data import personal_data_app
from cli.tokens import private_key, token_app
from shared.kernel import db, topics
from shared.kernel.settings import Settings
from shared.language.actors import Role

if TYPE_CHECKING:
    import asyncpg

    from shared.kernel.consumer import Subscription
    from shared.kernel.runtime import Runtime

app = typer.Typer(help="aap — the platform of a call for projects, on Kafka.", no_args_is_help=True)
app.add_typer(token_app, name="token")
app.add_typer(audit_app, name="audit")
app.add_typer(habilitations_app, name="habilitations")
app.add_typer(ds_app, name="ds")
app.add_typer(personal_data_app, name="personal-data")
console = Console()
err = Console(stderr=True)

PORTS = {"applications": 8001, "selection": 8002, "payments": 8003, "notifications": 8004}
# The web console: not event-sourced, it calls the four services for the people logged in.
SERVED = {"console": 8000, **PORTS}


def _service(name: str) -> ModuleType:
    if name not in SERVED:
        raise typer.BadParameter(f"unknown service {name!r}; one of {', '.join(SERVED)}")
    return importlib.import_module(f"services.{name}.main")


@app.command()
def serve(
    service: str,
    port: int = typer.Option(0, help="HTTP port (default: the service's)"),
    host: str = typer.Option("", help="bind address (default: AAP_HTTP_HOST)"),
) -> None:
    """Run one service: HTTP API, consumers and outbox relay."""
    import uvicorn

    module = _service(service)
    settings = Settings()
    uvicorn.run(
        lambda: module.create_app(settings),
        factory=True,
        host=host or settings.http_host,
        port=port or SERVED[service],
        log_level="info",
        timeout_graceful_shutdown=20,
        # Named, not "auto": without them uvicorn would fall back to asyncio and h11 silently.
        loop="uvloop",
        http="httptools",
    )


@app.command()
def setup() -> None:
    """Create the topics and every service's database (idempotent)."""
    settings = Settings()

    async def run() -> None:
        await topics.provision(settings, topics.all_topics(settings.topic_prefix))
        for name in PORTS:
            await db.provision(settings, name, _service(name).spec().schema_sql)
        await db.provision_vault(settings)
        await db.provision(settings, "console", _service("console").schema())

    uvloop.run(run())
    console.print(f"topics and databases ready ({', '.join(SERVED)})")


@app.command()
def rebuild(service: str) -> None:
    """Drop a service's read models and rebuild them from offset 0; compare the digests.

    Stop the service first: its live consumers would race the rebuild.
    """
    from shared.kernel.runtime import Runtime

    module = _service(service)
    settings = Settings()

    async def run() -> bool:
        spec = module.spec()
        rt = Runtime(spec, settings)
        pool = await db.open_pool(settings, service)
        try:
            async with db.opened_vault(settings) as vault:
                rt.vault = rt.store.vault = vault  # the people's data read as it reads now
                return all(
                    [
                        await _replayed(pool, rt, sub)
                        for sub in spec.subscriptions(rt)
                        if sub.read_models
                    ]
                )
        finally:
            await pool.close()

    if not uvloop.run(run()):
        raise typer.Exit(1)


async def _replayed(pool: "asyncpg.Pool", rt: "Runtime", sub: "Subscription") -> bool:
    """One projection rebuilt with a progress bar; True when its digest is unchanged."""
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn

    from shared.kernel.projection import digest
    from shared.kernel.projection import rebuild as replay

    before = await digest(pool, sub.read_models)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("events"),
        EventsPerSecond(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as progress:
        task = progress.add_task(f"{rt.name}.{sub.consumer.name}", total=None)
        applied = await replay(
            pool,
            sub,
            bootstrap=rt.settings.kafka_bootstrap,
            topics=[rt.topic(s) for s in sub.services],
            progress=lambda seen, total: progress.update(task, completed=seen, total=total),
            vault=rt.vault,
        )
        [done] = progress.tasks
    after = await digest(pool, sub.read_models)
    verdict = "[green]equal[/]" if before == after else "[red]DIFFERENT[/]"
    console.print(
        f"{sub.consumer.name}: {done.completed:.0f} events read, {applied} applied, "
        f"{EventsPerSecond.rate(done):,.0f} events/s; digest before {before[:12]} "
        f"after {after[:12]} — {verdict}"
    )
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
    from shared.kernel.asyncapi import write

    for name in write(Path(folder), {service: _service(service).spec() for service in PORTS}):
        console.print(f"{folder}/{name}")


@app.command()
def demo(
    campaign: str = typer.Option("demo", help="an open campaign"),
    applications_url: str = typer.Option("http://127.0.0.1:8001", envvar="AAP_APPLICATIONS_URL"),
    selection_url: str = typer.Option("http://127.0.0.1:8002", envvar="AAP_SELECTION_URL"),
    payments_url: str = typer.Option("http://127.0.0.1:8003", envvar="AAP_PAYMENTS_URL"),
    notifications_url: str = typer.Option("http://127.0.0.1:8004", envvar="AAP_NOTIFICATIONS_URL"),
    timeout: float = typer.Option(60, help="seconds to wait for each asynchronous step"),
) -> None:
    """Walk one new dossier through every step, over HTTP, against the running services."""
    from rich.markup import escape

    from cli.demo import DemoStopped, Walk
    from shared.kernel.auth import mint

    settings = Settings()
    key = private_key(settings)

    def sign(role: Role, **binding: str) -> str:
        return mint(
            key,
            role=role,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            subject=binding.get("subject", f"{role.value}@aap.example.fr"),
            siren=binding.get("siren"),
            departement=binding.get("departement"),
        )

    urls = {
        "applications": applications_url,
        "selection": selection_url,
        "payments": payments_url,
        "notifications": notifications_url,
    }
    try:
        Walk(
            {name: url.rstrip("/") for name, url in urls.items()},
            sign,
            campaign=campaign,
            campaigns_dir=settings.campaigns_dir,
            timeout=timeout,
            console=console,
        ).run()
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
