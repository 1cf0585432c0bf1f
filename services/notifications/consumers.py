"""Notifications' subscriber: every event that calls for mail queues it. Thin."""

import asyncpg

from services.notifications import domain, handlers
from shared.consumer import Consumer, Subscription
from shared.contracts.applications import ApplicationSubmitted
from shared.contracts.selection import EligibilityChecked
from shared.envelope import Envelope


async def on_submitted(conn: asyncpg.Connection, e: ApplicationSubmitted, env: Envelope) -> None:
    d = e.dossier
    await handlers.remember_recipient(conn, e.dossier_id, e.reference, str(d.representative.email),
                                      d.representative.name, d.applicant.name)
    await handlers.queue(conn, domain.mails_for(e, env.id), env.time)


async def on_checked(conn: asyncpg.Connection, e: EligibilityChecked, env: Envelope) -> None:
    await handlers.queue(conn, domain.mails_for(e, env.id), env.time)


def mail_requests() -> Subscription:
    return Subscription(
        Consumer("mail-requests", {ApplicationSubmitted: on_submitted, EligibilityChecked: on_checked}),
        services=["applications", "selection"],
    )
