"""Queue the mails an event calls for; record what the mailer sent, as events."""

import json
from datetime import datetime

import asyncpg

from services.notifications.domain import MAILS, MailRequest, Recipient, RecordSent, ReportFailure
from shared.contracts.notifications import NotificationFailed, NotificationSent
from shared.kernel.aggregate import run
from shared.kernel.eventstore import EventStore, StoredEvent

_QUEUE = """
INSERT INTO mails (notification_id, dossier_id, template, facts, event_time, to_parties, cc_parties)
VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7)
ON CONFLICT (notification_id) DO NOTHING
"""

_REMEMBER = """
INSERT INTO recipients (dossier_id, reference, email, name, holder, siren, departement)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (dossier_id) DO UPDATE SET reference = excluded.reference, email = excluded.email,
    name = excluded.name, holder = excluded.holder, siren = excluded.siren,
    departement = excluded.departement
"""


async def queue(
    conn: asyncpg.Connection, requests: list[MailRequest], event_time: datetime
) -> None:
    for r in requests:
        await conn.execute(
            _QUEUE,
            r.notification_id,
            r.dossier_id,
            r.template,
            json.dumps(r.facts),
            event_time,
            [p.value for p in r.to],
            [p.value for p in r.cc],
        )


async def remember_recipient(
    conn: asyncpg.Connection, dossier_id: object, recipient: Recipient
) -> None:
    await conn.execute(
        _REMEMBER,
        dossier_id,
        recipient.reference,
        recipient.email,
        recipient.name,
        recipient.holder,
        recipient.siren,
        recipient.departement,
    )


async def rewrite_facts(
    conn: asyncpg.Connection, dossier_id: object, requests: dict[str, MailRequest]
) -> None:
    """The facts of a dossier's mails, as their events read now (a person's data erased)."""
    rows = await conn.fetch("SELECT notification_id FROM mails WHERE dossier_id = $1", dossier_id)
    for row in rows:
        request = requests.get(row["notification_id"])
        if request is not None:
            await conn.execute(
                "UPDATE mails SET facts = $2::jsonb WHERE notification_id = $1",
                request.notification_id,
                json.dumps(request.facts),
            )


async def rewrite_sent(conn: asyncpg.Connection, sent: list[NotificationSent]) -> None:
    """The log of mails sent, its addresses as their events read now."""
    for e in sent:
        await conn.execute(
            "UPDATE notification_log SET recipients = $2 WHERE notification_id = $1",
            e.notification_id,
            ", ".join(e.recipients),
        )


async def record(
    conn: asyncpg.Connection,
    store: EventStore,
    outcome: NotificationSent | NotificationFailed,
    now: datetime,
) -> list[StoredEvent]:
    """Append a mail's outcome to its dossier's stream (and so to the outbox), once."""
    command = (
        RecordSent(outcome) if isinstance(outcome, NotificationSent) else ReportFailure(outcome)
    )
    return await run(
        conn, store, MAILS, outcome.dossier_id, command, now=now, actor="system:mailer"
    )
