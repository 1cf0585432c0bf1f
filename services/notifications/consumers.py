"""Notifications' subscriber: every event that calls for mail queues it. Thin."""

import asyncpg

from services.notifications import domain, handlers
from shared.contracts import DomainEvent
from shared.contracts.applications import ApplicationAmended, ApplicationSubmitted, DraftShared
from shared.kernel.consumer import Consumer, Subscription
from shared.kernel.envelope import Envelope


async def on_submitted(
    conn: asyncpg.Connection, e: ApplicationSubmitted | ApplicationAmended, env: Envelope
) -> None:
    """Whom the dossier's mails are for: its representative as filed, then as amended."""
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


async def on_shared(conn: asyncpg.Connection, e: DraftShared, env: Envelope) -> None:
    """A draft has no reference yet: its mails go to the contact it names."""
    recipient = domain.Recipient(
        reference="brouillon",
        email=e.contact_email,
        name=e.applicant_name,
        holder=e.applicant_name,
        siren=e.siren,
        departement=e.departement,
    )
    await handlers.remember_recipient(conn, e.dossier_id, recipient)
    await on_event(conn, e, env)


async def on_event(conn: asyncpg.Connection, e: DomainEvent, env: Envelope) -> None:
    await handlers.queue(conn, domain.mails_for(e, env.id), env.time)


def mail_requests() -> Subscription:
    on = dict.fromkeys(domain.MAILED_EVENTS, on_event)
    return Subscription(
        Consumer(
            "mail-requests",
            {
                **on,
                ApplicationSubmitted: on_submitted,
                ApplicationAmended: on_submitted,
                DraftShared: on_shared,
            },
        ),
        services=["applications", "selection", "payments"],
    )
