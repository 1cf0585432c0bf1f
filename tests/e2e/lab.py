"""A platform of its own to break: its own PostgreSQL and Kafka (deploy/local, in a folder and on
ports of their own; Kafka one broker or a cluster of them), its own mail server, the four services
as processes. The fault tests stop, kill and restart its parts without touching the servers the
rest of the suite runs on."""

import asyncio
import os
import random
import secrets
import signal
import socket
import subprocess
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox

from shared.kernel.auth import generate_keypair
from shared.kernel.settings import Settings
from tests.e2e.conftest import SERVICES, MailSink
from tests.e2e.processes import Service, ready, start

LOCAL = Path(__file__).resolve().parents[2] / "deploy" / "local"


def quiet_port(count: int = 1) -> int:
    """A free port below the kernel's range of client source ports (no retry can take it): the
    first of `count` consecutive free ones."""
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    while True:
        port = random.randrange(20000, min(low, 32000) - count)
        if all(_free(p) for p in range(port, port + count)):
            return port


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


@dataclass
class Lab:
    root: Path
    settings: Settings
    mail: MailSink
    pg_port: int
    kafka_port: int
    controller_port: int
    smtp: Controller
    brokers: int = 1
    mail_is_up: bool = True
    services: dict[str, Service] = field(default_factory=dict)

    def _environment(self) -> dict[str, str]:
        return {
            **os.environ,
            "AAP_VAR": str(self.root / "var"),
            "AAP_PG_PORT": str(self.pg_port),
            "AAP_KAFKA_PORT": str(self.kafka_port),
            "AAP_KAFKA_CONTROLLER_PORT": str(self.controller_port),
            "AAP_KAFKA_BROKERS": str(self.brokers),
        }

    async def server(self, script: str, action: str, *arguments: str) -> str:
        """deploy/local/<script>.sh <action> for this lab's servers, its output; fails loudly."""
        done = await asyncio.to_thread(
            subprocess.run,
            [str(LOCAL / f"{script}.sh"), action, *arguments],
            env=self._environment(),
            capture_output=True,
            text=True,
            timeout=180,
        )
        command = " ".join((f"{script}.sh", action, *arguments))
        assert done.returncode == 0, f"{command}:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    async def kill_broker(self, node: int) -> None:
        """kill -9 of one Kafka node (1..brokers): no shutdown, no handing over."""
        await self.server("kafka", "kill", str(node))

    async def start_broker(self, node: int) -> None:
        """The node started again, back once it serves and the cluster has it unfenced."""
        await self.server("kafka", "start-node", str(node))

    async def partitions(self, topic: str) -> dict[int, dict[str, Any]]:
        """A topic's partitions as the cluster's metadata says: `leader`, `replicas`, `isr`."""
        admin = AIOKafkaAdminClient(bootstrap_servers=self.settings.kafka_bootstrap)
        await admin.start()
        try:
            # the admin asks a node at random: one just killed is still among them a while
            for attempt in range(40):
                try:
                    (described,) = await admin.describe_topics([topic])
                    break
                except KafkaError:
                    if attempt == 39:
                        raise
                    await asyncio.sleep(0.5)
        finally:
            await admin.close()
        assert described["error_code"] == 0, described
        return {p["partition"]: p for p in described["partitions"]}

    async def leader_of(self, topic: str, partition: int) -> int:
        """The node that leads this partition now (-1 while none does)."""
        leader: int = (await self.partitions(topic))[partition]["leader"]
        return leader

    def start_service(self, name: str) -> Service:
        port = self.services[name].port if name in self.services else quiet_port()
        service = start(
            self.settings,
            name,
            self.root / "logs",
            port=port,
            AAP_SMTP_PORT=str(self.mail.port),
            AAP_MAIL_SETTLE_SECONDS="3",
            AAP_INSTANCE_ID=name,  # one replica of each, restarted as itself
        )
        self.services[name] = service
        return service

    def kill(self, name: str) -> None:
        """kill -9, and the process reaped."""
        process = self.services[name].process
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)

    async def restart(self, name: str) -> Service:
        return await ready(self.start_service(name))

    async def connect(self, service: str) -> asyncpg.Connection:
        return await asyncpg.connect(self.settings.admin_dsn(service))

    def mail_down(self) -> None:
        """The mail server stops: connections to its port are refused until `mail_up`."""
        self.smtp.stop()
        self.mail_is_up = False

    def mail_up(self) -> None:
        self.smtp = Controller(self.smtp.handler, hostname="127.0.0.1", port=self.mail.port)
        self.smtp.start()
        self.mail_is_up = True

    def message_ids(self) -> Counter[str]:
        return Counter(str(m["Message-ID"]) for m in self.mail.messages())

    def log_lines(self, name: str) -> int:
        return sum(1 for _ in self.services[name].log.open("rb"))


@asynccontextmanager
async def lab(root: Path, mail: object | None = None, brokers: int = 1) -> AsyncIterator[Lab]:
    """The lab's servers started, then its services ready; everything stopped at the end.
    Mails go to a Maildir in the lab's folder, or to the aiosmtpd handler `mail` when given.

    `brokers`: Kafka's nodes (deploy/local/kafka.sh, AAP_KAFKA_BROKERS); more than one, and the
    platform's topics keep min(3, brokers) copies, min(2, brokers) of them in sync."""
    (root / "logs").mkdir(parents=True)
    pg_port, mail_port = quiet_port(), quiet_port()
    # node i's broker and controller ports: kafka_port + 2(i-1) and the one above (kafka.sh)
    kafka_port = quiet_port(2 * brokers)
    controller_port = kafka_port + 1
    private, public = generate_keypair()
    (root / "private.pem").write_text(private)
    namespace = "lab" + secrets.token_hex(3)
    settings = Settings(
        kafka_bootstrap=",".join(f"127.0.0.1:{kafka_port + 2 * i}" for i in range(brokers)),
        topic_replication_factor=min(3, brokers),
        topic_min_insync_replicas=min(2, brokers),
        pg_admin_dsn=f"postgresql://aap@127.0.0.1:{pg_port}/postgres",
        pg_port=pg_port,
        topic_prefix=namespace,
        db_prefix=namespace,
        relay_poll_seconds=0.2,
        jwt_public_key=public,
        jwt_private_key_file=str(root / "private.pem"),
    )
    handler = mail if mail is not None else Mailbox(root / "Maildir")
    controller = Controller(handler, hostname="127.0.0.1", port=mail_port)
    controller.start()
    the_lab = Lab(
        root,
        settings,
        MailSink(root / "Maildir", mail_port),
        pg_port,
        kafka_port,
        controller_port,
        controller,
        brokers,
    )
    try:
        await the_lab.server("postgres", "start")
        await the_lab.server("kafka", "start")
        for name in SERVICES:
            the_lab.start_service(name)
        await asyncio.gather(*(ready(s) for s in the_lab.services.values()))
        yield the_lab
    finally:
        for service in the_lab.services.values():
            if service.process.poll() is None:
                service.process.kill()
                service.process.wait()
        if the_lab.mail_is_up:
            the_lab.smtp.stop()
        for script in ("kafka", "postgres"):  # their data lives in the lab's folder
            try:
                await the_lab.server(script, "stop")
            except AssertionError:
                pass
