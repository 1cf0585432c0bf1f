"""Applications' subscribers: what it must hear from the other services. Thin."""

from collections.abc import Callable, Mapping
from datetime import datetime

import asyncpg

from services.applications import handlers, reviewers
from shared.contracts.applications import (
    ApplicationAmended,
    ApplicationWithdrawn,
    CorrectionRequested,
    DossierClosedIncomplete,
)
from shared.contracts.committee import NoConflictDeclared, ReviewerRecused
from shared.contracts.selection import SelectionDecided
from shared.kernel.consumer import Consumer, Subscription
from shared.kernel.envelope import Envelope
from shared.kernel.eventstore import EventStore
from shared.language.campaigns import Campaign


async def on_declared(
    conn: asyncpg.Connection, event: NoConflictDeclared | ReviewerRecused, _: Envelope
) -> None:
    await reviewers.record(conn, event)


def decisions(store: EventStore, clock: Callable[[], datetime]) -> Subscription:
    """What selection decided that applications' rules need: the President's decisions (after
    one, a dossier can no longer be withdrawn nor corrected, and an amendment that crossed it is
    set aside) and the committee members' declarations (who may read a dossier)."""

    async def on_decided(conn: asyncpg.Connection, event: SelectionDecided, env: Envelope) -> None:
        await handlers.hear_decision(conn, store, event, clock(), env.id)

    return Subscription(
        Consumer(
            "decisions",
            {
                SelectionDecided: on_decided,
                NoConflictDeclared: on_declared,
                ReviewerRecused: on_declared,
            },
        ),
        ["selection"],
    )


def deadlines(campaigns: Mapping[str, Campaign]) -> Subscription:
    """The schedule fed by the events, as selection's is (services/selection/consumers.py): a
    correction's reminders and overdue are planned when its request is heard on the service's
    own topic, dropped when the amendment, the closure or the withdrawal is."""

    async def on_asked(conn: asyncpg.Connection, event: CorrectionRequested, env: Envelope) -> None:
        await handlers.plan_correction_deadline(conn, campaigns, event, env.id)

    async def on_answered(
        conn: asyncpg.Connection,
        event: ApplicationAmended | DossierClosedIncomplete | ApplicationWithdrawn,
        _: Envelope,
    ) -> None:
        await handlers.cancel_correction_deadline(conn, event.dossier_id)

    return Subscription(
        Consumer(
            "deadlines",
            {
                CorrectionRequested: on_asked,
                ApplicationAmended: on_answered,
                DossierClosedIncomplete: on_answered,
                ApplicationWithdrawn: on_answered,
            },
        ),
        ["applications"],
    )
