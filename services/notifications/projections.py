"""Notifications' read model: the mails sent for each dossier, from its own events."""

import asyncpg

from shared.contracts.notifications import NotificationSent
from shared.kernel.consumer import Consumer, Subscription
from shared.kernel.envelope import Envelope


async def on_sent(conn: asyncpg.Connection, e: NotificationSent, _: Envelope) -> None:
    # `recipients` lists To then Cc; a version 1 event, upcast, has them all in To.
    await conn.execute(
        "INSERT INTO notification_log VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
        e.notification_id,
        e.dossier_id,
        e.template,
        ", ".join(e.recipients),
        e.message_id,
        e.sent_at,
    )


def notification_log() -> Subscription:
    return Subscription(
        Consumer("notification-log", {NotificationSent: on_sent}),
        services=["notifications"],
        read_models=["notification_log"],
    )
