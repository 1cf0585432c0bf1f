"""Notifications' subscriber: every event that calls for mail queues it. Thin."""

from uuid import UUID

import asyncpg

from services.notifications import audit_trail, domain, handlers
from shared.contracts import DomainEvent, UnknownEventType
from shared.contracts.applications import (
    AmendmentsSetAside,
    ApplicationAmended,
    ApplicationSubmitted,
    DraftShared,
)
from shared.contracts.notifications import NotificationSent
from shared.contracts.personal import PersonalDataErased
from shared.kernel.consumer import Consumer, Handler, Subscription
from shared.kernel.envelope import Envelope
from shared.kernel.eventstore import EventStore

# The events that say the dossier as it stands, and so whom its mails are for.
Filed = ApplicationSubmitted | ApplicationAmended | AmendmentsSetAside


def _representative(e: Filed) -> domain.Recipient:
    d = e.dossier
    return domain.Recipient(
        reference=e.reference,
        email=str(d.representative.email),
        name=d.representative.name,
        holder=d.applicant.name,
        siren=d.applicant.siren,
        departement=d.applicant.departement,
    )


def _contact(e: DraftShared) -> domain.Recipient:
    return domain.Recipient(
        reference="brouillon",
        email=e.contact_email,
        name=e.applicant_name,
        holder=e.applicant_name,
        siren=e.siren,
        departement=e.departement,
    )


async def on_submitted(conn: asyncpg.Connection, e: Filed, env: Envelope) -> None:
    """Whom the dossier's mails are for: its representative as filed, then as amended (or as
    decided on again, when an amendment is set aside)."""
    await handlers.remember_recipient(conn, e.dossier_id, _representative(e))
    await on_event(conn, e, env)


async def on_shared(conn: asyncpg.Connection, e: DraftShared, env: Envelope) -> None:
    """A draft has no reference yet: its mails go to the contact it names."""
    await handlers.remember_recipient(conn, e.dossier_id, _contact(e))
    await on_event(conn, e, env)


def rewritten_from_the_log(store: EventStore) -> Handler:
    """A person's data erased: the recipient, the mails' facts and the log of mails sent kept
    for their dossiers are written again from the trail and the store, which now read with
    the placeholders. The mails already delivered are beyond the platform's reach."""

    async def on_erased(conn: asyncpg.Connection, e: PersonalDataErased, _: Envelope) -> None:
        for stream in e.streams:
            try:
                dossier_id = UUID(stream)
            except ValueError:
                continue
            trail = await audit_trail.trail(conn, dossier_id, store.vault)
            facts: dict[str, domain.MailRequest] = {}
            for written in trail:
                try:
                    event = written.event()
                except (UnknownEventType, ValueError):
                    continue
                if isinstance(event, Filed):
                    await handlers.remember_recipient(conn, dossier_id, _representative(event))
                elif isinstance(event, DraftShared):
                    await handlers.remember_recipient(conn, dossier_id, _contact(event))
                facts.update(
                    (r.notification_id, r) for r in domain.mails_for(event, written.event_id)
                )
            await handlers.rewrite_facts(conn, dossier_id, facts)
            sent = [s.event() for s in await store.load(conn, stream)]
            await handlers.rewrite_sent(conn, [n for n in sent if isinstance(n, NotificationSent)])

    return on_erased


async def on_event(conn: asyncpg.Connection, e: DomainEvent, env: Envelope) -> None:
    await handlers.queue(conn, domain.mails_for(e, env.id), env.time)


def mail_requests(store: EventStore) -> Subscription:
    on = dict.fromkeys(domain.MAILED_EVENTS, on_event)
    return Subscription(
        Consumer(
            "mail-requests",
            {
                **on,
                ApplicationSubmitted: on_submitted,
                ApplicationAmended: on_submitted,
                AmendmentsSetAside: on_submitted,
                DraftShared: on_shared,
                PersonalDataErased: rewritten_from_the_log(store),
            },
        ),
        services=["applications", "selection", "payments"],
    )
