"""Notifications' subscriber: every event that calls for mail queues it. Thin."""

import asyncpg

from services.notifications import domain, handlers
from shared.contracts import DomainEvent
from shared.contracts.applications import ApplicationSubmitted
from shared.kernel.consumer import Consumer, Subscription
from shared.kernel.envelope import Envelope


async def on_submitted(conn: asyncpg.Connection, e: ApplicationSubmitted, env: Envelope) -> None:
    d = e.dossier
    await handlers.remember_recipient(
        conn,
        e.dossier_id,
        domain.Recipient(
            reference=e.reference,
            email=str(d.representative.email),
            name=d.representative.name,
            holder=d.applicant.name,
            siren=d.applicant.siren,
            departement=d.applicant.departement,
        ),
    )
    await on_event(conn, e, env)


async def on_event(conn: asyncpg.Connection, e: DomainEvent, env: Envelope) -> None:
    await handlers.queue(conn, domain.mails_for(e, env.id), env.time)


def mail_requests() -> Subscription:
    on = dict.fromkeys(domain.MAILED_EVENTS, on_event)
    return Subscription(
        Consumer("mail-requests", {**on, ApplicationSubmitted: on_submitted}),
        services=["applications", "selection", "payments"],
    )
