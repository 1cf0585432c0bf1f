"""`aap`: run a service, set up topics and databases, rebuild read models."""

import asyncio
import importlib
from types import ModuleType

import typer
from rich.console import Console
from rich.progress import Progress

from shared import db, topics
from shared.settings import Settings

app = typer.Typer(help="aap — the platform of a call for projects, on Kafka.", no_args_is_help=True)
console = Console()

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
        await topics.ensure_topics(settings.kafka_bootstrap, topics.all_topics(settings.topic_prefix),
                                   settings.topic_partitions)
        for name in PORTS:
            await db.provision(settings, name, _service(name).spec().schema_sql)

    asyncio.run(run())
    console.print(f"topics and databases ready ({', '.join(PORTS)})")


@app.command()
def rebuild(service: str) -> None:
    """Drop a service's read models and rebuild them from offset 0; compare the digests.

    Stop the service first: its live consumers would race the rebuild.
    """
    from shared.projection import digest
    from shared.projection import rebuild as replay
    from shared.runtime import Runtime

    module = _service(service)
    settings = Settings()

    async def run() -> None:
        spec = module.spec()
        rt = Runtime(spec, settings)
        pool = await db.open_pool(settings, service)
        try:
            for sub in [s for s in spec.subscriptions(rt) if s.read_models]:
                before = await digest(pool, sub.read_models)
                with Progress(console=console) as progress:
                    task = progress.add_task(f"{service}.{sub.consumer.name}", total=None)
                    await replay(pool, sub, bootstrap=settings.kafka_bootstrap,
                                 topics=[rt.topic(s) for s in sub.services],
                                 progress=lambda seen, total: progress.update(task, completed=seen, total=total))
                after = await digest(pool, sub.read_models)
                verdict = "[green]equal[/]" if before == after else "[red]DIFFERENT[/]"
                console.print(f"{sub.consumer.name}: before {before[:12]} after {after[:12]} — {verdict}")
        finally:
            await pool.close()

    asyncio.run(run())


@app.command()
def schemas(folder: str = typer.Argument("docs/schemas/events")) -> None:
    """Write the JSON Schema of every event type (the contract integrators read)."""
    from pathlib import Path

    from shared.contracts.schemas import write

    for name in write(Path(folder)):
        console.print(f"{folder}/{name}")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
