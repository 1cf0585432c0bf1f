"""Selection's subscribers: events in, handlers called. Thin."""

from collections.abc import Callable, Mapping
from datetime import datetime

import asyncpg

from services.selection import handlers
from shared.contracts.applications import ApplicationSubmitted, ApplicationWithdrawn
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

    return Subscription(
        Consumer("eligibility", {ApplicationSubmitted: on_submitted}), ["applications"]
    )


def withdrawals(
    store: EventStore, campaigns: Mapping[str, Campaign], clock: Callable[[], datetime]
) -> Subscription:
    async def on_withdrawn(
        conn: asyncpg.Connection, event: ApplicationWithdrawn, env: Envelope
    ) -> None:
        await handlers.react_to_withdrawal(conn, store, campaigns, event, clock(), env.id)

    return Subscription(
        Consumer("withdrawals", {ApplicationWithdrawn: on_withdrawn}), ["applications"]
    )
