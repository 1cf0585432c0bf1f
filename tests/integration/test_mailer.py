"""The mailer against the real PostgreSQL and an SMTP server: parties become To and Cc, and a
server that is down delays mail without losing it."""

import asyncio
import secrets
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import pytest
import uvloop
from aiosmtpd.controller import Controller

from services.notifications import consumers, mailer, main
from services.notifications.smtp import TIMEOUT_SECONDS, NotHandedOver, Session
from shared.contracts import DomainEvent
from shared.contracts.applications import ApplicationSubmitted, Dossier, DossierClosedIncomplete
from shared.contracts.notifications import NotificationFailed, NotificationSent
from shared.contracts.selection import PrefectureOpinionRequested
from shared.kernel import db
from shared.kernel.envelope import wrap
from shared.kernel.runtime import Runtime
from shared.kernel.settings import Settings
from tests.factories import eligible_dossier
from tests.helpers import free_port, wait_for

# Its own database, not "notifications": a platform started in the same session runs a
# mailer of its own, which would take these mails.
DATABASE = "mailer"
MAIRE = "maire@roubaix.example.fr"
Received = list[tuple[list[str], EmailMessage]]  # the envelope's recipients, the message


class Collector:
    """An SMTP server's handler that keeps each message and the addresses it was sent to."""

    def __init__(self) -> None:
        self.received: Received = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        self.received.append((list(envelope.rcpt_tos), message))  # type: ignore[arg-type]
        return "250 Message accepted for delivery"

    def for_dossier(self, reference: str) -> Received:
        return [(rcpt, m) for rcpt, m in self.received if m["X-AAP-Dossier"] == reference]


@pytest.fixture(scope="module")
async def mailer_pool(settings: Settings) -> AsyncIterator[asyncpg.Pool]:
    await db.provision(settings, DATABASE, main.spec().schema_sql)
    pool = await db.open_pool(settings, DATABASE)
    yield pool
    await pool.close()
    await db.drop_database(settings, DATABASE)


Smtp = tuple[Collector, int]


@pytest.fixture(scope="module")
def smtp() -> Iterator[Smtp]:
    collector, port = Collector(), free_port()
    controller = Controller(collector, hostname="127.0.0.1", port=port)
    controller.start()
    yield collector, port
    controller.stop()


def runtime(settings: Settings, pool: asyncpg.Pool, smtp_port: int) -> Runtime:
    return Runtime(main.spec(), settings.model_copy(update={"smtp_port": smtp_port}), pool=pool)


@pytest.fixture
def rt(settings: Settings, mailer_pool: asyncpg.Pool, smtp: Smtp) -> Runtime:
    return runtime(settings, mailer_pool, smtp[1])


def a_submission() -> ApplicationSubmitted:
    return ApplicationSubmitted(
        dossier_id=uuid4(),
        reference=f"AAP-T-{secrets.token_hex(4)}",
        campaign_id="demo",
        submitted_at=datetime.now(UTC),
        dossier=Dossier.model_validate(eligible_dossier()),
    )


async def deliver(rt: Runtime, event: DomainEvent, at: datetime) -> None:
    """What the consumer kernel does with one event from Kafka, minus Kafka."""
    envelope = wrap(event, event_id=uuid4(), source="/aap/tests", time=at)
    handler = consumers.mail_requests(rt.store).consumer.handlers[type(event)]
    async with rt.db().acquire() as conn, conn.transaction():
        await handler(conn, event, envelope)


async def sent(rt: Runtime, collector: Collector, reference: str, count: int) -> Received:
    async def arrived() -> Received | None:
        await mailer.send_due(rt)
        found = collector.for_dossier(reference)
        return found if len(found) >= count else None

    found: Received = await wait_for(arrived, timeout=20, what=f"{count} mail(s) for {reference}")
    return found


async def recorded(rt: Runtime, dossier_id: UUID) -> list[DomainEvent]:
    async with rt.db().acquire() as conn:
        return [s.event() for s in await rt.store.load(conn, str(dossier_id))]


