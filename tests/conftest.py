"""Servers for the tests: testcontainers when a Docker engine answers, deploy/local otherwise.

Every test session works in its own namespace (topic prefix, database prefix), so tests
never collide with each other nor with a platform started by `./dev up`.
"""

import logging
import os
import secrets
import subprocess
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest

from shared.kernel import db, topics
from shared.kernel.auth import generate_keypair
from shared.kernel.settings import Settings


@dataclass(frozen=True)
class Servers:
    kafka_bootstrap: str
    pg_admin_dsn: str


def _docker_engine() -> bool:
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.fixture(scope="session")
def servers() -> Iterator[Servers]:
    mode = os.environ.get("AAP_TEST_SERVERS") or ("testcontainers" if _docker_engine() else "local")
    if mode == "testcontainers":
        from testcontainers.community.kafka import KafkaContainer
        from testcontainers.community.postgres import PostgresContainer

        with (
            KafkaContainer("confluentinc/cp-kafka:7.6.0").with_kraft() as kafka,
            PostgresContainer(
                "postgres:15", username="aap", password="aap", dbname="postgres", driver=None
            ) as pg,
        ):
            yield Servers(kafka.get_bootstrap_server(), pg.get_connection_url())
    else:
        # Started by `./dev test` (deploy/local/kafka.sh and postgres.sh).
        yield Servers(
            os.environ.get("AAP_KAFKA_BOOTSTRAP", "127.0.0.1:29092"),
            os.environ.get("AAP_PG_ADMIN_DSN", "postgresql://aap@127.0.0.1:25432/postgres"),
        )


def pytest_configure(config: pytest.Config) -> None:
    # The in-process mail sinks' SMTP dialogue (aiosmtpd's "mail.log" at INFO) is not test output.
    logging.getLogger("mail.log").setLevel(logging.WARNING)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Fast feedback first: unit, then integration, then the platform end to end."""
    order = {"unit": 0, "integration": 1, "e2e": 2}
    items.sort(key=lambda item: order.get(item.path.parent.name, 1))


@pytest.fixture(scope="session")
async def settings(
    servers: Servers, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Settings]:
    namespace = "t" + secrets.token_hex(4)
    private_pem, public_pem = generate_keypair()
    private_key_file = tmp_path_factory.mktemp("jwt") / "private.pem"
    private_key_file.write_text(private_pem)
    dsn = urlsplit(servers.pg_admin_dsn)
    s = Settings(
        kafka_bootstrap=servers.kafka_bootstrap,
        topic_prefix=namespace,
        db_prefix=namespace,
        pg_admin_dsn=servers.pg_admin_dsn,
        pg_host=dsn.hostname or "127.0.0.1",
        pg_port=dsn.port or 5432,
        relay_poll_seconds=0.2,
        jwt_public_key=public_pem,
        jwt_private_key_file=str(private_key_file),
    )
    yield s
    await _clean(s)


@asynccontextmanager
async def own_namespace(settings: Settings) -> AsyncIterator[Settings]:
    """The same servers under a namespace of one's own: no running service shares it."""
    namespace = "t" + secrets.token_hex(4)
    own = settings.model_copy(update={"topic_prefix": namespace, "db_prefix": namespace})
    try:
        yield own
    finally:
        await _clean(own)


async def _clean(s: Settings) -> None:
    for service in [*topics.SERVICES, "kernel", "vault"]:
        await db.drop_database(s, service)
    await _delete_topics(s)


def settings_env(settings: Settings) -> dict[str, str]:
    """The same settings, as the environment of a service started as a process."""
    return settings.as_environment()


async def _delete_topics(s: Settings) -> None:
    await topics.delete_namespace(s.kafka_bootstrap, s.topic_prefix)
