"""The mailer: sends queued mail by SMTP, once, and records each outcome as an event.

Mail is claimed with a lease (two instances never send the same one together). Each mail is
marked *handed over* in a transaction whose COMMIT leaves in the same instant as the mail's final
line (services/notifications/smtp.py), then recorded as sent once the server said so: a mailer
killed at any instant never sends a mail twice, and never marks one it did not send. A mail
handed over whose sender stopped before the server's answer is recorded as sent by a later pass
(AAP_MAIL_SETTLE_SECONDS after), never sent again. Its parties (applicant,
préfecture, MILDECA) become addresses only at send time: a mail queued before its dossier's
recipients are known waits for them. A mail that carries a document (the decision letter, the
convention, a payment's attestation) waits likewise for its event in the audit trail, and renders
it from there before its hand-over: the PDF is never stored, and the same trail renders the
same document when it is downloaded later. A mail server that is down delays mail and loses
none: the lease expires and the mail is tried again, with a growing delay.
"""

import asyncio
import hashlib
import json
import logging
import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from email.message import Message
from email.utils import format_datetime
from typing import Any
from uuid import UUID

import aiosmtplib
import asyncpg
from asyncpg.transaction import Transaction

from services.notifications import audit_trail, domain, handlers, mime, templates
from services.notifications.documents import files
from services.notifications.documents.dossier import NoSuchDocument
from services.notifications.smtp import NotHandedOver, RecordLost, Session
from shared.contracts.notifications import NotificationFailed, NotificationSent
from shared.kernel import outages
from shared.kernel.backoff import Backoff
from shared.kernel.eventstore import EventStore
from shared.kernel.runtime import Runtime
from shared.kernel.settings import Settings

log = logging.getLogger(__name__)

# How long a claimed mail is its mailer's: a mailer killed meanwhile leaves it to the others.
LEASE = timedelta(seconds=20)
REPORT_FAILURE_AT_ATTEMPT = 3
# SMTP sessions a pass opens at once, each sending its dossiers' mails in turn: the server's
# round trips and the marks' commits of one overlap those of the others.
SESSIONS = 3

_CLAIMED = """
m.notification_id, m.dossier_id, m.template, m.facts, m.attempts, m.event_time, m.to_parties,
m.cc_parties, m.handed_over_at, r.reference, r.email, r.name, r.holder, r.siren, r.departement
"""

_CLAIM = f"""
UPDATE mails m SET next_attempt_at = now() + $2::interval, attempts = attempts + 1
FROM recipients r
WHERE m.notification_id IN (
    SELECT notification_id FROM mails
    WHERE sent_at IS NULL AND handed_over_at IS NULL AND next_attempt_at <= now()
      AND EXISTS (SELECT 1 FROM recipients WHERE recipients.dossier_id = mails.dossier_id)
      AND (facts->'document' IS NULL OR EXISTS (
          SELECT 1 FROM audit_trail WHERE event_id = (mails.facts->'document'->>'event_id')::uuid))
    ORDER BY event_time LIMIT $1 FOR UPDATE SKIP LOCKED)
  AND r.dossier_id = m.dossier_id
RETURNING {_CLAIMED}
"""

# Handed over by a sender that never heard the server's answer (it stopped, or its database
# went away): the mail went out, it is recorded as such.
_UNSETTLED = f"""
SELECT {_CLAIMED} FROM mails m JOIN recipients r USING (dossier_id)
WHERE m.sent_at IS NULL AND m.handed_over_at <= now() - $1::interval
ORDER BY m.handed_over_at LIMIT 100 FOR UPDATE OF m SKIP LOCKED
"""

# Whoever marks it first sends it: a second mailer holding it (after the first's lease ran out)
# gives it up before its final line.
_HANDED_OVER = """
UPDATE mails SET handed_over_at = $2 WHERE notification_id = $1 AND handed_over_at IS NULL
RETURNING 1
"""

_RECORDED = "SELECT sent_at FROM mails WHERE notification_id = $1 FOR UPDATE"
_SENT = "UPDATE mails SET sent_at = $2, message_id = $3 WHERE notification_id = $1"

