"""Selection's subscribers: events in, handlers called. Thin."""

from collections.abc import Callable, Mapping
from datetime import datetime

import asyncpg

from services.selection import handlers
from shared.contracts.applications import (
    ApplicationAmended,
    ApplicationSubmitted,
    ApplicationWithdrawn,
    DossierClosedIncomplete,
)
from shared.contracts.selection import (
    ConventionSigned,
    GrantReleased,
    PrefectureOpinionGiven,
    PrefectureOpinionRequested,
    SelectionDecided,
)
from shared.kernel.consumer import Consumer, Subscription
from shared.kernel.envelope import Envelope
from shared.kernel.eventstore import EventStore
from shared.language.campaigns import Campaign, find


def eligibility(
    store: EventStore, campaigns: Mapping[str, Campaign], clock: Callable[[], datetime]
) -> Subscription:
    async def on_submitted(
        conn: asyncpg.Connection, event: ApplicationSubmitted, env: Envelope
    ) -> None:
        campaign = find(campaigns, event.campaign_id)
        await handlers.check_eligibility(conn, store, event, campaign, clock(), env.id)

    async def on_amended(
        conn: asyncpg.Connection, event: ApplicationAmended, env: Envelope
    ) -> None:
        campaign = find(campaigns, event.campaign_id)
        await handlers.recheck_eligibility(conn, store, event, campaign, clock(), env.id)

    # one consumer for both: a dossier's amendment is checked after its filing, in order
    return Subscription(
        Consumer(
            "eligibility", {ApplicationSubmitted: on_submitted, ApplicationAmended: on_amended}
        ),
        ["applications"],
    )


def withdrawals(
    store: EventStore, campaigns: Mapping[str, Campaign], clock: Callable[[], datetime]
) -> Subscription:
    async def on_withdrawn(
        conn: asyncpg.Connection,
        event: ApplicationWithdrawn | DossierClosedIncomplete,
        env: Envelope,
    ) -> None:
        await handlers.react_to_withdrawal(conn, store, campaigns, event, clock(), env.id)

    return Subscription(
        Consumer(
            "withdrawals",
            {ApplicationWithdrawn: on_withdrawn, DossierClosedIncomplete: on_withdrawn},
        ),
        ["applications"],
    )


def deadlines(campaigns: Mapping[str, Campaign]) -> Subscription:
    """The schedule fed by the events: a deadline's reminders and overdue are planned when the
    event that sets it is heard on selection's own topic, and dropped when the act it waits for
    is heard (or the dossier leaves the call).

    Why a consumer rather than the command's transaction: every way an event is recorded plans
    its deadline alike (the check on filing, the check again after an amendment, any later
    path), with no command to remember it; a log replayed from offset 0 plans the deadlines of
    the dossiers recorded before this consumer existed; and a withdrawal heard on the other
    topic cancels in the same place. The cost, the relay's and Kafka's lag (milliseconds for
    deadlines of days), is nothing here. Planning is only a wake-up: whether a reminder or an
    overdue is still due is decided when it comes, from the dossier's stream, so a plan that
    comes after a cancel (two topics, no order between them) records nothing either.
    """

    async def on_requested(
        conn: asyncpg.Connection, event: PrefectureOpinionRequested, env: Envelope
    ) -> None:
        await handlers.plan_opinion_deadline(conn, campaigns, event, env.id)

    async def on_opinion(
        conn: asyncpg.Connection, event: PrefectureOpinionGiven, env: Envelope
    ) -> None:
        await handlers.cancel_deadlines(conn, event.dossier_id, handlers.OPINION)

    async def on_decided(conn: asyncpg.Connection, event: SelectionDecided, env: Envelope) -> None:
        await handlers.plan_convention_deadline(conn, campaigns, event, env.id)

    async def on_signed(conn: asyncpg.Connection, event: ConventionSigned, env: Envelope) -> None:
        await handlers.cancel_deadlines(conn, event.dossier_id, handlers.CONVENTION)

    async def on_gone(
        conn: asyncpg.Connection,
        event: ApplicationWithdrawn | DossierClosedIncomplete | GrantReleased,
        env: Envelope,
    ) -> None:
        await handlers.cancel_deadlines(conn, event.dossier_id)

    return Subscription(
        Consumer(
            "deadlines",
            {
                PrefectureOpinionRequested: on_requested,
                PrefectureOpinionGiven: on_opinion,
                SelectionDecided: on_decided,
                ConventionSigned: on_signed,
                GrantReleased: on_gone,
                ApplicationWithdrawn: on_gone,
                DossierClosedIncomplete: on_gone,
            },
        ),
        ["applications", "selection"],
    )