async def test_the_parties_of_a_mail_become_its_to_and_cc_addresses(
    rt: Runtime, smtp: Smtp
) -> None:
    # given a dossier of département 59 closed as incomplete (a mail without a document: the
    # documents' own mails are tested on the running platform, tests/e2e/test_documents.py)
    collector, _ = smtp
    submitted = a_submission()
    now = datetime.now(UTC)
    await deliver(rt, submitted, now)
    await deliver(
        rt,
        DossierClosedIncomplete(
            dossier_id=submitted.dossier_id,
            reference=submitted.reference,
            campaign_id="demo",
            request_id=uuid4(),
            motivation="Pièces non transmises dans le délai.",
            closed_at=now,
        ),
        now + timedelta(seconds=1),
    )
    # when the mailer sends what is due
    mails = await sent(rt, collector, submitted.reference, 2)
    # then the closure's mail is to the holder, with the préfecture and MILDECA in copy
    [(rcpt, mail)] = [(r, m) for r, m in mails if m["X-AAP-Template"] == "closed_incomplete"]
    prefecture = rt.settings.prefecture_mailbox.format(departement="59")
    assert [a.addr_spec for a in mail["To"].addresses] == [MAIRE]
    assert [a.addr_spec for a in mail["Cc"].addresses] == [prefecture, rt.settings.mildeca_mailbox]
    assert sorted(rcpt) == sorted([MAIRE, prefecture, rt.settings.mildeca_mailbox])
    # and what was sent, to whom, is recorded
    [notice] = [
        e
        for e in await recorded(rt, submitted.dossier_id)
        if isinstance(e, NotificationSent) and e.template == "closed_incomplete"
    ]
    assert (notice.to, notice.cc) == ([MAIRE], [prefecture, rt.settings.mildeca_mailbox])
    assert notice.message_id == mail["Message-ID"]


async def test_a_mail_queued_before_its_recipients_are_known_waits_for_them(
    rt: Runtime, smtp: Smtp
) -> None:
    # given the préfecture's request for an opinion, queued before the submission arrived
    collector, _ = smtp
    submitted = a_submission()
    now = datetime.now(UTC)
    await deliver(
        rt,
        PrefectureOpinionRequested(
            dossier_id=submitted.dossier_id,
            reference=submitted.reference,
            campaign_id="demo",
            departement="59",
            requested_at=now,
        ),
        now + timedelta(seconds=1),
    )
    await mailer.send_due(rt)
    assert collector.for_dossier(submitted.reference) == []
    # when the submission arrives
    await deliver(rt, submitted, now)
    # then both go out, in the order of the events
    mails = await sent(rt, collector, submitted.reference, 2)
    assert [m["X-AAP-Template"] for _, m in mails] == ["acknowledgement", "opinion_requested"]
    opinion = mails[1][1]
    assert [a.addr_spec for a in opinion["To"].addresses] == [
        rt.settings.prefecture_mailbox.format(departement="59")
    ]
    assert [a.addr_spec for a in opinion["Cc"].addresses] == [rt.settings.mildeca_mailbox]