_FAILED = """
UPDATE mails SET next_attempt_at = now() + $2::interval, last_error = $3
WHERE notification_id = $1
"""


def message_id(notification_id: str) -> str:
    return f"<{hashlib.sha256(notification_id.encode()).hexdigest()[:32]}@aap.mildeca.gouv.fr>"


async def run_mailer(rt: Runtime) -> None:
    """Send what is due, forever; a database that goes away is waited for, quietly."""
    waiting = Backoff("PostgreSQL (mailer)", logger=log)
    while True:
        try:
            sent = await settle(rt.db(), rt.store, rt.settings, rt.clock())
            sent += await send_due(rt)
            waiting.succeeded()
            if not sent:
                await asyncio.sleep(0.3)
        except asyncio.CancelledError:
            raise
        except outages.DATABASE_AWAY as error:
            await waiting.pause(error)
        except Exception:
            log.exception("mailer pass failed; trying again in 1 s")
            await asyncio.sleep(1)


async def send_due(rt: Runtime, batch: int = 20, sessions: int = SESSIONS) -> int:
    pool = rt.db()
    async with pool.acquire() as conn:
        claimed = await conn.fetch(_CLAIM, batch, LEASE)
    if not claimed:
        return 0
    # The acknowledgement before the verdict, even when the verdict was queued first: a
    # dossier's mails go in one session, in the order of their events.
    of_dossier: dict[UUID, list[asyncpg.Record]] = {}
    for row in sorted(claimed, key=lambda r: r["event_time"]):
        of_dossier.setdefault(row["dossier_id"], []).append(row)
    shares: list[list[asyncpg.Record]] = [[] for _ in range(min(sessions, len(of_dossier)))]
    for i, rows in enumerate(of_dossier.values()):
        shares[i % len(shares)].extend(rows)

    async def session(rows: list[asyncpg.Record]) -> None:
        # A connection of its own for the hand-over marks: between a mark's commit and the
        # mail's final line, nothing else (not even handing it back to the pool) happens.
        async with Session(rt.settings) as smtp, pool.acquire() as marks:
            for row in rows:
                await _send_one(rt, smtp, marks, row)

    # Each session goes to its end (none is cut short by another's failure), then the first
    # failure is the pass's.
    done = await asyncio.gather(*(session(rows) for rows in shares), return_exceptions=True)
    for outcome in done:
        if isinstance(outcome, BaseException):
            raise outcome
    return len(claimed)


async def _send_one(
    rt: Runtime, smtp: Session, marks: asyncpg.Connection, row: Mapping[str, Any]
) -> None:
    pool, notification_id = rt.db(), row["notification_id"]
    try:
        documents = await _documents(rt, row)
        mail, to, cc = compose(row, rt.settings, rt.clock(), documents)
    # A mail that cannot be written yet (an unknown département, a document whose earlier events
    # the trail has not caught up with) fails like one not sent.
    except (ValueError, KeyError, NoSuchDocument) as error:
        await _failed(rt, row, f"{type(error).__name__}: {error}")
        return

    record = _HandOver(marks, notification_id, rt.clock())
    try:
        await smtp.hand_over(mail, record)
    except RecordLost as lost:
        if not lost.delivered:
            raise lost.cause from None  # not delivered, not recorded: sent again later, once
        # Delivered, and no trace of it yet: recorded before anything else, or it would be sent
        # again once its lease runs out (only a mailer killed before the database is back can).
        log.warning("mail %s delivered while the database went away: %s", notification_id, lost)
        await _recorded_when_back(rt, row, to, cc, mail["Message-ID"])
        return
    except NotHandedOver as refused:
        if not record.taken:  # a mail another mailer sends is no failure of this one
            await _failed(rt, row, str(refused))
        return
    except aiosmtplib.SMTPException as error:
        # After the final line the server refused the mail, or never said it took it (it went
        # away, or kept silent past the timeout): a mail is the server's once it says so (RFC
        # 5321, 6.1), so it is sent again later, under the same Message-ID, which a reader
        # dedups by. A mailer that stops here leaves it handed over: recorded sent, never resent.
        await _not_handed_over(pool, notification_id)
        await _failed(rt, row, f"{type(error).__name__}: {error}")
        return
    rt.metrics.mailed(row["template"], "sent")  # handed over: the server has it
    try:
        await record_sent(pool, rt.store, row, to, cc, mail["Message-ID"], rt.clock())
    except outages.DATABASE_AWAY as error:
        # Handed over already: the next pass records it (`settle`), nothing is sent again.
        log.warning("mail %s sent, its record waits for the database: %s", notification_id, error)


