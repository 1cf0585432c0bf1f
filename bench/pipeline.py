"""The surge's fair ceiling: a bare pipeline with a filing's hops, the same libraries, no platform.

    front   HTTP POST → one INSERT and its commit → produce (keyed by the dossier id) → 201
    check   consume → one INSERT and its commit → produce a record typed EligibilityChecked
    mail    consume the checks → one mail, over an SMTP session kept open

uvicorn (uvloop, httptools), FastAPI, orjson, asyncpg, aiokafka (the relay's producer settings)
and aiosmtplib, as the services use them; no token, no model, no hash chain, no outbox, no
tracking row. Each stage is a process of its own, as each service is:
`python -m bench.pipeline STAGE --dsn … --bootstrap … --filed T --checked T [--smtp-port P]
--port P`, ready (`/readyz` 200) once it can take work.
"""

import argparse
import asyncio
import itertools
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from email.message import EmailMessage
from typing import Any
from uuid import UUID, uuid4

import aiosmtplib
import asyncpg
import orjson
import uvicorn
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from fastapi import FastAPI, Request, Response

CHECKED_TYPE = b"bench.bare.EligibilityChecked.v1"  # what bench.watch.of_type looks for

TABLES = """
CREATE TABLE IF NOT EXISTS bare_filed (
    dossier_id uuid PRIMARY KEY, reference text NOT NULL, dossier jsonb NOT NULL,
    filed_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS bare_checked (
    dossier_id uuid PRIMARY KEY, eligible boolean NOT NULL,
    checked_at timestamptz NOT NULL DEFAULT now()
);
"""

_FILE = "INSERT INTO bare_filed (dossier_id, reference, dossier) VALUES ($1, $2, $3)"
_CHECK = "INSERT INTO bare_checked (dossier_id, eligible) VALUES ($1, $2)"


def _producer(bootstrap: str) -> AIOKafkaProducer:
    """The relay's settings: every in-sync copy acknowledges, idempotent, no linger."""
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=0
    )


def front(args: argparse.Namespace) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.pool = await asyncpg.create_pool(args.dsn, min_size=2, max_size=10)
        app.state.kafka = _producer(args.bootstrap)
        await app.state.kafka.start()
        try:
            yield
        finally:
            await app.state.kafka.stop()
            await app.state.pool.close()

    app = FastAPI(lifespan=lifespan)
    numbers = itertools.count(1)

    @app.get("/readyz")
    async def ready() -> dict[str, bool]:
        return {"ready": True}

    @app.post("/campaigns/{campaign_id}/dossiers", status_code=201)
    async def file(campaign_id: str, request: Request) -> dict[str, str]:
        body = await request.body()
        dossier = orjson.loads(body)
        dossier_id, reference = uuid4(), f"BARE-{next(numbers):08d}"
        await request.app.state.pool.execute(_FILE, dossier_id, reference, body.decode())
        filed = {"dossier_id": str(dossier_id), "reference": reference, "dossier": dossier}
        await request.app.state.kafka.send(
            args.filed, orjson.dumps(filed), key=str(dossier_id).encode()
        )
        return {"dossier_id": str(dossier_id), "reference": reference, "campaign_id": campaign_id}

    return app


Work = Callable[[AIOKafkaConsumer, argparse.Namespace], Coroutine[Any, Any, None]]


def consuming(topic: str, group: str, work: Work, args: argparse.Namespace) -> FastAPI:
    """A stage that consumes `topic` in a group of its own, ready once it holds partitions."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        consumer = AIOKafkaConsumer(
            topic,
            bootstrap_servers=args.bootstrap,
            group_id=group,
            auto_offset_reset="earliest",
            enable_auto_commit=True,
        )
        await consumer.start()
        app.state.consumer = consumer
        task = asyncio.create_task(work(consumer, args))
        try:
            yield
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await consumer.stop()

    app = FastAPI(lifespan=lifespan)

    @app.get("/readyz")
    async def ready(request: Request, response: Response) -> dict[str, bool]:
        held = bool(request.app.state.consumer.assignment())
        response.status_code = 200 if held else 503
        return {"ready": held}

    return app


async def check(consumer: AIOKafkaConsumer, args: argparse.Namespace) -> None:
    pool = await asyncpg.create_pool(args.dsn, min_size=1, max_size=2)
    kafka = _producer(args.bootstrap)
    await kafka.start()
    try:
        async for record in consumer:
            filed: dict[str, Any] = orjson.loads(record.value)
            eligible = filed["dossier"]["project"]["duration_months"] <= 36
            await pool.execute(_CHECK, UUID(filed["dossier_id"]), eligible)
            checked = {**filed, "eligible": eligible}
            del checked["dossier"]
            await kafka.send(
                args.checked,
                orjson.dumps(checked),
                key=record.key,
                headers=[("ce_type", CHECKED_TYPE)],
            )
    finally:
        await kafka.stop()
        await pool.close()


async def mail(consumer: AIOKafkaConsumer, args: argparse.Namespace) -> None:
    async with aiosmtplib.SMTP(hostname="127.0.0.1", port=args.smtp_port, timeout=10) as smtp:
        async for record in consumer:
            checked: dict[str, Any] = orjson.loads(record.value)
            message = EmailMessage()
            message["From"] = "appels-a-projets@bench.example.fr"
            message["To"] = "applicant@bench.example.fr"
            message["Subject"] = f"Dossier {checked['reference']} : accusé de réception"
            message["X-AAP-Template"] = "acknowledgement"
            message["X-AAP-Dossier"] = checked["reference"]
            message.set_content(f"Votre dossier {checked['reference']} est bien reçu.")
            await smtp.send_message(message)


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.pipeline", description=__doc__)
    parser.add_argument("stage", choices=("front", "check", "mail"))
    parser.add_argument("--dsn", required=True)
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--filed", required=True, help="the topic the front produces to")
    parser.add_argument("--checked", required=True, help="the topic the check produces to")
    parser.add_argument("--smtp-port", type=int, default=0)
    parser.add_argument("--port", type=int, required=True)
    return parser.parse_args(argv)


def main() -> None:
    args = arguments()
    if args.stage == "front":
        app = front(args)
    elif args.stage == "check":
        app = consuming(args.filed, f"{args.filed}.check", check, args)
    else:
        app = consuming(args.checked, f"{args.checked}.mail", mail, args)
    uvicorn.run(
        app, host="127.0.0.1", port=args.port, log_level="warning", loop="uvloop", http="httptools"
    )


if __name__ == "__main__":
    main()