async def test_a_pass_sends_several_dossiers_mails_over_several_sessions_each_dossiers_in_order(
    rt: Runtime, smtp: Smtp, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given five dossiers, each with its opinion request queued before its acknowledgement
    collector, _ = smtp
    now = datetime.now(UTC)
    dossiers = [a_submission() for _ in range(5)]
    for submitted in dossiers:
        requested = PrefectureOpinionRequested(
            dossier_id=submitted.dossier_id,
            reference=submitted.reference,
            campaign_id="demo",
            departement="59",
            requested_at=now,
        )
        await deliver(rt, requested, now + timedelta(seconds=1))
        await deliver(rt, submitted, now)
    sessions: list[int] = []
    opened = Session.__aenter__

    async def counted(self: Session) -> Session:
        sessions.append(id(self))
        return await opened(self)

    monkeypatch.setattr(Session, "__aenter__", counted)
    # when one pass sends them
    assert await mailer.send_due(rt, sessions=3) == 10
    # then three sessions carried them, and each dossier's went in the order of its events
    assert len(sessions) == 3
    for submitted in dossiers:
        templates = [m["X-AAP-Template"] for _, m in collector.for_dossier(submitted.reference)]
        assert templates == ["acknowledgement", "opinion_requested"]


async def test_a_mail_server_that_is_down_delays_the_mail_says_so_once_and_loses_none(
    settings: Settings, mailer_pool: asyncpg.Pool, rt: Runtime, smtp: Smtp
) -> None:
    # given a queued acknowledgement and a mail server that does not answer
    collector, _ = smtp
    down = runtime(settings, mailer_pool, free_port())
    submitted = a_submission()
    await deliver(down, submitted, datetime.now(UTC))
    # when the mailer tries four times
    for _ in range(4):
        async with mailer_pool.acquire() as conn:  # the growing delay has passed
            await conn.execute(
                "UPDATE mails SET next_attempt_at = now() WHERE dossier_id = $1",
                submitted.dossier_id,
            )
        await mailer.send_due(down)
    # then nothing is sent, and the failure is recorded once, at the third attempt
    assert collector.for_dossier(submitted.reference) == []
    failures = [
        e for e in await recorded(rt, submitted.dossier_id) if isinstance(e, NotificationFailed)
    ]
    assert [f.attempts for f in failures] == [3]
    # and once the server is back and the delay has passed, the mail goes out
    async with mailer_pool.acquire() as conn:
        await conn.execute(
            "UPDATE mails SET next_attempt_at = now() WHERE dossier_id = $1", submitted.dossier_id
        )
    [(_, mail)] = await sent(rt, collector, submitted.reference, 1)
    assert mail["X-AAP-Template"] == "acknowledgement"


class HangsUpOnce(Collector):
    """A server that has the first mail's final line and hangs up without answering it (it
    went away): it never said it took that mail. It takes the next ones."""

    def __init__(self) -> None:
        super().__init__()
        self.hung_up = False

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if not self.hung_up:
            self.hung_up = True
            server.transport.close()
            return "421 closing"  # never reaches the client: the connection is gone
        return await super().handle_DATA(server, session, envelope)


async def test_a_mail_whose_final_line_got_no_answer_is_sent_again_under_its_message_id(
    settings: Settings, mailer_pool: asyncpg.Pool
) -> None:
    # given a queued acknowledgement and a server that hangs up after its final line
    collector, port = HangsUpOnce(), free_port()
    controller = Controller(collector, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        rt = runtime(settings, mailer_pool, port)
        submitted = a_submission()
        await deliver(rt, submitted, datetime.now(UTC))
        await mailer.send_due(rt)
        assert collector.hung_up and collector.for_dossier(submitted.reference) == []
        # when the delay has passed, then the mail is sent again, once, under the same id
        async with mailer_pool.acquire() as conn:
            first_id = mailer.message_id(
                await conn.fetchval(
                    "SELECT notification_id FROM mails WHERE dossier_id = $1",
                    submitted.dossier_id,
                )
            )
            await conn.execute(
                "UPDATE mails SET next_attempt_at = now() WHERE dossier_id = $1",
                submitted.dossier_id,
            )
        [(_, mail)] = await sent(rt, collector, submitted.reference, 1)
        assert mail["Message-ID"] == first_id
        # and it is recorded sent once
        recorded_sent = [
            e for e in await recorded(rt, submitted.dossier_id) if isinstance(e, NotificationSent)
        ]
        assert len(recorded_sent) == 1
    finally:
        controller.stop()


def acknowledgement(subject: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = "aap@mildeca.example.fr", MAIRE, subject
    mail.set_content("Accusé de réception")
    return mail


class BusyRecord:
    """A hand-over record whose commit leaves while the loop is busy elsewhere, as in a service
    that has other work ready: the server's answer is in before the read of it starts."""

    async def prepare(self) -> None:
        pass

    async def seal(self) -> None:
        time.sleep(0.005)  # noqa: ASYNC251  # the loop kept busy, on purpose

    async def abandon(self) -> None:
        pass


class ServerGoneBeforeTheFinalLine:
    """A record whose opening sees the server go away, before the final line could go out."""

    def __init__(self, session: Session) -> None:
        self.session, self.abandoned, self.sealed = session, False, False

    async def prepare(self) -> None:
        assert self.session.smtp is not None and self.session.smtp.transport is not None
        self.session.smtp.transport.close()

    async def seal(self) -> None:
        self.sealed = True

    async def abandon(self) -> None:
        self.abandoned = True


def test_a_mail_whose_server_went_away_before_its_final_line_is_not_handed_over(
    settings: Settings, smtp: Smtp
):
    # given a session whose server goes away once the content is out, before the final line
    collector, port = smtp
    local = settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": port})
    subject = secrets.token_hex(4)

    async def hand_over() -> ServerGoneBeforeTheFinalLine:
        mail = acknowledgement(subject)
        async with Session(local) as session:
            await session._open()
            record = ServerGoneBeforeTheFinalLine(session)
            # when it is handed over, then it is not: its record is rolled back, never sealed
            with pytest.raises(NotHandedOver):
                await session.hand_over(mail, record)
            return record

    record = uvloop.run(hand_over())
    assert record.abandoned and not record.sealed
    assert [m["Subject"] for _, m in collector.received].count(subject) == 0


def test_the_servers_answer_to_the_final_line_is_read_on_uvloop(settings: Settings, smtp: Smtp):
    # given a session on uvloop, the services' loop, whose record commits while busy
    collector, port = smtp
    local = settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": port})
    subject = secrets.token_hex(4)

    async def hand_over() -> None:
        mail = acknowledgement(subject)
        async with Session(local) as session:
            # when a mail is handed over, then the server's 250 is read, not waited for in vain
            await asyncio.wait_for(session.hand_over(mail, BusyRecord()), TIMEOUT_SECONDS / 2)

    uvloop.run(hand_over())
    assert [m["Subject"] for _, m in collector.received].count(subject) == 1