async def _recorded_when_back(
    rt: Runtime, row: Mapping[str, Any], to: list[str], cc: list[str], mid: str
) -> None:
    waiting = Backoff("PostgreSQL (a delivered mail's record)", first=0.05, longest=1.0, logger=log)
    while True:
        try:
            async with rt.db().acquire() as conn, conn.transaction():
                recorded = await conn.fetchval(_RECORDED, row["notification_id"])
                if recorded is None:  # its mark may have committed, and `settle` recorded it
                    now = rt.clock()
                    await _record_sent_in(conn, rt.store, row, to, cc, mid, now, now)
            waiting.succeeded()
            return
        except outages.DATABASE_AWAY as error:
            await waiting.pause(error)


class _HandOver:
    """The mark of a mail handed over: prepared under a row lock, sealed by the final line."""

    def __init__(self, conn: asyncpg.Connection, notification_id: str, now: datetime) -> None:
        self.conn, self.notification_id, self.now = conn, notification_id, now
        self.transaction: Transaction | None = None
        self.taken = self.sealed = False

    async def prepare(self) -> None:
        self.transaction = self.conn.transaction()
        await self.transaction.start()
        if not await self.conn.fetchval(_HANDED_OVER, self.notification_id, self.now):
            await self.transaction.rollback()
            self.taken = True
            raise NotHandedOver("another mailer handed this mail over first")

    async def seal(self) -> None:
        assert self.transaction is not None
        await self.transaction.commit()
        self.sealed = True

    async def abandon(self) -> None:
        if self.transaction is not None and not self.sealed:
            await self.transaction.rollback()


async def _not_handed_over(pool: asyncpg.Pool, notification_id: str) -> None:
    async with pool.acquire() as conn:
        await conn.execute(
            "UPDATE mails SET handed_over_at = NULL WHERE notification_id = $1", notification_id
        )


async def settle(pool: asyncpg.Pool, store: EventStore, settings: Settings, now: datetime) -> int:
    """Record as sent the mails handed over by a sender that stopped before the answer."""
    settled_after = timedelta(seconds=settings.mail_settle_seconds)
    async with pool.acquire() as conn, conn.transaction():
        rows = await conn.fetch(_UNSETTLED, settled_after)
        for row in rows:
            mail, to, cc = compose(row, settings, row["handed_over_at"])
            log.warning(
                "mail %s was handed over when its sender stopped: recorded as sent",
                row["notification_id"],
            )
            await _record_sent_in(
                conn, store, row, to, cc, mail["Message-ID"], row["handed_over_at"], now
            )
    return len(rows)


async def _documents(rt: Runtime, row: Mapping[str, Any]) -> list[files.Document]:
    """The document the mail carries, rendered from the dossier's audit trail."""
    wanted = json.loads(row["facts"]).get("document")
    if wanted is None:
        return []
    async with rt.db().acquire() as conn:
        trail = await audit_trail.trail(conn, row["dossier_id"], rt.vault)
    kind, event_id = files.Kind(wanted["kind"]), UUID(wanted["event_id"])
    # WeasyPrint holds the CPU for a while: beside the event loop, whose consumers go on.
    return [await asyncio.to_thread(files.of_event, kind, trail, event_id, rt.campaigns)]


def compose(
    row: Mapping[str, Any],
    settings: Settings,
    now: datetime,
    documents: Sequence[files.Document] = (),
) -> tuple[Message, list[str], list[str]]:
    """The message of a claimed mail, its parties resolved to addresses, its documents attached;
    and its To and Cc. (Recording a mail already sent needs its Message-ID only: no documents.)"""
    recipient = domain.Recipient(
        row["reference"],
        row["email"],
        row["name"],
        row["holder"],
        siren=row["siren"] or "",
        departement=row["departement"] or "",
    )
    mailboxes = domain.Mailboxes(
        mildeca=settings.mildeca_mailbox, prefecture=settings.prefecture_mailbox
    )

    facts = json.loads(row["facts"])

    def resolved(parties: list[str]) -> list[tuple[str, str]]:
        return domain.addresses(
            [domain.Party(p) for p in parties], recipient, mailboxes, facts.get("reviewer")
        )

    to, cc = resolved(row["to_parties"]), resolved(row["cc_parties"])
    if not to:  # its addressee's data erased: those in copy, if any, are written to
        to, cc = cc, []
    if not to:
        raise ValueError("the data of the person it was for was erased: nobody to write to")
    subject, body = templates.render(row["template"], recipient, facts)
    headers = {
        "Date": format_datetime(now),
        "Message-ID": message_id(row["notification_id"]),
        "X-AAP-Dossier": recipient.reference,
        "X-AAP-Notification": row["notification_id"],
        "X-AAP-Template": row["template"],
    }
    mail = mime.message(
        sender=settings.mail_from,
        to=to,
        cc=cc,
        subject=subject,
        headers=headers,
        body=body,
        documents=documents,
    )
    to_addresses = list(dict.fromkeys(email for _, email in to))
    cc_addresses = [a for a in dict.fromkeys(email for _, email in cc) if a not in to_addresses]
    return mail, to_addresses, cc_addresses


async def record_sent(
    pool: asyncpg.Pool,
    store: EventStore,
    row: Mapping[str, Any],
    to: list[str],
    cc: list[str],
    mid: str,
    now: datetime,
) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await _record_sent_in(conn, store, row, to, cc, mid, now, now)


async def _record_sent_in(
    conn: asyncpg.Connection,
    store: EventStore,
    row: Mapping[str, Any],
    to: list[str],
    cc: list[str],
    mid: str,
    sent_at: datetime,
    now: datetime,
) -> None:
    await conn.execute(_SENT, row["notification_id"], sent_at, mid)
    sent = NotificationSent(
        dossier_id=row["dossier_id"],
        notification_id=row["notification_id"],
        template=row["template"],
        to=to,
        cc=cc,
        message_id=mid,
        sent_at=sent_at,
    )
    await handlers.record(conn, store, sent, now)


# An address as a mail server may quote it in its refusal ("<x@y>: user unknown").
_ADDRESS = re.compile(r"[^\s<>()\[\]{},;:\"']+@[^\s<>()\[\]{},;:\"']+")


def without_addresses(reason: str) -> str:
    """The server's refusal, every address it quotes left out: the reason is logged, kept in
    the mail's row and published (`NotificationFailed`), the addresses only sealed."""
    return _ADDRESS.sub("[adresse]", reason)


async def _failed(rt: Runtime, row: Mapping[str, Any], reason: str) -> None:
    reason = without_addresses(reason)
    now = rt.clock()
    attempts = row["attempts"]
    delay = timedelta(seconds=min(2**attempts, 600))
    log.warning("mail %s not sent (attempt %s): %s", row["notification_id"], attempts, reason)
    rt.metrics.mailed(row["template"], "failed")
    async with rt.db().acquire() as conn, conn.transaction():
        await conn.execute(_FAILED, row["notification_id"], delay, reason)
        if attempts == REPORT_FAILURE_AT_ATTEMPT:  # said once; the mailer keeps trying
            failed = NotificationFailed(
                dossier_id=row["dossier_id"],
                notification_id=row["notification_id"],
                template=row["template"],
                attempts=attempts,
                reason=reason,
                failed_at=now,
            )
            await handlers.record(conn, rt.store, failed, now)
